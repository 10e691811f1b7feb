use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// Where a cell stands in its life cycle (DESIGN.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum CellState {
    /// Just added: rebuilding its catalog from the compacted topic; takes no
    /// shoppers until it is activated.
    Joining,
    /// Takes new shoppers and serves its own.
    Active,
    /// Takes no new shoppers; its shoppers are being migrated away.
    Draining,
    /// Holds no shoppers any more; may be removed.
    Drained,
    /// Failed its health checks; its shoppers get degraded service.
    Failed,
}

impl CellState {
    /// Whether a new shopper may be put on this cell.
    pub fn accepts_new_shoppers(self) -> bool {
        matches!(self, CellState::Active)
    }

    /// Whether the cell stays the home of the shoppers the hash gives it. A
    /// failed cell does: their carts, orders and accounts are there, so
    /// they get degraded service (browsing from a healthy cell, writes
    /// refused) rather than a new, empty home. A draining cell does too
    /// until each shopper is moved (an override then sends them to their
    /// new cell); a drained one no longer does.
    pub fn keeps_its_shoppers(self) -> bool {
        matches!(
            self,
            CellState::Active | CellState::Failed | CellState::Draining
        )
    }
}

/// A cell as the routing layer sees it: its id, its share of new shoppers and
/// its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct RoutedCell {
    #[schema(example = "cell-0")]
    pub id: String,
    /// Relative share of new shoppers; 0 takes none.
    pub weight: u32,
    pub state: CellState,
}

/// A shopper pinned to a cell by hand — a migrated shopper — whatever the
/// hash says. A higher `epoch` replaces a lower one for the same key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct PlacementOverride {
    #[schema(example = "0123456789abcdef")]
    pub shopper_key: String,
    pub cell: String,
    pub epoch: u64,
}

/// An account's sign-in alias (`PUT /internal/accounts/{key}/sign-in-alias`
/// on the control plane): the shopper key of the account's current e-mail
/// address when it is not the key the account was created with, so that
/// signing in with the new address reaches the account's cell. `None`
/// removes the alias (the account is back on its first address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct SignInAlias {
    #[schema(example = "fedcba9876543210")]
    pub alias_key: Option<String>,
}

/// The versioned routing table the control plane publishes and the edge,
/// the cells and the control plane place shoppers by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct RoutingTable {
    pub version: u64,
    pub cells: Vec<RoutedCell>,
    #[serde(default)]
    pub overrides: Vec<PlacementOverride>,
}

/// The routing table as the control plane serves it, with where each cell
/// listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct PublishedRoutingTable {
    #[serde(flatten)]
    pub table: RoutingTable,
    /// Cell id → `host:port` of its HTTP API.
    pub endpoints: std::collections::BTreeMap<String, String>,
}

/// One cell as SREs see it (`GET /control/api/cells`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CellView {
    pub id: String,
    pub http_address: String,
    pub weight: u32,
    pub state: CellState,
    /// Shoppers pinned to the cell by an override (migrated shoppers).
    pub pinned_shoppers: u64,
    /// The shoppers the cell holds, as it counted them just now; `None`
    /// when it did not answer.
    pub shoppers: Option<crate::moves::ShopperCount>,
    /// What the cell's `/readyz` said just now: `ready`, `not_ready`
    /// (answered, not 200) or `unreachable`.
    pub health: String,
}

/// Every cell, and the routing-table version they are published in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CellList {
    pub routing_version: u64,
    pub cells: Vec<CellView>,
}

/// `PUT /control/api/cells/{id}/weight`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct CellWeight {
    /// 0-10000: the cell's share of new shoppers; 0 takes none.
    pub weight: u32,
}

/// `POST /control/api/cells/{id}/fail` and `…/recover`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct CellStateChange {
    /// Why (kept in the audit log).
    pub reason: String,
}

/// `POST /control/api/cells`: a new cell, which starts `joining`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct NewCell {
    #[schema(example = "cell-3")]
    pub id: String,
    /// `ip:port` of the cell's HTTP server.
    #[schema(example = "10.0.3.10:9103")]
    pub http_address: String,
    /// 0-10000 once active.
    pub weight: u32,
}
