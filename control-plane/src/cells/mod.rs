//! Cell operations (role `sre`, every action audited): list the cells with
//! their health, set a cell's weight, mark a cell failed and recovered,
//! remove a drained cell. Each change is one transaction that locks the
//! cell's row, checks the move, writes it, bumps the routing table's version
//! (the edge and the cells pick it up on their next poll) and records it in
//! the audit log.
//!
//! A failed cell keeps its shoppers (placement still hashes them to it):
//! the edge serves their browsing from an active cell and refuses their
//! writes with a 503 until the cell recovers.
//!
//! A cell added through the API starts `joining`: it is in the routing table
//! (with its endpoint) but takes no shoppers while it rebuilds its catalog
//! from the compacted topic. Activating it checks that it answers `/readyz`
//! and lists as many products as the control plane has published. Draining
//! a cell moves its shoppers away ([`drain`]).

pub mod drain;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use sqlx::MySqlPool;
use wire::moves::ShopperCount;
use wire::{CellList, CellState, CellView};

use crate::audit;
use crate::routing::repo;

/// The most a cell may weigh (a hundred times the usual 100).
pub const MAX_WEIGHT: u32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum CellError {
    #[error("No cell with this id.")]
    NotFound,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    #[error("A cell that is {from} cannot be {action}.")]
    Illegal {
        from: &'static str,
        action: &'static str,
    },
    #[error(
        "This is the last active cell taking shoppers: failing it would leave new shoppers nowhere. Add or recover a cell first."
    )]
    LastActive,
    #[error("A cell with this id is already in the map.")]
    Exists,
    #[error("The cell is not ready to take shoppers: {0}")]
    NotReady(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for CellError {
    fn from(error: sqlx::Error) -> Self {
        CellError::Unexpected(error.into())
    }
}

impl CellError {
    pub fn code(&self) -> &'static str {
        match self {
            CellError::NotFound => "cell_not_found",
            CellError::Invalid { .. } => "invalid_cell_change",
            CellError::Illegal { .. } => "illegal_cell_transition",
            CellError::LastActive => "last_active_cell",
            CellError::Exists => "cell_exists",
            CellError::NotReady(_) => "cell_not_ready",
            CellError::Unexpected(_) => "internal",
        }
    }
}

fn state_of(name: &str) -> Result<CellState, CellError> {
    crate::routing::parse_state(name)
        .ok_or_else(|| CellError::Unexpected(anyhow::anyhow!("a cell has state {name}")))
}

fn reason(text: &str) -> Result<&str, CellError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 500 || text.chars().any(char::is_control) {
        return Err(CellError::Invalid {
            field: "reason",
            message: "1-500 characters of text",
        });
    }
    Ok(text)
}

/// The cell operations.
#[derive(Debug, Clone)]
pub struct Cells {
    pool: MySqlPool,
    /// `allocations`, prefixed: where a cell that becomes active is given
    /// its first share of capped promotions.
    allocations_topic: String,
    client: reqwest::Client,
    /// Makes the service token the shopper counts are asked with.
    verifier: Arc<crate::staff::Verifier>,
}

