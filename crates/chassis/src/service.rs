//! A service assembled from its parts and bound to its port: the domain
//! router merged with the health routes and wrapped in the middleware stack.
//! `build` binds (port 0 in tests) and exposes `port()`; `run_until` serves,
//! drains and closes the back ends (zero-to-production's `startup.rs`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::backends::Backends;
use crate::config::{HttpSettings, ReadinessSettings, millis};
use crate::health::{self, Health};
use crate::metrics::Metrics;

/// How long the producer may take to deliver what is queued at shutdown.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Who the service is, for health reports, logs and metrics.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `cell cell-0`, `control-plane`.
    pub service: String,
    /// Set on a cell: tags every request span.
    pub cell: Option<String>,
}

#[derive(Debug)]
pub struct Service {
    listener: TcpListener,
    router: Router,
    backends: Backends,
    grace: Duration,
    port: u16,
}

impl Service {
    /// Wraps `routes` with the health routes and the middleware, and binds.
    pub async fn build(
        identity: Identity,
        http: &HttpSettings,
        readiness: &ReadinessSettings,
        backends: Backends,
        metrics: Metrics,
        routes: Router,
    ) -> anyhow::Result<Self> {
        let health = Arc::new(Health {
            service: identity.service.clone(),
            dependencies: backends.dependencies(),
            check_timeout: millis(readiness.check_timeout_ms),
            metrics: metrics.clone(),
        });
        let router = crate::http::wrap(
            routes.merge(health::routes(health)),
            crate::http::Stack {
                metrics,
                cell: identity.cell,
                request_timeout: millis(http.request_timeout_ms),
                max_body_bytes: http.max_body_bytes,
            },
        );
        let listener = crate::serve::bind(&http.host, http.port).await?;
        let port = listener.local_addr()?.port();
        tracing::info!(service = %identity.service, port, "ready to serve");
        Ok(Self {
            listener,
            router,
            backends,
            grace: millis(http.shutdown_grace_ms),
            port,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` resolves, drains the requests in flight, then
    /// flushes the producer and closes the pool.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        crate::serve::serve(self.listener, self.router, shutdown, self.grace).await?;
        self.backends.close(FLUSH_TIMEOUT).await;
        tracing::info!("stopped");
        Ok(())
    }
}
