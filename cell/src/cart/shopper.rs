//! Whose cart a request is about: the signed-in account when the request
//! carries a valid access token, else the guest the edge routed by (its
//! shopper key header). A token that is present but invalid is refused, not
//! treated as a guest.

use std::sync::Arc;

use crate::auth::tokens::Claims;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chassis::http::ApiError;

use crate::auth::{Auth, Authenticated};

/// A cart's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    User(String),
    Guest(String),
}

impl Owner {
    /// The `carts.owner` column.
    pub fn key(&self) -> String {
        match self {
            Owner::User(id) => format!("user:{id}"),
            Owner::Guest(sk) => format!("guest:{sk}"),
        }
    }

    /// The signed-in shopper's account id.
    pub fn user(&self) -> Option<&str> {
        match self {
            Owner::User(id) => Some(id),
            Owner::Guest(_) => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Shopper {
    pub owner: Owner,
    /// Present for a signed-in shopper.
    pub claims: Option<Claims>,
}

impl<S> FromRequestParts<S> for Shopper
where
    Arc<Auth>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if chassis::http::bearer(&parts.headers).is_some() {
            let Authenticated(claims) = Authenticated::from_request_parts(parts, state).await?;
            return Ok(Shopper {
                owner: Owner::User(claims.sub.clone()),
                claims: Some(claims),
            });
        }
        match crate::search::routes::shopper_key(&parts.headers) {
            Some(key) => Ok(Shopper {
                owner: Owner::Guest(key),
                claims: None,
            }),
            None => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "shopper_key_missing",
                format!(
                    "Sign in, or come through the edge: a guest's cart is found by the {} header it sets from the sk cookie.",
                    crate::SHOPPER_KEY_HEADER
                ),
            )),
        }
    }
}
