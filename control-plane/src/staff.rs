//! Who may call the control plane: admins (`/admin/api/*`) and SREs
//! (`/control/api/*` operations), proven by the access token a cell issued.
//!
//! The control plane loads the same Ed25519 key files as the cells and checks
//! signature, issuer, audience, expiry and role. It cannot see a cell's
//! revocation list, so a revoked admin token still works here until it
//! expires (15 minutes at most); role changes take effect at the next token.

use std::marker::PhantomData;
use std::sync::Arc;

use access_tokens::{Claims, SigningKeys, TokenError};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chassis::http::ApiError;

/// A role a route requires.
pub trait Role: Send + Sync {
    const NAME: &'static str;

    /// Whether a caller with `roles` may pass.
    fn allows(roles: &[String]) -> bool {
        roles.iter().any(|role| role == Self::NAME)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl Role for Admin {
    const NAME: &'static str = "admin";
}

#[derive(Debug, Clone, Copy)]
pub struct Sre;

impl Role for Sre {
    const NAME: &'static str = "sre";
}

/// Either staff role: for what both admins and SREs read (the audit log).
#[derive(Debug, Clone, Copy)]
pub struct AnyStaff;

impl Role for AnyStaff {
    const NAME: &'static str = "admin or sre";

    fn allows(roles: &[String]) -> bool {
        Admin::allows(roles) || Sre::allows(roles)
    }
}

/// Verifies staff tokens.
#[derive(Debug)]
pub struct Verifier {
    keys: SigningKeys,
}

impl Verifier {
    pub fn new(keys: SigningKeys) -> Arc<Self> {
        Arc::new(Self { keys })
    }

    /// The cell calling an internal endpoint, proven by its service token.
    pub fn calling_cell(&self, headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
        let refused = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_service_token",
                "This endpoint takes a cell's service token.",
            )
        };
        let token = chassis::http::bearer(headers).ok_or_else(refused)?;
        match access_tokens::service::verify(&self.keys, token) {
            Ok(access_tokens::service::Caller::Cell(cell)) => Ok(cell),
            _ => Err(refused()),
        }
    }

    /// A service token saying "the control plane calls".
    pub fn service_token(&self) -> anyhow::Result<String> {
        access_tokens::service::issue(&self.keys, &access_tokens::service::Caller::ControlPlane)
    }

    fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        self.keys.verify(token).map_err(|error| match error {
            TokenError::Expired => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "token_expired",
                "The access token has expired; refresh it.",
            ),
            TokenError::Invalid(reason) => {
                tracing::info!(reason = %reason, "access token refused");
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "The access token is not valid.",
                )
            }
        })
    }
}

/// A caller holding role `R`: `Staff<Admin>` or `Staff<Sre>`.
#[derive(Debug, Clone)]
pub struct Staff<R> {
    pub claims: Claims,
    role: PhantomData<R>,
}

impl<R> Staff<R> {
    /// How the audit log names the caller.
    pub fn actor(&self) -> String {
        format!("user:{}", self.claims.sub)
    }
}

impl<S, R> FromRequestParts<S> for Staff<R>
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
    R: Role,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = chassis::http::bearer(&parts.headers).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_token",
                "Send an access token: Authorization: Bearer <token>.",
            )
        })?;
        let claims = Arc::<Verifier>::from_ref(state).verify(token)?;
        if !R::allows(&claims.roles) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("This needs the {} role.", R::NAME),
            ));
        }
        Ok(Self {
            claims,
            role: PhantomData,
        })
    }
}
