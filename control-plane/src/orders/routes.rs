//! `GET /admin/api/orders`: staff order search across the cells.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chassis::http::{ApiError, Json, Query};
use wire::orders::{AdvanceOrder, CancelOrder, CellOrderSearch, OrderDetail, RefundOrder};

use super::{CellAnswer, ForwardError, OrderAction, SearchError, SearchQuery};
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

impl From<ForwardError> for ApiError {
    fn from(error: ForwardError) -> Self {
        let (status, code) = match &error {
            ForwardError::UnknownCell(_) => (StatusCode::NOT_FOUND, "cell_not_found"),
            ForwardError::BadOrderId => (StatusCode::NOT_FOUND, "order_not_found"),
            ForwardError::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, "cell_timeout"),
            ForwardError::Unreachable(_) => (StatusCode::BAD_GATEWAY, "cell_unreachable"),
            ForwardError::Unexpected(_) => return ApiError::unexpected(error),
        };
        ApiError::new(status, code, error.to_string())
    }
}

impl IntoResponse for CellAnswer {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut response = (status, self.body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

fn authorization(headers: &HeaderMap) -> &str {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn idempotency_key(headers: &HeaderMap) -> Option<&str> {
    headers.get("idempotency-key").and_then(|v| v.to_str().ok())
}

/// Hands an order action to the cell that holds the order, as the caller.
/// A change the cell made (`audited`: who, and the action's name) is also
/// written to the audit log, so the staff log lists it beside the cell's
/// own order audit.
async fn forward(
    state: &AppState,
    headers: &HeaderMap,
    (cell, id): (String, String),
    action: OrderAction<'_>,
    audited: Option<(String, &'static str)>,
) -> Result<CellAnswer, ApiError> {
    let request = action.body.clone();
    let answer = state
        .orders
        .forward(
            authorization(headers),
            idempotency_key(headers),
            (&cell, &id),
            action,
        )
        .await?;
    if let Some((actor, name)) = audited
        && (200..300).contains(&answer.status)
    {
        let detail = serde_json::json!({ "cell": cell, "request": request });
        let recorded = match state.pool.acquire().await {
            Ok(mut conn) => {
                crate::audit::record(&mut conn, &actor, name, &format!("order:{id}"), &detail).await
            }
            Err(error) => Err(error),
        };
        if let Err(error) = recorded {
            // The cell made the change and audited it itself; the answer
            // stands.
            tracing::error!(error = %error, order = %id, action = name, "an order action could not be written to the audit log");
        }
    }
    Ok(answer)
}

/// A POST of `body` to `/api/orders/{id}{suffix}`.
fn post<'a, T: serde::Serialize>(suffix: &'a str, body: &T) -> Result<OrderAction<'a>, ApiError> {
    Ok(OrderAction {
        method: reqwest::Method::POST,
        suffix,
        body: Some(serde_json::to_value(body).map_err(ApiError::unexpected)?),
    })
}

/// One order of a cell in full, asked of that cell.
#[utoipa::path(get, path = "/admin/api/cells/{cell}/orders/{id}", tag = "orders",
    params(("cell" = String, Path, description = "The cell that holds the order"),
           ("id" = String, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order, as its cell answered", body = OrderDetail),
        (status = 403, description = "Not an admin", body = wire::ErrorBody),
        (status = 404, description = "`cell_not_found` or `order_not_found`", body = wire::ErrorBody),
        (status = 502, description = "`cell_unreachable`", body = wire::ErrorBody),
        (status = 504, description = "`cell_timeout`", body = wire::ErrorBody)))]
pub async fn detail(
    State(state): State<AppState>,
    _: Staff<Admin>,
    headers: HeaderMap,
    Path(at): Path<(String, String)>,
) -> Result<CellAnswer, ApiError> {
    let action = OrderAction {
        method: reqwest::Method::GET,
        suffix: "",
        body: None,
    };
    forward(&state, &headers, at, action, None).await
}

/// Move an order on, as its cell's `POST /api/orders/{id}/status` does.
#[utoipa::path(post, path = "/admin/api/cells/{cell}/orders/{id}/status", tag = "orders", request_body = AdvanceOrder,
    params(("cell" = String, Path, description = "The cell that holds the order"),
           ("id" = String, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order, moved on", body = OrderDetail),
        (status = 400, description = "`invalid_order_query`", body = wire::ErrorBody),
        (status = 404, description = "`cell_not_found` or `order_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`illegal_transition` or `order_moved`", body = wire::ErrorBody),
        (status = 502, description = "`cell_unreachable`", body = wire::ErrorBody),
        (status = 504, description = "`cell_timeout`", body = wire::ErrorBody)))]
pub async fn advance(
    State(state): State<AppState>,
    admin: Staff<Admin>,
    headers: HeaderMap,
    Path(at): Path<(String, String)>,
    Json(body): Json<AdvanceOrder>,
) -> Result<CellAnswer, ApiError> {
    let audited = Some((admin.actor(), "order.status"));
    forward(&state, &headers, at, post("/status", &body)?, audited).await
}

/// Refund part or all of an order, as its cell's `POST /api/orders/{id}/refunds` does.
#[utoipa::path(post, path = "/admin/api/cells/{cell}/orders/{id}/refunds", tag = "orders", request_body = RefundOrder,
    params(("cell" = String, Path, description = "The cell that holds the order"),
           ("id" = String, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order with the refund", body = OrderDetail),
        (status = 400, description = "`invalid_order_query`", body = wire::ErrorBody),
        (status = 404, description = "`cell_not_found` or `order_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`order_not_paid`, `already_refunded` or `refund_refused`", body = wire::ErrorBody),
        (status = 422, description = "`refund_too_large`: more than is left of the total", body = wire::ErrorBody),
        (status = 502, description = "`cell_unreachable`", body = wire::ErrorBody),
        (status = 504, description = "`cell_timeout`", body = wire::ErrorBody)))]
pub async fn refund(
    State(state): State<AppState>,
    admin: Staff<Admin>,
    headers: HeaderMap,
    Path(at): Path<(String, String)>,
    Json(body): Json<RefundOrder>,
) -> Result<CellAnswer, ApiError> {
    let audited = Some((admin.actor(), "order.refund"));
    forward(&state, &headers, at, post("/refunds", &body)?, audited).await
}

/// Cancel an order before it ships, as its cell's `POST /api/orders/{id}/cancel` does.
#[utoipa::path(post, path = "/admin/api/cells/{cell}/orders/{id}/cancel", tag = "orders", request_body = CancelOrder,
    params(("cell" = String, Path, description = "The cell that holds the order"),
           ("id" = String, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order, cancelled", body = OrderDetail),
        (status = 400, description = "`invalid_order_query`: an admin gives a reason of 1-500 characters", body = wire::ErrorBody),
        (status = 404, description = "`cell_not_found` or `order_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`illegal_transition` (shipped, delivered or already cancelled), `order_moved` or `order_not_paid`", body = wire::ErrorBody),
        (status = 502, description = "`cell_unreachable`", body = wire::ErrorBody),
        (status = 504, description = "`cell_timeout`", body = wire::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    admin: Staff<Admin>,
    headers: HeaderMap,
    Path(at): Path<(String, String)>,
    Json(body): Json<CancelOrder>,
) -> Result<CellAnswer, ApiError> {
    let audited = Some((admin.actor(), "order.cancel"));
    forward(&state, &headers, at, post("/cancel", &body)?, audited).await
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
    Ok(Json(
        state.orders.search(authorization(&headers), &query).await?,
    ))
}
