use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// One staff action in the control plane's audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct AuditEntry {
    /// Grows with every entry; entries are listed newest first.
    pub id: u64,
    /// RFC 3339, UTC.
    pub at: String,
    /// Who: `user:<id>` for a person, the service's name otherwise.
    #[schema(example = "user:0193f1c2-5b7a-7d40-9c1e-2f8a5b6c7d8e")]
    pub actor: String,
    /// What, as `<area>.<verb>`.
    #[schema(example = "cell.drain")]
    pub action: String,
    /// What it was done to: a cell id, a product id, a SKU, ….
    #[schema(example = "cell-2")]
    pub subject: String,
    /// The action's own details (a reason, the old and new weight, …).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The id of the request that did it, as in the logs.
    pub request_id: Option<String>,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Pass as `before` for the next, older page; absent on the last page.
    pub next_cursor: Option<String>,
}
