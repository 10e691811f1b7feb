//! `/control/api/cells`: cell operations (role `sre`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chassis::http::{ApiError, Json};
use wire::{CellList, CellStateChange, CellWeight, NewCell};

use super::CellError;
use crate::http::AppState;
use crate::staff::{Sre, Staff};

impl From<CellError> for ApiError {
    fn from(error: CellError) -> Self {
        let status = match &error {
            CellError::NotFound => StatusCode::NOT_FOUND,
            CellError::Invalid { .. } => StatusCode::BAD_REQUEST,
            CellError::Illegal { .. }
            | CellError::LastActive
            | CellError::Exists
            | CellError::NotReady(_) => StatusCode::CONFLICT,
            CellError::Unexpected(_) => return ApiError::unexpected(error),
        };
        ApiError::new(status, error.code(), error.to_string())
    }
}

/// Every cell: address, weight, state, pinned shoppers and health now.
#[utoipa::path(get, path = "/control/api/cells", tag = "cells",
    responses(
        (status = 200, description = "The cells and the routing version", body = CellList),
        (status = 403, description = "Not an SRE", body = wire::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _: Staff<Sre>,
) -> Result<Json<CellList>, ApiError> {
    Ok(Json(state.cells.list().await?))
}

/// Set a cell's share of new shoppers (0-10000; 0 takes none).
#[utoipa::path(put, path = "/control/api/cells/{id}/weight", tag = "cells", request_body = CellWeight,
    params(("id" = String, Path, description = "The cell id")),
    responses(
        (status = 200, description = "The cells after the change", body = CellList),
        (status = 400, description = "`invalid_cell_change`", body = wire::ErrorBody),
        (status = 404, description = "`cell_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`last_active_cell`: weight 0 would leave new shoppers nowhere", body = wire::ErrorBody)))]
pub async fn set_weight(
    State(state): State<AppState>,
    caller: Staff<Sre>,
    Path(id): Path<String>,
    Json(body): Json<CellWeight>,
) -> Result<Json<CellList>, ApiError> {
    state
        .cells
        .set_weight(&caller.actor(), &id, body.weight)
        .await?;
    Ok(Json(state.cells.list().await?))
}

/// Mark an active cell failed: its shoppers browse on other cells, and
/// their cart, checkout, orders and account writes get a 503 until it
/// recovers.
#[utoipa::path(post, path = "/control/api/cells/{id}/fail", tag = "cells", request_body = CellStateChange,
    params(("id" = String, Path, description = "The cell id")),
    responses(
        (status = 200, description = "The cells after the change", body = CellList),
        (status = 400, description = "`invalid_cell_change`: no reason", body = wire::ErrorBody),
        (status = 404, description = "`cell_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`illegal_cell_transition` (not active) or `last_active_cell`", body = wire::ErrorBody)))]
pub async fn fail(
    State(state): State<AppState>,
    caller: Staff<Sre>,
    Path(id): Path<String>,
    Json(body): Json<CellStateChange>,
) -> Result<Json<CellList>, ApiError> {
    state.cells.fail(&caller.actor(), &id, &body.reason).await?;
    Ok(Json(state.cells.list().await?))
}

/// Mark a failed cell active again.
#[utoipa::path(post, path = "/control/api/cells/{id}/recover", tag = "cells", request_body = CellStateChange,
    params(("id" = String, Path, description = "The cell id")),
    responses(
        (status = 200, description = "The cells after the change", body = CellList),
        (status = 400, description = "`invalid_cell_change`: no reason", body = wire::ErrorBody),
        (status = 404, description = "`cell_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`illegal_cell_transition`: not failed", body = wire::ErrorBody)))]
pub async fn recover(
    State(state): State<AppState>,
    caller: Staff<Sre>,
    Path(id): Path<String>,
    Json(body): Json<CellStateChange>,
) -> Result<Json<CellList>, ApiError> {
    state
        .cells
        .recover(&caller.actor(), &id, &body.reason)
        .await?;
    Ok(Json(state.cells.list().await?))
}

