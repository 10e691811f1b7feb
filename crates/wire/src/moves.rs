//! Moving a shopper from one cell to another (a drain): the bodies of the
//! cells' internal `/internal/shoppers/*` endpoints the control plane calls,
//! and the drain's progress as SREs see it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// How many shoppers a cell holds (`GET /internal/shoppers/count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct ShopperCount {
    /// Accounts that live on the cell.
    pub accounts: u64,
    /// Guests with a cart on the cell.
    pub guests: u64,
}

/// A page of the shopper keys a cell holds data for, in key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct ShopperPage {
    pub keys: Vec<String>,
    /// Pass as `after` for the next page; absent on the last.
    pub next_after: Option<String>,
}

/// Fences a shopper's writes on their old cell for a move with `epoch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct FenceRequest {
    pub epoch: u64,
}

/// One table's rows of a shopper, each row the values of `columns`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct TableRows {
    pub table: String,
    pub columns: Vec<String>,
    #[schema(value_type = Vec<Vec<Object>>)]
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// A signed-in session (refresh-token family) with the time it has left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct SessionCopy {
    pub id: String,
    pub user_id: String,
    /// The family's fields (current token hash, device, IP, times).
    pub fields: BTreeMap<String, String>,
    pub ttl_s: u64,
}

/// Everything a cell holds of one shopper: account, sessions, addresses,
/// cart, checkouts, orders with their history, invoices and refunds, and
/// browsing history. `checksum` covers all of it but the sessions' time to
/// live, so the receiving cell can prove it stored the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct ShopperBundle {
    pub shopper_key: String,
    pub epoch: u64,
    pub tables: Vec<TableRows>,
    pub sessions: Vec<SessionCopy>,
    pub checksum: String,
}

/// What a cell holds of a shopper now, summed up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct ShopperChecksum {
    pub checksum: String,
    pub rows: u64,
}

/// Where a drain stands (`GET /control/api/cells/{id}/drain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct DrainView {
    pub cell: String,
    /// `moving` (shoppers being moved), `sealed` (the cell refuses every
    /// shopper write while the last ones move), `done` or `failed`.
    pub state: String,
    /// Passes over the cell's shopper list so far.
    pub passes: u32,
    pub shoppers_moved: u64,
    /// Moves started and not finished (retried on the next pass).
    pub shoppers_in_progress: u64,
    /// Shoppers whose data changed at the old cell after they were switched
    /// to the new one: left on the old cell for an operator to look at.
    pub shoppers_in_conflict: u64,
    pub last_error: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
}
