//! This cell's share of each promotion's global cap, kept like its share of
//! stock (DESIGN.md §2): the cell spends only what the control plane gave
//! it, with no call out of the cell at checkout; when the share runs low or
//! out it asks for more (`PromotionCapTopUpRequested`), grants arrive on the
//! `allocations` topic (`PromotionCapGranted`), and a recalled cell gives
//! back what it has not spent (`PromotionCapReturned`).
//!
//! The share is `max(granted, the snapshot's cell_caps[cell]) - returned`:
//! a snapshot carries what the control plane had granted each cell when it
//! was written, so a cell that has the snapshot but not yet the grant
//! already holds its share.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use events::consumer::{Handler, HandlerError};
use events::{Envelope, Schemas, outbox, topics};
use sqlx::mysql::MySqlConnection;
use sqlx::{MySqlPool, Row};
use wire::events::{PromotionCapGranted, PromotionCapReturned, PromotionCapTopUpRequested};
use wire::promotions::PromotionSnapshot;

/// What this cell holds of one promotion's cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allowance {
    /// Everything the control plane has granted so far.
    pub granted: u64,
    pub returned: u64,
    pub used: u64,
}

impl Allowance {
    /// Uses this cell may still spend.
    pub fn left(&self) -> u64 {
        self.granted
            .saturating_sub(self.returned)
            .saturating_sub(self.used)
    }

    /// A quarter or less of the share is left: time to ask for more.
    pub fn low(&self) -> bool {
        let share = self.granted.saturating_sub(self.returned);
        self.left().saturating_mul(4) <= share
    }
}

/// `p`'s allowance here; `lock` holds its row until the transaction ends.
pub async fn allowance(
    conn: &mut MySqlConnection,
    p: &PromotionSnapshot,
    cell: &str,
    lock: bool,
) -> Result<Allowance, sqlx::Error> {
    let sql = if lock {
        "SELECT granted, returned, used FROM promotion_allowances WHERE promotion_id = ? FOR UPDATE"
    } else {
        "SELECT granted, returned, used FROM promotion_allowances WHERE promotion_id = ?"
    };
    let row: Option<(u64, u64, u64)> = sqlx::query_as(sql)
        .bind(p.id)
        .fetch_optional(&mut *conn)
        .await?;
    let (granted, returned, used) = row.unwrap_or_default();
    let in_snapshot = p.cell_caps.get(cell).copied().unwrap_or(0);
    Ok(Allowance {
        granted: granted.max(in_snapshot),
        returned,
        used,
    })
}

