//! The cell's HTTP surface: every domain's `router()` merged under `/api`, the
//! health routes at the root, and the OpenAPI document generated from the
//! handlers' annotations.

use axum::Router;
use axum::routing::get;
use chassis::http::Json;
use utoipa::OpenApi;

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Cellwear cell API",
        description = "The API of one cell: a complete shop serving the shoppers the edge pins to it."
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

/// Every route of the cell but the health routes, which the chassis adds.
pub fn router() -> Router {
    Router::new().route("/api/openapi.json", get(openapi_json))
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of the cell API")))]
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
