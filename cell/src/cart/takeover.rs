//! Taking over a guest cart that lives on another cell (DESIGN.md §3).
//!
//! A guest's cart lives on the cell of their guest key; when they sign in,
//! the edge routes the login to their account's home cell. If the guest key
//! places elsewhere, the home cell records a takeover, asks that cell for
//! the cart (`POST /internal/carts/handover`, authenticated with a
//! short-lived service token signed with the platform's keys), and merges
//! what it gets. The giving cell deletes the cart and remembers what it
//! handed over by takeover id, so a retry after a lost answer gets the same
//! lines, and the taking cell applies a takeover once (under the lock of its
//! row). Sign-in never waits on this failing: an unreachable cell leaves the
//! takeover recorded and the sweeper tries again with back-off.

use std::sync::Arc;
use std::time::Duration;

use access_tokens::service::{self, Caller};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chassis::http::{ApiError, Json};
use sqlx::MySqlPool;
use wire::cart::{Handover, HandoverRequest};

use super::routes::CartState;
use super::service::Carts;
use super::shopper::Owner;
use crate::auth::Auth;
use crate::peers::{Home, Peers};

/// The longest wait between two attempts of one takeover.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How long a giving cell remembers a handover for a retry: far longer
/// than any taker keeps retrying.
const HANDOVER_KEPT_DAYS: u32 = 7;

/// A token saying "cell `cell` calls", valid for a minute.
pub fn service_token(auth: &Auth, cell: &str) -> anyhow::Result<String> {
    service::issue(auth.keys(), &Caller::Cell(cell.to_owned()))
}

/// The calling cell, if the request carries a valid service token of one.
fn calling_cell(auth: &Auth, headers: &HeaderMap) -> Result<String, ApiError> {
    match crate::auth::service_caller(auth, headers)? {
        Caller::Cell(cell) => Ok(cell),
        Caller::ControlPlane => Err(crate::auth::not_a_service_token()),
    }
}

/// The giving side: hands the guest cart over and forgets it here.
#[utoipa::path(post, path = "/internal/carts/handover", tag = "internal", request_body = HandoverRequest,
    responses(
        (status = 200, description = "The guest's lines and coupon (none if the guest had no cart); the cart is gone from this cell", body = Handover),
        (status = 400, description = "`invalid_handover`", body = wire::ErrorBody),
        (status = 401, description = "`invalid_service_token`", body = wire::ErrorBody)))]
pub async fn handover(
    State(state): State<CartState>,
    headers: HeaderMap,
    Json(body): Json<HandoverRequest>,
) -> Result<Json<Handover>, ApiError> {
    let caller = calling_cell(&state.auth, &headers)?;
    if uuid::Uuid::parse_str(&body.takeover_id).is_err()
        || body.shopper_key.is_empty()
        || body.shopper_key.len() > 64
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_handover",
            "takeover_id: a UUID; shopper_key: 1-64 characters",
        ));
    }
    let handover = state
        .carts
        .hand_over(&body.takeover_id, &body.shopper_key)
        .await?;
    tracing::info!(to = %caller, lines = handover.lines.len(), "guest cart handed over");
    Ok(Json(handover))
}

/// The taking side.
#[derive(Debug)]
pub struct Takeovers {
    pool: MySqlPool,
    carts: Arc<Carts>,
    peers: Arc<Peers>,
    auth: Arc<Auth>,
    cell: String,
    client: reqwest::Client,
    retry: Duration,
}

#[derive(Debug, sqlx::FromRow)]
struct Due {
    id: String,
    user_id: String,
    guest_key: String,
    attempts: u32,
}

