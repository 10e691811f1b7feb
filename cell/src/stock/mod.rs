//! This cell's share of the global stock (DESIGN.md §2). The cell sells only
//! from what the control plane gave it, with no call out of the cell: a sale
//! is one conditional update (`held = held - n WHERE held >= n`), so two
//! buyers of the last unit cannot both get it. Each sale is reported
//! (`StockSold`) and, when the share runs low, a top-up is asked for
//! (`StockTopUpRequested`), both through the outbox in the sale's
//! transaction. Grants, hints and recalls arrive on the `allocations` topic.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use events::consumer::{Handler, HandlerError};
use events::{Envelope, Schemas, outbox, topics};
use serde::Deserialize;
use sqlx::mysql::MySqlConnection;
use sqlx::{MySql, MySqlPool, QueryBuilder, Row};
use wire::catalog::Availability;

use crate::search::Changes;
use wire::events::{
    EventPayload, StockAllocated, StockCount, StockHintUpdated, StockRecalled, StockReturned,
    StockSold, StockTopUpRequested, StockUnsold,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockSettings {
    /// Ask for more when a sale leaves this many units or fewer.
    pub low_watermark: u32,
    /// At most one top-up request per SKU in this long.
    pub top_up_cooldown_ms: u64,
    /// Shown as `low_stock` at or below this many units.
    pub low_stock: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum StockError {
    #[error("Only {held} left here; more may come ({global_hint} not yet allocated).")]
    OutOfStock { held: u32, global_hint: u64 },
    #[error("quantity: 1-100 units")]
    InvalidQuantity,
    #[error("Only {held} of {sku} left.")]
    NotEnough { sku: String, held: u32 },
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

/// What a shopper is told about a variant held `held` here with `hint`
/// units still unallocated globally.
pub fn availability(held: u32, hint: u64, low_stock: u32) -> Availability {
    let status = if held == 0 && hint == 0 {
        "out_of_stock"
    } else if hint == 0 && held <= low_stock {
        "low_stock"
    } else {
        "in_stock"
    };
    Availability {
        status: status.to_owned(),
        quantity: held,
        global_hint: u32::try_from(hint).unwrap_or(u32::MAX),
    }
}

/// `(held, global hint)` of each listed SKU this cell knows.
pub async fn levels(
    pool: &MySqlPool,
    skus: &[&str],
) -> Result<HashMap<String, (u32, u64)>, sqlx::Error> {
    if skus.is_empty() {
        return Ok(HashMap::new());
    }
    let mut query =
        QueryBuilder::<MySql>::new("SELECT sku, held, global_hint FROM cell_stock WHERE sku IN (");
    let mut list = query.separated(", ");
    for sku in skus {
        list.push_bind(*sku);
    }
    query.push(")");
    let rows = query.build().fetch_all(pool).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("sku")?,
                (row.try_get("held")?, row.try_get("global_hint")?),
            ))
        })
        .collect()
}

async fn announce<P: EventPayload>(
    conn: &mut MySqlConnection,
    schemas: &Schemas,
    (cell, topic): (&str, &str),
    payload: &P,
) -> Result<(), StockError> {
    outbox::enqueue_payload(conn, schemas, topic, Some(cell), payload).await?;
    Ok(())
}

/// Selling from the cell's share.
#[derive(Debug, Clone)]
pub struct Stock {
    pool: MySqlPool,
    schemas: Schemas,
    cell: String,
    settings: StockSettings,
    /// `<cell>.inventory`, with the platform's topic prefix.
    topic: String,
    /// Told which SKUs sold, for the search index's availability.
    search: Option<Changes>,
}

impl Stock {
    pub fn new(pool: MySqlPool, cell: &str, settings: StockSettings, topic_prefix: &str) -> Self {
        Self {
            pool,
            schemas: Schemas::builtin(),
            cell: cell.to_owned(),
            settings,
            topic: format!("{topic_prefix}{}", topics::cell_topic(cell, "inventory")),
            search: None,
        }
    }

    /// Tells `search` about every sale, once committed.
    pub fn with_search(mut self, search: Changes) -> Self {
        self.search = Some(search);
        self
    }

