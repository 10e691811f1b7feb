//! Keeping the routing table current: the control plane publishes it, the
//! edge polls, swaps it in atomically (requests in flight keep the table they
//! started with), and saves it to disk. When the control plane is away the
//! edge keeps routing with the last good table — from memory, or after a
//! restart from the file.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use wire::PublishedRoutingTable;

use crate::routing::RoutingTable;
use crate::tokens;

#[derive(Debug, Clone)]
pub struct TableRefresh {
    pub table: Arc<ArcSwap<RoutingTable>>,
    pub control_plane: SocketAddr,
    pub every: Duration,
    pub cache: PathBuf,
    pub client: reqwest::Client,
}

impl TableRefresh {
    /// Fetches the published table; swaps it in when it is newer. Returns the
    /// version in use afterwards.
    pub async fn refresh_once(&self) -> anyhow::Result<u64> {
        let url = format!("http://{}/control/api/routing-table", self.control_plane);
        let published: PublishedRoutingTable = self
            .client
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("fetching {url}"))?
            .json()
            .await
            .context("reading the routing table")?;
        let current = self.table.load().version();
        if published.table.version <= current {
            return Ok(current);
        }
        let table = compile(&published, self.control_plane)?
            .with_keys(self.table.load().keys().clone())
            .with_health_of(&self.table.load());
        self.table.store(Arc::new(table));
        save(&self.cache, &published)?;
        tracing::info!(
            version = published.table.version,
            previous = current,
            "routing table updated"
        );
        Ok(published.table.version)
    }

    /// Fetches the cells' token keys into the table in use; keeps the old
    /// keys when no cell answers. Returns how many keys are in use.
    pub async fn refresh_keys(&self) -> usize {
        let endpoints: Vec<SocketAddr> = self.table.load().endpoints().collect();
        let keys = tokens::fetch(&self.client, endpoints).await;
        // None answered, or nothing changed: keep the table as it is rather
        // than copying it (overrides and all) every refresh.
        if keys.is_empty() || keys.same_as(self.table.load().keys()) {
            return self.table.load().keys().len();
        }
        let count = keys.len();
        self.table
            .rcu(|table| Arc::new(table.with_keys(keys.clone())));
        count
    }
}

#[async_trait]
impl BackgroundService for TableRefresh {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        loop {
            if let Err(error) = self.refresh_once().await {
                tracing::warn!(error = %format!("{error:#}"), version = self.table.load().version(), "routing table not refreshed; routing with the last good one");
            }
            self.refresh_keys().await;
            tokio::select! {
                _ = tokio::time::sleep(self.every) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// A published table ready to route by.
pub fn compile(
    published: &PublishedRoutingTable,
    control_plane: SocketAddr,
) -> anyhow::Result<RoutingTable> {
    let endpoints = published
        .endpoints
        .iter()
        .map(|(cell, address)| {
            let address: SocketAddr = address
                .parse()
                .with_context(|| format!("cell {cell}: endpoint \"{address}\" is not ip:port"))?;
            Ok((cell.clone(), address))
        })
        .collect::<anyhow::Result<HashMap<_, _>>>()?;
    if let Some(cell) = published
        .table
        .cells
        .iter()
        .find(|cell| !endpoints.contains_key(&cell.id))
    {
        anyhow::bail!("cell {} has no endpoint", cell.id);
    }
    Ok(RoutingTable::new(
        &published.table,
        endpoints,
        control_plane,
    )?)
}

/// The last table saved to `path`, if there is a readable one.
pub fn load(path: &Path) -> Option<PublishedRoutingTable> {
    let text = std::fs::read_to_string(path).ok()?;
    match serde_json::from_str(&text) {
        Ok(table) => Some(table),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "ignoring an unreadable saved routing table");
            None
        }
    }
}

/// Writes the table next to `path` and renames it over, so a crash never
/// leaves half a file.
fn save(path: &Path, table: &PublishedRoutingTable) -> anyhow::Result<()> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)?;
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, serde_json::to_vec_pretty(table)?)?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("saving the routing table to {}", path.display()))
}
