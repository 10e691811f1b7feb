//! The fence in front of a shopper who is being moved away.
//!
//! Every request under `/api/` passes [`guard`]: a write (anything but GET
//! and HEAD) of a fenced shopper, or any request but browsing of a shopper
//! who has moved, is refused with a retryable 503; a sealed cell refuses
//! every write. Writes let in are counted per shopper key, so fencing a
//! shopper waits for the writes already running to finish: what the move
//! copies afterwards is all there is.
//!
//! The fences live in MySQL (they outlive a restart) and in memory (the
//! check costs a map look-up). The in-flight count is this process's: a
//! cell run as several replicas would need the fence check inside each
//! write's transaction instead (docs/RUNBOOK.md says so).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chassis::http::ApiError;
use sqlx::MySqlPool;

/// Webhooks are the payment provider's and the carrier's, not a shopper's:
/// a move waits for the payments they settle.
const NOT_A_SHOPPER: [&str; 2] = ["/api/payments/stripe/webhook", "/api/carriers/webhook"];
/// What a shopper who has moved may still do here: browse (the same on
/// every cell).
const BROWSING: [&str; 4] = [
    "/api/products",
    "/api/categories",
    "/api/brands",
    "/api/search",
];
/// How long fencing waits for a shopper's running writes.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FenceState {
    Fenced,
    Moved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    pub epoch: u64,
    pub state: FenceState,
}