impl Takeovers {
    pub fn new(
        pool: MySqlPool,
        carts: Arc<Carts>,
        peers: Arc<Peers>,
        auth: Arc<Auth>,
        cell: &str,
        retry_ms: u64,
    ) -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            pool,
            carts,
            peers,
            auth,
            cell: cell.to_owned(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()?,
            retry: Duration::from_millis(retry_ms),
        }))
    }

    /// Records that `user_id` takes over guest `guest_key`'s cart; its id.
    async fn record(&self, user_id: &str, guest_key: &str) -> Result<Due, sqlx::Error> {
        sqlx::query("INSERT IGNORE INTO cart_takeovers (id, user_id, guest_key) VALUES (?, ?, ?)")
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(user_id)
            .bind(guest_key)
            .execute(&self.pool)
            .await?;
        sqlx::query_as(
            "SELECT id, user_id, guest_key, attempts FROM cart_takeovers WHERE user_id = ? AND guest_key = ?",
        )
        .bind(user_id)
        .bind(guest_key)
        .fetch_one(&self.pool)
        .await
    }

    /// One try: ask the guest's cell, merge, and close the takeover, once.
    async fn attempt(&self, due: &Due) -> anyhow::Result<u32> {
        let user = Owner::User(due.user_id.clone());
        let handover = match self.peers.home_of(&due.guest_key) {
            // The table changed (the guest's cell was drained here, say):
            // the cart, if any, is local now.
            Home::Here => None,
            Home::Elsewhere { cell, address } => {
                let token = service_token(&self.auth, &self.cell)?;
                let answer = self
                    .client
                    .post(format!("http://{address}/internal/carts/handover"))
                    .bearer_auth(token)
                    .json(&HandoverRequest {
                        shopper_key: due.guest_key.clone(),
                        takeover_id: due.id.clone(),
                    })
                    .send()
                    .await
                    .map_err(|e| anyhow::anyhow!("cell {cell} did not answer: {e}"))?;
                if !answer.status().is_success() {
                    anyhow::bail!("cell {cell} answered {}", answer.status());
                }
                Some(answer.json::<Handover>().await?)
            }
        };
        let Some(handover) = handover else {
            let merged = self
                .carts
                .merge(&Owner::Guest(due.guest_key.clone()), &user)
                .await?;
            self.close(&due.id).await?;
            return Ok(merged);
        };
        let mut tx = self.pool.begin().await?;
        let open: Option<String> =
            sqlx::query_scalar("SELECT id FROM cart_takeovers WHERE id = ? FOR UPDATE")
                .bind(&due.id)
                .fetch_optional(&mut *tx)
                .await?;
        if open.is_none() {
            // Another attempt got there first.
            return Ok(0);
        }
        let merged = self.carts.absorb(&mut tx, &user, &handover).await?;
        sqlx::query("DELETE FROM cart_takeovers WHERE id = ?")
            .bind(&due.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.carts.changed(&user).await;
        Ok(merged)
    }

    async fn close(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM cart_takeovers WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn postpone(&self, due: &Due, error: &anyhow::Error) {
        let wait = self
            .retry
            .saturating_mul(2u32.saturating_pow(due.attempts.min(16)))
            .min(MAX_BACKOFF);
        let message: String = error.to_string().chars().take(500).collect();
        let done = sqlx::query(
            "UPDATE cart_takeovers SET attempts = attempts + 1, last_error = ?, next_attempt_at = TIMESTAMPADD(MICROSECOND, ?, CURRENT_TIMESTAMP(6)) WHERE id = ?",
        )
        .bind(message)
        .bind(u64::try_from(wait.as_micros()).unwrap_or(u64::MAX))
        .bind(&due.id)
        .execute(&self.pool)
        .await;
        if let Err(error) = done {
            tracing::warn!(error = %error, "could not postpone a cart takeover");
        }
    }

    async fn run(&self, due: &Due) {
        match self.attempt(due).await {
            Ok(lines) => {
                tracing::info!(user.id = %due.user_id, lines, "guest cart taken over from another cell");
            }
            Err(error) => {
                tracing::warn!(user.id = %due.user_id, attempts = due.attempts + 1, error = %error, "guest cart not taken over yet; will retry");
                self.postpone(due, &error).await;
            }
        }
    }

    /// Tries every takeover that is due, every `retry_ms`, until `stop`.
    pub async fn sweep(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.retry);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            let due: Vec<Due> = match sqlx::query_as(
                "SELECT id, user_id, guest_key, attempts FROM cart_takeovers WHERE next_attempt_at <= CURRENT_TIMESTAMP(6) ORDER BY next_attempt_at LIMIT 50",
            )
            .fetch_all(&self.pool)
            .await
            {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(error = %error, "could not read due cart takeovers");
                    continue;
                }
            };
            for takeover in &due {
                self.run(takeover).await;
            }
            let forgotten = sqlx::query(
                "DELETE FROM cart_handovers WHERE created_at < CURRENT_TIMESTAMP(6) - INTERVAL ? DAY LIMIT 1000",
            )
            .bind(HANDOVER_KEPT_DAYS)
            .execute(&self.pool)
            .await;
            if let Err(error) = forgotten {
                tracing::warn!(error = %error, "could not forget old cart handovers");
            }
        }
    }
}

/// At sign-in the guest's cart joins the account's: merged here when the
/// guest key lives here, taken over from its cell otherwise.
#[async_trait::async_trait]
impl crate::auth::SignInHook for Takeovers {
    async fn signed_in(&self, user_id: &str, guest_key: &str) {
        if self.peers.home_of(guest_key) == Home::Here {
            let guest = Owner::Guest(guest_key.to_owned());
            match self
                .carts
                .merge(&guest, &Owner::User(user_id.to_owned()))
                .await
            {
                Ok(0) => {}
                Ok(lines) => {
                    tracing::info!(user.id = %user_id, lines, "guest cart merged at sign-in");
                }
                Err(error) => {
                    tracing::warn!(user.id = %user_id, error = %error, "could not merge the guest cart; it stays the guest's");
                }
            }
            return;
        }
        match self.record(user_id, guest_key).await {
            Ok(due) => self.run(&due).await,
            Err(error) => {
                tracing::warn!(user.id = %user_id, error = %error, "could not record a cart takeover; the guest cart stays where it is");
            }
        }
    }
}
