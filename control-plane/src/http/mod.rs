//! The control plane's HTTP surface: the admin API under `/admin/api`, cell
//! operations under `/control/api` (the chassis adds the health routes at the
//! root), and the OpenAPI document generated from the handlers.

use axum::Router;
use axum::routing::get;
use chassis::http::Json;
use utoipa::OpenApi;

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Cellwear control plane API",
        description = "The global catalog, promotions, stock allocations and cell operations."
    ),
    paths(
        chassis::health::livez,
        chassis::health::readyz,
        chassis::health::metrics,
        openapi_json
    ),
    components(schemas(wire::ErrorBody))
)]
pub struct ApiDoc;

/// Every route of the control plane but the health routes.
pub fn router() -> Router {
    Router::new().route("/admin/api/openapi.json", get(openapi_json))
}

/// This document.
#[utoipa::path(get, path = "/admin/api/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of the control plane API")))]
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
