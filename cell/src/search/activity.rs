//! What shoppers do here that recommendations learn from: product views
//! (recorded off the request path, in batches) and purchases (recorded by
//! checkout). Each batch of views also goes, counted per product, to the
//! cell's `analytics` topic through the outbox, for the control plane's
//! trending list; the trending list it sends back is kept by [`OnTrending`].

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use events::consumer::{Handler, HandlerError};
use events::{Envelope, Schemas, outbox};
use sqlx::mysql::MySqlConnection;
use sqlx::{MySql, MySqlPool, QueryBuilder};
use tokio::sync::{mpsc, watch};
use wire::events::{ProductViews, ProductsViewed, TrendingUpdated};

/// Views waiting to be written at most; past it, views are dropped (they
/// only tune recommendations) and counted in the log.
const QUEUE: usize = 20_000;
/// How often waiting views are written.
const FLUSH: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct Activity {
    views: mpsc::Sender<(String, u64)>,
}

impl Activity {
    pub fn new() -> (Self, mpsc::Receiver<(String, u64)>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Self { views: tx }, rx)
    }

    /// Notes that `shopper` viewed product `id`; never waits.
    pub fn viewed(&self, shopper: &str, id: u64) {
        if self.views.try_send((shopper.to_owned(), id)).is_err() {
            tracing::debug!("view queue full; view dropped");
        }
    }
}

/// Records that `shopper` bought `products` together: their history and the
/// co-purchase counts, in the caller's transaction.
pub async fn purchased(
    conn: &mut MySqlConnection,
    shopper: &str,
    products: &[u64],
) -> Result<(), sqlx::Error> {
    let mut products = products.to_vec();
    products.sort_unstable();
    products.dedup();
    if products.is_empty() {
        return Ok(());
    }
    let mut history =
        QueryBuilder::<MySql>::new("INSERT INTO shopper_activity (shopper_key, product_id, kind) ");
    history.push_values(&products, |mut row, id| {
        row.push_bind(shopper).push_bind(*id).push_bind("purchase");
    });
    history.build().execute(&mut *conn).await?;
    let pairs: Vec<(u64, u64)> = products
        .iter()
        .flat_map(|a| {
            products
                .iter()
                .filter(move |b| *b != a)
                .map(move |b| (*a, *b))
        })
        .collect();
    for chunk in pairs.chunks(500) {
        let mut co =
            QueryBuilder::<MySql>::new("INSERT INTO co_purchases (product_id, other_id, times) ");
        co.push_values(chunk, |mut row, (a, b)| {
            row.push_bind(*a).push_bind(*b).push_bind(1u32);
        });
        co.push(" ON DUPLICATE KEY UPDATE times = times + 1");
        co.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes views in batches until `stop`.
pub async fn record_views(
    pool: MySqlPool,
    cell: String,
    topic: String,
    mut views: mpsc::Receiver<(String, u64)>,
    mut stop: watch::Receiver<bool>,
) {
    let schemas = Schemas::builtin();
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(FLUSH) => {}
            _ = stop.changed() => {}
        }
        while let Ok(view) = views.try_recv() {
            batch.push(view);
            if batch.len() >= 5_000 {
                break;
            }
        }
        if !batch.is_empty() {
            if let Err(error) = write_views(&pool, &schemas, &cell, &topic, &batch).await {
                tracing::warn!(error = %format!("{error:#}"), views = batch.len(), "recording views failed; dropped");
            }
            batch.clear();
        }
        if *stop.borrow() {
            return;
        }
    }
}

async fn write_views(
    pool: &MySqlPool,
    schemas: &Schemas,
    cell: &str,
    topic: &str,
    batch: &[(String, u64)],
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let mut rows =
        QueryBuilder::<MySql>::new("INSERT INTO shopper_activity (shopper_key, product_id, kind) ");
    rows.push_values(batch, |mut row, (shopper, id)| {
        row.push_bind(shopper.as_str())
            .push_bind(*id)
            .push_bind("view");
    });
    rows.build().execute(&mut *tx).await?;
    let mut counts: BTreeMap<u64, u32> = BTreeMap::new();
    for (_, id) in batch {
        *counts.entry(*id).or_default() += 1;
    }
    outbox::enqueue_payload(
        &mut tx,
        schemas,
        topic,
        Some(cell),
        &ProductsViewed {
            cell: cell.to_owned(),
            views: counts
                .into_iter()
                .map(|(product_id, count)| ProductViews { product_id, count })
                .collect(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `TrendingUpdated` → the cell's trending list, replaced whole.
#[derive(Debug, Clone)]
pub struct OnTrending;

#[async_trait]
impl Handler for OnTrending {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let event: TrendingUpdated = event
            .payload()
            .map_err(|e| HandlerError::Permanent(e.into()))?;
        sqlx::query("DELETE FROM cell_trending")
            .execute(&mut *conn)
            .await?;
        if event.items.is_empty() {
            return Ok(());
        }
        let mut rows =
            QueryBuilder::<MySql>::new("INSERT IGNORE INTO cell_trending (product_id, score) ");
        rows.push_values(&event.items, |mut row, item| {
            row.push_bind(item.product_id).push_bind(item.score);
        });
        rows.build().execute(conn).await?;
        Ok(())
    }
}
