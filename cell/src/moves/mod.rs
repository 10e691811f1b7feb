//! Moving shoppers to another cell: the old cell's and the new cell's side
//! of a drain (DESIGN.md §3, docs/RUNBOOK.md "Drain a cell").
//!
//! The control plane moves one shopper at a time, each step idempotent:
//! fence the shopper here (their writes get a retryable 503, the writes
//! already running finish first), export everything they own (refused
//! while a payment or refund of theirs is unsettled), import it on the new
//! cell (which proves it stored the same by checksum), switch the routing
//! override, then release them here: the data is deleted, checked once more
//! against the checksum so that nothing written since the copy is lost. A
//! sealed cell (the last step of a drain) refuses every shopper write.

pub mod fence;
pub mod plan;
pub mod routes;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post, put};
use placement::ShopperKey;
use sqlx::MySqlPool;
use wire::moves::{SessionCopy, ShopperBundle, ShopperChecksum, ShopperCount, ShopperPage};

use crate::auth::Auth;
use crate::cart::cache::CartCache;
pub use fence::Fences;
use fence::{FenceError, FenceState};
use plan::{ImportError, Plan};

/// The most keys one page lists.
pub const MAX_PAGE: u32 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("The shopper is not fenced for the move with epoch {0}; fence them first.")]
    NotFenced(u64),
    #[error(transparent)]
    Fence(#[from] FenceError),
    #[error("The shopper has a payment or refund still settling; their move waits until it has.")]
    PaymentInFlight,
    #[error("The bundle's checksum does not match its content.")]
    Corrupt,
    #[error("The rows written here do not read back as sent: {0}")]
    Mismatch(String),
    #[error("The shopper's rows clash with rows this cell holds: {0}")]
    Clash(String),
    #[error("The shopper's data changed since it was copied; copy it again.")]
    ChangedSinceCopy,
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for MoveError {
    fn from(error: sqlx::Error) -> Self {
        MoveError::Unexpected(error.into())
    }
}

impl From<redis::RedisError> for MoveError {
    fn from(error: redis::RedisError) -> Self {
        MoveError::Unexpected(error.into())
    }
}

/// One cell's side of shopper moves.
#[derive(Debug, Clone)]
pub struct Moves {
    pool: MySqlPool,
    plan: Arc<Plan>,
    auth: Arc<Auth>,
    fences: Arc<Fences>,
    /// Told when a shopper's carts arrive or leave.
    carts: CartCache,
}

impl Moves {
    pub async fn new(
        pool: MySqlPool,
        auth: Arc<Auth>,
        (fences, carts): (Arc<Fences>, CartCache),
    ) -> anyhow::Result<Self> {
        let mut conn = pool.acquire().await?;
        let plan = Plan::load(&mut conn).await?;
        drop(conn);
        Ok(Self {
            pool,
            plan: Arc::new(plan),
            auth,
            fences,
            carts,
        })
    }

    /// Cached reads of these carts stop counting (after the commit).
    async fn carts_changed(&self, owners: &[String]) {
        for owner in owners {
            self.carts.changed(owner).await;
        }
    }

    pub fn fences(&self) -> &Arc<Fences> {
        &self.fences
    }

    /// Up to `limit` keys after `after` that this cell holds data for and
    /// that have not moved away, in key order.
    pub async fn page(&self, after: &str, limit: u32) -> Result<ShopperPage, MoveError> {
        let limit = limit.clamp(1, MAX_PAGE);
        // Each source is read in key order from its index, `limit` at a time.
        let raw: Vec<String> = sqlx::query_scalar(
            r#"SELECT k FROM (
                 (SELECT shopper_key AS k FROM users WHERE shopper_key > ? ORDER BY shopper_key LIMIT ?)
                 UNION
                 (SELECT SUBSTRING(owner, 7) FROM carts WHERE owner > CONCAT('guest:', ?) AND owner < 'guest;' ORDER BY owner LIMIT ?)
                 UNION
                 (SELECT shopper_key FROM orders WHERE shopper_key > ? ORDER BY shopper_key LIMIT ?)
                 UNION
                 (SELECT DISTINCT shopper_key FROM shopper_activity WHERE shopper_key > ? ORDER BY shopper_key LIMIT ?)
               ) AS found ORDER BY k LIMIT ?"#,
        )
        .bind(after)
        .bind(limit)
        .bind(after)
        .bind(limit)
        .bind(after)
        .bind(limit)
        .bind(after)
        .bind(limit)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let next_after = (raw.len() == limit as usize)
            .then(|| raw.last().cloned())
            .flatten();
        // Keys the edge cannot route by (not 16 hex digits) are no shopper's,
        // and a shopper who moved away may have left a view behind.
        let keys = raw
            .into_iter()
            .filter(|key| ShopperKey::parse(key).is_ok())
            .filter(|key| {
                self.fences
                    .of(key)
                    .is_none_or(|fence| fence.state != FenceState::Moved)
            })
            .collect();
        Ok(ShopperPage { keys, next_after })
    }

    /// The accounts and the guests with a cart this cell holds.
    pub async fn count(&self) -> Result<ShopperCount, MoveError> {
        let (accounts, guests): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM users), \
                    (SELECT COUNT(*) FROM carts WHERE owner > 'guest:' AND owner < 'guest;')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(ShopperCount {
            accounts: u64::try_from(accounts).unwrap_or(0),
            guests: u64::try_from(guests).unwrap_or(0),
        })
    }

    /// Fences `key` for the move with `epoch`.
    pub async fn fence(&self, key: &str, epoch: u64) -> Result<(), MoveError> {
        self.fences.fence(key, epoch).await?;
        tracing::info!(shopper = key, epoch, "shopper fenced for a move");
        Ok(())
    }

    async fn sessions_of(
        &self,
        conn: &mut sqlx::MySqlConnection,
        key: &str,
    ) -> Result<Vec<SessionCopy>, MoveError> {
        let users: Vec<String> = sqlx::query_scalar("SELECT id FROM users WHERE shopper_key = ?")
            .bind(key)
            .fetch_all(&mut *conn)
            .await?;
        let mut sessions = Vec::new();
        for user in users {
            sessions.extend(self.auth.session_store().export(&user).await?);
        }
        Ok(sessions)
    }

    fn expect_fenced(&self, key: &str, epoch: u64) -> Result<FenceState, MoveError> {
        match self.fences.of(key) {
            Some(fence) if fence.epoch == epoch => Ok(fence.state),
            _ => Err(MoveError::NotFenced(epoch)),
        }
    }

    /// Everything `key` owns here, fenced for `epoch`.
    pub async fn export(&self, key: &str, epoch: u64) -> Result<ShopperBundle, MoveError> {
        if self.expect_fenced(key, epoch)? != FenceState::Fenced {
            return Err(MoveError::NotFenced(epoch));
        }
        let mut tx = self.pool.begin().await?;
        let unsettled: i64 = sqlx::query_scalar(
            r#"SELECT (SELECT COUNT(*) FROM orders WHERE status = 'pending'
                         AND (shopper_key = ? OR user_id IN (SELECT id FROM users WHERE shopper_key = ?)))
                    + (SELECT COUNT(*) FROM order_refunds WHERE state = 'requested'
                         AND order_id IN (SELECT id FROM orders WHERE shopper_key = ? OR user_id IN (SELECT id FROM users WHERE shopper_key = ?)))"#,
        )
        .bind(key)
        .bind(key)
        .bind(key)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        if unsettled > 0 {
            return Err(MoveError::PaymentInFlight);
        }
        let tables = self.plan.export(&mut tx, key).await?;
        let sessions = self.sessions_of(&mut tx, key).await?;
        tx.commit().await?;
        let checksum = plan::checksum(&tables, &sessions);
        Ok(ShopperBundle {
            shopper_key: key.to_owned(),
            epoch,
            tables,
            sessions,
            checksum,
        })
    }

    /// What this cell holds of `key` now.
    pub async fn checksum(&self, key: &str) -> Result<ShopperChecksum, MoveError> {
        let mut tx = self.pool.begin().await?;
        let tables = self.plan.export(&mut tx, key).await?;
        let sessions = self.sessions_of(&mut tx, key).await?;
        tx.commit().await?;
        Ok(ShopperChecksum {
            checksum: plan::checksum(&tables, &sessions),
            rows: plan::row_count(&tables),
        })
    }

    /// Stores a shopper moved here, replacing any earlier copy of the same
    /// move; proves by checksum that what it stored reads back as sent.
    pub async fn import(&self, bundle: &ShopperBundle) -> Result<ShopperChecksum, MoveError> {
        let key = bundle.shopper_key.as_str();
        if plan::checksum(&bundle.tables, &bundle.sessions) != bundle.checksum {
            return Err(MoveError::Corrupt);
        }
        if let Some(fence) = self.fences.of(key)
            && fence.epoch >= bundle.epoch
        {
            return Err(FenceError::StaleEpoch {
                held: fence.epoch,
                asked: bundle.epoch,
            }
            .into());
        }
        let mut tx = self.pool.begin().await?;
        let earlier = plan::Owned::read(&mut tx, key).await?;
        self.plan.delete(&mut tx, key, &earlier).await?;
        self.plan
            .import(&mut tx, &bundle.tables)
            .await
            .map_err(|error| match error {
                ImportError::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                    MoveError::Clash(db.message().to_owned())
                }
                other => other.into(),
            })?;
        let stored = self.plan.export(&mut tx, key).await?;
        let checksum = plan::checksum(&stored, &bundle.sessions);
        if checksum != bundle.checksum {
            let sent = plan::row_count(&bundle.tables);
            let read = plan::row_count(&stored);
            return Err(MoveError::Mismatch(format!(
                "{sent} rows sent, {read} read back"
            )));
        }
        // The shopper lives here again if they once moved away from here.
        sqlx::query("DELETE FROM shopper_fences WHERE shopper_key = ?")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        let owners = plan::cart_owners(&mut tx, key).await?;
        tx.commit().await?;
        self.carts_changed(&owners).await;
        self.fences.forget(key);
        self.auth.session_store().import(&bundle.sessions).await?;
        tracing::info!(
            shopper = key,
            epoch = bundle.epoch,
            rows = plan::row_count(&stored),
            sessions = bundle.sessions.len(),
            "shopper moved in"
        );
        Ok(ShopperChecksum {
            checksum,
            rows: plan::row_count(&stored),
        })
    }

    /// Deletes `key`'s data here after the move with `epoch` switched them
    /// to their new cell, unless it changed since the copy (`checksum`).
    /// Releasing again is a no-op.
    pub async fn release(&self, key: &str, epoch: u64, checksum: &str) -> Result<u64, MoveError> {
        if self.expect_fenced(key, epoch)? == FenceState::Moved {
            return Ok(0);
        }
        let mut tx = self.pool.begin().await?;
        let now = self.plan.export(&mut tx, key).await?;
        let sessions = self.sessions_of(&mut tx, key).await?;
        if plan::checksum(&now, &sessions) != checksum {
            return Err(MoveError::ChangedSinceCopy);
        }
        let owned = plan::Owned::read(&mut tx, key).await?;
        let deleted = self.plan.delete(&mut tx, key, &owned).await?;
        Fences::record_moved(&mut tx, key, epoch).await?;
        tx.commit().await?;
        self.carts_changed(&owned.owners).await;
        self.fences.moved(key, epoch);
        self.auth.session_store().forget(&sessions).await?;
        tracing::info!(shopper = key, epoch, rows = deleted, "shopper moved away");
        Ok(deleted)
    }
}

pub fn router(moves: Moves) -> Router {
    Router::new()
        .route("/internal/shoppers", get(routes::list))
        .route("/internal/shoppers/seal", post(routes::seal))
        .route("/internal/shoppers/count", get(routes::count))
        .route("/internal/shoppers/{key}/fence", post(routes::fence))
        .route("/internal/shoppers/{key}/export", get(routes::export))
        .route("/internal/shoppers/{key}/checksum", get(routes::checksum))
        .route(
            "/internal/shoppers/{key}",
            put(routes::import).delete(routes::release).layer(
                axum::extract::DefaultBodyLimit::max(routes::MAX_BUNDLE_BYTES),
            ),
        )
        .with_state(moves)
}
