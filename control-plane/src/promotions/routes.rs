//! The promotions admin API under `/admin/api/promotions` (role `admin`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chassis::http::{ApiError, Json};
use wire::promotions::{PromotionInput, PromotionList, PromotionSnapshot};

use super::PromotionError;
use crate::http::AppState;
use crate::staff::{Admin, Staff};

impl From<PromotionError> for ApiError {
    fn from(error: PromotionError) -> Self {
        let status = match &error {
            PromotionError::Invalid { .. }
            | PromotionError::UnknownBrand(_)
            | PromotionError::UnknownCategory(_) => StatusCode::UNPROCESSABLE_ENTITY,
            PromotionError::CodeTaken(_)
            | PromotionError::Cap(super::caps::CapError::BelowShared { .. }) => {
                StatusCode::CONFLICT
            }
            PromotionError::NotFound => StatusCode::NOT_FOUND,
            PromotionError::Unexpected(_) | PromotionError::Cap(_) => {
                return ApiError::unexpected(error);
            }
        };
        ApiError::new(status, error.code(), error.to_string())
    }
}

fn promotion_id(text: &str) -> Result<u64, ApiError> {
    text.parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| PromotionError::NotFound.into())
}

#[utoipa::path(get, path = "/admin/api/promotions", tag = "promotions",
    responses((status = 200, description = "Every promotion, newest first", body = PromotionList)))]
pub async fn list(
    State(state): State<AppState>,
    _: Staff<Admin>,
) -> Result<Json<PromotionList>, ApiError> {
    Ok(Json(PromotionList {
        items: state.promotions.list().await?,
    }))
}

#[utoipa::path(post, path = "/admin/api/promotions", tag = "promotions", request_body = PromotionInput,
    responses(
        (status = 201, description = "Created (version 1), announced to the cells", body = PromotionSnapshot),
        (status = 409, description = "`code_taken`", body = wire::ErrorBody),
        (status = 422, description = "`invalid_code`, `invalid_text`, `invalid_value`, `invalid_currency`, `invalid_min_spend`, `invalid_scope`, `invalid_time`, `invalid_window`, `invalid_limit`, `unknown_brand`, `unknown_category`", body = wire::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Staff<Admin>,
    Json(input): Json<PromotionInput>,
) -> Result<(StatusCode, Json<PromotionSnapshot>), ApiError> {
    let promotion = state.promotions.create(&caller.actor(), input).await?;
    Ok((StatusCode::CREATED, Json(promotion)))
}

#[utoipa::path(get, path = "/admin/api/promotions/{id}", tag = "promotions",
    params(("id" = u64, Path, description = "The promotion id")),
    responses(
        (status = 200, description = "The promotion", body = PromotionSnapshot),
        (status = 404, description = "`promotion_not_found`", body = wire::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _: Staff<Admin>,
    Path(id): Path<String>,
) -> Result<Json<PromotionSnapshot>, ApiError> {
    Ok(Json(state.promotions.get(promotion_id(&id)?).await?))
}

#[utoipa::path(put, path = "/admin/api/promotions/{id}", tag = "promotions", request_body = PromotionInput,
    params(("id" = u64, Path, description = "The promotion id")),
    responses(
        (status = 200, description = "Replaced (the version went up by one; `active: false` ends it)", body = PromotionSnapshot),
        (status = 404, description = "`promotion_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`code_taken`, or `cap_below_shared` (the cells already hold more of the cap)", body = wire::ErrorBody),
        (status = 422, description = "As for create", body = wire::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    caller: Staff<Admin>,
    Path(id): Path<String>,
    Json(input): Json<PromotionInput>,
) -> Result<Json<PromotionSnapshot>, ApiError> {
    let id = promotion_id(&id)?;
    Ok(Json(
        state.promotions.replace(&caller.actor(), id, input).await?,
    ))
}
