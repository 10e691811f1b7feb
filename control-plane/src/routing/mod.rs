//! The cell map and the routing table it publishes (DESIGN.md §3).
//!
//! The control plane owns which cells exist, their weights and states, and
//! the per-shopper overrides of migrated shoppers. `cells.yaml` seeds the map
//! at start (cells missing from it are added; existing ones are left as the
//! control plane changed them). The edge fetches the table from
//! `GET /control/api/routing-table`; every change bumps its version.

pub mod aliases;
pub(crate) mod repo;
pub mod routes;

use std::collections::BTreeMap;

use anyhow::Context;
use sqlx::MySqlPool;
use topology::Topology;
use wire::{CellState, PlacementOverride, PublishedRoutingTable, RoutedCell, RoutingTable};

use repo::CellRow;

/// Adds the topology's cells the map does not know yet.
pub async fn seed(pool: &MySqlPool, topology: &Topology) -> anyhow::Result<()> {
    let mut added = 0;
    for cell in &topology.cells {
        let row = CellRow {
            id: cell.id.clone(),
            weight: cell.weight,
            state: state_name(cell.state).to_owned(),
            http_address: cell.http.to_string(),
        };
        if repo::add_cell_if_missing(pool, &row).await? {
            added += 1;
        }
    }
    if added > 0 {
        repo::bump_version(&mut *pool.acquire().await?).await?;
        tracing::info!(cells_added = added, "cell map seeded from the topology");
    }
    Ok(())
}

/// The ids of every cell in the map.
pub async fn cell_ids(pool: &MySqlPool) -> anyhow::Result<Vec<String>> {
    let mut conn = pool.acquire().await?;
    Ok(repo::cells(&mut conn)
        .await?
        .into_iter()
        .map(|cell| cell.id)
        .collect())
}

/// The table as it stands, read in one transaction so it is consistent.
pub async fn current(pool: &MySqlPool) -> anyhow::Result<PublishedRoutingTable> {
    let mut tx = pool.begin().await?;
    let version = repo::version(&mut tx).await?;
    let rows = repo::cells(&mut tx).await?;
    let overrides = repo::overrides(&mut tx).await?;
    let alias_rows = repo::aliases(&mut tx).await?;
    tx.commit().await?;
    let mut endpoints = BTreeMap::new();
    let mut cells = Vec::with_capacity(rows.len());
    for row in rows {
        let state = parse_state(&row.state)
            .with_context(|| format!("cell {} has state {}", row.id, row.state))?;
        endpoints.insert(row.id.clone(), row.http_address);
        cells.push(RoutedCell {
            id: row.id,
            weight: row.weight,
            state,
        });
    }
    let mut table = RoutingTable {
        version,
        cells,
        overrides: overrides
            .into_iter()
            .map(|row| PlacementOverride {
                shopper_key: row.shopper_key,
                cell: row.cell_id,
                epoch: row.epoch,
            })
            .collect(),
    };
    let alias_overrides = aliases::overrides(&table, &alias_rows)?;
    table.overrides.extend(alias_overrides);
    Ok(PublishedRoutingTable { table, endpoints })
}

pub(crate) fn state_name(state: CellState) -> &'static str {
    match state {
        CellState::Joining => "joining",
        CellState::Active => "active",
        CellState::Draining => "draining",
        CellState::Drained => "drained",
        CellState::Failed => "failed",
    }
}

pub(crate) fn parse_state(name: &str) -> Option<CellState> {
    [
        CellState::Joining,
        CellState::Active,
        CellState::Draining,
        CellState::Drained,
        CellState::Failed,
    ]
    .into_iter()
    .find(|state| state_name(*state) == name)
}