#[derive(Debug, Default)]
struct Held {
    sealed: bool,
    fences: HashMap<String, Fence>,
    in_flight: HashMap<String, usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum FenceError {
    #[error("A move with epoch {held} holds this shopper; epoch {asked} is older.")]
    StaleEpoch { held: u64, asked: u64 },
    #[error("The shopper's writes still running after {0:?}; try again.")]
    WritesInFlight(Duration),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The fences of this cell.
#[derive(Debug)]
pub struct Fences {
    pool: MySqlPool,
    held: Mutex<Held>,
}

impl Fences {
    /// Loads the fences and the seal the cell's database records.
    pub async fn load(pool: MySqlPool) -> Result<Arc<Self>, sqlx::Error> {
        let rows: Vec<(String, u64, String)> =
            sqlx::query_as("SELECT shopper_key, epoch, CAST(state AS CHAR) FROM shopper_fences")
                .fetch_all(&pool)
                .await?;
        let sealed: Option<i64> =
            sqlx::query_scalar("SELECT COUNT(*) FROM cell_identity WHERE sealed_at IS NOT NULL")
                .fetch_optional(&pool)
                .await?;
        let mut held = Held {
            sealed: sealed.unwrap_or(0) > 0,
            ..Held::default()
        };
        for (key, epoch, state) in rows {
            let state = if state == "moved" {
                FenceState::Moved
            } else {
                FenceState::Fenced
            };
            held.fences.insert(key, Fence { epoch, state });
        }
        Ok(Arc::new(Self {
            pool,
            held: Mutex::new(held),
        }))
    }

    fn held(&self) -> MutexGuard<'_, Held> {
        // A panic while holding this lock leaves plain maps behind: usable.
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn of(&self, key: &str) -> Option<Fence> {
        self.held().fences.get(key).copied()
    }

    pub fn sealed(&self) -> bool {
        self.held().sealed
    }

    /// Fences `key`'s writes for the move with `epoch`, then waits for the
    /// writes already let in to finish.
    pub async fn fence(&self, key: &str, epoch: u64) -> Result<(), FenceError> {
        if let Some(fence) = self.of(key)
            && fence.epoch > epoch
        {
            return Err(FenceError::StaleEpoch {
                held: fence.epoch,
                asked: epoch,
            });
        }
        sqlx::query(
            r#"INSERT INTO shopper_fences (shopper_key, epoch, state) VALUES (?, ?, 'fenced')
               ON DUPLICATE KEY UPDATE state = IF(VALUES(epoch) > epoch, 'fenced', state),
                                       epoch = GREATEST(epoch, VALUES(epoch))"#,
        )
        .bind(key)
        .bind(epoch)
        .execute(&self.pool)
        .await?;
        {
            let mut held = self.held();
            let fence = held.fences.entry(key.to_owned()).or_insert(Fence {
                epoch,
                state: FenceState::Fenced,
            });
            if epoch > fence.epoch {
                *fence = Fence {
                    epoch,
                    state: FenceState::Fenced,
                };
            }
        }
        let started = Instant::now();
        while self.held().in_flight.get(key).copied().unwrap_or(0) > 0 {
            if started.elapsed() > IN_FLIGHT_WAIT {
                return Err(FenceError::WritesInFlight(IN_FLIGHT_WAIT));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    /// Records in `conn`'s transaction that `key` has moved away.
    pub async fn record_moved(
        conn: &mut sqlx::MySqlConnection,
        key: &str,
        epoch: u64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE shopper_fences SET state = 'moved' WHERE shopper_key = ? AND epoch = ?",
        )
        .bind(key)
        .bind(epoch)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Takes a committed [`Fences::record_moved`] into memory.
    pub fn moved(&self, key: &str, epoch: u64) {
        self.held().fences.insert(
            key.to_owned(),
            Fence {
                epoch,
                state: FenceState::Moved,
            },
        );
    }

    /// Drops `key`'s fence from memory (the shopper lives here again).
    pub fn forget(&self, key: &str) {
        self.held().fences.remove(key);
    }

    /// Refuses every shopper write from now on.
    pub async fn seal(&self) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE cell_identity SET sealed_at = COALESCE(sealed_at, CURRENT_TIMESTAMP(6))",
        )
        .execute(&self.pool)
        .await?;
        self.held().sealed = true;
        Ok(())
    }

    /// Lets a request in, or says why not. A write let in is counted until
    /// the returned guard drops.
    fn admit(
        self: &Arc<Self>,
        key: Option<&str>,
        write: bool,
        browsing: bool,
    ) -> Result<Option<InFlight>, ApiError> {
        let mut held = self.held();
        if write && held.sealed {
            return Err(refusal(
                "cell_draining",
                "This cell is handing its last shoppers over to other cells; try again in a moment.",
            ));
        }
        let Some(key) = key else {
            return Ok(None);
        };
        match held.fences.get(key).map(|fence| fence.state) {
            Some(FenceState::Moved) if write || !browsing => {
                return Err(refusal(
                    "shopper_moved",
                    "Your account has moved to another cell; try again in a moment.",
                ));
            }
            Some(FenceState::Fenced) if write => {
                return Err(refusal(
                    "shopper_migrating",
                    "Your account is being moved to another cell; try again in a moment.",
                ));
            }
            _ => {}
        }
        if !write {
            return Ok(None);
        }
        *held.in_flight.entry(key.to_owned()).or_insert(0) += 1;
        Ok(Some(InFlight {
            fences: self.clone(),
            key: key.to_owned(),
        }))
    }
}

fn refusal(code: &'static str, message: &'static str) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message).retry_after(1)
}

/// A write of `key` let in and still running.
#[derive(Debug)]
pub struct InFlight {
    fences: Arc<Fences>,
    key: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut held = self.fences.held();
        if let Some(count) = held.in_flight.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.in_flight.remove(&self.key);
            }
        }
    }
}

/// The middleware: every request under `/api/` passes the fences.
pub async fn guard(State(fences): State<Arc<Fences>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/api/") || NOT_A_SHOPPER.contains(&path) {
        return next.run(request).await;
    }
    let write = !matches!(*request.method(), Method::GET | Method::HEAD);
    let browsing = BROWSING
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")));
    let key = crate::search::routes::shopper_key(request.headers());
    let mut request = request;
    if browsing && key.as_deref().is_some_and(|key| fences.of(key).is_some()) {
        // A shopper being moved browses as nobody here: their views would
        // add to the history being copied (the new cell records them).
        request.headers_mut().remove(crate::SHOPPER_KEY_HEADER);
    }
    match fences.admit(key.as_deref(), write, browsing) {
        Err(refused) => refused.into_response(),
        Ok(in_flight) => {
            let response = next.run(request).await;
            drop(in_flight);
            response
        }
    }
}