/// Remove a drained cell from the map.
#[utoipa::path(delete, path = "/control/api/cells/{id}", tag = "cells",
    params(("id" = String, Path, description = "The cell id")),
    responses(
        (status = 200, description = "The cells after the change", body = CellList),
        (status = 404, description = "`cell_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`illegal_cell_transition`: not drained", body = wire::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    caller: Staff<Sre>,
    Path(id): Path<String>,
) -> Result<Json<CellList>, ApiError> {
    state.cells.remove(&caller.actor(), &id).await?;
    Ok(Json(state.cells.list().await?))
}

/// Add a cell: it joins the table `joining`, rebuilds its catalog from the
/// compacted topic, and takes shoppers once activated.
#[utoipa::path(post, path = "/control/api/cells", tag = "cells", request_body = NewCell,
    responses(
        (status = 201, description = "Added, joining", body = CellList),
        (status = 400, description = "`invalid_cell_change`: a bad id, address or weight", body = wire::ErrorBody),
        (status = 409, description = "`cell_exists`", body = wire::ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    caller: Staff<Sre>,
    Json(body): Json<NewCell>,
) -> Result<(StatusCode, Json<CellList>), ApiError> {
    state.cells.add(&caller.actor(), &body).await?;
    Ok((StatusCode::CREATED, Json(state.cells.list().await?)))
}

/// Let a joining cell take shoppers: it must answer `/readyz` and list as
/// many products as are published.
#[utoipa::path(post, path = "/control/api/cells/{id}/activate", tag = "cells",
    params(("id" = String, Path, description = "The cell id")),
    responses(
        (status = 200, description = "Active", body = CellList),
        (status = 404, description = "`cell_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`illegal_cell_transition` (not joining) or `cell_not_ready` (the message says what is missing; try again)", body = wire::ErrorBody)))]
pub async fn activate(
    State(state): State<AppState>,
    caller: Staff<Sre>,
    Path(id): Path<String>,
) -> Result<Json<CellList>, ApiError> {
    state.cells.activate(&caller.actor(), &id).await?;
    Ok(Json(state.cells.list().await?))
}

/// Drain an active cell: it takes no new shoppers, and the control plane
/// moves each of its shoppers (account, sessions, addresses, cart, orders,
/// invoices, history) to the cell placement gives them without it. Follow
/// the progress at `GET /control/api/cells/{id}/drain`; the cell ends
/// `drained`, its stock recalled to the pool.
#[utoipa::path(post, path = "/control/api/cells/{id}/drain", tag = "cells", request_body = CellStateChange,
    params(("id" = String, Path, description = "The cell id")),
    responses(
        (status = 202, description = "Draining; the drain's progress", body = wire::moves::DrainView),
        (status = 400, description = "`invalid_cell_change`: no reason", body = wire::ErrorBody),
        (status = 404, description = "`cell_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`illegal_cell_transition` (not active) or `last_active_cell`", body = wire::ErrorBody)))]
pub async fn drain(
    State(state): State<AppState>,
    caller: Staff<Sre>,
    Path(id): Path<String>,
    Json(body): Json<CellStateChange>,
) -> Result<(StatusCode, Json<wire::moves::DrainView>), ApiError> {
    let why = super::reason(&body.reason)?;
    super::drain::begin(&state.pool, &caller.actor(), &id, why).await?;
    state.drainer.wake();
    Ok((
        StatusCode::ACCEPTED,
        Json(super::drain::progress(&state.pool, &id).await?),
    ))
}

/// Where a cell's drain stands: shoppers moved, in progress and in conflict.
#[utoipa::path(get, path = "/control/api/cells/{id}/drain", tag = "cells",
    params(("id" = String, Path, description = "The cell id")),
    responses(
        (status = 200, description = "The drain's progress", body = wire::moves::DrainView),
        (status = 404, description = "`cell_not_found`: no drain of this cell", body = wire::ErrorBody)))]
pub async fn drain_progress(
    State(state): State<AppState>,
    _: Staff<Sre>,
    Path(id): Path<String>,
) -> Result<Json<wire::moves::DrainView>, ApiError> {
    Ok(Json(super::drain::progress(&state.pool, &id).await?))
}