impl Cells {
    pub fn new(
        pool: MySqlPool,
        allocations_topic: String,
        probe_timeout: Duration,
        verifier: Arc<crate::staff::Verifier>,
    ) -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(Self {
            pool,
            allocations_topic,
            client: reqwest::Client::builder().timeout(probe_timeout).build()?,
            verifier,
        })
    }

    /// Every cell with its health, probed now (all at once).
    pub async fn list(&self) -> Result<CellList, CellError> {
        let mut conn = self.pool.acquire().await?;
        let version = repo::version(&mut conn).await?;
        let rows = repo::cells(&mut conn).await?;
        let pinned: Vec<(String, i64)> =
            sqlx::query_as("SELECT cell_id, COUNT(*) FROM placement_overrides GROUP BY cell_id")
                .fetch_all(&mut *conn)
                .await?;
        drop(conn);
        let token = self.verifier.service_token()?;
        let probes = rows.iter().map(|row| {
            let ready = self
                .client
                .get(format!("http://{}/readyz", row.http_address));
            let count = self
                .client
                .get(format!(
                    "http://{}/internal/shoppers/count",
                    row.http_address
                ))
                .bearer_auth(&token);
            async move {
                let (health, shoppers) = tokio::join!(ready.send(), count.send());
                let health = match health {
                    Ok(response) if response.status().is_success() => "ready",
                    Ok(_) => "not_ready",
                    Err(_) => "unreachable",
                };
                let shoppers = match shoppers {
                    Ok(response) if response.status().is_success() => {
                        response.json::<ShopperCount>().await.ok()
                    }
                    _ => None,
                };
                (health, shoppers)
            }
        });
        let probed = futures_util::future::join_all(probes).await;
        let mut cells = Vec::with_capacity(rows.len());
        for (row, (health, shoppers)) in rows.into_iter().zip(probed) {
            cells.push(CellView {
                state: state_of(&row.state)?,
                pinned_shoppers: pinned
                    .iter()
                    .find(|(cell, _)| *cell == row.id)
                    .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0)),
                id: row.id,
                http_address: row.http_address,
                weight: row.weight,
                health: health.to_owned(),
                shoppers,
            });
        }
        Ok(CellList {
            routing_version: version,
            cells,
        })
    }

    /// Adds cell `id` at `http_address`, `joining`: in the table, taking no
    /// shoppers until it is activated.
    pub async fn add(&self, actor: &str, cell: &wire::NewCell) -> Result<(), CellError> {
        topology::check_cell_id(&cell.id).map_err(|_| CellError::Invalid {
            field: "id",
            message: "1-32 lowercase letters, digits and -",
        })?;
        if cell.http_address.parse::<std::net::SocketAddr>().is_err() {
            return Err(CellError::Invalid {
                field: "http_address",
                message: "ip:port of the cell's HTTP server",
            });
        }
        if cell.weight > MAX_WEIGHT {
            return Err(CellError::Invalid {
                field: "weight",
                message: "0-10000",
            });
        }
        let mut tx = self.pool.begin().await?;
        let added = sqlx::query(
            "INSERT IGNORE INTO cells (id, weight, state, http_address) VALUES (?, ?, 'joining', ?)",
        )
        .bind(&cell.id)
        .bind(cell.weight)
        .bind(&cell.http_address)
        .execute(&mut *tx)
        .await?;
        if added.rows_affected() != 1 {
            return Err(CellError::Exists);
        }
        finish(
            &mut tx,
            actor,
            "cell.add",
            &cell.id,
            serde_json::json!({"http_address": cell.http_address, "weight": cell.weight}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(cell = %cell.id, address = %cell.http_address, actor, "cell added; joining");
        Ok(())
    }

    /// Lets joining cell `id` take shoppers, once it answers and its
    /// catalog has caught up with what is published.
    pub async fn activate(&self, actor: &str, id: &str) -> Result<(), CellError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT state, http_address FROM cells WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let (state, address) = row.ok_or(CellError::NotFound)?;
        expect_state(
            state_of(&state)?,
            CellState::Joining,
            "activated (only a joining cell is)",
        )?;
        let ready = self
            .client
            .get(format!("http://{address}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if !ready {
            return Err(CellError::NotReady(format!(
                "it does not answer /readyz with 200 at {address}"
            )));
        }
        let status: wire::catalog::CatalogStatus = self
            .client
            .get(format!("http://{address}/internal/catalog/status"))
            .send()
            .await
            .map_err(|e| CellError::NotReady(format!("its catalog status: {e}")))?
            .json()
            .await
            .map_err(|e| CellError::NotReady(format!("its catalog status: {e}")))?;
        let published: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products WHERE published")
            .fetch_one(&self.pool)
            .await?;
        let published = u64::try_from(published).unwrap_or(0);
        if status.listed_products < published {
            return Err(CellError::NotReady(format!(
                "its catalog lists {} of {published} published products; it is still reading the catalog topic",
                status.listed_products
            )));
        }
        let mut tx = self.pool.begin().await?;
        let (state, _) = lock(&mut tx, id).await?;
        expect_state(
            state,
            CellState::Joining,
            "activated (only a joining cell is)",
        )?;
        sqlx::query("UPDATE cells SET state = 'active' WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let promotions = self.first_cap_shares(&mut tx, id).await?;
        finish(
            &mut tx,
            actor,
            "cell.activate",
            id,
            serde_json::json!({
                "listed_products": status.listed_products,
                "published": published,
                "promotion_cap_shares": promotions,
            }),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(cell = id, actor, "cell active: taking shoppers");
        Ok(())
    }

    /// Gives cell `id`, active as of this transaction, its first share of
    /// every capped promotion it holds none of.
    async fn first_cap_shares(
        &self,
        conn: &mut sqlx::MySqlConnection,
        id: &str,
    ) -> Result<usize, CellError> {
        let schemas = events::Schemas::builtin();
        crate::promotions::caps::welcome(conn, (&schemas, &self.allocations_topic), id)
            .await
            .map_err(|e| match e {
                crate::promotions::caps::CapError::Unexpected(e) => CellError::Unexpected(e),
                other => CellError::Unexpected(other.into()),
            })
    }

    /// Sets cell `id`'s share of new shoppers.
    pub async fn set_weight(&self, actor: &str, id: &str, weight: u32) -> Result<(), CellError> {
        if weight > MAX_WEIGHT {
            return Err(CellError::Invalid {
                field: "weight",
                message: "0-10000",
            });
        }
        let mut tx = self.pool.begin().await?;
        let (state, old) = lock(&mut tx, id).await?;
        if weight == 0 && state == CellState::Active && !others_take_shoppers(&mut tx, id).await? {
            return Err(CellError::LastActive);
        }
        sqlx::query("UPDATE cells SET weight = ? WHERE id = ?")
            .bind(weight)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        finish(
            &mut tx,
            actor,
            "cell.weight",
            id,
            serde_json::json!({"from": old, "to": weight}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(cell = id, weight, actor, "cell weight set");
        Ok(())
    }

    /// Marks active cell `id` failed (its shoppers get degraded service).
    pub async fn fail(&self, actor: &str, id: &str, why: &str) -> Result<(), CellError> {
        let why = reason(why)?;
        self.change_state(actor, id, why, (CellState::Active, CellState::Failed))
            .await
    }

    /// Marks failed cell `id` active again.
    pub async fn recover(&self, actor: &str, id: &str, why: &str) -> Result<(), CellError> {
        let why = reason(why)?;
        self.change_state(actor, id, why, (CellState::Failed, CellState::Active))
            .await
    }

    async fn change_state(
        &self,
        actor: &str,
        id: &str,
        why: &str,
        (from, to): (CellState, CellState),
    ) -> Result<(), CellError> {
        let action = if to == CellState::Failed {
            "marked failed"
        } else {
            "recovered"
        };
        let mut tx = self.pool.begin().await?;
        let (state, weight) = lock(&mut tx, id).await?;
        expect_state(state, from, action)?;
        if to == CellState::Failed && weight > 0 && !others_take_shoppers(&mut tx, id).await? {
            return Err(CellError::LastActive);
        }
        sqlx::query("UPDATE cells SET state = ? WHERE id = ?")
            .bind(crate::routing::state_name(to))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if to == CellState::Active {
            // Promotions created while it was down gave it no share.
            self.first_cap_shares(&mut tx, id).await?;
        }
        finish(
            &mut tx,
            actor,
            if to == CellState::Failed {
                "cell.fail"
            } else {
                "cell.recover"
            },
            id,
            serde_json::json!({"from": crate::routing::state_name(from), "to": crate::routing::state_name(to), "reason": why}),
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(cell = id, actor, reason = why, "cell {action}");
        Ok(())
    }

    /// Removes drained cell `id` from the map.
    pub async fn remove(&self, actor: &str, id: &str) -> Result<(), CellError> {
        let mut tx = self.pool.begin().await?;
        let (state, _) = lock(&mut tx, id).await?;
        expect_state(state, CellState::Drained, "removed (drain it first)")?;
        sqlx::query("DELETE FROM cells WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        finish(&mut tx, actor, "cell.remove", id, serde_json::json!({})).await?;
        tx.commit().await?;
        tracing::info!(cell = id, actor, "cell removed");
        Ok(())
    }
}

/// `Ok` when the cell is in state `wanted`; else why it cannot be `action`.
fn expect_state(
    state: CellState,
    wanted: CellState,
    action: &'static str,
) -> Result<(), CellError> {
    if state == wanted {
        return Ok(());
    }
    Err(CellError::Illegal {
        from: crate::routing::state_name(state),
        action,
    })
}

/// Cell `id`'s state and weight, its row locked.
async fn lock(conn: &mut sqlx::MySqlConnection, id: &str) -> Result<(CellState, u32), CellError> {
    let row: Option<(String, u32)> =
        sqlx::query_as("SELECT state, weight FROM cells WHERE id = ? FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let (state, weight) = row.ok_or(CellError::NotFound)?;
    Ok((state_of(&state)?, weight))
}

/// Whether a cell other than `id` takes new shoppers (their rows locked
/// too, so two SREs cannot each fail one of the last two cells).
async fn others_take_shoppers(
    conn: &mut sqlx::MySqlConnection,
    id: &str,
) -> Result<bool, CellError> {
    let others: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM cells WHERE id <> ? AND state = 'active' AND weight > 0 FOR UPDATE",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(!others.is_empty())
}

/// Bumps the routing table's version and audits the change.
async fn finish(
    conn: &mut sqlx::MySqlConnection,
    actor: &str,
    action: &str,
    id: &str,
    detail: serde_json::Value,
) -> Result<(), CellError> {
    repo::bump_version(conn).await?;
    audit::record(conn, actor, action, &format!("cell:{id}"), &detail).await?;
    Ok(())
}
