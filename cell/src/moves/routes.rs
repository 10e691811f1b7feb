//! `/internal/shoppers/*`: the control plane's calls to move shoppers
//! between cells. Every call takes the control plane's service token.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chassis::http::{ApiError, Json, Query};
use placement::ShopperKey;
use serde::Deserialize;
use utoipa::IntoParams;
use wire::moves::{FenceRequest, ShopperBundle, ShopperChecksum, ShopperCount, ShopperPage};

use super::fence::FenceError;
use super::{MAX_PAGE, MoveError, Moves};
use access_tokens::service::Caller;

/// A shopper's bundle may be far larger than any shopper's request.
pub const MAX_BUNDLE_BYTES: usize = 64 << 20;

impl From<MoveError> for ApiError {
    fn from(error: MoveError) -> Self {
        let message = error.to_string();
        match error {
            MoveError::NotFenced(_) => ApiError::new(StatusCode::CONFLICT, "not_fenced", message),
            MoveError::Fence(FenceError::StaleEpoch { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "stale_epoch", message)
            }
            MoveError::Fence(FenceError::WritesInFlight(_)) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "writes_in_flight", message)
                    .retry_after(1)
            }
            MoveError::PaymentInFlight => {
                ApiError::new(StatusCode::CONFLICT, "payment_in_flight", message).retry_after(5)
            }
            MoveError::Corrupt => ApiError::new(StatusCode::BAD_REQUEST, "corrupt_bundle", message),
            MoveError::Import(super::plan::ImportError::Schema(_)) => {
                ApiError::new(StatusCode::BAD_REQUEST, "bundle_schema_mismatch", message)
            }
            MoveError::Mismatch(_) => {
                ApiError::new(StatusCode::CONFLICT, "import_mismatch", message)
            }
            MoveError::Clash(_) => ApiError::new(StatusCode::CONFLICT, "import_clash", message),
            MoveError::ChangedSinceCopy => {
                ApiError::new(StatusCode::CONFLICT, "changed_since_copy", message)
            }
            MoveError::Fence(FenceError::Database(e)) => ApiError::unexpected(e),
            MoveError::Import(super::plan::ImportError::Database(e)) => ApiError::unexpected(e),
            MoveError::Unexpected(e) => ApiError::unexpected(e),
        }
    }
}

fn control_plane(moves: &Moves, headers: &HeaderMap) -> Result<(), ApiError> {
    match crate::auth::service_caller(&moves.auth, headers)? {
        Caller::ControlPlane => Ok(()),
        Caller::Cell(_) => Err(crate::auth::not_a_service_token()),
    }
}

fn shopper_key(key: &str) -> Result<(), ApiError> {
    ShopperKey::parse(key).map(|_| ()).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_shopper_key",
            format!("key: {e}"),
        )
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// List keys after this one (`next_after` of the previous page).
    #[serde(default)]
    after: String,
    /// 1-1000; 500 by default.
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/internal/shoppers", tag = "internal", params(PageParams),
    responses(
        (status = 200, description = "Shopper keys with data here, in key order", body = ShopperPage),
        (status = 401, description = "`invalid_service_token`", body = wire::ErrorBody)))]
pub async fn list(
    State(moves): State<Moves>,
    headers: HeaderMap,
    Query(params): Query<PageParams>,
) -> Result<Json<ShopperPage>, ApiError> {
    control_plane(&moves, &headers)?;
    let limit = params.limit.unwrap_or(500);
    if limit == 0 || limit > MAX_PAGE || params.after.len() > 64 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_page",
            "limit: 1-1000; after: a shopper key",
        ));
    }
    Ok(Json(moves.page(&params.after, limit).await?))
}

/// How many accounts and guests (with a cart) the cell holds; for the
/// control plane's cell list.
#[utoipa::path(get, path = "/internal/shoppers/count", tag = "internal",
    responses(
        (status = 200, description = "The cell's shoppers", body = ShopperCount),
        (status = 401, description = "`invalid_service_token`", body = wire::ErrorBody)))]
pub async fn count(
    State(moves): State<Moves>,
    headers: HeaderMap,
) -> Result<Json<ShopperCount>, ApiError> {
    control_plane(&moves, &headers)?;
    Ok(Json(moves.count().await?))
}

