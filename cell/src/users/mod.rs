//! The account beyond identity: saved addresses (checkout offers them).
//!
//! `address` parses and normalises an address; `service` holds the rules
//! (limits, one default); `repo` the `addresses` table, always scoped by the
//! owner; `routes` the HTTP.

mod address;
mod repo;
pub mod routes;
mod service;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, put};

pub use service::{AddressError, Addresses};

use crate::auth::Auth;

pub fn router(addresses: Arc<Addresses>, auth: Arc<Auth>) -> Router {
    Router::new()
        .route("/api/me/addresses", get(routes::list).post(routes::create))
        .route(
            "/api/me/addresses/{id}",
            put(routes::update).delete(routes::delete),
        )
        .with_state(routes::UsersState { addresses, auth })
}
