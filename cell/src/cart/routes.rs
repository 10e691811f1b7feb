//! HTTP for the cart (`/api/cart`). Each answer is the whole cart, priced
//! now.

use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use chassis::http::{ApiError, Json};
use wire::cart::{AddToCart, CartView, SetQuantity};
use wire::promotions::ApplyCoupon;

use super::service::{CartError, Carts};
use super::shopper::Shopper;
use crate::auth::Auth;
use crate::promotions::Rejection;

/// 404 for a code nobody issued, 422 for a coupon the cart does not fit.
pub fn coupon_status(rejection: &Rejection) -> StatusCode {
    match rejection {
        Rejection::Unknown(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

#[derive(Debug, Clone)]
pub struct CartState {
    pub carts: Arc<Carts>,
    pub auth: Arc<Auth>,
}

impl FromRef<CartState> for Arc<Auth> {
    fn from_ref(state: &CartState) -> Self {
        state.auth.clone()
    }
}

impl From<CartError> for ApiError {
    fn from(error: CartError) -> Self {
        let (status, code) = match &error {
            CartError::InvalidSku(_) => (StatusCode::BAD_REQUEST, "invalid_sku"),
            CartError::InvalidQuantity(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_quantity"),
            CartError::UnknownSku(_) => (StatusCode::NOT_FOUND, "sku_not_found"),
            CartError::NotInCart(_) => (StatusCode::NOT_FOUND, "not_in_cart"),
            CartError::NotEnoughStock { .. } => (StatusCode::CONFLICT, "not_enough_stock"),
            CartError::CartFull(_) => (StatusCode::UNPROCESSABLE_ENTITY, "cart_full"),
            CartError::QuantityLimit { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "quantity_limit"),
            CartError::CurrencyMismatch { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "currency_mismatch")
            }
            CartError::Coupon(rejection) => (coupon_status(rejection), rejection.code()),
            CartError::Unexpected(_) => return ApiError::unexpected(error),
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// The cart of the signed-in shopper, or of the guest the edge routed by.
#[utoipa::path(get, path = "/api/cart", tag = "cart",
    responses(
        (status = 200, description = "The cart, priced now; changed prices and stock problems flagged per line", body = CartView),
        (status = 400, description = "`shopper_key_missing`: neither a token nor the edge's shopper key", body = wire::ErrorBody)))]
pub async fn get_cart(
    State(state): State<CartState>,
    shopper: Shopper,
) -> Result<Json<CartView>, ApiError> {
    Ok(Json(state.carts.get(&shopper.owner).await?))
}

/// Add units of a SKU (to any already in the cart).
#[utoipa::path(post, path = "/api/cart/items", tag = "cart", request_body = AddToCart,
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 400, description = "`invalid_sku`", body = wire::ErrorBody),
        (status = 404, description = "`sku_not_found`: not for sale", body = wire::ErrorBody),
        (status = 409, description = "`not_enough_stock`: the message says how many can be bought", body = wire::ErrorBody),
        (status = 422, description = "`invalid_quantity`, `quantity_limit`, `cart_full` or `currency_mismatch`", body = wire::ErrorBody)))]
pub async fn add(
    State(state): State<CartState>,
    shopper: Shopper,
    Json(body): Json<AddToCart>,
) -> Result<Json<CartView>, ApiError> {
    Ok(Json(
        state
            .carts
            .add(&shopper.owner, &body.sku, body.quantity)
            .await?,
    ))
}

/// Set a line's quantity (0 removes it).
#[utoipa::path(patch, path = "/api/cart/items/{sku}", tag = "cart", request_body = SetQuantity,
    params(("sku" = String, Path, description = "The line's SKU")),
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 404, description = "`not_in_cart` or `sku_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`not_enough_stock`", body = wire::ErrorBody),
        (status = 422, description = "`quantity_limit`", body = wire::ErrorBody)))]
pub async fn set_quantity(
    State(state): State<CartState>,
    shopper: Shopper,
    Path(sku): Path<String>,
    Json(body): Json<SetQuantity>,
) -> Result<Json<CartView>, ApiError> {
    Ok(Json(
        state.carts.set(&shopper.owner, &sku, body.quantity).await?,
    ))
}

/// Remove a line (removing one that is not there is not an error).
#[utoipa::path(delete, path = "/api/cart/items/{sku}", tag = "cart",
    params(("sku" = String, Path, description = "The line's SKU")),
    responses((status = 200, description = "The cart", body = CartView)))]
pub async fn remove(
    State(state): State<CartState>,
    shopper: Shopper,
    Path(sku): Path<String>,
) -> Result<Json<CartView>, ApiError> {
    Ok(Json(state.carts.remove(&shopper.owner, &sku, false).await?))
}

/// Empty the cart.
#[utoipa::path(delete, path = "/api/cart", tag = "cart",
    responses((status = 200, description = "The empty cart", body = CartView)))]
pub async fn clear(
    State(state): State<CartState>,
    shopper: Shopper,
) -> Result<Json<CartView>, ApiError> {
    Ok(Json(state.carts.clear(&shopper.owner).await?))
}

/// Enter a coupon. It is kept only when it applies to the cart now; later
/// reads check it again and report `coupon_problem` if it stops applying.
#[utoipa::path(put, path = "/api/cart/coupon", tag = "cart", request_body = ApplyCoupon,
    responses(
        (status = 200, description = "The cart with the coupon's discount", body = CartView),
        (status = 404, description = "`coupon_unknown`", body = wire::ErrorBody),
        (status = 422, description = "`coupon_inactive`, `coupon_not_started`, `coupon_expired`, `coupon_cart_empty`, `coupon_currency`, `coupon_min_spend`, `coupon_not_applicable`, `coupon_limit_reached` or `coupon_exhausted`", body = wire::ErrorBody)))]
pub async fn apply_coupon(
    State(state): State<CartState>,
    shopper: Shopper,
    Json(body): Json<ApplyCoupon>,
) -> Result<Json<CartView>, ApiError> {
    Ok(Json(
        state.carts.apply_coupon(&shopper.owner, &body.code).await?,
    ))
}

/// Take the coupon off the cart.
#[utoipa::path(delete, path = "/api/cart/coupon", tag = "cart",
    responses((status = 200, description = "The cart", body = CartView)))]
pub async fn remove_coupon(
    State(state): State<CartState>,
    shopper: Shopper,
) -> Result<Json<CartView>, ApiError> {
    Ok(Json(state.carts.remove_coupon(&shopper.owner).await?))
}
