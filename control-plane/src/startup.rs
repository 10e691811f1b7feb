//! Building and running the control plane.

use chassis::backends::Backends;
use chassis::metrics::Metrics;
use chassis::service::{Identity, Service};

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
        crate::http::router()?,
    )
    .await?;
    service
        .start_event_backbone(&events::topics::global_topics(config.kafka.partitions))
        .await?;
    Ok(service)
}
