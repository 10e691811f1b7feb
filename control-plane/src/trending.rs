//! Trending products: every cell reports its product views (`ProductsViewed`
//! on `<cell>.analytics`); the control plane keeps one time-decayed score
//! per product — each view counts 1 and halves every half-life — and
//! publishes the top of the list (`TrendingUpdated` on `trending`) whenever
//! it changed, at most once per interval. Cells keep the latest list.

use std::time::Duration;

use async_trait::async_trait;
use events::consumer::{Handler, HandlerError};
use events::{Envelope, Schemas, outbox};
use serde::Deserialize;
use sqlx::mysql::MySqlConnection;
use sqlx::{MySql, MySqlPool, QueryBuilder, Row};
use tokio::sync::watch;
use wire::events::{ProductsViewed, TrendingItem, TrendingUpdated};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendingSettings {
    /// A view counts half as much after this long.
    pub half_life_s: u64,
    /// How often the list is recomputed (and sent when it changed).
    pub publish_every_ms: u64,
    /// Products in the list.
    pub size: u32,
}

impl TrendingSettings {
    pub fn check(&self) -> Result<(), String> {
        if self.half_life_s == 0 || self.publish_every_ms < 100 || !(1..=1000).contains(&self.size)
        {
            return Err(
                "trending: half_life_s above 0, publish_every_ms at least 100, size 1-1000".into(),
            );
        }
        Ok(())
    }
}

/// `ProductsViewed` → scores.
#[derive(Debug, Clone)]
pub struct OnViewed {
    pub half_life_s: u64,
}

#[async_trait]
impl Handler for OnViewed {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let event: ProductsViewed = event
            .payload()
            .map_err(|e| HandlerError::Permanent(e.into()))?;
        let mut q = QueryBuilder::<MySql>::new(
            "INSERT INTO trending_scores (product_id, score, updated_at) ",
        );
        q.push_values(&event.views, |mut row, view| {
            row.push_bind(view.product_id)
                .push_bind(f64::from(view.count))
                .push("CURRENT_TIMESTAMP(6)");
        });
        // The held score decays to now, then the new views are added.
        q.push(" ON DUPLICATE KEY UPDATE score = score * POW(0.5, TIMESTAMPDIFF(MICROSECOND, updated_at, CURRENT_TIMESTAMP(6)) / ")
            .push_bind(self.half_life_s as f64 * 1e6)
            .push(") + VALUES(score), updated_at = CURRENT_TIMESTAMP(6)");
        q.build().execute(conn).await?;
        Ok(())
    }
}

/// The current list, best first: scores decayed to now.
pub async fn current(
    pool: &MySqlPool,
    settings: &TrendingSettings,
) -> Result<Vec<TrendingItem>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT product_id, score * POW(0.5, TIMESTAMPDIFF(MICROSECOND, updated_at, CURRENT_TIMESTAMP(6)) / ?) AS decayed \
         FROM trending_scores ORDER BY decayed DESC, product_id LIMIT ?",
    )
    .bind(settings.half_life_s as f64 * 1e6)
    .bind(settings.size)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(TrendingItem {
                product_id: row.try_get("product_id")?,
                score: row.try_get::<f64, _>("decayed")?.max(0.0),
            })
        })
        .collect()
}

/// Recomputes the list every interval and sends it when its order changed;
/// forgets scores decayed to nothing.
pub async fn publish(
    pool: MySqlPool,
    topic: String,
    settings: TrendingSettings,
    mut stop: watch::Receiver<bool>,
) {
    let schemas = Schemas::builtin();
    let mut last: Vec<u64> = Vec::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(settings.publish_every_ms)) => {}
            _ = stop.changed() => return,
        }
        let sent = async {
            let items = current(&pool, &settings).await?;
            let order: Vec<u64> = items.iter().map(|i| i.product_id).collect();
            if order == last {
                return Ok::<_, anyhow::Error>(None);
            }
            let mut tx = pool.begin().await?;
            outbox::enqueue_payload(
                &mut tx,
                &schemas,
                &topic,
                None,
                &TrendingUpdated {
                    items,
                    computed_at: time::OffsetDateTime::now_utc()
                        .format(&time::format_description::well_known::Rfc3339)?,
                },
            )
            .await?;
            sqlx::query(
                "DELETE FROM trending_scores WHERE score * POW(0.5, TIMESTAMPDIFF(MICROSECOND, updated_at, CURRENT_TIMESTAMP(6)) / ?) < 0.01",
            )
            .bind(settings.half_life_s as f64 * 1e6)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(order))
        };
        match sent.await {
            Ok(Some(order)) => last = order,
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "publishing trending failed")
            }
        }
    }
}
