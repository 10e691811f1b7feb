//! `GET /admin/api/orders`: staff order search across the cells.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chassis::http::{ApiError, Json, Query};
use wire::orders::CellOrderSearch;

use super::{SearchError, SearchQuery};
use crate::http::AppState;
use crate::staff::{Admin, Staff};

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> Self {
        match &error {
            SearchError::Invalid { .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_order_query",
                error.to_string(),
            ),
            SearchError::Unexpected(_) => ApiError::unexpected(error),
        }
    }
}

/// Orders in every cell, newest first, and the cells that did not answer.
#[utoipa::path(get, path = "/admin/api/orders", tag = "orders", params(SearchQuery),
    responses(
        (status = 200, description = "What the cells that answered hold (`items`), which answered, and which did not with the reason (`timeout`, `unreachable`, `status <code>`)", body = CellOrderSearch),
        (status = 400, description = "`invalid_order_query`, the message naming the parameter", body = wire::ErrorBody),
        (status = 403, description = "Not an admin", body = wire::ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    _: Staff<Admin>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Result<Json<CellOrderSearch>, ApiError> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    Ok(Json(state.orders.search(authorization, &query).await?))
}
