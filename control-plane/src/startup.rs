//! Building and running the control plane.

use chassis::backends::Backends;
use chassis::metrics::Metrics;
use chassis::service::{Identity, Service};

use topology::Topology;

use crate::config::Config;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The control plane ready to serve.
pub type App = Service;

/// Connects the back ends, applies the migrations and binds the port.
pub async fn build(config: Config) -> anyhow::Result<App> {
    let backends = Backends::connect(
        &config.mysql,
        &MIGRATIONS,
        &config.redis,
        &config.kafka,
        "cellwear-control-plane",
    )
    .await?;
    let topology = Topology::load(&config.control.topology)
        .map_err(|e| anyhow::anyhow!("control.topology: {e}"))?;
    crate::routing::seed(&backends.mysql, &topology).await?;
    let routes = crate::http::router(backends.mysql.clone())?;
    let metrics = Metrics::new("control-plane")?;
    let identity = Identity {
        service: "control-plane".into(),
        cell: None,
    };
    let mut service = Service::build(
        identity,
        &config.http,
        &config.readiness,
        backends,
        metrics,
        routes,
    )
    .await?;
    service
        .start_event_backbone(&events::topics::global_topics(config.kafka.partitions))
        .await?;
    Ok(service)
}
