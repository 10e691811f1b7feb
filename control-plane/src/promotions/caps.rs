//! A promotion's global cap, shared out to the cells like stock (DESIGN.md
//! §2): each cell spends only the uses it was granted, with no call out of
//! the cell at checkout. When a promotion is saved, every active cell that
//! holds none gets a first share ([`first_share`]); the rest of the cap
//! stays in a pool. A cell whose share runs low asks for more
//! (`PromotionCapTopUpRequested`) and is granted from the pool
//! (`PromotionCapGranted` on `allocations`); a drained cell gives back what
//! it did not spend (`PromotionCapReturned`). So uses follow shoppers: a
//! busy cell keeps asking and a quiet one keeps its first share.
//!
//! Grants and returns carry running totals, so redelivered or reordered
//! events change nothing. Every grant happens under the promotion's row
//! lock, so two top-ups cannot both spend the same part of the pool (a
//! return only grows the pool, under its share's row lock).

use std::collections::BTreeMap;

use async_trait::async_trait;
use events::consumer::{Handler, HandlerError};
use events::{Envelope, Schemas, outbox};
use sqlx::mysql::MySqlConnection;
use wire::events::{
    EventPayload, PromotionCapGranted, PromotionCapReturned, PromotionCapTopUpRequested,
};
use wire::promotions::PromotionSnapshot;

/// A cell's share of one promotion's cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapShare {
    pub cell: String,
    pub granted: u64,
    pub returned: u64,
}

