//! `GET /api/products`, `/api/products/{slug}`, `/api/categories`,
//! `/api/brands`: open to every shopper, guests included.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chassis::http::{ApiError, Json, Query};
use wire::catalog::{BrandList, CategoryList, ProductDetail, ProductPage};

use super::query::{List, ListParams};
use super::{Products, ProductsError};

impl From<ProductsError> for ApiError {
    fn from(error: ProductsError) -> Self {
        let (status, code) = match &error {
            ProductsError::InvalidQuery(_) => (StatusCode::BAD_REQUEST, "invalid_query"),
            ProductsError::InvalidCursor => (StatusCode::BAD_REQUEST, "invalid_cursor"),
            ProductsError::NotFound => (StatusCode::NOT_FOUND, "product_not_found"),
            ProductsError::Unexpected(_) => return ApiError::unexpected(error),
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// Bytes that already are JSON.
fn json_bytes(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

#[utoipa::path(get, path = "/api/products", tag = "catalog", params(ListParams),
    responses(
        (status = 200, description = "A page of published products", body = ProductPage),
        (status = 400, description = "`invalid_query` (names the parameter) or `invalid_cursor`", body = wire::ErrorBody)))]
pub async fn list(
    State(products): State<Products>,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    let list = List::parse(params)?;
    Ok(json_bytes(products.list(&list).await?))
}

#[utoipa::path(get, path = "/api/products/{slug}", tag = "catalog",
    params(("slug" = String, Path, description = "The product's slug")),
    responses(
        (status = 200, description = "The product with each variant's availability here", body = ProductDetail),
        (status = 404, description = "`product_not_found` (unknown, unpublished or deleted)", body = wire::ErrorBody)))]
pub async fn detail(
    State(products): State<Products>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ProductDetail>, ApiError> {
    let detail = products.detail(&slug).await?;
    if let Some(shopper) = crate::search::routes::shopper_key(&headers) {
        products.viewed(&shopper, detail.id);
    }
    Ok(Json(detail))
}

#[utoipa::path(get, path = "/api/categories", tag = "catalog",
    responses((status = 200, description = "The category tree, parents first, with product counts", body = CategoryList)))]
pub async fn categories(State(products): State<Products>) -> Result<Response, ApiError> {
    Ok(json_bytes(products.categories().await?))
}

#[utoipa::path(get, path = "/api/brands", tag = "catalog",
    responses((status = 200, description = "Brands with published products, with counts", body = BrandList)))]
pub async fn brands(State(products): State<Products>) -> Result<Response, ApiError> {
    Ok(json_bytes(products.brands().await?))
}

/// How far the read model is (for the control plane, before it lets a new
/// cell take shoppers; not under `/api`, so the edge never routes to it).
pub async fn status(
    State(products): State<Products>,
) -> Result<Json<wire::catalog::CatalogStatus>, ApiError> {
    Ok(Json(wire::catalog::CatalogStatus {
        listed_products: products.listed().await.map_err(ApiError::unexpected)?,
    }))
}
