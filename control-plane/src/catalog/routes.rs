//! The catalog admin API under `/admin/api` (role `admin`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use chassis::http::{ApiError, Json, Query};
use serde::Deserialize;
use wire::catalog::{
    AdminProductPage, BrandInput, Category, CategoryInput, ImportJob, Named, PriceChange,
    ProductInput, ProductSnapshot, ProductUpdate,
};

use super::import::ImportFormat;
use super::{CatalogError, Vectors};
use crate::http::AppState;
use crate::staff::{Admin, Staff};

impl From<CatalogError> for ApiError {
    fn from(error: CatalogError) -> Self {
        let status = match &error {
            CatalogError::Invalid { .. }
            | CatalogError::UnknownBrand(_)
            | CatalogError::UnknownCategory(_) => StatusCode::UNPROCESSABLE_ENTITY,
            CatalogError::SlugTaken(_)
            | CatalogError::SkuTaken(_)
            | CatalogError::VersionConflict { .. }
            | CatalogError::BrandExists(_)
            | CatalogError::CategoryExists(_) => StatusCode::CONFLICT,
            CatalogError::NotFound
            | CatalogError::VariantNotFound
            | CatalogError::ImportNotFound => StatusCode::NOT_FOUND,
            CatalogError::InvalidCursor => StatusCode::BAD_REQUEST,
            CatalogError::Unexpected(_) => return ApiError::unexpected(error),
        };
        ApiError::new(status, error.code(), error.to_string())
    }
}

fn product_id(text: &str) -> Result<u64, ApiError> {
    text.parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| CatalogError::NotFound.into())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1-200, default 50.
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/admin/api/products", tag = "catalog", params(PageQuery),
    responses((status = 200, description = "Products by id", body = AdminProductPage)))]
pub async fn list(
    State(state): State<AppState>,
    _: Staff<Admin>,
    Query(query): Query<PageQuery>,
) -> Result<Json<AdminProductPage>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_limit",
            "limit: 1-200",
        ));
    }
    Ok(Json(
        state.catalog.list(query.cursor.as_deref(), limit).await?,
    ))
}

#[utoipa::path(post, path = "/admin/api/products", tag = "catalog", request_body = ProductInput,
    responses(
        (status = 201, description = "Created (version 1), announced to the cells", body = ProductSnapshot),
        (status = 409, description = "`slug_taken`, `sku_taken`", body = wire::ErrorBody),
        (status = 422, description = "`invalid_slug`, `invalid_text`, `invalid_sku`, `invalid_price`, `invalid_currency`, `invalid_image`, `invalid_variants`, `duplicate_sku`, `duplicate_variant`, `unknown_brand`, `unknown_category`", body = wire::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Staff<Admin>,
    Json(input): Json<ProductInput>,
) -> Result<(StatusCode, Json<ProductSnapshot>), ApiError> {
    let product = state.catalog.create(&caller.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(product)))
}

#[utoipa::path(get, path = "/admin/api/products/{id}", tag = "catalog",
    params(("id" = u64, Path, description = "The product id")),
    responses(
        (status = 200, description = "The product", body = ProductSnapshot),
        (status = 404, description = "`product_not_found`", body = wire::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _: Staff<Admin>,
    Path(id): Path<String>,
) -> Result<Json<ProductSnapshot>, ApiError> {
    Ok(Json(state.catalog.get(product_id(&id)?).await?))
}

#[utoipa::path(put, path = "/admin/api/products/{id}", tag = "catalog", request_body = ProductUpdate,
    params(("id" = u64, Path, description = "The product id")),
    responses(
        (status = 200, description = "Replaced; the version went up by one", body = ProductSnapshot),
        (status = 404, description = "`product_not_found`", body = wire::ErrorBody),
        (status = 409, description = "`version_conflict` (someone changed it since), `slug_taken`, `sku_taken`", body = wire::ErrorBody),
        (status = 422, description = "As for create", body = wire::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    caller: Staff<Admin>,
    Path(id): Path<String>,
    Json(update): Json<ProductUpdate>,
) -> Result<Json<ProductSnapshot>, ApiError> {
    let id = product_id(&id)?;
    Ok(Json(
        state
            .catalog
            .replace(
                &caller.actor(),
                id,
                update.expected_version,
                &update.product,
            )
            .await?,
    ))
}

#[utoipa::path(delete, path = "/admin/api/products/{id}", tag = "catalog",
    params(("id" = u64, Path, description = "The product id")),
    responses(
        (status = 204, description = "Deleted; the cells drop it"),
        (status = 404, description = "`product_not_found`", body = wire::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Staff<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .catalog
        .delete(&caller.actor(), product_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/admin/api/products/{id}/publish", tag = "catalog",
    params(("id" = u64, Path, description = "The product id")),
    responses(
        (status = 200, description = "Published: shoppers see it", body = ProductSnapshot),
        (status = 404, description = "`product_not_found`", body = wire::ErrorBody)))]
pub async fn publish(
    state: State<AppState>,
    caller: Staff<Admin>,
    id: Path<String>,
) -> Result<Json<ProductSnapshot>, ApiError> {
    set_published(state, caller, id, true).await
}

#[utoipa::path(post, path = "/admin/api/products/{id}/unpublish", tag = "catalog",
    params(("id" = u64, Path, description = "The product id")),
    responses(
        (status = 200, description = "Unpublished: hidden from shoppers", body = ProductSnapshot),
        (status = 404, description = "`product_not_found`", body = wire::ErrorBody)))]
pub async fn unpublish(
    state: State<AppState>,
    caller: Staff<Admin>,
    id: Path<String>,
) -> Result<Json<ProductSnapshot>, ApiError> {
    set_published(state, caller, id, false).await
}

async fn set_published(
    State(state): State<AppState>,
    caller: Staff<Admin>,
    Path(id): Path<String>,
    published: bool,
) -> Result<Json<ProductSnapshot>, ApiError> {
    Ok(Json(
        state
            .catalog
            .set_published(&caller.actor(), product_id(&id)?, published)
            .await?,
    ))
}

#[utoipa::path(put, path = "/admin/api/variants/{sku}/price", tag = "catalog", request_body = PriceChange,
    params(("sku" = String, Path, description = "The variant's SKU")),
    responses(
        (status = 200, description = "The product with the new price", body = ProductSnapshot),
        (status = 404, description = "`variant_not_found`", body = wire::ErrorBody),
        (status = 422, description = "`invalid_price`", body = wire::ErrorBody)))]
