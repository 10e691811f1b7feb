//! Building and running a cell: connect its back ends, claim its database,
//! assemble the router, bind the port.

use anyhow::Context;
use chassis::backends::Backends;
use chassis::metrics::Metrics;
use chassis::service::{Identity, Service};
use sqlx::MySqlPool;

use crate::config::Config;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A cell ready to serve: built by [`App::build`], run by [`App::run_until`].
pub type App = Service;

/// Connects the cell's back ends, claims its database and binds its port.
pub async fn build(config: Config) -> anyhow::Result<App> {
    let cell = config.cell.id.clone();
    let backends = Backends::connect(
        &config.mysql,
        &MIGRATIONS,
        &config.redis,
        &config.kafka,
        &format!("cellwear-{cell}"),
    )
    .await?;
    claim_database(&backends.mysql, &cell).await?;
    let metrics = Metrics::new("cell")?;
    let identity = Identity {
        service: format!("cell {cell}"),
        cell: Some(cell.clone()),
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
        .start_event_backbone(&events::topics::cell_topics(&cell, config.kafka.partitions))
        .await?;
    Ok(service)
}

/// Records this cell as the owner of its database, or refuses to start when
/// another cell already owns it.
async fn claim_database(pool: &MySqlPool, cell: &str) -> anyhow::Result<()> {
    sqlx::query("INSERT IGNORE INTO cell_identity (singleton, cell_id) VALUES (1, ?)")
        .bind(cell)
        .execute(pool)
        .await
        .context("recording the cell's ownership of its database")?;
    let owner: String = sqlx::query_scalar("SELECT cell_id FROM cell_identity WHERE singleton = 1")
        .fetch_one(pool)
        .await
        .context("reading the owner of the cell's database")?;
    anyhow::ensure!(
        owner == cell,
        "mysql.url points at the database of cell {owner}, not of cell {cell}: give each cell its own database"
    );
    Ok(())
}
