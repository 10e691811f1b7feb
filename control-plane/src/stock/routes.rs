//! The stock ledger's admin API (`/admin/api/stock/*`, role `admin`) and the
//! recall an SRE runs when draining a cell (`/control/api/cells/{id}/…`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chassis::http::{ApiError, Json};
use wire::catalog::{Restock, StockAdjustment, StockLedger};

use super::StockError;
use crate::http::AppState;
use crate::staff::{Admin, Sre, Staff};

impl From<StockError> for ApiError {
    fn from(error: StockError) -> Self {
        let (status, code) = match &error {
            StockError::UnknownSku(_) => (StatusCode::NOT_FOUND, "sku_not_found"),
            StockError::UnknownCell(_) => (StatusCode::NOT_FOUND, "cell_not_found"),
            StockError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_stock_change"),
            StockError::Insufficient { .. } => (StatusCode::CONFLICT, "insufficient_stock"),
            StockError::Unbalanced(_) | StockError::Unexpected(_) => {
                return ApiError::unexpected(error);
            }
        };
        ApiError::new(status, code, error.to_string())
    }
}

#[utoipa::path(get, path = "/admin/api/stock/{sku}", tag = "stock",
    params(("sku" = String, Path, description = "The SKU")),
    responses(
        (status = 200, description = "The ledger and each cell's share", body = StockLedger),
        (status = 404, description = "`sku_not_found`", body = wire::ErrorBody)))]
pub async fn ledger(
    State(state): State<AppState>,
    _: Staff<Admin>,
    Path(sku): Path<String>,
) -> Result<Json<StockLedger>, ApiError> {
    let mut conn = state.pool.acquire().await.map_err(ApiError::unexpected)?;
    let ledger = super::ledger(&mut conn, &sku)
        .await
        .map_err(ApiError::unexpected)?
        .ok_or(StockError::UnknownSku(sku))?;
    Ok(Json(ledger))
}

#[utoipa::path(post, path = "/admin/api/stock/{sku}/restock", tag = "stock", request_body = Restock,
    params(("sku" = String, Path, description = "The SKU")),
    responses(
        (status = 200, description = "Recorded and shared out to the cells", body = StockLedger),
        (status = 404, description = "`variant_not_found`", body = wire::ErrorBody),
        (status = 422, description = "`invalid_stock_change`", body = wire::ErrorBody)))]
pub async fn restock(
    State(state): State<AppState>,
    caller: Staff<Admin>,
    Path(sku): Path<String>,
    Json(body): Json<Restock>,
) -> Result<Json<StockLedger>, ApiError> {
    let mut tx = state.pool.begin().await.map_err(ApiError::unexpected)?;
    let known = sqlx::query_scalar!("SELECT COUNT(*) FROM variants WHERE sku = ?", sku)
        .fetch_one(&mut *tx)
        .await
        .map_err(ApiError::unexpected)?;
    if known == 0 {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "variant_not_found",
            "No variant has this SKU.",
        ));
    }
    let ledger = super::restock(
        &mut tx,
        &state.schemas,
        &state.stock,
        &caller.actor(),
        &sku,
        body.quantity,
    )
    .await?;
    tx.commit().await.map_err(ApiError::unexpected)?;
    Ok(Json(ledger))
}

#[utoipa::path(post, path = "/admin/api/stock/{sku}/adjust", tag = "stock", request_body = StockAdjustment,
    params(("sku" = String, Path, description = "The SKU")),
    responses(
        (status = 200, description = "Corrected", body = StockLedger),
        (status = 404, description = "`sku_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`insufficient_stock`: fewer units unallocated than the loss", body = wire::ErrorBody),
        (status = 422, description = "`invalid_stock_change`", body = wire::ErrorBody)))]
pub async fn adjust(
    State(state): State<AppState>,
    caller: Staff<Admin>,
    Path(sku): Path<String>,
    Json(body): Json<StockAdjustment>,
) -> Result<Json<StockLedger>, ApiError> {
    let mut tx = state.pool.begin().await.map_err(ApiError::unexpected)?;
    let ledger = super::adjust(
        &mut tx,
        &state.schemas,
        &state.stock,
        &caller.actor(),
        &sku,
        body.delta,
        &body.reason,
    )
    .await?;
    tx.commit().await.map_err(ApiError::unexpected)?;
    Ok(Json(ledger))
}

#[utoipa::path(post, path = "/control/api/cells/{id}/recall-stock", tag = "cells",
    params(("id" = String, Path, description = "The cell id")),
    responses(
        (status = 202, description = "The cell was asked to return every unit it holds"),
        (status = 404, description = "`cell_not_found`", body = wire::ErrorBody)))]
pub async fn recall(
    State(state): State<AppState>,
    caller: Staff<Sre>,
    Path(cell): Path<String>,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.pool.begin().await.map_err(ApiError::unexpected)?;
    super::recall(
        &mut tx,
        &state.schemas,
        &state.stock,
        &caller.actor(),
        &cell,
    )
    .await?;
    tx.commit().await.map_err(ApiError::unexpected)?;
    Ok(StatusCode::ACCEPTED)
}