#[utoipa::path(post, path = "/internal/shoppers/{key}/fence", tag = "internal", request_body = FenceRequest,
    params(("key" = String, Path, description = "The shopper key (16 hex digits)")),
    responses(
        (status = 204, description = "The shopper's writes are refused here and none is running"),
        (status = 409, description = "`stale_epoch`: a newer move holds the shopper", body = wire::ErrorBody),
        (status = 503, description = "`writes_in_flight`: try again", body = wire::ErrorBody)))]
pub async fn fence(
    State(moves): State<Moves>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(body): Json<FenceRequest>,
) -> Result<StatusCode, ApiError> {
    control_plane(&moves, &headers)?;
    shopper_key(&key)?;
    moves.fence(&key, body.epoch).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EpochParams {
    epoch: u64,
}

#[utoipa::path(get, path = "/internal/shoppers/{key}/export", tag = "internal", params(("key" = String, Path, description = "The shopper key (16 hex digits)"), EpochParams),
    responses(
        (status = 200, description = "Everything the shopper owns here", body = ShopperBundle),
        (status = 409, description = "`not_fenced` or `payment_in_flight` (Retry-After)", body = wire::ErrorBody)))]
pub async fn export(
    State(moves): State<Moves>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(params): Query<EpochParams>,
) -> Result<Json<ShopperBundle>, ApiError> {
    control_plane(&moves, &headers)?;
    shopper_key(&key)?;
    Ok(Json(moves.export(&key, params.epoch).await?))
}

#[utoipa::path(get, path = "/internal/shoppers/{key}/checksum", tag = "internal", params(("key" = String, Path, description = "The shopper key (16 hex digits)")),
    responses((status = 200, description = "What the cell holds of the shopper now", body = ShopperChecksum)))]
pub async fn checksum(
    State(moves): State<Moves>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Json<ShopperChecksum>, ApiError> {
    control_plane(&moves, &headers)?;
    shopper_key(&key)?;
    Ok(Json(moves.checksum(&key).await?))
}

#[utoipa::path(put, path = "/internal/shoppers/{key}", tag = "internal", request_body = ShopperBundle,
    params(("key" = String, Path, description = "The shopper key (16 hex digits)")),
    responses(
        (status = 200, description = "Stored; the checksum of what was read back", body = ShopperChecksum),
        (status = 400, description = "`corrupt_bundle` or `bundle_schema_mismatch`", body = wire::ErrorBody),
        (status = 409, description = "`stale_epoch`, `import_mismatch` or `import_clash` (nothing stored)", body = wire::ErrorBody)))]
pub async fn import(
    State(moves): State<Moves>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(bundle): Json<ShopperBundle>,
) -> Result<Json<ShopperChecksum>, ApiError> {
    control_plane(&moves, &headers)?;
    shopper_key(&key)?;
    if bundle.shopper_key != key {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "corrupt_bundle",
            "The bundle is another shopper's.",
        ));
    }
    Ok(Json(moves.import(&bundle).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReleaseParams {
    epoch: u64,
    /// The checksum of the copy the new cell stored.
    checksum: String,
}

#[utoipa::path(delete, path = "/internal/shoppers/{key}", tag = "internal", params(("key" = String, Path, description = "The shopper key (16 hex digits)"), ReleaseParams),
    responses(
        (status = 200, description = "Deleted here (again: nothing to do)", body = ShopperChecksum),
        (status = 409, description = "`not_fenced` or `changed_since_copy` (nothing deleted)", body = wire::ErrorBody)))]
pub async fn release(
    State(moves): State<Moves>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(params): Query<ReleaseParams>,
) -> Result<Json<ShopperChecksum>, ApiError> {
    control_plane(&moves, &headers)?;
    shopper_key(&key)?;
    let deleted = moves.release(&key, params.epoch, &params.checksum).await?;
    Ok(Json(ShopperChecksum {
        checksum: params.checksum,
        rows: deleted,
    }))
}

#[utoipa::path(post, path = "/internal/shoppers/seal", tag = "internal",
    responses((status = 204, description = "Every shopper write is refused here from now on")))]
pub async fn seal(State(moves): State<Moves>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    control_plane(&moves, &headers)?;
    moves.fences().seal().await.map_err(ApiError::unexpected)?;
    tracing::warn!("cell sealed: every shopper write is refused while its last shoppers move");
    Ok(StatusCode::NO_CONTENT)
}
