//! Sign-in aliases: after an e-mail change, the new address's shopper key
//! routes to the account's cell (docs/IDENTITY.md).
//!
//! A cell sets the alias of one of its accounts with
//! `PUT /internal/accounts/{account_key}/sign-in-alias`. The control plane
//! refuses a key another account holds: another alias, an override (a
//! moved shopper), or data on the cell the key is placed on. It records the
//! alias first and asks that cell afterwards, so a registration racing the
//! change is either seen by the question or routed by the new table; only
//! one the edge routed by a table older than the alias can slip through.
//!
//! The published table carries each alias as an override to wherever the
//! account is placed, worked out afresh each time: a drain that moves the
//! account moves its alias in the same table version.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, StatusCode};
use chassis::http::{ApiError, Json};
use placement::{Placer, ShopperKey};
use sqlx::MySqlPool;
use wire::moves::ShopperChecksum;
use wire::{PlacementOverride, RoutingTable, SignInAlias};

use super::repo::AliasRow;
use crate::cells::drain::CellApi;
use crate::staff::Verifier;

/// The alias overrides of `table` (cells and overrides without aliases):
/// each alias to the cell its account is placed on, with the epoch of the
/// account's own override (0 without one). An alias whose key has an
/// override of its own, or whose account cannot be placed, is left out.
pub(crate) fn overrides(
    table: &RoutingTable,
    aliases: &[AliasRow],
) -> anyhow::Result<Vec<PlacementOverride>> {
    if aliases.is_empty() {
        return Ok(Vec::new());
    }
    let placer = Placer::new(table)?;
    let mut found = Vec::with_capacity(aliases.len());
    for alias in aliases {
        let (Ok(account), Ok(key)) = (
            ShopperKey::parse(&alias.account_key),
            ShopperKey::parse(&alias.alias_key),
        ) else {
            continue;
        };
        if placer.epoch(key).is_some() {
            continue;
        }
        if let Ok(cell) = placer.place(account) {
            found.push(PlacementOverride {
                shopper_key: alias.alias_key.clone(),
                cell: cell.id.clone(),
                epoch: placer.epoch(account).unwrap_or(0),
            });
        }
    }
    Ok(found)
}

/// Sets and checks aliases.
#[derive(Debug, Clone)]
pub struct Aliases {
    pool: MySqlPool,
    verifier: Arc<Verifier>,
    client: reqwest::Client,
}

#[derive(Debug, thiserror::Error)]
pub enum AliasError {
    #[error("{0}")]
    Invalid(String),
    #[error("The account {0} does not live on the calling cell.")]
    NotYours(String),
    #[error("Another account has this address.")]
    Taken,
    #[error("Cell {cell} could not say whether the key is in use: {reason}")]
    CellUnreachable { cell: String, reason: String },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AliasError {
    fn from(error: sqlx::Error) -> Self {
        AliasError::Unexpected(error.into())
    }
}

impl From<AliasError> for ApiError {
    fn from(error: AliasError) -> Self {
        let (status, code) = match &error {
            AliasError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_alias"),
            AliasError::NotYours(_) => (StatusCode::FORBIDDEN, "not_your_account"),
            AliasError::Taken => (StatusCode::CONFLICT, "email_taken"),
            AliasError::CellUnreachable { .. } => {
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "cell_unreachable",
                    error.to_string(),
                )
                .retry_after(10);
            }
            AliasError::Unexpected(_) => return ApiError::unexpected(error),
        };
        ApiError::new(status, code, error.to_string())
    }
}

