//! Checkout (DESIGN.md §5): address → shipping → payment → confirmation by
//! the payment provider.
//!
//! `service` holds the steps, the confirmation and the expiry of unpaid
//! orders; `shipping` the methods and prices; `idempotency` the
//! `Idempotency-Key` middleware on every checkout POST; `webhook` the
//! provider's events; `routes` the HTTP.

pub mod idempotency;
pub mod refunds;
pub mod routes;
mod service;
pub mod shipping;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use secrecy::SecretString;

pub use service::{CheckoutError, CheckoutSettings, Checkouts, Parts, sweep};

use crate::auth::Auth;

pub fn router(
    checkouts: Arc<Checkouts>,
    auth: Arc<Auth>,
    webhook_secret: SecretString,
    webhook_tolerance_s: u64,
) -> Router {
    let keys = idempotency::Keys {
        pool: checkouts.pool().clone(),
        auth: auth.clone(),
        ttl: Duration::from_secs(checkouts.settings().idempotency_ttl_s),
    };
    let steps = Router::new()
        .route("/api/checkout", post(routes::start))
        .route("/api/checkout/{id}", get(routes::view))
        .route("/api/checkout/{id}/address", post(routes::address))
        .route("/api/checkout/{id}/shipping", post(routes::shipping))
        .route("/api/checkout/{id}/payment", post(routes::payment))
        .with_state(routes::CheckoutState {
            checkouts: checkouts.clone(),
            auth,
        })
        .layer(axum::middleware::from_fn_with_state(
            keys,
            idempotency::layer,
        ));
    let webhook = Router::new()
        .route("/api/payments/stripe/webhook", post(webhook::receive))
        .with_state(webhook::WebhookState {
            checkouts,
            secret: webhook_secret,
            tolerance_s: webhook_tolerance_s,
        });
    steps.merge(webhook)
}
