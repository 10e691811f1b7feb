//! The vector backlog: products that went out without a vector — an import
//! that asked for vectors later, or a write whose embedding failed — wait in
//! `vector_backlog` until the worker here gives them one.
//!
//! The worker stands back while any import runs (and for a moment after, so
//! an import sent in chunks keeps the machine), then takes the products in
//! rounds: it embeds a round's texts in one batch outside any transaction,
//! then, one product per transaction, stores the vector, bumps the version
//! and announces the snapshot with its vector. A product whose own vector
//! already matches its text (a later write embedded it) only leaves the
//! backlog; a deleted one leaves it with its row. The number waiting is the
//! gauge `cellwear_catalog_vectors_pending`.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use prometheus::IntGauge;
use sqlx::mysql::MySqlConnection;
use tokio::sync::watch;
use wire::events::ProductUpserted;

use super::embed::Resolved;
use super::{Catalog, Refs, repo};

/// Products taken per round.
const ROUND: u32 = 64;
/// How long after the last import ends the worker waits before it starts:
/// longer than the gap between two chunks of one seed.
const QUIET: Duration = Duration::from_secs(3);
/// How often an empty backlog, or one held back by imports, is looked at.
const POLL: Duration = Duration::from_secs(1);
/// The pause after a failed round (the model or the database).
const AFTER_FAILURE: Duration = Duration::from_secs(30);

/// Imports under way, and when the last one ended.
#[derive(Debug, Default)]
pub struct ImportActivity {
    running: AtomicUsize,
    last_ended: Mutex<Option<Instant>>,
}

/// Held while an import runs.
#[derive(Debug)]
pub struct ImportRunning(Arc<ImportActivity>);

impl ImportActivity {
    pub fn begin(self: &Arc<Self>) -> ImportRunning {
        self.running.fetch_add(1, Ordering::SeqCst);
        ImportRunning(Arc::clone(self))
    }

    /// No import runs, and none has ended within `quiet`.
    pub fn quiet_for(&self, quiet: Duration) -> bool {
        if self.running.load(Ordering::SeqCst) > 0 {
            return false;
        }
        let ended = self.last_ended.lock().map(|at| *at).unwrap_or(None);
        ended.is_none_or(|at| at.elapsed() >= quiet)
    }
}

impl Drop for ImportRunning {
    fn drop(&mut self) {
        if let Ok(mut at) = self.0.last_ended.lock() {
            *at = Some(Instant::now());
        }
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Puts product `id` in the backlog (it went out without a vector).
pub async fn queue(conn: &mut MySqlConnection, id: u64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO vector_backlog (product_id) VALUES (?) ON DUPLICATE KEY UPDATE product_id = product_id")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Products waiting for their vector.
pub async fn pending(conn: &mut MySqlConnection) -> Result<u64, sqlx::Error> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vector_backlog")
        .fetch_one(conn)
        .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// What a round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// An import runs, or has just ended: nothing taken.
    HeldBack,
    /// `given` products went out again with their vector; `left` wait.
    Done { given: u64, left: u64 },
}

/// Gives up to `limit` products of the backlog their vectors (see the
/// module's notes).
pub async fn round(catalog: &Catalog, limit: u32) -> anyhow::Result<Round> {
    if !catalog.imports.quiet_for(QUIET) {
        return Ok(Round::HeldBack);
    }
    let mut conn = catalog.pool.acquire().await?;
    let ids: Vec<u64> =
        sqlx::query_scalar("SELECT product_id FROM vector_backlog ORDER BY product_id LIMIT ?")
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
    if ids.is_empty() {
        return Ok(Round::Done { given: 0, left: 0 });
    }
    let refs = Refs::load(&mut conn).await?;
    let mut snapshots = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(snapshot) = repo::snapshot(&mut conn, &refs, *id).await? {
            snapshots.push(snapshot);
        }
    }
    // The model's work, in one batch and outside any transaction; the
    // writes below find the vectors ready.
    catalog.embedder.prepare(&mut conn, &snapshots).await?;
    drop(conn);

    let mut given = 0;
    for id in ids {
        let mut tx = catalog.pool.begin().await?;
        let current = match repo::lock_product(&mut tx, id).await? {
            Some(_) => repo::snapshot(&mut tx, &refs, id).await?,
            None => None,
        };
        if let Some(mut snapshot) = current {
            match catalog.embedder.resolve(&mut tx, &snapshot, true).await? {
                // A later write embedded this text and announced it.
                Resolved::Own(_) => {}
                Resolved::Stored(embedding) => {
                    // The vector is a change of its own: cells keep only a
                    // newer version. The content, and `updated_at`, stay.
                    sqlx::query("UPDATE products SET version = version + 1 WHERE id = ?")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    snapshot.version += 1;
                    catalog
                        .announce(
                            &mut tx,
                            &ProductUpserted {
                                product: snapshot,
                                embedding: Some(embedding),
                            },
                        )
                        .await?;
                    given += 1;
                }
                Resolved::Missing => {
                    anyhow::bail!("the embedding model failed on product {id}");
                }
            }
        }
        sqlx::query("DELETE FROM vector_backlog WHERE product_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let left = pending(&mut *catalog.pool.acquire().await?).await?;
    Ok(Round::Done { given, left })
}

/// The worker: rounds until `stop`, with the number waiting as the gauge
/// `cellwear_catalog_vectors_pending` on `registry`.
pub async fn work(
    catalog: Catalog,
    registry: prometheus::Registry,
    mut stop: watch::Receiver<bool>,
) {
    let gauge = IntGauge::new(
        "catalog_vectors_pending",
        "Products announced without a vector, waiting for the background embedder",
    )
    .and_then(|gauge| registry.register(Box::new(gauge.clone())).map(|()| gauge));
    let gauge = match gauge {
        Ok(gauge) => Some(gauge),
        Err(error) => {
            tracing::warn!(error = %error, "the vector backlog gauge is not exported");
            None
        }
    };
    let show = |left: u64| {
        if let Some(gauge) = &gauge {
            gauge.set(i64::try_from(left).unwrap_or(i64::MAX));
        }
    };
    loop {
        let pause = match round(&catalog, ROUND).await {
            Ok(Round::HeldBack) => {
                // The count grows while an import runs: keep it visible.
                if let Ok(mut conn) = catalog.pool.acquire().await
                    && let Ok(left) = pending(&mut conn).await
                {
                    show(left);
                }
                POLL
            }
            Ok(Round::Done { given, left }) => {
                show(left);
                if given > 0 {
                    tracing::info!(given, left, "products went out again with their vectors");
                }
                if left == 0 { POLL } else { Duration::ZERO }
            }
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "a vector backlog round failed; trying again later");
                AFTER_FAILURE
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backlog_stands_back_while_an_import_runs_and_for_a_moment_after() {
        let activity = Arc::new(ImportActivity::default());
        let quiet = Duration::from_millis(200);
        assert!(activity.quiet_for(quiet), "no import yet");
        let first = activity.begin();
        let second = activity.begin();
        assert!(!activity.quiet_for(quiet));
        drop(first);
        assert!(!activity.quiet_for(quiet), "one still runs");
        drop(second);
        assert!(!activity.quiet_for(quiet), "one has only just ended");
        std::thread::sleep(quiet);
        assert!(activity.quiet_for(quiet));
    }
}
