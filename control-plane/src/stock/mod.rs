//! The stock ledger and its allocations to cells (DESIGN.md §2).
//!
//! Per SKU the control plane keeps `on_hand = unallocated + allocated + sold`
//! (also a CHECK constraint) and, per cell, what it gave the cell and what the
//! cell reported sold. A cell sells only from its share, with no call out of
//! the cell; when its share runs low it asks for more
//! (`StockTopUpRequested`), and the control plane grants from unallocated
//! stock (`StockAllocated` on the `allocations` topic). A sale reported by a
//! cell moves units from the cell's allocation to sold; a recalled cell
//! returns what it holds to unallocated.
//!
//! Every change is a conditional update (`… WHERE unallocated >= ?`), so two
//! concurrent changes can never both spend the same units: InnoDB re-reads
//! the row under its lock, which plain reads at REPEATABLE READ would not.

pub mod consumer;
pub mod routes;

use events::{Schemas, outbox};
use serde::Deserialize;
use sqlx::mysql::MySqlConnection;
use wire::catalog::{CellShare, StockLedger};
use wire::events::{
    EventPayload, StockAllocated, StockGrant, StockHint, StockHintUpdated, StockRecalled,
};

use crate::audit;

/// How shares are sized.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockSettings {
    /// Units each active cell is given of a new or restocked SKU (plus its
    /// recent demand), and the least a top-up grants.
    pub share_floor: u64,
    /// The `allocations` topic with the platform's prefix (set at start from
    /// `kafka`, not configured here).
    #[serde(skip)]
    pub allocations_topic: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StockError {
    #[error("No stock is recorded for SKU {0}.")]
    UnknownSku(String),
    #[error("{0}")]
    Invalid(String),
    #[error("Only {unallocated} units are unallocated; recall stock from cells first.")]
    Insufficient { unallocated: u64 },
    #[error("No cell has the id {0}.")]
    UnknownCell(String),
    #[error("The ledger would go out of balance: {0}")]
    Unbalanced(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StockError {
    fn from(error: sqlx::Error) -> Self {
        StockError::Unexpected(error.into())
    }
}

impl From<outbox::EnqueueError> for StockError {
    fn from(error: outbox::EnqueueError) -> Self {
        StockError::Unexpected(error.into())
    }
}

/// A cell's standing for one SKU when shares are planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellStanding {
    pub cell: String,
    pub allocated: u64,
    /// Units sold in the current hour.
    pub demand: u64,
}

/// Splits `available` units among cells: each is brought up to the floor plus
/// its recent demand, busiest first, until the units run out. What is left
/// stays unallocated for top-ups.
pub fn plan_shares(available: u64, cells: &[CellStanding], floor: u64) -> Vec<(String, u64)> {
    let mut order: Vec<&CellStanding> = cells.iter().collect();
    order.sort_by(|a, b| b.demand.cmp(&a.demand).then_with(|| a.cell.cmp(&b.cell)));
    let mut left = available;
    let mut plan = Vec::new();
    for cell in order {
        let want = (floor + cell.demand).saturating_sub(cell.allocated);
        let grant = want.min(left);
        if grant > 0 {
            plan.push((cell.cell.clone(), grant));
            left -= grant;
        }
    }
    plan
}

/// Most grants or hints one event carries.
const PER_EVENT: usize = 500;

async fn announce<P: EventPayload>(
    conn: &mut MySqlConnection,
    (schemas, topic): (&Schemas, &str),
    payload: &P,
) -> Result<(), StockError> {
    outbox::enqueue_payload(conn, schemas, topic, None, payload).await?;
    Ok(())
}

async fn announce_grants(
    conn: &mut MySqlConnection,
    out: (&Schemas, &str),
    cell: &str,
    grants: Vec<StockGrant>,
) -> Result<(), StockError> {
    for chunk in grants.chunks(PER_EVENT) {
        announce(
            &mut *conn,
            out,
            &StockAllocated {
                cell: cell.to_owned(),
                grants: chunk.to_vec(),
            },
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn announce_hints(
    conn: &mut MySqlConnection,
    out: (&Schemas, &str),
    hints: Vec<StockHint>,
) -> Result<(), StockError> {
    for chunk in hints.chunks(PER_EVENT) {
        announce(
            &mut *conn,
            out,
            &StockHintUpdated {
                hints: chunk.to_vec(),
            },
        )
        .await?;
    }
    Ok(())
}

async fn active_cells(conn: &mut MySqlConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM cells WHERE state = 'active' ORDER BY id")
        .fetch_all(conn)
        .await
}

/// Records SKUs new to the ledger with their first units and shares them
/// out, in bulk (catalog writes and imports). No cell holds any of them yet,
/// so each active cell gets the floor while units last.
pub async fn receive_new(
    conn: &mut MySqlConnection,
    schemas: &Schemas,
    settings: &StockSettings,
    items: &[(String, u64)],
) -> Result<(), StockError> {
    if items.is_empty() {
        return Ok(());
    }
    let cells = active_cells(&mut *conn).await?;
    let standing: Vec<CellStanding> = cells
        .iter()
        .map(|cell| CellStanding {
            cell: cell.clone(),
            allocated: 0,
            demand: 0,
        })
        .collect();
    let mut ledger_rows = Vec::with_capacity(items.len());
    let mut share_rows = Vec::new();
    let mut grants: std::collections::BTreeMap<String, Vec<StockGrant>> = Default::default();
    let mut hints = Vec::new();
    for (sku, units) in items {
        let plan = plan_shares(*units, &standing, settings.share_floor);
        let given: u64 = plan.iter().map(|(_, g)| g).sum();
        let unallocated = units - given;
        ledger_rows.push((sku.as_str(), *units, unallocated, given));
        if plan.is_empty() {
            hints.push(StockHint {
                sku: sku.clone(),
                unallocated,
            });
        }
        for (cell, grant) in plan {
            share_rows.push((sku.as_str(), cell.clone(), grant));
            grants.entry(cell).or_default().push(StockGrant {
                sku: sku.clone(),
                quantity: u32::try_from(grant).unwrap_or(u32::MAX),
                unallocated,
            });
        }
    }
    let mut query = sqlx::QueryBuilder::<sqlx::MySql>::new(
        "INSERT INTO stock_ledger (sku, on_hand, unallocated, allocated, sold) ",
    );
    query.push_values(
        &ledger_rows,
        |mut row, (sku, on_hand, unallocated, allocated)| {
            row.push_bind(*sku)
                .push_bind(*on_hand)
                .push_bind(*unallocated)
                .push_bind(*allocated)
                .push_bind(0u64);
        },
    );
    query.build().execute(&mut *conn).await?;
    if !share_rows.is_empty() {
        let mut query = sqlx::QueryBuilder::<sqlx::MySql>::new(
            "INSERT INTO stock_shares (sku, cell_id, allocated) ",
        );
        query.push_values(&share_rows, |mut row, (sku, cell, allocated)| {
            row.push_bind(*sku)
                .push_bind(cell.as_str())
                .push_bind(*allocated);
        });
        query.build().execute(&mut *conn).await?;
    }
    for (cell, grants) in grants {
        announce_grants(
            &mut *conn,
            (schemas, &settings.allocations_topic),
            &cell,
            grants,
        )
        .await?;
    }
    announce_hints(conn, (schemas, &settings.allocations_topic), hints).await
}

struct LedgerRow {
    on_hand: u64,
    unallocated: u64,
    allocated: u64,
    sold: u64,
}

async fn lock(conn: &mut MySqlConnection, sku: &str) -> Result<Option<LedgerRow>, sqlx::Error> {
    sqlx::query_as!(
        LedgerRow,
        "SELECT on_hand, unallocated, allocated, sold FROM stock_ledger WHERE sku = ? FOR UPDATE",
        sku
    )
    .fetch_optional(conn)
    .await
}

/// Gives cells units of `sku` from its unallocated stock, by plan.
async fn distribute(
    conn: &mut MySqlConnection,
    schemas: &Schemas,
    settings: &StockSettings,
    sku: &str,
) -> Result<(), StockError> {
    let Some(ledger) = lock(&mut *conn, sku).await? else {
        return Err(StockError::UnknownSku(sku.to_owned()));
    };
    let cells = active_cells(&mut *conn).await?;
    let rows = sqlx::query!(
        r#"SELECT cell_id, allocated, demand,
                  (demand_window > NOW() - INTERVAL 1 HOUR) AS "fresh!: bool"
           FROM stock_shares WHERE sku = ?"#,
        sku
    )
    .fetch_all(&mut *conn)
    .await?;
    let standing: Vec<CellStanding> = cells
        .into_iter()
        .map(|cell| {
            let row = rows.iter().find(|r| r.cell_id == cell);
            CellStanding {
                allocated: row.map_or(0, |r| r.allocated),
                demand: row.filter(|r| r.fresh).map_or(0, |r| r.demand),
                cell,
            }
        })
        .collect();
    let plan = plan_shares(ledger.unallocated, &standing, settings.share_floor);
    let mut unallocated = ledger.unallocated;
    if plan.is_empty() {
        return announce_hints(
            conn,
            (schemas, &settings.allocations_topic),
            vec![StockHint {
                sku: sku.to_owned(),
                unallocated,
            }],
        )
        .await;
    }
    for (cell, grant) in plan {
        give(&mut *conn, sku, &cell, grant).await?;
        unallocated -= grant;
        announce_grants(
            &mut *conn,
            (schemas, &settings.allocations_topic),
            &cell,
            vec![StockGrant {
                sku: sku.to_owned(),
                quantity: u32::try_from(grant).unwrap_or(u32::MAX),
                unallocated,
            }],
        )
        .await?;
    }
    Ok(())
}

/// Moves `units` from unallocated to `cell`'s allocation.
async fn give(
    conn: &mut MySqlConnection,
    sku: &str,
    cell: &str,
    units: u64,
) -> Result<(), StockError> {
    let moved = sqlx::query!(
        "UPDATE stock_ledger SET unallocated = unallocated - ?, allocated = allocated + ? WHERE sku = ? AND unallocated >= ?",
        units,
        units,
        sku,
        units
    )
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() != 1 {
        return Err(StockError::Unbalanced(format!(
            "{sku}: fewer than {units} units unallocated"
        )));
    }
    sqlx::query!(
        "INSERT INTO stock_shares (sku, cell_id, allocated) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE allocated = allocated + VALUES(allocated)",
        sku,
        cell,
        units
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// New units of `sku` arrived (the SKU may be new to the ledger): recorded,
/// then shared out.
pub async fn restock(
    conn: &mut MySqlConnection,
    schemas: &Schemas,
    settings: &StockSettings,
    actor: &str,
    sku: &str,
    units: u64,
) -> Result<StockLedger, StockError> {
    if units == 0 || units > 1_000_000_000 {
        return Err(StockError::Invalid("quantity: 1-1000000000 units".into()));
    }
    sqlx::query!(
        "INSERT INTO stock_ledger (sku, on_hand, unallocated) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE on_hand = on_hand + VALUES(on_hand), unallocated = unallocated + VALUES(unallocated)",
        sku,
        units,
        units
    )
    .execute(&mut *conn)
    .await?;
    distribute(&mut *conn, schemas, settings, sku).await?;
    audit::record(
        &mut *conn,
        actor,
        "stock.restock",
        &format!("sku:{sku}"),
        &serde_json::json!({ "quantity": units }),
    )
    .await?;
    ledger(conn, sku)
        .await?
        .ok_or_else(|| StockError::UnknownSku(sku.to_owned()))
}

/// A count correction. Units found join unallocated stock; units lost come
/// out of it (recall from cells first if too few are unallocated).
pub async fn adjust(
    conn: &mut MySqlConnection,
    schemas: &Schemas,
    settings: &StockSettings,
    actor: &str,
    sku: &str,
    delta: i64,
    reason: &str,
) -> Result<StockLedger, StockError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(StockError::Invalid(
            "reason: say why the count changed (1-200 characters)".into(),
        ));
    }
    if delta == 0 || delta.unsigned_abs() > 1_000_000_000 {
        return Err(StockError::Invalid(
            "delta: non-zero, at most 1000000000 either way".into(),
        ));
    }
    let Some(current) = lock(&mut *conn, sku).await? else {
        return Err(StockError::UnknownSku(sku.to_owned()));
    };
    let units = delta.unsigned_abs();
    if delta > 0 {
        sqlx::query!(
            "UPDATE stock_ledger SET on_hand = on_hand + ?, unallocated = unallocated + ? WHERE sku = ?",
            units,
            units,
            sku
        )
        .execute(&mut *conn)
        .await?;
    } else {
        let taken = sqlx::query!(
            "UPDATE stock_ledger SET on_hand = on_hand - ?, unallocated = unallocated - ? WHERE sku = ? AND unallocated >= ?",
            units,
            units,
            sku,
            units
        )
        .execute(&mut *conn)
        .await?;
        if taken.rows_affected() != 1 {
            return Err(StockError::Insufficient {
                unallocated: current.unallocated,
            });
        }
    }
    let after = ledger(&mut *conn, sku)
        .await?
        .ok_or_else(|| StockError::UnknownSku(sku.to_owned()))?;
    announce_hints(
        &mut *conn,
        (schemas, &settings.allocations_topic),
        vec![StockHint {
            sku: sku.to_owned(),
            unallocated: after.unallocated,
        }],
    )
    .await?;
    audit::record(
        conn,
        actor,
        "stock.adjust",
        &format!("sku:{sku}"),
        &serde_json::json!({ "delta": delta, "reason": reason, "on_hand_before": current.on_hand }),
    )
    .await?;
    Ok(after)
}

/// A cell asked for more of `sku`: grant the floor or its demand, whichever
/// is more, as far as unallocated stock goes. A cell that is not active gets
/// nothing.
pub async fn top_up(
    conn: &mut MySqlConnection,
    schemas: &Schemas,
    settings: &StockSettings,
    cell: &str,
    sku: &str,
    demand: u64,
) -> Result<u64, StockError> {
    let Some(ledger) = lock(&mut *conn, sku).await? else {
        return Err(StockError::UnknownSku(sku.to_owned()));
    };
    if !active_cells(&mut *conn).await?.iter().any(|c| c == cell) {
        return Ok(0);
    }
    let grant = settings.share_floor.max(demand).min(ledger.unallocated);
    if grant == 0 {
        return Ok(0);
    }
    give(&mut *conn, sku, cell, grant).await?;
    announce_grants(
        conn,
        (schemas, &settings.allocations_topic),
        cell,
        vec![StockGrant {
            sku: sku.to_owned(),
            quantity: u32::try_from(grant).unwrap_or(u32::MAX),
            unallocated: ledger.unallocated - grant,
        }],
    )
    .await?;
    Ok(grant)
}

/// A cell sold `units` from its share: they move from its allocation to
/// sold, and count towards its demand.
/// `cell` undid a sale of `units` of `sku` (the order was cancelled): the
/// units move from sold back to the cell's allocation.
pub async fn unsold(
    conn: &mut MySqlConnection,
    cell: &str,
    sku: &str,
    units: u64,
) -> Result<(), StockError> {
    if lock(&mut *conn, sku).await?.is_none() {
        return Err(StockError::UnknownSku(sku.to_owned()));
    }
    let share = sqlx::query(
        "UPDATE stock_shares SET allocated = allocated + ?, sold = sold - ? WHERE sku = ? AND cell_id = ? AND sold >= ?",
    )
    .bind(units)
    .bind(units)
    .bind(sku)
    .bind(cell)
    .bind(units)
    .execute(&mut *conn)
    .await?;
    if share.rows_affected() != 1 {
        return Err(StockError::Unbalanced(format!(
            "{cell} undid {units} sales of {sku}, more than it reported"
        )));
    }
    let ledger = sqlx::query(
        "UPDATE stock_ledger SET allocated = allocated + ?, sold = sold - ? WHERE sku = ? AND sold >= ?",
    )
    .bind(units)
    .bind(units)
    .bind(sku)
    .bind(units)
    .execute(&mut *conn)
    .await?;
    if ledger.rows_affected() != 1 {
        return Err(StockError::Unbalanced(format!(
            "{sku}: fewer than {units} units sold"
        )));
    }
    Ok(())
}

pub async fn sold(
    conn: &mut MySqlConnection,
    cell: &str,
    sku: &str,
    units: u64,
) -> Result<(), StockError> {
    // The ledger row first, as every change does, so two changes of one SKU
    // queue on it rather than deadlock on the share rows.
    if lock(&mut *conn, sku).await?.is_none() {
        return Err(StockError::UnknownSku(sku.to_owned()));
    }
    let share = sqlx::query!(
        r#"UPDATE stock_shares
           SET allocated = allocated - ?, sold = sold + ?,
               demand = IF(demand_window > NOW() - INTERVAL 1 HOUR, demand + ?, ?),
               demand_window = IF(demand_window > NOW() - INTERVAL 1 HOUR, demand_window, NOW())
           WHERE sku = ? AND cell_id = ? AND allocated >= ?"#,
        units,
        units,
        units,
        units,
        sku,
        cell,
        units
    )
    .execute(&mut *conn)
    .await?;
    if share.rows_affected() != 1 {
        return Err(StockError::Unbalanced(format!(
            "{cell} reported {units} of {sku} sold, more than it was given"
        )));
    }
    let ledger = sqlx::query!(
        "UPDATE stock_ledger SET allocated = allocated - ?, sold = sold + ? WHERE sku = ? AND allocated >= ?",
        units,
        units,
        sku,
        units
    )
    .execute(conn)
    .await?;
    if ledger.rows_affected() != 1 {
        return Err(StockError::Unbalanced(format!(
            "{sku}: fewer than {units} units allocated"
        )));
    }
    Ok(())
}

/// A cell gave back `units` of `sku`: unallocated again.
pub async fn returned(
    conn: &mut MySqlConnection,
    cell: &str,
    sku: &str,
    units: u64,
) -> Result<u64, StockError> {
    let Some(before) = lock(&mut *conn, sku).await? else {
        return Err(StockError::UnknownSku(sku.to_owned()));
    };
    let share = sqlx::query!(
        "UPDATE stock_shares SET allocated = allocated - ? WHERE sku = ? AND cell_id = ? AND allocated >= ?",
        units,
        sku,
        cell,
        units
    )
    .execute(&mut *conn)
    .await?;
    if share.rows_affected() != 1 {
        return Err(StockError::Unbalanced(format!(
            "{cell} returned {units} of {sku}, more than it was given"
        )));
    }
    let moved = sqlx::query!(
        "UPDATE stock_ledger SET allocated = allocated - ?, unallocated = unallocated + ? WHERE sku = ? AND allocated >= ?",
        units,
        units,
        sku,
        units
    )
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() != 1 {
        return Err(StockError::Unbalanced(format!(
            "{sku}: fewer than {units} units allocated"
        )));
    }
    Ok(before.unallocated + units)
}

/// Asks `cell` to return every unit it holds (a drained cell), audited.
pub async fn recall(
    conn: &mut MySqlConnection,
    schemas: &Schemas,
    settings: &StockSettings,
    actor: &str,
    cell: &str,
) -> Result<(), StockError> {
    let known = sqlx::query_scalar!("SELECT COUNT(*) FROM cells WHERE id = ?", cell)
        .fetch_one(&mut *conn)
        .await?;
    if known == 0 {
        return Err(StockError::UnknownCell(cell.to_owned()));
    }
    announce(
        &mut *conn,
        (schemas, &settings.allocations_topic),
        &StockRecalled {
            cell: cell.to_owned(),
            skus: None,
        },
    )
    .await?;
    audit::record(
        conn,
        actor,
        "stock.recall",
        &format!("cell:{cell}"),
        &serde_json::json!({}),
    )
    .await?;
    Ok(())
}

/// The ledger of `sku` with each cell's share.
pub async fn ledger(
    conn: &mut MySqlConnection,
    sku: &str,
) -> Result<Option<StockLedger>, sqlx::Error> {
    let Some(row) = sqlx::query_as!(
        LedgerRow,
        "SELECT on_hand, unallocated, allocated, sold FROM stock_ledger WHERE sku = ?",
        sku
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let cells = sqlx::query_as!(
        CellShare,
        r#"SELECT cell_id AS cell, allocated, sold FROM stock_shares WHERE sku = ? ORDER BY cell_id"#,
        sku
    )
    .fetch_all(conn)
    .await?;
    Ok(Some(StockLedger {
        sku: sku.to_owned(),
        on_hand: row.on_hand,
        unallocated: row.unallocated,
        allocated: row.allocated,
        sold: row.sold,
        cells,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(name: &str, allocated: u64, demand: u64) -> CellStanding {
        CellStanding {
            cell: name.into(),
            allocated,
            demand,
        }
    }

    #[test]
    fn each_cell_gets_the_floor_while_units_last() {
        let cells = [cell("cell-0", 0, 0), cell("cell-1", 0, 0)];
        assert_eq!(
            plan_shares(10, &cells, 3),
            vec![("cell-0".into(), 3), ("cell-1".into(), 3)]
        );
        assert_eq!(
            plan_shares(4, &cells, 3),
            vec![("cell-0".into(), 3), ("cell-1".into(), 1)]
        );
        assert!(plan_shares(0, &cells, 3).is_empty());
    }

    #[test]
    fn busy_cells_get_more_and_come_first() {
        let cells = [cell("cell-0", 0, 0), cell("cell-1", 1, 10)];
        assert_eq!(
            plan_shares(20, &cells, 2),
            vec![("cell-1".into(), 11), ("cell-0".into(), 2)]
        );
        assert_eq!(plan_shares(5, &cells, 2), vec![("cell-1".into(), 5)]);
    }

    #[test]
    fn a_cell_holding_enough_gets_nothing() {
        let cells = [cell("cell-0", 9, 0)];
        assert!(plan_shares(50, &cells, 5).is_empty());
    }
}
