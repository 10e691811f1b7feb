//! Draining a cell: moving every shopper it holds to the cell placement
//! gives them without it, then taking it out of the routing table.
//!
//! `POST /control/api/cells/{id}/drain` makes an active cell `draining`
//! (no new shoppers; its own stay until moved) and records a drain. The
//! [`Drainer`] works through it in the background, a page of shopper keys
//! at a time, each shopper's move a row of `shopper_moves` that records how
//! far it got, so a restart of the control plane resumes where it stopped:
//!
//! 1. `fencing` → `fenced`: the old cell refuses the shopper's writes (a
//!    retryable 503) and waits for the ones running.
//! 2. `fenced` → `copied`: the old cell exports the shopper (it refuses
//!    while a payment or refund is settling: the move waits), the new cell
//!    imports it and answers the checksum of what it stored, which must be
//!    the export's, and the old cell's data must still have that checksum.
//! 3. `copied` → `switched`: the override (shopper → new cell, with the
//!    move's epoch) is published in one transaction with the page's others.
//! 4. `switched` → `done`: the old cell deletes the shopper, unless their
//!    data changed since the copy (`conflict`: left there, counted).
//!
//! When a first pass over the cell's shoppers is through, the cell is
//! sealed (every shopper write refused) and passes repeat until one finds
//! nobody left; then the cell becomes `drained` in the table, its stock is
//! recalled to the pool, and the drain is `done`.

use std::sync::Arc;
use std::time::Duration;

use access_tokens::SigningKeys;
use access_tokens::service::{self, Caller};
use events::Schemas;
use placement::ShopperKey;
use reqwest::Method;
use serde::de::DeserializeOwned;
use sqlx::MySqlPool;
use tokio::sync::{Notify, watch};
use wire::moves::{DrainView, FenceRequest, ShopperBundle, ShopperChecksum, ShopperPage};
use wire::{CellState, RoutedCell};

use super::CellError;
use crate::routing::repo;
use crate::stock::StockSettings;

/// How drains are paced.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrainSettings {
    /// Shoppers listed (and moved) per step.
    pub batch: u32,
    /// The wait between steps when there is nothing to do.
    pub idle_ms: u64,
    /// The time-out of one call to a cell.
    pub call_timeout_ms: u64,
}

impl DrainSettings {
    pub fn check(&self) -> Result<(), String> {
        if !(1..=1000).contains(&self.batch) {
            return Err("drain.batch: 1-1000".into());
        }
        if self.idle_ms == 0 || self.call_timeout_ms < 100 {
            return Err("drain.idle_ms: above 0; drain.call_timeout_ms: at least 100".into());
        }
        Ok(())
    }
}

/// A call to a cell that did not work out.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    #[error("cell {cell} answered {status} {code}: {message}")]
    Refused {
        cell: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error("cell {cell} did not answer: {reason}")]
    Unreachable { cell: String, reason: String },
}

impl CallError {
    fn code(&self) -> &str {
        match self {
            CallError::Refused { code, .. } => code,
            CallError::Unreachable { .. } => "unreachable",
        }
    }
}

/// The internal shopper API of one cell.
pub(crate) struct CellApi<'a> {
    pub(crate) client: &'a reqwest::Client,
    pub(crate) token: &'a str,
    pub(crate) cell: &'a str,
    pub(crate) address: &'a str,
}