    /// Sells `quantity` of `sku` for `reference` (an order) if this cell holds
    /// them; returns what is left. Out of stock here with more unallocated,
    /// it asks for a top-up and says so.
    pub async fn take(&self, sku: &str, quantity: u32, reference: &str) -> Result<u32, StockError> {
        let mut tx = self.pool.begin().await?;
        let lines = [(sku.to_owned(), quantity)];
        match self.reserve(&mut tx, reference, &lines).await {
            Err(StockError::NotEnough { .. }) => {
                tx.rollback().await?;
                let (held, global_hint) = self.ran_short(sku).await?;
                return Err(StockError::OutOfStock { held, global_hint });
            }
            reserved => reserved?,
        }
        let sold = self.commit(&mut tx, reference).await?;
        let (held, _) = level(&mut tx, sku).await?;
        tx.commit().await?;
        self.changed(sold);
        Ok(held)
    }

    /// A sale found `sku` short here: asks for a top-up when the control
    /// plane has units left (within the cool-down). Returns `(held, hint)`.
    pub async fn ran_short(&self, sku: &str) -> Result<(u32, u64), StockError> {
        let mut tx = self.pool.begin().await?;
        let (held, global_hint) = level(&mut tx, sku).await?;
        if global_hint > 0 {
            self.ask_for_more(&mut tx, sku, held).await?;
        }
        tx.commit().await?;
        Ok((held, global_hint))
    }

    /// Takes `lines` (SKU, units) out of this cell's share for `order`, in
    /// the caller's transaction: all of them or, when one is short, none
    /// (the caller rolls back on [`StockError::NotEnough`]). Reserving again
    /// after a release (a late payment) takes the units once more.
    pub async fn reserve(
        &self,
        conn: &mut MySqlConnection,
        order: &str,
        lines: &[(String, u32)],
    ) -> Result<(), StockError> {
        let mut lines = lines.to_vec();
        // One lock order for every reservation, so two never deadlock.
        lines.sort();
        for (sku, quantity) in &lines {
            if !(1..=100).contains(quantity) {
                return Err(StockError::InvalidQuantity);
            }
            let taken =
                sqlx::query("UPDATE cell_stock SET held = held - ? WHERE sku = ? AND held >= ?")
                    .bind(quantity)
                    .bind(sku)
                    .bind(quantity)
                    .execute(&mut *conn)
                    .await?;
            if taken.rows_affected() != 1 {
                let held: Option<u32> =
                    sqlx::query_scalar("SELECT held FROM cell_stock WHERE sku = ?")
                        .bind(sku)
                        .fetch_optional(&mut *conn)
                        .await?;
                return Err(StockError::NotEnough {
                    sku: sku.clone(),
                    held: held.unwrap_or(0),
                });
            }
            sqlx::query(
                r#"INSERT INTO stock_reservations (order_id, sku, quantity, state) VALUES (?, ?, ?, 'held')
                   ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), state = 'held'"#,
            )
            .bind(order)
            .bind(sku)
            .bind(quantity)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Sells what `order` reserved: each SKU is reported (`StockSold`) and
    /// topped up when low, in the caller's transaction. Returns the SKUs
    /// (for [`Stock::changed`] once committed).
    pub async fn commit(
        &self,
        conn: &mut MySqlConnection,
        order: &str,
    ) -> Result<Vec<String>, StockError> {
        let held = held_reservations(conn, order).await?;
        for (sku, quantity) in &held {
            settle(conn, order, sku, "committed").await?;
            sqlx::query("INSERT INTO cell_stock_sales (sku, quantity, reference) VALUES (?, ?, ?)")
                .bind(sku)
                .bind(quantity)
                .bind(order)
                .execute(&mut *conn)
                .await?;
            announce(
                conn,
                &self.schemas,
                (&self.cell, &self.topic),
                &StockSold {
                    sku: sku.clone(),
                    cell: self.cell.clone(),
                    quantity: *quantity,
                    reference: order.to_owned(),
                },
            )
            .await?;
            let left: u32 = sqlx::query_scalar("SELECT held FROM cell_stock WHERE sku = ?")
                .bind(sku)
                .fetch_one(&mut *conn)
                .await?;
            if left <= self.settings.low_watermark {
                self.ask_for_more(conn, sku, left).await?;
            }
        }
        Ok(held.into_iter().map(|(sku, _)| sku).collect())
    }

    /// Puts what `order` still holds back into this cell's share, in the
    /// caller's transaction. Returns the SKUs.
    pub async fn release(
        &self,
        conn: &mut MySqlConnection,
        order: &str,
    ) -> Result<Vec<String>, StockError> {
        let held = held_reservations(conn, order).await?;
        for (sku, quantity) in &held {
            sqlx::query("UPDATE cell_stock SET held = held + ? WHERE sku = ?")
                .bind(quantity)
                .bind(sku)
                .execute(&mut *conn)
                .await?;
            settle(conn, order, sku, "released").await?;
        }
        Ok(held.into_iter().map(|(sku, _)| sku).collect())
    }

    /// Undoes the sale of `order` (cancelled after payment), in the caller's
    /// transaction: its units go back into this cell's share and the
    /// control plane hears of it. Returns the SKUs.
    pub async fn unsell(
        &self,
        conn: &mut MySqlConnection,
        order: &str,
    ) -> Result<Vec<String>, StockError> {
        let sold: Vec<(String, u32)> = sqlx::query_as(
            "SELECT sku, quantity FROM stock_reservations WHERE order_id = ? AND state = 'committed' ORDER BY sku FOR UPDATE",
        )
        .bind(order)
        .fetch_all(&mut *conn)
        .await?;
        for (sku, quantity) in &sold {
            sqlx::query("UPDATE cell_stock SET held = held + ? WHERE sku = ?")
                .bind(quantity)
                .bind(sku)
                .execute(&mut *conn)
                .await?;
            settle(conn, order, sku, "returned").await?;
            announce(
                conn,
                &self.schemas,
                (&self.cell, &self.topic),
                &StockUnsold {
                    sku: sku.clone(),
                    cell: self.cell.clone(),
                    quantity: *quantity,
                    reference: order.to_owned(),
                },
            )
            .await?;
        }
        Ok(sold.into_iter().map(|(sku, _)| sku).collect())
    }

    /// Tells search that `skus` changed (after the transaction committed).
    pub fn changed(&self, skus: Vec<String>) {
        if let Some(search) = &self.search
            && !skus.is_empty()
        {
            search.skus(skus);
        }
    }

    /// Asks for a top-up unless one was asked for within the cool-down.
    async fn ask_for_more(
        &self,
        conn: &mut MySqlConnection,
        sku: &str,
        held: u32,
    ) -> Result<(), StockError> {
        let cooldown = Duration::from_millis(self.settings.top_up_cooldown_ms);
        let claimed = sqlx::query!(
            r#"UPDATE cell_stock SET top_up_requested_at = CURRENT_TIMESTAMP(6)
               WHERE sku = ? AND (top_up_requested_at IS NULL
                                  OR top_up_requested_at < CURRENT_TIMESTAMP(6) - INTERVAL ? MICROSECOND)"#,
            sku,
            cooldown.as_micros() as u64
        )
        .execute(&mut *conn)
        .await?;
        if claimed.rows_affected() != 1 {
            return Ok(());
        }
        let demand = sqlx::query_scalar!(
            r#"SELECT CAST(COALESCE(SUM(quantity), 0) AS UNSIGNED) AS "demand!: u64"
               FROM cell_stock_sales WHERE sku = ? AND sold_at > NOW() - INTERVAL 1 HOUR"#,
            sku
        )
        .fetch_one(&mut *conn)
        .await?;
        announce(
            conn,
            &self.schemas,
            (&self.cell, &self.topic),
            &StockTopUpRequested {
                sku: sku.to_owned(),
                cell: self.cell.clone(),
                held,
                demand: u32::try_from(demand).unwrap_or(u32::MAX),
            },
        )
        .await?;
        Ok(())
    }
}

/// `(held, global hint)` of `sku` here.
async fn level(conn: &mut MySqlConnection, sku: &str) -> Result<(u32, u64), sqlx::Error> {
    let row: Option<(u32, u64)> =
        sqlx::query_as("SELECT held, global_hint FROM cell_stock WHERE sku = ?")
            .bind(sku)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.unwrap_or((0, 0)))
}

