//! HTTP for orders after checkout (`/api/orders`): the signed-in shopper's
//! history and orders; an admin moves paid orders on.

use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use chassis::http::{ApiError, Json, Query};
use serde::Deserialize;
use wire::orders::{AdvanceOrder, CancelOrder, OrderDetail, OrderPage, RefundOrder};

use super::Status;
use super::service::{Filter, OrderError, Orders, Scope, parse_day};
use crate::auth::Auth;
use crate::auth::routes::{Admin, Authenticated, WithRole};
use crate::checkout::Checkouts;
use crate::invoices::{InvoiceError, Invoices};

#[derive(Debug, Clone)]
pub struct OrderState {
    pub orders: Orders,
    pub invoices: Invoices,
    pub checkouts: Arc<Checkouts>,
    pub auth: Arc<Auth>,
}

impl FromRef<OrderState> for Arc<Auth> {
    fn from_ref(state: &OrderState) -> Self {
        state.auth.clone()
    }
}

impl From<OrderError> for ApiError {
    fn from(error: OrderError) -> Self {
        let (status, code) = match &error {
            OrderError::NotFound => (StatusCode::NOT_FOUND, "order_not_found"),
            OrderError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_order_query"),
            OrderError::Illegal { .. } => (StatusCode::CONFLICT, "illegal_transition"),
            OrderError::Moved(_) => (StatusCode::CONFLICT, "order_moved"),
            OrderError::NotPaid => (StatusCode::CONFLICT, "order_not_paid"),
            OrderError::RefundTooLarge { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "refund_too_large")
            }
            OrderError::AlreadyRefunded => (StatusCode::CONFLICT, "already_refunded"),
            OrderError::RefundRefused(_) => (StatusCode::CONFLICT, "refund_refused"),
            OrderError::Unexpected(_) => return ApiError::unexpected(error),
        };
        ApiError::new(status, code, error.to_string())
    }
}

impl From<InvoiceError> for ApiError {
    fn from(error: InvoiceError) -> Self {
        match &error {
            InvoiceError::NotIssued => ApiError::new(
                StatusCode::NOT_FOUND,
                "invoice_not_issued",
                error.to_string(),
            ),
            InvoiceError::Unexpected(_) => ApiError::unexpected(error),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `pending`, `confirmed`, `processing`, `shipped`, `delivered` or `cancelled`.
    pub status: Option<String>,
    /// Placed on or after (YYYY-MM-DD or RFC 3339).
    pub from: Option<String>,
    /// Placed before (YYYY-MM-DD or RFC 3339).
    pub to: Option<String>,
    /// Text in a line's title or SKU, or the start of the order id.
    pub q: Option<String>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1-100, default 20.
    pub limit: Option<u32>,
}

/// The signed-in shopper's orders, newest first.
#[utoipa::path(get, path = "/api/orders", tag = "orders", params(ListQuery),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 400, description = "`invalid_order_query` (the message names the parameter)", body = wire::ErrorBody),
        (status = 401, description = "Not signed in", body = wire::ErrorBody)))]
pub async fn list(
    State(state): State<OrderState>,
    Authenticated(claims): Authenticated,
    Query(query): Query<ListQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    Ok(Json(
        state
            .orders
            .list(Scope::Shopper(&claims.sub), filter(query)?)
            .await?,
    ))
}

/// Every shopper's orders in this cell, newest first (role `admin`): the
/// same filters, the text also matching the shopper's e-mail, each order
/// with the e-mail. The control plane fans this out over all cells.
#[utoipa::path(get, path = "/api/admin/orders", tag = "orders", params(ListQuery),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 400, description = "`invalid_order_query`", body = wire::ErrorBody),
        (status = 403, description = "Not an admin", body = wire::ErrorBody)))]
pub async fn staff_list(
    State(state): State<OrderState>,
    _admin: WithRole<Admin>,
    Query(query): Query<ListQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    Ok(Json(state.orders.list(Scope::Staff, filter(query)?).await?))
}

fn filter(query: ListQuery) -> Result<Filter, OrderError> {
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(text) => Some(Status::parse(text).ok_or(OrderError::Invalid {
            field: "status",
            message: "pending, confirmed, processing, shipped, delivered or cancelled",
        })?),
    };
    let filter = Filter {
        status,
        from: query
            .from
            .as_deref()
            .map(|t| parse_day("from", t))
            .transpose()?,
        to: query
            .to
            .as_deref()
            .map(|t| parse_day("to", t))
            .transpose()?,
        text: query.q,
        cursor: query.cursor,
        limit: query.limit.unwrap_or(20),
    };
    Ok(filter)
}

/// One of the shopper's orders (any order, for an admin), with its lines at
/// the prices paid, where it goes, its payment, refunds, tracking, invoice
/// number and timeline.
#[utoipa::path(get, path = "/api/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order", body = OrderDetail),
        (status = 404, description = "`order_not_found` (also for another shopper's order; an admin sees any)", body = wire::ErrorBody)))]
