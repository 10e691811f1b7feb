//! The control plane's HTTP surface: the admin API under `/admin/api`, cell
//! operations under `/control/api` (the chassis adds the health routes at the
//! root), and the OpenAPI document generated from the handlers.

use axum::Router;
use axum::routing::get;
use sqlx::MySqlPool;
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
        crate::routing::routes::routing_table
    ),
    components(schemas(wire::ErrorBody, wire::PublishedRoutingTable))
)]
pub struct ApiDoc;

/// Every route of the control plane but the health routes.
pub fn router(pool: MySqlPool) -> Result<Router, serde_json::Error> {
    let cells = Router::new()
        .route(
            "/control/api/routing-table",
            get(crate::routing::routes::routing_table),
        )
        .with_state(pool);
    Ok(chassis::http::openapi_document("/admin/api/openapi.json", ApiDoc::openapi())?.merge(cells))
}