/// Marks `order`'s reservation of `sku` `committed`, `released` or
/// `returned`.
async fn settle(
    conn: &mut MySqlConnection,
    order: &str,
    sku: &str,
    state: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE stock_reservations SET state = ? WHERE order_id = ? AND sku = ?")
        .bind(state)
        .bind(order)
        .bind(sku)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `(sku, units)` that `order` holds, locked.
async fn held_reservations(
    conn: &mut MySqlConnection,
    order: &str,
) -> Result<Vec<(String, u32)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sku, quantity FROM stock_reservations WHERE order_id = ? AND state = 'held' ORDER BY sku FOR UPDATE",
    )
    .bind(order)
    .fetch_all(&mut *conn)
    .await
}

fn unreadable(error: events::EnvelopeError) -> HandlerError {
    HandlerError::Permanent(error.into())
}

/// Grants (for this cell) and the hints they carry (for every cell).
#[derive(Debug, Clone)]
pub struct OnAllocated {
    pub cell: String,
    pub search: Changes,
}

#[async_trait]
impl Handler for OnAllocated {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let event: StockAllocated = event.payload().map_err(unreadable)?;
        let mine = event.cell == self.cell;
        for grant in &event.grants {
            let units = if mine { grant.quantity } else { 0 };
            sqlx::query!(
                r#"INSERT INTO cell_stock (sku, held, global_hint) VALUES (?, ?, ?)
                   ON DUPLICATE KEY UPDATE held = held + VALUES(held), global_hint = VALUES(global_hint),
                     top_up_requested_at = IF(VALUES(held) > 0, NULL, top_up_requested_at)"#,
                grant.sku,
                units,
                grant.unallocated
            )
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    fn committed(&self, event: &Envelope) {
        if let Ok(event) = event.payload::<StockAllocated>() {
            self.search.skus(event.grants.into_iter().map(|g| g.sku));
        }
    }
}

#[derive(Debug, Clone)]
pub struct OnHint {
    pub search: Changes,
}

#[async_trait]
impl Handler for OnHint {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let event: StockHintUpdated = event.payload().map_err(unreadable)?;
        for hint in &event.hints {
            sqlx::query!(
                r#"INSERT INTO cell_stock (sku, held, global_hint) VALUES (?, 0, ?)
                   ON DUPLICATE KEY UPDATE global_hint = VALUES(global_hint),
                     top_up_requested_at = IF(VALUES(global_hint) > global_hint, NULL, top_up_requested_at)"#,
                hint.sku,
                hint.unallocated
            )
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    fn committed(&self, event: &Envelope) {
        if let Ok(event) = event.payload::<StockHintUpdated>() {
            self.search.skus(event.hints.into_iter().map(|h| h.sku));
        }
    }
}

/// A recall: give back what this cell holds (of the listed SKUs, or all;
/// all includes its shares of promotions' caps).
#[derive(Debug, Clone)]
pub struct OnRecalled {
    pub cell: String,
    pub schemas: Schemas,
    /// Where returns are reported (`<cell>.inventory`, prefixed).
    pub inventory_topic: String,
    pub search: Changes,
}

#[async_trait]
impl Handler for OnRecalled {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let event: StockRecalled = event.payload().map_err(unreadable)?;
        if event.cell != self.cell {
            return Ok(());
        }
        if event.skus.is_none() {
            // A whole recall (a drained cell) gives back its shares of
            // promotions' caps too, first: checkout locks promotions before
            // stock.
            let promotions = crate::promotions::caps::give_back_all(
                &mut *conn,
                &self.schemas,
                (self.cell.as_str(), self.inventory_topic.as_str()),
            )
            .await
            .map_err(HandlerError::Transient)?;
            tracing::info!(promotions, "promotion caps returned");
        }
        let mut query =
            QueryBuilder::<MySql>::new("SELECT sku, held FROM cell_stock WHERE held > 0");
        if let Some(skus) = &event.skus {
            if skus.is_empty() {
                return Ok(());
            }
            query.push(" AND sku IN (");
            let mut list = query.separated(", ");
            for sku in skus {
                list.push_bind(sku.as_str());
            }
            query.push(")");
        }
        query.push(" FOR UPDATE");
        let rows = query.build().fetch_all(&mut *conn).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let sku: String = row.try_get("sku")?;
            let held: u32 = row.try_get("held")?;
            sqlx::query!("UPDATE cell_stock SET held = 0 WHERE sku = ?", sku)
                .execute(&mut *conn)
                .await?;
            items.push(StockCount {
                sku,
                quantity: held,
            });
        }
        for chunk in items.chunks(500) {
            announce(
                &mut *conn,
                &self.schemas,
                (&self.cell, &self.inventory_topic),
                &StockReturned {
                    cell: self.cell.clone(),
                    items: chunk.to_vec(),
                },
            )
            .await
            .map_err(|e| HandlerError::Transient(anyhow::anyhow!("{e}")))?;
        }
        tracing::info!(skus = items.len(), "stock recalled and returned");
        Ok(())
    }

    fn committed(&self, event: &Envelope) {
        match event.payload::<StockRecalled>() {
            Ok(StockRecalled {
                cell,
                skus: Some(skus),
            }) if cell == self.cell => self.search.skus(skus),
            Ok(StockRecalled { cell, skus: None }) if cell == self.cell => {
                self.search.everything();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_reads_share_and_hint() {
        assert_eq!(availability(0, 0, 3).status, "out_of_stock");
        assert_eq!(availability(2, 0, 3).status, "low_stock");
        assert_eq!(availability(0, 40, 3).status, "in_stock");
        assert_eq!(availability(9, 0, 3).status, "in_stock");
        assert_eq!(availability(9, 0, 3).quantity, 9);
    }
}
