//! HTTP for checkout (`/api/checkout/*`): every step answers with the whole
//! checkout as it now stands.

use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use chassis::http::{ApiError, Json};
use wire::checkout::{CheckoutAddress, CheckoutPayment, CheckoutShipping, CheckoutView};

use super::service::{CheckoutError, Checkouts};
use crate::auth::{Auth, Authenticated};
use crate::payments::PaymentError;

#[derive(Debug, Clone)]
pub struct CheckoutState {
    pub checkouts: Arc<Checkouts>,
    pub auth: Arc<Auth>,
}

impl FromRef<CheckoutState> for Arc<Auth> {
    fn from_ref(state: &CheckoutState) -> Self {
        state.auth.clone()
    }
}

impl From<CheckoutError> for ApiError {
    fn from(error: CheckoutError) -> Self {
        let (status, code) = match &error {
            CheckoutError::NotFound => (StatusCode::NOT_FOUND, "checkout_not_found"),
            CheckoutError::CartEmpty => (StatusCode::UNPROCESSABLE_ENTITY, "cart_empty"),
            CheckoutError::CartNotReady(_) => (StatusCode::CONFLICT, "cart_not_ready"),
            CheckoutError::AddressChoice => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_checkout_address")
            }
            CheckoutError::Address(_) => {
                let CheckoutError::Address(inner) = error else {
                    unreachable!()
                };
                return ApiError::from(inner);
            }
            CheckoutError::AddressRequired => (StatusCode::CONFLICT, "address_required"),
            CheckoutError::ShippingRequired => (StatusCode::CONFLICT, "shipping_required"),
            CheckoutError::UnknownShippingMethod(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "unknown_shipping_method")
            }
            CheckoutError::Closed(_) => (StatusCode::CONFLICT, "checkout_closed"),
            CheckoutError::OutOfStock { .. } => (StatusCode::CONFLICT, "out_of_stock"),
            CheckoutError::Coupon(rejection) => (
                crate::cart::routes::coupon_status(rejection),
                rejection.code(),
            ),
            CheckoutError::PaymentsOff => {
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "payments_unavailable",
                    error.to_string(),
                )
                .retry_after(60);
            }
            CheckoutError::InvalidPaymentMethod => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_payment_method")
            }
            CheckoutError::Declined(_) => (StatusCode::PAYMENT_REQUIRED, "payment_declined"),
            CheckoutError::Provider(PaymentError::Refused(_)) => {
                (StatusCode::CONFLICT, "payment_refused")
            }
            CheckoutError::Provider(_) => {
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "payment_provider_unavailable",
                    format!("{error}; your order and its stock are held, try again shortly."),
                )
                .retry_after(5);
            }
            CheckoutError::Unexpected(_) => return ApiError::unexpected(error),
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// Start checking out the signed-in shopper's cart.
#[utoipa::path(post, path = "/api/checkout", tag = "checkout",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response to a retry")),
    responses(
        (status = 201, description = "A checkout at its first step", body = CheckoutView),
        (status = 401, description = "Sign in first", body = wire::ErrorBody),
        (status = 409, description = "`cart_not_ready`: a line is out of stock or no longer sold", body = wire::ErrorBody),
        (status = 422, description = "`cart_empty`", body = wire::ErrorBody)))]
pub async fn start(
    State(state): State<CheckoutState>,
    Authenticated(claims): Authenticated,
) -> Result<(StatusCode, Json<CheckoutView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.checkouts.start(&claims).await?),
    ))
}

/// A checkout as it stands (poll it for the order's confirmation).
#[utoipa::path(get, path = "/api/checkout/{id}", tag = "checkout",
    params(("id" = String, Path, description = "The checkout id")),
    responses(
        (status = 200, description = "The checkout", body = CheckoutView),
        (status = 404, description = "`checkout_not_found`", body = wire::ErrorBody)))]
pub async fn view(
    State(state): State<CheckoutState>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<CheckoutView>, ApiError> {
    Ok(Json(state.checkouts.view(&claims, &id).await?))
}

/// Step 1: a saved address, or a new one (validated; saved with `save`).
#[utoipa::path(post, path = "/api/checkout/{id}/address", tag = "checkout", request_body = CheckoutAddress,
    params(("id" = String, Path, description = "The checkout id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response to a retry")),
    responses(
        (status = 200, description = "The checkout, with shipping options for the address", body = CheckoutView),
        (status = 404, description = "`checkout_not_found` or `address_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`checkout_closed`: payment has started", body = wire::ErrorBody),
        (status = 422, description = "`invalid_address` (names the field) or `invalid_checkout_address`", body = wire::ErrorBody)))]
pub async fn address(
    State(state): State<CheckoutState>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
    Json(body): Json<CheckoutAddress>,
) -> Result<Json<CheckoutView>, ApiError> {
    Ok(Json(
        state.checkouts.set_address(&claims, &id, &body).await?,
    ))
}

/// Step 2: one of the shipping options.
#[utoipa::path(post, path = "/api/checkout/{id}/shipping", tag = "checkout", request_body = CheckoutShipping,
    params(("id" = String, Path, description = "The checkout id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response to a retry")),
    responses(
        (status = 200, description = "The checkout, with its total", body = CheckoutView),
        (status = 409, description = "`address_required` or `checkout_closed`", body = wire::ErrorBody),
        (status = 422, description = "`unknown_shipping_method`", body = wire::ErrorBody)))]
pub async fn shipping(
    State(state): State<CheckoutState>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
    Json(body): Json<CheckoutShipping>,
) -> Result<Json<CheckoutView>, ApiError> {
    Ok(Json(
        state
            .checkouts
            .set_shipping(&claims, &id, &body.method)
            .await?,
    ))
}

/// Step 3: reserve the stock, place the order and start the payment; with
/// `payment_method`, pay at once.
#[utoipa::path(post, path = "/api/checkout/{id}/payment", tag = "checkout", request_body = CheckoutPayment,
    params(("id" = String, Path, description = "The checkout id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response to a retry")),
    responses(
        (status = 200, description = "The checkout with its order and payment (client_secret for Stripe.js)", body = CheckoutView),
        (status = 402, description = "`payment_declined`: the order and its stock stay held; try another card", body = wire::ErrorBody),
        (status = 409, description = "`out_of_stock`, `cart_not_ready`, `address_required`, `shipping_required`, `checkout_closed` or `payment_refused`", body = wire::ErrorBody),
        (status = 404, description = "`coupon_unknown`: the cart's coupon was withdrawn", body = wire::ErrorBody),
        (status = 422, description = "`cart_empty`, `invalid_payment_method`, or the `coupon_*` code of a coupon that no longer applies (see `PUT /api/cart/coupon`)", body = wire::ErrorBody),
        (status = 503, description = "`payments_unavailable` or `payment_provider_unavailable` (Retry-After)", body = wire::ErrorBody)))]
pub async fn payment(
    State(state): State<CheckoutState>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
    Json(body): Json<CheckoutPayment>,
) -> Result<Json<CheckoutView>, ApiError> {
    let paid = state
        .checkouts
        .pay(&claims, &id, body.payment_method.as_deref())
        .await;
    if let Err(reason) = paid.as_ref().map_err(|e| e.failure_reason()) {
        state
            .checkouts
            .kpis()
            .checkout_failed(reason.unwrap_or("invalid_request"));
    }
    Ok(Json(paid?))
}