impl CapShare {
    /// Uses out with the cell (spent or not).
    pub fn out(&self) -> u64 {
        self.granted.saturating_sub(self.returned)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CapError {
    #[error(
        "global_cap: at least {shared}, the uses already shared out to cells (end the promotion with active: false instead)"
    )]
    BelowShared { shared: u64 },
    #[error("{0}")]
    Unbalanced(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for CapError {
    fn from(error: sqlx::Error) -> Self {
        CapError::Unexpected(error.into())
    }
}

impl From<outbox::EnqueueError> for CapError {
    fn from(error: outbox::EnqueueError) -> Self {
        CapError::Unexpected(error.into())
    }
}

/// What a cell gets at first, and the least a top-up grants: half the cap
/// spread over the active cells, at least one use. The other half waits in
/// the pool for the cells that turn out to be busy.
pub fn first_share(cap: u64, active_cells: usize) -> u64 {
    let cells = u64::try_from(active_cells.max(1)).unwrap_or(u64::MAX);
    (cap / cells.saturating_mul(2)).max(1)
}

/// Whether `cell` has uses of its own out (a returned share is none).
fn holds_share(shares: &[CapShare], cell: &str) -> bool {
    shares.iter().any(|s| s.cell == cell && s.out() > 0)
}

/// Uses not out with any cell.
pub fn pool(cap: u64, shares: &[CapShare]) -> u64 {
    cap.saturating_sub(shares.iter().map(CapShare::out).sum())
}

/// First shares for the `active` cells that hold none, in id order, while
/// the pool lasts.
pub fn plan_first_shares(cap: u64, shares: &[CapShare], active: &[String]) -> Vec<(String, u64)> {
    let each = first_share(cap, active.len());
    let mut left = pool(cap, shares);
    let mut plan = Vec::new();
    for cell in active {
        let grant = each.min(left);
        if !holds_share(shares, cell) && grant > 0 {
            plan.push((cell.clone(), grant));
            left -= grant;
        }
    }
    plan
}

/// Promotion `id`'s shares, locked.
async fn shares(conn: &mut MySqlConnection, id: u64) -> Result<Vec<CapShare>, sqlx::Error> {
    let rows: Vec<(String, u64, u64)> = sqlx::query_as(
        "SELECT cell_id, granted, returned FROM promotion_cap_shares WHERE promotion_id = ? ORDER BY cell_id FOR UPDATE",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(cell, granted, returned)| CapShare {
            cell,
            granted,
            returned,
        })
        .collect())
}

/// Promotion `id`'s cap, its row locked, when it is active and has one.
async fn running_cap(conn: &mut MySqlConnection, id: u64) -> Result<Option<u64>, CapError> {
    let json: Option<String> =
        sqlx::query_scalar("SELECT CAST(snapshot AS CHAR) FROM promotions WHERE id = ? FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(json) = json else {
        return Ok(None);
    };
    let p: PromotionSnapshot =
        serde_json::from_str(&json).map_err(|e| CapError::Unexpected(e.into()))?;
    Ok(p.global_cap.filter(|_| p.active))
}

async fn active_cells(conn: &mut MySqlConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM cells WHERE state = 'active' ORDER BY id")
        .fetch_all(&mut *conn)
        .await
}

/// Gives `cell` `units` more of promotion `id` and announces the new total.
async fn grant(
    conn: &mut MySqlConnection,
    (schemas, topic): (&Schemas, &str),
    id: u64,
    cell: &str,
    units: u64,
) -> Result<u64, CapError> {
    sqlx::query(
        r#"INSERT INTO promotion_cap_shares (promotion_id, cell_id, granted) VALUES (?, ?, ?)
           ON DUPLICATE KEY UPDATE granted = granted + VALUES(granted)"#,
    )
    .bind(id)
    .bind(cell)
    .bind(units)
    .execute(&mut *conn)
    .await?;
    let granted: u64 = sqlx::query_scalar(
        "SELECT granted FROM promotion_cap_shares WHERE promotion_id = ? AND cell_id = ?",
    )
    .bind(id)
    .bind(cell)
    .fetch_one(&mut *conn)
    .await?;
    outbox::enqueue_payload(
        conn,
        schemas,
        topic,
        None,
        &PromotionCapGranted {
            promotion_id: id,
            cell: cell.to_owned(),
            granted,
        },
    )
    .await?;
    Ok(granted)
}

/// Promotion `id` is being saved with `cap` (its row locked by the
/// caller): refuses a cap below what cells already hold, gives each active
/// cell without a share its first one, and returns every cell's granted
/// total for the snapshot's `cell_caps`. A promotion created in this
/// transaction (`created`) has no shares to read: not reading them keeps
/// two admins creating promotions at once from gap-locking each other.
pub async fn share_out(
    conn: &mut MySqlConnection,
    out: (&Schemas, &str),
    (id, created): (u64, bool),
    cap: Option<u64>,
) -> Result<BTreeMap<String, u64>, CapError> {
    let Some(cap) = cap else {
        return Ok(BTreeMap::new());
    };
    let held = if created {
        Vec::new()
    } else {
        shares(&mut *conn, id).await?
    };
    let shared: u64 = held.iter().map(CapShare::out).sum();
    if cap < shared {
        return Err(CapError::BelowShared { shared });
    }
    let active = active_cells(&mut *conn).await?;
    let mut totals: BTreeMap<String, u64> =
        held.iter().map(|s| (s.cell.clone(), s.granted)).collect();
    for (cell, units) in plan_first_shares(cap, &held, &active) {
        let granted = grant(&mut *conn, out, id, &cell, units).await?;
        totals.insert(cell, granted);
    }
    Ok(totals)
}

/// Cell `cell` has just become active (its row locked by the caller, the
/// new state written): it gets its first share of every active, capped
/// promotion, as an active cell does when a promotion is saved, so its
/// first shopper with a coupon finds uses there instead of waiting for a
/// top-up. Each promotion's row is locked, in id order, before its shares
/// (the order saves and top-ups take them in). Returns how many promotions
/// gave it a share.
pub async fn welcome(
    conn: &mut MySqlConnection,
    out: (&Schemas, &str),
    cell: &str,
) -> Result<usize, CapError> {
    // Which promotions have a cap, read without locks: a cap added after
    // this read shares out to the cell itself (the cell is active now).
    let capped: Vec<u64> = sqlx::query_scalar(
        "SELECT id FROM promotions WHERE JSON_TYPE(JSON_EXTRACT(snapshot, '$.global_cap')) = 'INTEGER' ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let active = active_cells(&mut *conn).await?.len();
    let mut welcomed = 0;
    for id in capped {
        let Some(cap) = running_cap(&mut *conn, id).await? else {
            continue;
        };
        let held = shares(&mut *conn, id).await?;
        if holds_share(&held, cell) {
            continue;
        }
        let units = first_share(cap, active).min(pool(cap, &held));
        if units == 0 {
            continue;
        }
        grant(&mut *conn, out, id, cell, units).await?;
        welcomed += 1;
    }
    Ok(welcomed)
}

/// `cell` has used `used` of the `granted` it knows of and asks for more:
/// it gets at least its first share, or as much as it has used (a busy
/// cell's share doubles), as far as the pool goes. A request older than
/// the last grant (the cell had not seen it yet), an inactive cell or
/// promotion, or one without a cap gets nothing.
pub async fn top_up(
    conn: &mut MySqlConnection,
    out: (&Schemas, &str),
    request: (u64, &str),
    (used, granted_seen): (u64, u64),
) -> Result<u64, CapError> {
    let (id, cell) = request;
    let Some(cap) = running_cap(&mut *conn, id).await? else {
        return Ok(0);
    };
    let active = active_cells(&mut *conn).await?;
    if !active.iter().any(|c| c == cell) {
        return Ok(0);
    }
    let held = shares(&mut *conn, id).await?;
    let mine = held.iter().find(|s| s.cell == cell);
    if mine.is_some_and(|s| s.granted > granted_seen) {
        return Ok(0);
    }
    let units = first_share(cap, active.len())
        .max(used)
        .min(pool(cap, &held));
    if units == 0 {
        return Ok(0);
    }
    grant(conn, out, id, cell, units).await?;
    Ok(units)
}

/// `cell` has given back `returned` uses of promotion `id` in all.
pub async fn returned(
    conn: &mut MySqlConnection,
    id: u64,
    cell: &str,
    returned: u64,
) -> Result<(), CapError> {
    let held: Option<(u64, u64)> = sqlx::query_as(
        "SELECT granted, returned FROM promotion_cap_shares WHERE promotion_id = ? AND cell_id = ? FOR UPDATE",
    )
    .bind(id)
    .bind(cell)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((granted, before)) = held else {
        return Err(CapError::Unbalanced(format!(
            "{cell} returned uses of promotion {id}, which it was never given"
        )));
    };
    if returned > granted {
        return Err(CapError::Unbalanced(format!(
            "{cell} returned {returned} uses of promotion {id}, more than the {granted} it was given"
        )));
    }
    if returned > before {
        sqlx::query(
            "UPDATE promotion_cap_shares SET returned = ? WHERE promotion_id = ? AND cell_id = ?",
        )
        .bind(returned)
        .bind(id)
        .bind(cell)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn failed(error: CapError) -> HandlerError {
    match error {
        // A report that does not fit the shares will not fit on a retry.
        CapError::Unbalanced(_) | CapError::BelowShared { .. } => {
            tracing::error!(error = %error, "promotion cap report refused");
            HandlerError::Permanent(error.into())
        }
        CapError::Unexpected(error) => HandlerError::Transient(error),
    }
}

fn payload<P: EventPayload>(event: &Envelope) -> Result<P, HandlerError> {
    event
        .payload()
        .map_err(|e| HandlerError::Permanent(e.into()))
}

/// Top-up requests from the cells' `<cell>.inventory` topics.
#[derive(Debug)]
pub struct OnCapTopUp {
    pub schemas: Schemas,
    /// `allocations`, prefixed.
    pub topic: String,
}

#[async_trait]
impl Handler for OnCapTopUp {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let request: PromotionCapTopUpRequested = payload(event)?;
        let granted = top_up(
            conn,
            (&self.schemas, &self.topic),
            (request.promotion_id, &request.cell),
            (request.used, request.granted),
        )
        .await
        .map_err(failed)?;
        tracing::info!(cell = %request.cell, promotion = request.promotion_id, used = request.used, granted, "promotion cap top-up");
        Ok(())
    }
}

/// Uses given back by recalled cells.
#[derive(Debug)]
pub struct OnCapReturned;

#[async_trait]
impl Handler for OnCapReturned {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let back: PromotionCapReturned = payload(event)?;
        returned(conn, back.promotion_id, &back.cell, back.returned)
            .await
            .map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(cell: &str, granted: u64, returned: u64) -> CapShare {
        CapShare {
            cell: cell.into(),
            granted,
            returned,
        }
    }

    fn cells(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn half_the_cap_goes_out_first_and_half_waits_in_the_pool() {
        let plan = plan_first_shares(100, &[], &cells(&["a", "b"]));
        assert_eq!(plan, vec![("a".into(), 25), ("b".into(), 25)]);
        assert_eq!(first_share(7, 3), 1);
        assert_eq!(first_share(1, 0), 1);
    }

    #[test]
    fn a_cell_that_holds_a_share_gets_no_second_first_share() {
        let held = [share("a", 30, 0), share("b", 10, 10)];
        let plan = plan_first_shares(100, &held, &cells(&["a", "b", "c"]));
        // The pool is 70; each first share is 100 / 6.
        assert_eq!(plan, vec![("b".into(), 16), ("c".into(), 16)]);
    }

    #[test]
    fn first_shares_stop_when_the_pool_is_empty() {
        let plan = plan_first_shares(3, &[share("a", 2, 0)], &cells(&["a", "b", "c", "d"]));
        assert_eq!(plan, vec![("b".into(), 1)]);
        assert_eq!(pool(3, &[share("a", 5, 0)]), 0);
    }
}
