//! Identity: accounts, sign-in, access tokens, refresh sessions (DESIGN.md §5).
//!
//! `routes` parses HTTP and maps errors; `service` holds the rules; `repo` the
//! `users` table; `sessions` the refresh families in Redis; `tokens` the
//! signing keys and JWTs; `domain` the parsed types.

mod domain;
pub mod email_change;
pub mod google;
mod limits;
mod repo;
pub mod routes;
mod service;
mod sessions;
pub mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::routing::{delete, get, post, put};

pub use email_change::EmailChanges;
pub use limits::Limits;
pub use routes::{Admin, Authenticated, Sre, WithRole};
pub use service::{Auth, AuthError, AuthSettings, SignInHook};
pub use sessions::Sessions;

pub fn router(auth: Arc<Auth>) -> Router {
    Router::new()
        .route("/api/auth/register", post(routes::register))
        .route("/api/auth/login", post(routes::login))
        .route("/api/auth/refresh", post(routes::refresh))
        .route("/api/auth/logout", post(routes::logout))
        .route("/api/me", get(routes::me).patch(routes::update_profile))
        .route(
            "/api/me/sessions",
            get(routes::sessions).delete(routes::revoke_all_sessions),
        )
        .route("/api/me/sessions/{id}", delete(routes::revoke_session))
        .route("/api/me/password", post(routes::change_password))
        .route("/api/auth/users/{id}/roles", put(routes::set_roles))
        .route("/api/auth/google/start", get(routes::google_start))
        .route("/api/auth/google/callback", get(routes::google_callback))
        .route("/api/auth/google/finish", get(routes::google_finish))
        .route("/.well-known/jwks.json", get(routes::jwks))
        .with_state(auth)
}

/// The two steps of an e-mail change (`email_change`).
pub fn email_router(changes: EmailChanges) -> Router {
    Router::new()
        .route("/api/me/email", post(email_change::request))
        .route("/api/me/email/confirm", post(email_change::confirm))
        .with_state(changes)
}

/// The refusal of a request to an internal endpoint without a valid
/// service token of the caller it takes.
pub fn not_a_service_token() -> chassis::http::ApiError {
    chassis::http::ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "invalid_service_token",
        "This endpoint takes a service token of the platform.",
    )
}

/// Who calls an internal endpoint, proven by a service token.
pub fn service_caller(
    auth: &Auth,
    headers: &axum::http::HeaderMap,
) -> Result<access_tokens::service::Caller, chassis::http::ApiError> {
    let token = chassis::http::bearer(headers).ok_or_else(not_a_service_token)?;
    access_tokens::service::verify(auth.keys(), token).map_err(|_| not_a_service_token())
}