impl Aliases {
    pub fn new(
        pool: MySqlPool,
        verifier: Arc<Verifier>,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            pool,
            verifier,
            client: reqwest::Client::builder().timeout(timeout).build()?,
        })
    }

    /// Sets (or with `None` removes) the alias of `account_key`, an account
    /// of `cell`.
    pub async fn set(
        &self,
        cell: &str,
        account_key: &str,
        alias_key: Option<&str>,
    ) -> Result<(), AliasError> {
        let account = ShopperKey::parse(account_key)
            .map_err(|e| AliasError::Invalid(format!("account key: {e}")))?;
        let alias = alias_key
            .map(|key| {
                ShopperKey::parse(key).map_err(|e| AliasError::Invalid(format!("alias_key: {e}")))
            })
            .transpose()?;
        if alias == Some(account) {
            return Err(AliasError::Invalid(
                "alias_key: the account's own key needs no alias; send null".into(),
            ));
        }
        let published = super::current(&self.pool).await?;
        let placer = Placer::new(&published.table).map_err(anyhow::Error::from)?;
        let home = placer
            .place(account)
            .map_err(|e| AliasError::Unexpected(e.into()))?;
        if home.id != cell {
            return Err(AliasError::NotYours(account_key.to_owned()));
        }
        let Some(alias) = alias else {
            return self.remove(cell, account_key).await;
        };
        let alias_key = alias.to_string();
        let existing: Option<String> = sqlx::query_scalar!(
            "SELECT account_key FROM sign_in_aliases WHERE alias_key = ?",
            alias_key
        )
        .fetch_optional(&self.pool)
        .await?;
        match existing {
            Some(owner) if owner == account_key => return Ok(()),
            Some(_) => return Err(AliasError::Taken),
            None => {}
        }
        if placer.epoch(alias).is_some() {
            return Err(AliasError::Taken);
        }
        // The cell the key is placed on, asked after the alias is recorded.
        let placed = placer
            .place(alias)
            .map_err(|e| AliasError::Unexpected(e.into()))?
            .id
            .clone();
        let mut tx = self.pool.begin().await?;
        let written = sqlx::query!(
            "INSERT INTO sign_in_aliases (account_key, alias_key, cell_id) VALUES (?, ?, ?) \
             ON DUPLICATE KEY UPDATE alias_key = VALUES(alias_key), cell_id = VALUES(cell_id)",
            account_key,
            alias_key,
            cell
        )
        .execute(&mut *tx)
        .await;
        match written {
            Ok(_) => {}
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                return Err(AliasError::Taken);
            }
            Err(error) => return Err(error.into()),
        }
        super::repo::bump_version(&mut tx).await?;
        crate::audit::record(
            &mut tx,
            &format!("cell:{cell}"),
            "account.alias",
            &format!("shopper:{account_key}"),
            &serde_json::json!({ "alias_key": alias_key }),
        )
        .await?;
        tx.commit().await?;
        if placed != cell
            && let Err(error) = self.held_elsewhere(&published, &placed, &alias_key).await
        {
            // Put things back as they were: the account keeps its address.
            self.forget(cell, account_key, &alias_key, &error).await?;
            return Err(error);
        }
        tracing::info!(cell, account = account_key, alias = %alias_key, "sign-in alias set");
        Ok(())
    }

    /// `Ok` when `placed` holds nothing for `key`.
    async fn held_elsewhere(
        &self,
        published: &wire::PublishedRoutingTable,
        placed: &str,
        key: &str,
    ) -> Result<(), AliasError> {
        let unreachable = |reason: String| AliasError::CellUnreachable {
            cell: placed.to_owned(),
            reason,
        };
        let address = published
            .endpoints
            .get(placed)
            .ok_or_else(|| unreachable("no address in the cell map".into()))?;
        let token = self.verifier.service_token()?;
        let api = CellApi {
            client: &self.client,
            token: &token,
            cell: placed,
            address,
        };
        let held: ShopperChecksum = api
            .get(&format!("/internal/shoppers/{key}/checksum"))
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if held.rows > 0 {
            return Err(AliasError::Taken);
        }
        Ok(())
    }

    /// Withdraws an alias just recorded, because of `why`.
    async fn forget(
        &self,
        cell: &str,
        account_key: &str,
        alias_key: &str,
        why: &AliasError,
    ) -> Result<(), AliasError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query!(
            "DELETE FROM sign_in_aliases WHERE account_key = ? AND alias_key = ?",
            account_key,
            alias_key
        )
        .execute(&mut *tx)
        .await?;
        super::repo::bump_version(&mut tx).await?;
        crate::audit::record(
            &mut tx,
            &format!("cell:{cell}"),
            "account.alias_withdrawn",
            &format!("shopper:{account_key}"),
            &serde_json::json!({ "alias_key": alias_key, "why": why.to_string() }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove(&self, cell: &str, account_key: &str) -> Result<(), AliasError> {
        let mut tx = self.pool.begin().await?;
        let removed = sqlx::query!(
            "DELETE FROM sign_in_aliases WHERE account_key = ?",
            account_key
        )
        .execute(&mut *tx)
        .await?;
        if removed.rows_affected() > 0 {
            super::repo::bump_version(&mut tx).await?;
            crate::audit::record(
                &mut tx,
                &format!("cell:{cell}"),
                "account.alias_removed",
                &format!("shopper:{account_key}"),
                &serde_json::json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl FromRef<crate::http::AppState> for Aliases {
    fn from_ref(state: &crate::http::AppState) -> Self {
        state.aliases.clone()
    }
}

/// Set the sign-in alias of one of the calling cell's accounts (a cell's
/// service token only): `alias_key` is the shopper key of the account's new
/// e-mail address, or null to remove the alias.
#[utoipa::path(put, path = "/internal/accounts/{account_key}/sign-in-alias", tag = "internal",
    request_body = SignInAlias,
    params(("account_key" = String, Path, description = "The account's own shopper key")),
    responses(
        (status = 204, description = "Set (or removed); the routing table's version moved"),
        (status = 400, description = "`invalid_alias`", body = wire::ErrorBody),
        (status = 401, description = "`invalid_service_token`", body = wire::ErrorBody),
        (status = 403, description = "`not_your_account`: the account is placed on another cell", body = wire::ErrorBody),
        (status = 409, description = "`email_taken`: another account holds the key", body = wire::ErrorBody),
        (status = 503, description = "`cell_unreachable`: the cell the key is placed on did not answer; nothing changed", body = wire::ErrorBody)))]
pub async fn set(
    State(aliases): State<Aliases>,
    headers: HeaderMap,
    Path(account_key): Path<String>,
    Json(body): Json<SignInAlias>,
) -> Result<StatusCode, ApiError> {
    let cell = aliases.verifier.calling_cell(&headers)?;
    aliases
        .set(&cell, &account_key, body.alias_key.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
