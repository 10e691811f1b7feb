//! `GET /control/api/routing-table`.

use axum::extract::State;
use chassis::http::{ApiError, Json};
use sqlx::MySqlPool;
use wire::PublishedRoutingTable;

/// The routing table: cells, weights, states, overrides, endpoints, version.
#[utoipa::path(get, path = "/control/api/routing-table", tag = "cells",
    responses((status = 200, description = "The current routing table", body = PublishedRoutingTable)))]
pub async fn routing_table(
    State(pool): State<MySqlPool>,
) -> Result<Json<PublishedRoutingTable>, ApiError> {
    Ok(Json(
        super::current(&pool).await.map_err(ApiError::unexpected)?,
    ))
}