pub async fn change_price(
    State(state): State<AppState>,
    caller: Staff<Admin>,
    Path(sku): Path<String>,
    Json(change): Json<PriceChange>,
) -> Result<Json<ProductSnapshot>, ApiError> {
    Ok(Json(
        state
            .catalog
            .change_price(&caller.actor(), &sku, &change)
            .await?,
    ))
}

#[utoipa::path(get, path = "/admin/api/brands", tag = "catalog",
    responses((status = 200, description = "Every brand", body = [Named])))]
pub async fn brands(
    State(state): State<AppState>,
    _: Staff<Admin>,
) -> Result<Json<Vec<Named>>, ApiError> {
    Ok(Json(state.catalog.brands().await?))
}

#[utoipa::path(post, path = "/admin/api/brands", tag = "catalog", request_body = BrandInput,
    responses(
        (status = 201, description = "Created", body = Named),
        (status = 409, description = "`brand_exists`", body = wire::ErrorBody),
        (status = 422, description = "`invalid_slug`, `invalid_text`", body = wire::ErrorBody)))]
pub async fn create_brand(
    State(state): State<AppState>,
    caller: Staff<Admin>,
    Json(input): Json<BrandInput>,
) -> Result<(StatusCode, Json<Named>), ApiError> {
    let brand = state.catalog.create_brand(&caller.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(brand)))
}

#[utoipa::path(get, path = "/admin/api/categories", tag = "catalog",
    responses((status = 200, description = "Every category", body = [Category])))]
pub async fn categories(
    State(state): State<AppState>,
    _: Staff<Admin>,
) -> Result<Json<Vec<Category>>, ApiError> {
    Ok(Json(state.catalog.categories().await?))
}

#[utoipa::path(post, path = "/admin/api/categories", tag = "catalog", request_body = CategoryInput,
    responses(
        (status = 201, description = "Created", body = Category),
        (status = 409, description = "`category_exists`", body = wire::ErrorBody),
        (status = 422, description = "`invalid_slug`, `invalid_text`, `unknown_category` (the parent)", body = wire::ErrorBody)))]
pub async fn create_category(
    State(state): State<AppState>,
    caller: Staff<Admin>,
    Json(input): Json<CategoryInput>,
) -> Result<(StatusCode, Json<Category>), ApiError> {
    let category = state
        .catalog
        .create_category(&caller.actor(), &input)
        .await?;
    Ok((StatusCode::CREATED, Json(category)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `now` (default): each product goes out with its vector, so the import
    /// runs at the embedding model's pace. `later`: the products go out at
    /// once, those without a stored vector without one; the control plane
    /// then embeds them in the background and sends each again with its
    /// vector (the gauge `cellwear_catalog_vectors_pending` counts what is
    /// left). For large catalogs.
    #[param(value_type = Option<String>)]
    pub vectors: Option<Vectors>,
}

#[utoipa::path(post, path = "/admin/api/imports", tag = "catalog", params(ImportQuery),
    request_body(content = String, description = "A JSON array of products (`application/json`, each as for create) or CSV (`text/csv`, one line per variant: slug,title,description,brand,category,tags,image_url,image_alt,published,sku,size,colour,price_minor,currency,compare_at_minor,stock; tags separated by `|`)"),
    responses(
        (status = 202, description = "Started: poll the job for progress and per-row errors", body = ImportJob),
        (status = 400, description = "`unreadable_import`: not a JSON array or CSV with the expected header; `invalid_query`: `vectors` is not `now` or `later`", body = wire::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = wire::ErrorBody)))]
pub async fn start_import(
    State(state): State<AppState>,
    caller: Staff<Admin>,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<ImportJob>), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let format = if content_type.starts_with("application/json") {
        ImportFormat::Json
    } else if content_type.starts_with("text/csv") {
        ImportFormat::Csv
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the import as application/json (an array of products) or text/csv.",
        ));
    };
    let job = state
        .imports
        .start(
            &state.catalog,
            &caller.actor(),
            format,
            query.vectors.unwrap_or_default(),
            &body,
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

#[utoipa::path(get, path = "/admin/api/imports/{id}", tag = "catalog",
    params(("id" = String, Path, description = "The import job id")),
    responses(
        (status = 200, description = "Where the import stands", body = ImportJob),
        (status = 404, description = "`import_not_found`", body = wire::ErrorBody)))]
pub async fn import_status(
    State(state): State<AppState>,
    _: Staff<Admin>,
    Path(id): Path<String>,
) -> Result<Json<ImportJob>, ApiError> {
    Ok(Json(state.imports.status(&id).await?))
}
