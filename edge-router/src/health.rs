//! Active health checks: the edge asks every cell's `/livez` every
//! `edge.health_every_ms`; a cell that has not answered `edge.health_failures`
//! times in a row is taken as down — its shoppers get the failed-cell
//! treatment (browsing elsewhere, writes refused) without waiting for an SRE
//! to mark it failed in the control plane — and one answer brings it back.
//! Only a cell that does not answer for itself counts: one that answers but
//! reports a dependency down (`/readyz`) still serves what it can.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;

use crate::metrics::EdgeMetrics;
use crate::routing::RoutingTable;

/// Which cells the edge currently takes as down; shared by every table the
/// edge swaps in.
#[derive(Debug, Default)]
pub struct CellHealth {
    down: ArcSwap<HashSet<String>>,
}

impl CellHealth {
    pub fn is_down(&self, cell: &str) -> bool {
        self.down.load().contains(cell)
    }

    pub fn down(&self) -> Vec<String> {
        let mut down: Vec<String> = self.down.load().iter().cloned().collect();
        down.sort();
        down
    }

    fn set(&self, cell: &str, down: bool) -> bool {
        let now = self.down.load();
        if now.contains(cell) == down {
            return false;
        }
        let mut next: HashSet<String> = (**now).clone();
        if down {
            next.insert(cell.to_owned());
        } else {
            next.remove(cell);
        }
        self.down.store(Arc::new(next));
        true
    }
}

#[derive(Debug)]
pub struct HealthChecks {
    pub table: Arc<ArcSwap<RoutingTable>>,
    pub metrics: EdgeMetrics,
    pub every: Duration,
    pub failures: u32,
    pub client: reqwest::Client,
    /// Misses in a row, per cell.
    pub missed: Mutex<HashMap<String, u32>>,
}

impl HealthChecks {
    /// Asks every cell once, all at once, and records the answers.
    pub async fn check_once(&self) {
        let table = self.table.load_full();
        let cells: Vec<(String, SocketAddr)> = table.cell_addresses().collect();
        let asks = cells.iter().map(|(id, address)| {
            let request = self.client.get(format!("http://{address}/livez"));
            async move {
                let answered = request.send().await.is_ok_and(|r| r.status().is_success());
                (id.clone(), answered)
            }
        });
        let answers = futures_util::future::join_all(asks).await;
        let health = table.health();
        for (cell, answered) in answers {
            let misses = {
                let Ok(mut missed) = self.missed.lock() else {
                    return;
                };
                let entry = missed.entry(cell.clone()).or_insert(0);
                *entry = if answered { 0 } else { entry.saturating_add(1) };
                *entry
            };
            self.metrics.cell_up(&cell, answered);
            let down = misses >= self.failures;
            if health.set(&cell, down) {
                if down {
                    tracing::error!(cell = %cell, misses, "cell stopped answering its health checks: its shoppers get degraded service");
                } else {
                    tracing::warn!(cell = %cell, "cell answers its health checks again");
                }
            }
        }
    }
}

#[async_trait]
impl BackgroundService for HealthChecks {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        loop {
            self.check_once().await;
            tokio::select! {
                _ = tokio::time::sleep(self.every) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_goes_down_and_comes_back() {
        let health = CellHealth::default();
        assert!(!health.is_down("cell-a"));
        assert!(health.set("cell-a", true));
        assert!(!health.set("cell-a", true), "no change the second time");
        assert!(health.is_down("cell-a"));
        assert_eq!(health.down(), ["cell-a"]);
        assert!(health.set("cell-a", false));
        assert!(!health.is_down("cell-a"));
    }
}
