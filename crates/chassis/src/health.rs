//! `/livez`, `/readyz` and `/metrics`.
//!
//! Liveness says only that the process answers (an orchestrator restarts it
//! otherwise); readiness probes every dependency at once, each under its own
//! time-out, and names the ones that failed, so a load balancer stops sending
//! traffic while, say, MySQL is away, without the process being restarted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use futures_util::future::join_all;
use redis::aio::ConnectionManager;
use sqlx::MySqlPool;
use wire::{CheckReport, HealthStatus, LivenessResponse, ReadinessResponse};

use crate::http::{ApiError, Json};
use crate::metrics::Metrics;

/// A dependency that readiness probes.
#[derive(Clone)]
pub enum Dependency {
    MySql {
        pool: MySqlPool,
        target: String,
    },
    Redis {
        connection: ConnectionManager,
        target: String,
    },
    Kafka {
        producer: events::Producer,
    },
}

impl std::fmt::Debug for Dependency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.name(), self.target())
    }
}

impl Dependency {
    fn name(&self) -> &'static str {
        match self {
            Dependency::MySql { .. } => "mysql",
            Dependency::Redis { .. } => "redis",
            Dependency::Kafka { .. } => "kafka",
        }
    }

    fn target(&self) -> &str {
        match self {
            Dependency::MySql { target, .. } | Dependency::Redis { target, .. } => target,
            Dependency::Kafka { producer } => producer.brokers(),
        }
    }

    async fn probe(&self, timeout: Duration) -> CheckReport {
        let started = Instant::now();
        let outcome = match tokio::time::timeout(timeout, self.answer(timeout)).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
        };
        CheckReport {
            name: self.name().into(),
            status: if outcome.is_ok() {
                HealthStatus::Ok
            } else {
                HealthStatus::Failing
            },
            target: self.target().into(),
            duration_ms: started.elapsed().as_millis() as u64,
            error: outcome.err(),
        }
    }

    async fn answer(&self, timeout: Duration) -> Result<(), String> {
        match self {
            Dependency::MySql { pool, .. } => sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Dependency::Redis { connection, .. } => {
                let mut connection = connection.clone();
                redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            Dependency::Kafka { producer } => producer.ping(timeout).await,
        }
    }
}

/// What the health routes need: the service's name, its dependencies and its
/// metrics.
#[derive(Debug)]
pub struct Health {
    pub service: String,
    pub dependencies: Vec<Dependency>,
    pub check_timeout: Duration,
    pub metrics: Metrics,
}

impl Health {
    pub async fn readiness(&self) -> ReadinessResponse {
        let checks = join_all(
            self.dependencies
                .iter()
                .map(|dependency| dependency.probe(self.check_timeout)),
        )
        .await;
        let status = if checks.iter().all(|c| c.status == HealthStatus::Ok) {
            HealthStatus::Ok
        } else {
            HealthStatus::Failing
        };
        ReadinessResponse {
            status,
            service: self.service.clone(),
            checks,
        }
    }
}

/// `/livez`, `/readyz`, `/metrics`.
pub fn routes(health: Arc<Health>) -> Router {
    Router::new()
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(health)
}

/// The process is up.
#[utoipa::path(get, path = "/livez", tag = "operations",
    responses((status = 200, description = "The process answers", body = LivenessResponse)))]
pub async fn livez(State(health): State<Arc<Health>>) -> Json<LivenessResponse> {
    Json(LivenessResponse {
        status: HealthStatus::Ok,
        service: health.service.clone(),
    })
}

/// Every dependency answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Every dependency answers", body = ReadinessResponse),
        (status = 503, description = "At least one dependency does not; `checks` names it", body = ReadinessResponse)))]
pub async fn readyz(State(health): State<Arc<Health>>) -> (StatusCode, Json<ReadinessResponse>) {
    let report = health.readiness().await;
    let status = match report.status {
        HealthStatus::Ok => StatusCode::OK,
        HealthStatus::Failing => {
            let failing: Vec<&str> = report.failing().map(|c| c.name.as_str()).collect();
            tracing::warn!(failing = ?failing, "not ready");
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    (status, Json(report))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(health): State<Arc<Health>>) -> Result<impl IntoResponse, ApiError> {
    let text = health.metrics.render().map_err(ApiError::unexpected)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}