impl CellApi<'_> {
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl serde::Serialize>,
    ) -> Result<Option<T>, CallError> {
        let unreachable = |reason: String| CallError::Unreachable {
            cell: self.cell.to_owned(),
            reason,
        };
        let mut request = self
            .client
            .request(method, format!("http://{}{path}", self.address))
            .bearer_auth(self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let status = response.status();
        if status == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        if !status.is_success() {
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            return Err(CallError::Refused {
                cell: self.cell.to_owned(),
                status: status.as_u16(),
                code: body["code"].as_str().unwrap_or("unknown").to_owned(),
                message: body["message"].as_str().unwrap_or_default().to_owned(),
            });
        }
        response
            .json()
            .await
            .map(Some)
            .map_err(|e| unreachable(format!("an unreadable answer: {e}")))
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CallError> {
        self.call::<T>(Method::GET, path, None::<&()>)
            .await?
            .ok_or_else(|| CallError::Unreachable {
                cell: self.cell.to_owned(),
                reason: format!("an empty answer to {path}"),
            })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Drain {
    cell_id: String,
    http_address: String,
    state: String,
    cursor_key: String,
    found_in_pass: u64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Move {
    shopper_key: String,
    epoch: u64,
    target_cell: String,
    step: String,
    checksum: Option<String>,
    attempts: u32,
    /// Since the move last changed (a step or a failed attempt).
    idle_ms: i64,
}

impl Move {
    /// Whether the move may be tried again: at once the first time, then
    /// after a wait that doubles with each failed attempt, up to 30 s.
    fn due(&self) -> bool {
        let wait = 250_i64 << self.attempts.min(7);
        self.attempts == 0 || self.idle_ms >= wait.min(30_000)
    }
}

/// The columns of [`Move`].
const MOVE: &str = "shopper_key, epoch, target_cell, CAST(step AS CHAR) AS step, checksum, attempts, \
     CAST(TIMESTAMPDIFF(MICROSECOND, updated_at, CURRENT_TIMESTAMP(6)) DIV 1000 AS SIGNED) AS idle_ms";

/// Works through the drains in the background.
#[derive(Clone)]
pub struct Drainer {
    pool: MySqlPool,
    client: reqwest::Client,
    keys: Arc<SigningKeys>,
    settings: DrainSettings,
    stock: StockSettings,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Drainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drainer")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Drainer {
    pub fn new(
        pool: MySqlPool,
        keys: SigningKeys,
        settings: DrainSettings,
        stock: StockSettings,
    ) -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(Self {
            pool,
            client: reqwest::Client::builder()
                .timeout(Duration::from_millis(settings.call_timeout_ms))
                .build()?,
            keys: Arc::new(keys),
            settings,
            stock,
            wake: Arc::new(Notify::new()),
        })
    }

    /// Wakes the worker (a drain was started).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs until `stop` turns true. One control plane at a time drains
    /// (a MySQL named lock); another waits its turn.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let idle = Duration::from_millis(self.settings.idle_ms);
        let mut lock: Option<sqlx::pool::PoolConnection<sqlx::MySql>> = None;
        loop {
            if *stop.borrow() {
                return;
            }
            if lock.is_none() {
                lock = self.take_lock().await;
            }
            let busy = if lock.is_some() {
                match self.tick().await {
                    Ok(busy) => busy,
                    Err(error) => {
                        tracing::warn!(error = format!("{error:#}"), "drain step failed; retrying");
                        // The lock's connection may be the broken thing.
                        lock = None;
                        false
                    }
                }
            } else {
                false
            };
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(idle) => {}
                    _ = self.wake.notified() => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }

    async fn take_lock(&self) -> Option<sqlx::pool::PoolConnection<sqlx::MySql>> {
        let mut conn = self.pool.acquire().await.ok()?;
        let got: Option<i64> =
            sqlx::query_scalar("SELECT GET_LOCK(CONCAT('cellwear-drainer-', SHA1(DATABASE())), 0)")
                .fetch_one(&mut *conn)
                .await
                .ok()?;
        (got == Some(1)).then_some(conn)
    }

    /// One step of every running drain; whether any had work.
    pub async fn tick(&self) -> anyhow::Result<bool> {
        let drains: Vec<Drain> = sqlx::query_as(
            r#"SELECT d.cell_id, c.http_address, CAST(d.state AS CHAR) AS state, d.cursor_key, d.found_in_pass
               FROM cell_drains d JOIN cells c ON c.id = d.cell_id
               WHERE d.state IN ('moving', 'sealed') ORDER BY d.started_at"#,
        )
        .fetch_all(&self.pool)
        .await?;
        let mut busy = false;
        for drain in drains {
            match self.advance(&drain).await {
                Ok(worked) => busy |= worked,
                Err(error) => {
                    let message = format!("{error:#}");
                    tracing::warn!(cell = %drain.cell_id, error = %message, "drain step failed");
                    sqlx::query("UPDATE cell_drains SET last_error = ? WHERE cell_id = ?")
                        .bind(truncate(&message))
                        .bind(&drain.cell_id)
                        .execute(&self.pool)
                        .await?;
                }
            }
        }
        Ok(busy)
    }

    async fn advance(&self, drain: &Drain) -> anyhow::Result<bool> {
        let token = service::issue(&self.keys, &Caller::ControlPlane)?;
        let source = CellApi {
            client: &self.client,
            token: &token,
            cell: &drain.cell_id,
            address: &drain.http_address,
        };
        let open: Vec<Move> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            r#"SELECT {MOVE} FROM shopper_moves
               WHERE source_cell = ? AND step IN ('fencing', 'fenced', 'copied', 'switched')
               ORDER BY created_at LIMIT ?"#
        )))
        .bind(&drain.cell_id)
        .bind(self.settings.batch)
        .fetch_all(&self.pool)
        .await?;
        if !open.is_empty() {
            // The cell's list is read on once its open moves are through;
            // those that failed (a payment settling, a cell away) back off.
            let due: Vec<Move> = open.into_iter().filter(Move::due).collect();
            if due.is_empty() {
                return Ok(false);
            }
            return self.carry(&source, &token, due).await;
        }
        let page: ShopperPage = source
            .get(&format!(
                "/internal/shoppers?after={}&limit={}",
                drain.cursor_key, self.settings.batch
            ))
            .await?;
        let started = self.start(drain, &page.keys).await?;
        let found = drain.found_in_pass + started;
        if let Some(after) = &page.next_after {
            sqlx::query(
                "UPDATE cell_drains SET cursor_key = ?, found_in_pass = ?, last_error = NULL WHERE cell_id = ?",
            )
            .bind(after)
            .bind(found)
            .bind(&drain.cell_id)
            .execute(&self.pool)
            .await?;
            return Ok(true);
        }
        // The pass is through.
        if drain.state == "sealed" && found == 0 {
            self.finish(drain).await?;
            return Ok(true);
        }
        if drain.state == "moving" && started == 0 {
            let _: Option<serde_json::Value> = source
                .call(Method::POST, "/internal/shoppers/seal", None::<&()>)
                .await?;
            tracing::info!(cell = %drain.cell_id, "drain: first pass through; cell sealed for the last shoppers");
        }
        let sealed = drain.state == "sealed" || started == 0;
        sqlx::query(
            r#"UPDATE cell_drains SET passes = passes + IF(? > 0, 0, 1), cursor_key = IF(? > 0, cursor_key, ''),
                 found_in_pass = IF(? > 0, ?, 0), state = IF(?, 'sealed', state), last_error = NULL
               WHERE cell_id = ?"#,
        )
        .bind(started)
        .bind(started)
        .bind(started)
        .bind(found)
        .bind(sealed)
        .bind(&drain.cell_id)
        .execute(&self.pool)
        .await?;
        Ok(true)
    }

    /// Records a move for each of `keys` not moving already; how many.
    async fn start(&self, drain: &Drain, keys: &[String]) -> anyhow::Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let mut conn = self.pool.acquire().await?;
        let cells: Vec<RoutedCell> = repo::cells(&mut conn)
            .await?
            .into_iter()
            .filter_map(|row| {
                Some(RoutedCell {
                    state: crate::routing::parse_state(&row.state)?,
                    id: row.id,
                    weight: row.weight,
                })
            })
            .collect();
        let mut started = 0;
        for key in keys {
            let Ok(parsed) = ShopperKey::parse(key) else {
                continue;
            };
            let conflicted: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM shopper_moves WHERE shopper_key = ? AND source_cell = ? AND step = 'conflict'",
            )
            .bind(key)
            .bind(&drain.cell_id)
            .fetch_one(&mut *conn)
            .await?;
            if conflicted > 0 {
                continue;
            }
            let target = placement::place_active(parsed, &cells)
                .map_err(|e| anyhow::anyhow!("no cell to move shopper {key} to: {e}"))?;
            let inserted = sqlx::query(
                r#"INSERT INTO shopper_moves (shopper_key, epoch, source_cell, target_cell)
                   SELECT ?, COALESCE(MAX(epoch), 0) + 1, ?, ? FROM (
                     SELECT epoch FROM placement_overrides WHERE shopper_key = ?
                     UNION ALL SELECT epoch FROM shopper_moves WHERE shopper_key = ?) AS epochs"#,
            )
            .bind(key)
            .bind(&drain.cell_id)
            .bind(&target.id)
            .bind(key)
            .bind(key)
            .execute(&mut *conn)
            .await?;
            started += inserted.rows_affected();
        }
        Ok(started)
    }

    /// Takes each open move as far as it goes: copies first, then one
    /// switch for all copied, then the deletes at the old cell.
    async fn carry(
        &self,
        source: &CellApi<'_>,
        token: &str,
        open: Vec<Move>,
    ) -> anyhow::Result<bool> {
        let mut conn = self.pool.acquire().await?;
        let addresses: Vec<(String, String)> = sqlx::query_as("SELECT id, http_address FROM cells")
            .fetch_all(&mut *conn)
            .await?;
        drop(conn);
        let mut progressed = false;
        for mut shopper in open.iter().cloned() {
            let target_cell = shopper.target_cell.clone();
            let Some((_, address)) = addresses.iter().find(|(id, _)| *id == target_cell) else {
                self.failed(
                    &shopper,
                    &format!("target cell {} is gone", shopper.target_cell),
                )
                .await?;
                continue;
            };
            let target = CellApi {
                client: &self.client,
                token,
                cell: &target_cell,
                address,
            };
            match self.copy(source, &target, &mut shopper).await {
                Ok(()) => progressed = true,
                Err(error) => self.failed(&shopper, &error.to_string()).await?,
            }
        }
        self.switch(source.cell).await?;
        let switched: Vec<Move> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            r#"SELECT {MOVE} FROM shopper_moves
               WHERE source_cell = ? AND step = 'switched' ORDER BY created_at LIMIT ?"#
        )))
        .bind(source.cell)
        .bind(self.settings.batch)
        .fetch_all(&self.pool)
        .await?;
        for shopper in switched {
            progressed |= self.release(source, &shopper).await?;
        }
        Ok(progressed)
    }

    /// Fences and copies one shopper (steps 1 and 2).
    async fn copy(
        &self,
        source: &CellApi<'_>,
        target: &CellApi<'_>,
        shopper: &mut Move,
    ) -> Result<(), CallError> {
        let key = &shopper.shopper_key;
        if shopper.step == "fencing" {
            let _: Option<serde_json::Value> = source
                .call(
                    Method::POST,
                    &format!("/internal/shoppers/{key}/fence"),
                    Some(&FenceRequest {
                        epoch: shopper.epoch,
                    }),
                )
                .await?;
            self.step(shopper, "fenced", None).await;
            shopper.step = "fenced".into();
        }
        if shopper.step == "fenced" {
            let bundle: ShopperBundle = source
                .get(&format!(
                    "/internal/shoppers/{key}/export?epoch={}",
                    shopper.epoch
                ))
                .await?;
            let stored: Option<ShopperChecksum> = target
                .call(
                    Method::PUT,
                    &format!("/internal/shoppers/{key}"),
                    Some(&bundle),
                )
                .await?;
            let agreed = stored.is_some_and(|s| s.checksum == bundle.checksum);
            let still: ShopperChecksum = source
                .get(&format!("/internal/shoppers/{key}/checksum"))
                .await?;
            if !agreed || still.checksum != bundle.checksum {
                return Err(CallError::Refused {
                    cell: target.cell.to_owned(),
                    status: 409,
                    code: "copy_differs".into(),
                    message: "the copy's checksum differs from the old cell's; copying again"
                        .into(),
                });
            }
            self.step(shopper, "copied", Some(&bundle.checksum)).await;
        }
        Ok(())
    }

    /// Publishes the overrides of every copied shopper of `cell` at once.
    async fn switch(&self, cell: &str) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        let copied: Vec<(String, u64, String)> = sqlx::query_as(
            "SELECT shopper_key, epoch, target_cell FROM shopper_moves WHERE source_cell = ? AND step = 'copied' FOR UPDATE",
        )
        .bind(cell)
        .fetch_all(&mut *tx)
        .await?;
        if copied.is_empty() {
            return Ok(());
        }
        for (key, epoch, target) in &copied {
            sqlx::query(
                r#"INSERT INTO placement_overrides (shopper_key, cell_id, epoch) VALUES (?, ?, ?)
                   ON DUPLICATE KEY UPDATE cell_id = IF(VALUES(epoch) >= epoch, VALUES(cell_id), cell_id),
                                           epoch = GREATEST(epoch, VALUES(epoch))"#,
            )
            .bind(key)
            .bind(target)
            .bind(epoch)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE shopper_moves SET step = 'switched', last_error = NULL WHERE source_cell = ? AND step = 'copied'")
            .bind(cell)
            .execute(&mut *tx)
            .await?;
        repo::bump_version(&mut tx).await?;
        tx.commit().await?;
        tracing::info!(
            cell,
            shoppers = copied.len(),
            "drain: shoppers switched to their new cells"
        );
        Ok(())
    }

    /// Deletes a switched shopper at the old cell (step 4).
    async fn release(&self, source: &CellApi<'_>, shopper: &Move) -> anyhow::Result<bool> {
        let checksum = shopper.checksum.as_deref().unwrap_or_default();
        let answer: Result<Option<ShopperChecksum>, CallError> = source
            .call(
                Method::DELETE,
                &format!(
                    "/internal/shoppers/{}?epoch={}&checksum={checksum}",
                    shopper.shopper_key, shopper.epoch
                ),
                None::<&()>,
            )
            .await;
        match answer {
            Ok(_) => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE shopper_moves SET step = 'done', last_error = NULL WHERE shopper_key = ? AND epoch = ? AND step = 'switched'")
                    .bind(&shopper.shopper_key)
                    .bind(shopper.epoch)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE cell_drains SET shoppers_moved = shoppers_moved + 1 WHERE cell_id = ?",
                )
                .bind(source.cell)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(true)
            }
            Err(error) if error.code() == "changed_since_copy" => {
                tracing::error!(shopper = %shopper.shopper_key, cell = source.cell, "drain: the old cell's copy changed after the switch; left there for an operator");
                self.step(shopper, "conflict", None).await;
                self.failed(shopper, &error.to_string()).await?;
                Ok(true)
            }
            Err(error) => {
                self.failed(shopper, &error.to_string()).await?;
                Ok(false)
            }
        }
    }

    async fn step(&self, shopper: &Move, step: &str, checksum: Option<&str>) {
        let result = sqlx::query(
            "UPDATE shopper_moves SET step = ?, checksum = COALESCE(?, checksum), last_error = NULL WHERE shopper_key = ? AND epoch = ?",
        )
        .bind(step)
        .bind(checksum)
        .bind(&shopper.shopper_key)
        .bind(shopper.epoch)
        .execute(&self.pool)
        .await;
        if let Err(error) = result {
            tracing::warn!(shopper = %shopper.shopper_key, %error, "a move's step was not recorded; it is redone");
        }
    }

    async fn failed(&self, shopper: &Move, why: &str) -> anyhow::Result<()> {
        tracing::info!(shopper = %shopper.shopper_key, step = %shopper.step, error = why, "drain: a move waits");
        sqlx::query(
            "UPDATE shopper_moves SET attempts = attempts + 1, last_error = ? WHERE shopper_key = ? AND epoch = ?",
        )
        .bind(truncate(why))
        .bind(&shopper.shopper_key)
        .bind(shopper.epoch)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The cell is empty: `drained` in the table, its stock recalled.
    async fn finish(&self, drain: &Drain) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM cells WHERE id = ? FOR UPDATE")
                .bind(&drain.cell_id)
                .fetch_optional(&mut *tx)
                .await?;
        if state.as_deref() == Some("draining") {
            sqlx::query("UPDATE cells SET state = 'drained' WHERE id = ?")
                .bind(&drain.cell_id)
                .execute(&mut *tx)
                .await?;
            repo::bump_version(&mut tx).await?;
        }
        let moved: u64 =
            sqlx::query_scalar("SELECT shoppers_moved FROM cell_drains WHERE cell_id = ?")
                .bind(&drain.cell_id)
                .fetch_one(&mut *tx)
                .await?;
        crate::stock::recall(
            &mut tx,
            &Schemas::builtin(),
            &self.stock,
            "control-plane:drain",
            &drain.cell_id,
        )
        .await
        .map_err(|e| anyhow::anyhow!("recalling the cell's stock: {e}"))?;
        sqlx::query(
            "UPDATE cell_drains SET state = 'done', finished_at = CURRENT_TIMESTAMP(6), last_error = NULL WHERE cell_id = ?",
        )
        .bind(&drain.cell_id)
        .execute(&mut *tx)
        .await?;
        crate::audit::record(
            &mut tx,
            "control-plane:drain",
            "cell.drained",
            &format!("cell:{}", drain.cell_id),
            &serde_json::json!({"shoppers_moved": moved}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(cell = %drain.cell_id, shoppers_moved = moved, "drain done: cell drained, its stock recalled");
        Ok(())
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(1000).collect()
}

/// Starts draining active cell `id` (part of [`super::Cells`]).
pub async fn begin(pool: &MySqlPool, actor: &str, id: &str, why: &str) -> Result<(), CellError> {
    let mut tx = pool.begin().await?;
    let (state, _) = super::lock(&mut tx, id).await?;
    super::expect_state(state, CellState::Active, "drained (only an active cell is)")?;
    if !super::others_take_shoppers(&mut tx, id).await? {
        return Err(CellError::LastActive);
    }
    sqlx::query("UPDATE cells SET state = 'draining' WHERE id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        r#"INSERT INTO cell_drains (cell_id, actor) VALUES (?, ?)
           ON DUPLICATE KEY UPDATE state = 'moving', passes = 0, cursor_key = '', found_in_pass = 0,
             shoppers_moved = 0, last_error = NULL, actor = VALUES(actor),
             started_at = CURRENT_TIMESTAMP(6), finished_at = NULL"#,
    )
    .bind(id)
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    super::finish(
        &mut tx,
        actor,
        "cell.drain",
        id,
        serde_json::json!({"reason": why}),
    )
    .await?;
    tx.commit().await?;
    tracing::warn!(
        cell = id,
        actor,
        reason = why,
        "cell draining: its shoppers are being moved"
    );
    Ok(())
}

/// `cell_drains` as the progress view reads it: state, passes, shoppers
/// moved, last error, started and finished (RFC 3339).
type DrainRow = (String, u32, u64, Option<String>, String, Option<String>);

/// Where the drain of cell `id` stands.
pub async fn progress(pool: &MySqlPool, id: &str) -> Result<DrainView, CellError> {
    let row: Option<DrainRow> = sqlx::query_as(
        r#"SELECT CAST(state AS CHAR), passes, shoppers_moved, last_error,
                  DATE_FORMAT(started_at, '%Y-%m-%dT%H:%i:%s.%fZ'),
                  DATE_FORMAT(finished_at, '%Y-%m-%dT%H:%i:%s.%fZ')
           FROM cell_drains WHERE cell_id = ?"#,
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let (state, passes, moved, last_error, started_at, finished_at) =
        row.ok_or(CellError::NotFound)?;
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT CAST(step AS CHAR), COUNT(*) FROM shopper_moves WHERE source_cell = ? AND step NOT IN ('done') GROUP BY step",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let count = |wanted: &dyn Fn(&str) -> bool| {
        counts
            .iter()
            .filter(|(step, _)| wanted(step))
            .map(|(_, n)| u64::try_from(*n).unwrap_or(0))
            .sum::<u64>()
    };
    Ok(DrainView {
        cell: id.to_owned(),
        state,
        passes,
        shoppers_moved: moved,
        shoppers_in_progress: count(&|step| step != "conflict"),
        shoppers_in_conflict: count(&|step| step == "conflict"),
        last_error,
        started_at,
        finished_at,
    })
}
