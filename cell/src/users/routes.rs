//! HTTP for saved addresses (`/api/me/addresses`).

use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use chassis::http::{ApiError, Json};
use wire::users::{AddressRequest, AddressResponse, AddressesResponse};

use super::repo::SavedAddress;
use super::service::{AddressError, Addresses};
use crate::auth::{Auth, Authenticated};

/// What the address routes need: the service, and `Auth` to know the caller.
#[derive(Debug, Clone)]
pub struct UsersState {
    pub addresses: Arc<Addresses>,
    pub auth: Arc<Auth>,
}

impl FromRef<UsersState> for Arc<Auth> {
    fn from_ref(state: &UsersState) -> Self {
        state.auth.clone()
    }
}

impl From<AddressError> for ApiError {
    fn from(error: AddressError) -> Self {
        let (status, code) = match &error {
            AddressError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_address"),
            AddressError::NotFound => (StatusCode::NOT_FOUND, "address_not_found"),
            AddressError::TooMany => (StatusCode::UNPROCESSABLE_ENTITY, "too_many_addresses"),
            AddressError::Unexpected(_) => return ApiError::unexpected(error),
        };
        ApiError::new(status, code, error.to_string())
    }
}

fn response(saved: SavedAddress) -> AddressResponse {
    let address = saved.address;
    AddressResponse {
        id: saved.id,
        full_name: address.full_name,
        line1: address.line1,
        line2: address.line2,
        city: address.city,
        region: address.region,
        postcode: address.postcode,
        country: address.country,
        phone: address.phone,
        is_default: saved.is_default,
    }
}

/// The caller's saved addresses, the default first.
#[utoipa::path(get, path = "/api/me/addresses", tag = "account",
    responses((status = 200, description = "Saved addresses", body = AddressesResponse)))]
pub async fn list(
    State(state): State<UsersState>,
    Authenticated(claims): Authenticated,
) -> Result<Json<AddressesResponse>, ApiError> {
    let addresses = state
        .addresses
        .list(&claims.sub)
        .await?
        .into_iter()
        .map(response)
        .collect();
    Ok(Json(AddressesResponse { addresses }))
}

/// Save an address (validated and normalised; the first one is the default).
#[utoipa::path(post, path = "/api/me/addresses", tag = "account", request_body = AddressRequest,
    responses(
        (status = 201, description = "Saved", body = AddressResponse),
        (status = 422, description = "`invalid_address` (names the field) or `too_many_addresses`", body = wire::ErrorBody)))]
pub async fn create(
    State(state): State<UsersState>,
    Authenticated(claims): Authenticated,
    Json(body): Json<AddressRequest>,
) -> Result<(StatusCode, Json<AddressResponse>), ApiError> {
    let saved = state.addresses.create(&claims.sub, &body).await?;
    Ok((StatusCode::CREATED, Json(response(saved))))
}

/// Replace a saved address.
#[utoipa::path(put, path = "/api/me/addresses/{id}", tag = "account", request_body = AddressRequest,
    params(("id" = String, Path, description = "The address id")),
    responses(
        (status = 200, description = "Saved", body = AddressResponse),
        (status = 404, description = "`address_not_found`: not an address of yours", body = wire::ErrorBody),
        (status = 422, description = "`invalid_address`", body = wire::ErrorBody)))]
pub async fn update(
    State(state): State<UsersState>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
    Json(body): Json<AddressRequest>,
) -> Result<Json<AddressResponse>, ApiError> {
    Ok(Json(response(
        state.addresses.update(&claims.sub, &id, &body).await?,
    )))
}

/// Delete a saved address; if it was the default, the oldest left takes over.
#[utoipa::path(delete, path = "/api/me/addresses/{id}", tag = "account",
    params(("id" = String, Path, description = "The address id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`address_not_found`", body = wire::ErrorBody)))]
pub async fn delete(
    State(state): State<UsersState>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.addresses.delete(&claims.sub, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
