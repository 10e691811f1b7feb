//! Carts (DESIGN.md §5): a guest's, keyed by the shopper key the edge routed
//! by, and a signed-in shopper's, keyed by account; merged at sign-in.
//!
//! `shopper` says whose cart a request is about; `repo` holds the `carts`
//! and `cart_items` tables and `cache` what they say in Redis, for reads;
//! `pricing` prices lines against the catalog read model and this cell's
//! stock on every read; `service` the rules (limits, one currency, stock);
//! `routes` the HTTP.

pub mod cache;
pub mod pricing;
mod repo;
pub mod routes;
mod service;
pub mod shopper;
pub mod takeover;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use serde::Deserialize;

pub use service::{CartError, Carts};
pub use shopper::{Owner, Shopper};

use crate::auth::Auth;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartSettings {
    /// Different SKUs in one cart.
    pub max_lines: u32,
    /// Units of one SKU in one cart.
    pub max_quantity: u32,
    /// First wait before asking an unreachable cell for a guest cart again
    /// (doubling, up to five minutes); also how often that is looked at.
    pub takeover_retry_ms: u64,
    /// How long Redis keeps what a cart holds (`cache`); 0 turns it off.
    pub cache_ttl_s: u64,
}

impl CartSettings {
    pub fn check(&self) -> Result<(), String> {
        if self.max_lines == 0
            || !(1..=100).contains(&self.max_quantity)
            || self.takeover_retry_ms < 100
            || self.cache_ttl_s > 86_400
        {
            return Err(
                "cart.max_lines above 0; cart.max_quantity 1-100; cart.takeover_retry_ms at least 100; cart.cache_ttl_s 0-86400"
                    .into(),
            );
        }
        Ok(())
    }
}

pub fn router(carts: Arc<Carts>, auth: Arc<Auth>) -> Router {
    Router::new()
        .route("/api/cart", get(routes::get_cart).delete(routes::clear))
        .route("/api/cart/items", post(routes::add))
        .route("/internal/carts/handover", post(takeover::handover))
        .route(
            "/api/cart/coupon",
            axum::routing::put(routes::apply_coupon).delete(routes::remove_coupon),
        )
        .route(
            "/api/cart/items/{sku}",
            axum::routing::patch(routes::set_quantity).delete(routes::remove),
        )
        .with_state(routes::CartState { carts, auth })
}