/// Counts one use of promotion `id` here (an order placed with it).
pub async fn spend(conn: &mut MySqlConnection, id: u64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO promotion_allowances (promotion_id, used) VALUES (?, 1) ON DUPLICATE KEY UPDATE used = used + 1",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Gives one use of promotion `id` back (its order was cancelled).
pub async fn unspend(conn: &mut MySqlConnection, id: u64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE promotion_allowances SET used = used - 1 WHERE promotion_id = ? AND used > 0",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Asks the control plane for more of the caps this cell runs short of.
#[derive(Debug, Clone)]
pub struct Caps {
    pool: MySqlPool,
    schemas: Schemas,
    cell: String,
    /// `<cell>.inventory`, with the platform's topic prefix.
    topic: String,
    cooldown: Duration,
    /// When this process last chased each promotion: a spent cap is seen
    /// by every cart read, and only one in a cool-down needs to ask.
    chased: Arc<Mutex<HashMap<u64, Instant>>>,
}

impl Caps {
    pub fn new(pool: MySqlPool, cell: &str, topic_prefix: &str, cooldown: Duration) -> Self {
        Self {
            pool,
            schemas: Schemas::builtin(),
            cell: cell.to_owned(),
            topic: format!("{topic_prefix}{}", topics::cell_topic(cell, "inventory")),
            cooldown,
            chased: Arc::default(),
        }
    }

    /// Whether a read that found promotion `id` spent should ask for more:
    /// once per cool-down per process, without touching the database.
    pub fn worth_chasing(&self, id: u64) -> bool {
        let now = Instant::now();
        let mut chased = self
            .chased
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if chased
            .get(&id)
            .is_some_and(|at| now.duration_since(*at) < self.cooldown)
        {
            return false;
        }
        if chased.len() >= 1024 {
            let cooldown = self.cooldown;
            chased.retain(|_, at| now.duration_since(*at) < cooldown);
        }
        chased.insert(id, now);
        true
    }

    pub fn cell(&self) -> &str {
        &self.cell
    }

    /// Asks for more of promotion `p`'s cap in the caller's transaction,
    /// unless this cell asked within the cool-down.
    pub async fn ask(
        &self,
        conn: &mut MySqlConnection,
        p: &PromotionSnapshot,
        held: Allowance,
    ) -> Result<(), anyhow::Error> {
        sqlx::query("INSERT IGNORE INTO promotion_allowances (promotion_id) VALUES (?)")
            .bind(p.id)
            .execute(&mut *conn)
            .await?;
        let claimed = sqlx::query(
            r#"UPDATE promotion_allowances SET top_up_requested_at = CURRENT_TIMESTAMP(6)
               WHERE promotion_id = ? AND (top_up_requested_at IS NULL
                   OR top_up_requested_at < CURRENT_TIMESTAMP(6) - INTERVAL ? MICROSECOND)"#,
        )
        .bind(p.id)
        .bind(u64::try_from(self.cooldown.as_micros()).unwrap_or(u64::MAX))
        .execute(&mut *conn)
        .await?;
        if claimed.rows_affected() != 1 {
            return Ok(());
        }
        outbox::enqueue_payload(
            conn,
            &self.schemas,
            &self.topic,
            Some(self.cell.as_str()),
            &PromotionCapTopUpRequested {
                promotion_id: p.id,
                cell: self.cell.clone(),
                used: held.used,
                granted: held.granted,
            },
        )
        .await?;
        tracing::info!(
            promotion = p.id,
            used = held.used,
            granted = held.granted,
            "promotion cap top-up asked for"
        );
        Ok(())
    }

    /// Asks for more of `p`'s cap, in the caller's transaction (which
    /// holds `p`'s row lock), when `p` is a running capped promotion and a
    /// quarter of this cell's share or less is left.
    pub async fn ask_if_low(
        &self,
        conn: &mut MySqlConnection,
        p: &PromotionSnapshot,
    ) -> Result<(), anyhow::Error> {
        if p.global_cap.is_none() || !p.active {
            return Ok(());
        }
        let held = allowance(conn, p, &self.cell, true).await?;
        if held.low() {
            self.ask(conn, p, held).await?;
        }
        Ok(())
    }

    /// A shopper found promotion `id`'s share here spent: asks for more in
    /// a transaction of its own (the caller's was rolled back or only read).
    pub async fn ran_short(&self, id: u64) -> Result<(), anyhow::Error> {
        let mut tx = self.pool.begin().await?;
        // The promotion's row first, as checkout takes it: the two never
        // wait on each other's allowance rows the other way round.
        let Some(p) = super::locked(&mut tx, id).await? else {
            return Ok(());
        };
        self.ask_if_low(&mut tx, &p).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn unreadable(error: events::EnvelopeError) -> HandlerError {
    HandlerError::Permanent(error.into())
}

/// Grants of a promotion's cap to this cell. A grant carries the running
/// total, so the larger of the two totals wins.
#[derive(Debug, Clone)]
pub struct OnCapGranted {
    pub cell: String,
}

#[async_trait]
impl Handler for OnCapGranted {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let grant: PromotionCapGranted = event.payload().map_err(unreadable)?;
        if grant.cell != self.cell {
            return Ok(());
        }
        // The cool-down is cleared first: MariaDB assigns left to right, so
        // this compares against the total held before the grant.
        sqlx::query(
            r#"INSERT INTO promotion_allowances (promotion_id, granted) VALUES (?, ?)
               ON DUPLICATE KEY UPDATE
                 top_up_requested_at = IF(VALUES(granted) > granted, NULL, top_up_requested_at),
                 granted = GREATEST(granted, VALUES(granted))"#,
        )
        .bind(grant.promotion_id)
        .bind(grant.granted)
        .execute(&mut *conn)
        .await?;
        tracing::info!(
            promotion = grant.promotion_id,
            granted = grant.granted,
            "promotion cap granted"
        );
        Ok(())
    }
}

/// A recall: gives back every use of every cap this cell has not spent, in
/// the caller's transaction. Returns how many promotions gave something.
pub async fn give_back_all(
    conn: &mut MySqlConnection,
    schemas: &Schemas,
    (cell, topic): (&str, &str),
) -> Result<usize, anyhow::Error> {
    // Promotions before allowances, in id order: the order checkout locks
    // them in.
    sqlx::query(
        "SELECT id FROM promotions WHERE id IN (SELECT promotion_id FROM promotion_allowances) ORDER BY id FOR UPDATE",
    )
    .execute(&mut *conn)
    .await?;
    let rows = sqlx::query(
        r#"SELECT a.promotion_id, a.granted, a.returned, a.used, CAST(p.snapshot AS CHAR) AS snapshot
           FROM promotion_allowances a LEFT JOIN promotions p ON p.id = a.promotion_id
           ORDER BY a.promotion_id FOR UPDATE"#,
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut gave = 0;
    for row in &rows {
        let id: u64 = row.try_get("promotion_id")?;
        let snapshot: Option<String> = row.try_get("snapshot")?;
        let in_snapshot = snapshot
            .as_deref()
            .and_then(|json| serde_json::from_str::<PromotionSnapshot>(json).ok())
            .and_then(|p| p.cell_caps.get(cell).copied())
            .unwrap_or(0);
        let held = Allowance {
            granted: row.try_get::<u64, _>("granted")?.max(in_snapshot),
            returned: row.try_get("returned")?,
            used: row.try_get("used")?,
        };
        let unspent = held.left();
        if unspent == 0 {
            continue;
        }
        let returned = held.returned + unspent;
        sqlx::query(
            "UPDATE promotion_allowances SET granted = ?, returned = ? WHERE promotion_id = ?",
        )
        .bind(held.granted)
        .bind(returned)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        outbox::enqueue_payload(
            &mut *conn,
            schemas,
            topic,
            Some(cell),
            &PromotionCapReturned {
                promotion_id: id,
                cell: cell.to_owned(),
                returned,
            },
        )
        .await?;
        gave += 1;
    }
    Ok(gave)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_left_counts_grants_returns_and_uses() {
        let held = Allowance {
            granted: 20,
            returned: 4,
            used: 12,
        };
        assert_eq!(held.left(), 4);
        assert!(held.low());
        let plenty = Allowance {
            granted: 20,
            returned: 0,
            used: 10,
        };
        assert!(!plenty.low());
        let spent_more_than_held = Allowance {
            granted: 2,
            returned: 0,
            used: 5,
        };
        assert_eq!(spent_more_than_held.left(), 0);
        assert!(Allowance::default().low());
    }

    #[tokio::test]
    async fn a_spent_cap_is_chased_once_per_cool_down() {
        let pool = sqlx::MySqlPool::connect_lazy("mysql://nobody@127.0.0.1:1/none").unwrap();
        let caps = Caps::new(pool.clone(), "c1", "", Duration::from_secs(60));
        assert!(caps.worth_chasing(7));
        assert!(!caps.worth_chasing(7), "asked within the cool-down");
        assert!(caps.worth_chasing(8), "another promotion is its own");
        assert!(!caps.clone().worth_chasing(7), "clones share the record");
        let eager = Caps::new(pool, "c1", "", Duration::ZERO);
        assert!(eager.worth_chasing(7) && eager.worth_chasing(7));
    }
}
