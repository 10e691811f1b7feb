//! A service assembled from its parts and bound to its port: the domain
//! router merged with the health routes and wrapped in the middleware stack.
//! `build` binds (port 0 in tests) and exposes `port()`; `run_until` serves,
//! stops the background workers (the outbox relay, consumers) and closes the
//! back ends (zero-to-production's `startup.rs`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use events::EventMetrics;
use events::consumer::{Consumer, ConsumerSettings};
use events::outbox::{Relay, RelaySettings};
use events::topics::TopicSpec;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::backends::Backends;
use crate::config::{HttpSettings, ReadinessSettings, millis};
use crate::health::{self, Health};
use crate::metrics::Metrics;

/// How long the producer may take to deliver what is queued at shutdown.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long background workers may take to stop after the server drained.
const WORKER_STOP_TIMEOUT: Duration = Duration::from_secs(10);
const TOPIC_TIMEOUT: Duration = Duration::from_secs(10);

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
    metrics: Metrics,
    grace: Duration,
    port: u16,
    stop_workers: watch::Sender<bool>,
    workers: Vec<(String, JoinHandle<()>)>,
    /// Set by `start_event_backbone`; consumers share them.
    event_metrics: Option<EventMetrics>,
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
                metrics: metrics.clone(),
                cell: identity.cell,
                request_timeout: millis(http.request_timeout_ms),
                max_body_bytes: http.max_body_bytes,
                cors_origins: http.cors_origins.clone(),
            },
        );
        let listener = crate::serve::bind(&http.host, http.port).await?;
        let port = listener.local_addr()?.port();
        tracing::info!(service = %identity.service, port, "ready to serve");
        Ok(Self {
            listener,
            router,
            backends,
            metrics,
            grace: millis(http.shutdown_grace_ms),
            port,
            stop_workers: watch::channel(false).0,
            workers: Vec::new(),
            event_metrics: None,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs `work` beside the server until shutdown; it receives a flag that
    /// turns true when the server has drained.
    pub fn spawn_worker<F, Fut>(&mut self, name: &str, work: F)
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let handle = tokio::spawn(work(self.stop_workers.subscribe()));
        self.workers.push((name.to_owned(), handle));
    }

    /// Creates the service's topics when missing and starts its outbox relay.
    pub async fn start_event_backbone(&mut self, topics: &[TopicSpec]) -> anyhow::Result<Relay> {
        let brokers = self.backends.kafka.brokers().to_owned();
        events::topics::ensure_topics(&brokers, topics, TOPIC_TIMEOUT)
            .await
            .with_context(|| format!("creating the service's topics on the broker at {brokers}"))?;
        let metrics = EventMetrics::new(self.metrics.registry())?;
        self.event_metrics = Some(metrics.clone());
        let relay = Relay::new(
            self.backends.mysql.clone(),
            self.backends.kafka.clone(),
            metrics,
            RelaySettings::default(),
        );
        let worker = relay.clone();
        self.spawn_worker("outbox relay", move |stop| worker.run(stop));
        Ok(relay)
    }

    /// Runs `consumer` (built on this service's database and producer by
    /// `make`) beside the server; call after `start_event_backbone`.
    pub fn start_consumer(
        &mut self,
        name: &str,
        settings: ConsumerSettings,
        make: impl FnOnce(Consumer) -> Consumer,
    ) -> anyhow::Result<()> {
        let metrics = self
            .event_metrics
            .clone()
            .context("start the event backbone before a consumer")?;
        let consumer = make(Consumer::new(
            settings,
            self.backends.mysql.clone(),
            self.backends.kafka.clone(),
            metrics,
        ));
        let label = name.to_owned();
        self.spawn_worker(name, move |stop| async move {
            if let Err(error) = consumer.run(stop).await {
                tracing::error!(consumer = %label, error = format!("{error:#}"), "consumer stopped");
            }
        });
        Ok(())
    }

    /// The service's primary MySQL pool.
    pub fn mysql(&self) -> &sqlx::MySqlPool {
        &self.backends.mysql
    }

    /// Serves until `shutdown` resolves, drains the requests in flight, then
    /// flushes the producer and closes the pool.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        crate::serve::serve(self.listener, self.router, shutdown, self.grace).await?;
        let _ = self.stop_workers.send(true);
        for (name, worker) in self.workers {
            if tokio::time::timeout(WORKER_STOP_TIMEOUT, worker)
                .await
                .is_err()
            {
                tracing::warn!(worker = %name, "worker did not stop in time");
            }
        }
        self.backends.close(FLUSH_TIMEOUT).await;
        tracing::info!("stopped");
        Ok(())
    }
}