pub async fn detail(
    State(state): State<OrderState>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<OrderDetail>, ApiError> {
    let admin = claims.roles.iter().any(|r| r == "admin");
    let scope = (!admin).then_some(claims.sub.as_str());
    Ok(Json(state.orders.detail(scope, &id).await?))
}

/// Move a paid order on (role `admin`).
#[utoipa::path(post, path = "/api/orders/{id}/status", tag = "orders", request_body = AdvanceOrder,
    params(("id" = String, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order, moved on", body = OrderDetail),
        (status = 400, description = "`invalid_order_query`: an unknown status, no reason, or tracking missing when shipping", body = wire::ErrorBody),
        (status = 403, description = "Not an admin", body = wire::ErrorBody),
        (status = 404, description = "`order_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`illegal_transition` (not a move the lifecycle allows) or `order_moved` (someone moved it first)", body = wire::ErrorBody)))]
pub async fn advance(
    State(state): State<OrderState>,
    admin: WithRole<Admin>,
    Path(id): Path<String>,
    Json(body): Json<AdvanceOrder>,
) -> Result<Json<OrderDetail>, ApiError> {
    Ok(Json(
        state
            .orders
            .advance(
                &format!("user:{}", admin.0.sub),
                &id,
                &body.status,
                &body.reason,
                body.tracking.as_ref(),
            )
            .await?,
    ))
}

/// Cancel an order before it ships: the shopper's own, or any as an admin.
/// The stock goes back and the payment is refunded in full.
#[utoipa::path(post, path = "/api/orders/{id}/cancel", tag = "orders", request_body = CancelOrder,
    params(("id" = String, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order, cancelled (`refunded` once the provider took the refund)", body = OrderDetail),
        (status = 400, description = "`invalid_order_query`: a reason that is not 1-500 characters of text", body = wire::ErrorBody),
        (status = 404, description = "`order_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`illegal_transition` (shipped, delivered or already cancelled), `order_moved` (moved on meanwhile) or `order_not_paid`", body = wire::ErrorBody)))]
pub async fn cancel(
    State(state): State<OrderState>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
    Json(body): Json<CancelOrder>,
) -> Result<Json<OrderDetail>, ApiError> {
    let admin = claims.roles.iter().any(|r| r == "admin");
    let owner = state
        .orders
        .owner_of(&id)
        .await?
        .ok_or(OrderError::NotFound)?;
    let (actor, scope, default_reason) = if owner == claims.sub {
        (
            format!("user:{}", claims.sub),
            Some(claims.sub.as_str()),
            "cancelled by the shopper",
        )
    } else if admin {
        (format!("user:{}", claims.sub), None, "")
    } else {
        return Err(OrderError::NotFound.into());
    };
    let reason = body.reason.unwrap_or_else(|| default_reason.to_owned());
    state.checkouts.cancel(&actor, &id, scope, &reason).await?;
    Ok(Json(state.orders.detail(None, &id).await?))
}

/// The order's invoice as a PDF: the shopper's own order, or any as an
/// admin.
#[utoipa::path(get, path = "/api/orders/{id}/invoice", tag = "orders",
    params(("id" = String, Path, description = "The order id")),
    responses(
        (status = 200, description = "The invoice (`Content-Disposition: attachment; filename=<number>.pdf`)", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "Not signed in", body = wire::ErrorBody),
        (status = 404, description = "`order_not_found` (also for another shopper's order) or `invoice_not_issued` (not paid yet)", body = wire::ErrorBody)))]
pub async fn invoice(
    State(state): State<OrderState>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
    use axum::response::IntoResponse;
    let owner = state
        .orders
        .owner_of(&id)
        .await?
        .ok_or(OrderError::NotFound)?;
    if owner != claims.sub && !claims.roles.iter().any(|r| r == "admin") {
        return Err(OrderError::NotFound.into());
    }
    let stored = state.invoices.for_order(&id).await?;
    Ok((
        [
            (CONTENT_TYPE, "application/pdf".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.pdf\"", stored.number),
            ),
            (CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        stored.pdf,
    )
        .into_response())
}

/// Refund part or all of a paid order (role `admin`), with a reason; audited.
/// The response is the order with its refunds; a refund the provider has
/// not answered yet shows `requested` and is asked again by the sweeper.
#[utoipa::path(post, path = "/api/orders/{id}/refunds", tag = "orders", request_body = RefundOrder,
    params(("id" = String, Path, description = "The order id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response to a retry")),
    responses(
        (status = 200, description = "The order with the refund", body = OrderDetail),
        (status = 400, description = "`invalid_order_query`: no reason, or an amount below 1", body = wire::ErrorBody),
        (status = 403, description = "Not an admin", body = wire::ErrorBody),
        (status = 404, description = "`order_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`order_not_paid`, `already_refunded` (cancelled and refunded) or `refund_refused` (the provider said no; nothing was refunded)", body = wire::ErrorBody),
        (status = 422, description = "`refund_too_large`: more than is left of the total", body = wire::ErrorBody)))]
pub async fn refund(
    State(state): State<OrderState>,
    admin: WithRole<Admin>,
    Path(id): Path<String>,
    Json(body): Json<RefundOrder>,
) -> Result<Json<OrderDetail>, ApiError> {
    state
        .checkouts
        .refund_part(
            &format!("user:{}", admin.0.sub),
            &id,
            body.amount_minor,
            &body.reason,
        )
        .await?;
    Ok(Json(state.orders.detail(None, &id).await?))
}
