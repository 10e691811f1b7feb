use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a cell stands in its life cycle (DESIGN.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CellState {
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
    /// Whether placement may put a shopper without an override on this cell.
    pub fn accepts_new_shoppers(self) -> bool {
        matches!(self, CellState::Active)
    }
}

/// A cell as the routing layer sees it: its id, its share of new shoppers and
/// its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoutedCell {
    #[schema(example = "cell-0")]
    pub id: String,
    /// Relative share of new shoppers; 0 takes none.
    pub weight: u32,
    pub state: CellState,
}

/// A shopper pinned to a cell by hand — a migrated shopper — whatever the
/// hash says. A higher `epoch` replaces a lower one for the same key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlacementOverride {
    #[schema(example = "0123456789abcdef")]
    pub shopper_key: String,
    pub cell: String,
    pub epoch: u64,
}

/// The versioned routing table the control plane publishes and the edge,
/// the cells and the control plane place shoppers by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoutingTable {
    pub version: u64,
    pub cells: Vec<RoutedCell>,
    #[serde(default)]
    pub overrides: Vec<PlacementOverride>,
}

/// The routing table as the control plane serves it, with where each cell
/// listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublishedRoutingTable {
    #[serde(flatten)]
    pub table: RoutingTable,
    /// Cell id → `host:port` of its HTTP API.
    pub endpoints: std::collections::BTreeMap<String, String>,
}
