//! The control plane's HTTP surface: the admin API under `/admin/api`, cell
//! operations under `/control/api` (the chassis adds the health routes at the
//! root), and the OpenAPI document generated from the handlers.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::{get, post, put};
use events::Schemas;
use sqlx::MySqlPool;
use utoipa::OpenApi;

use crate::catalog::import::Imports;
use crate::catalog::{Catalog, routes as catalog};
use crate::promotions::{Promotions, routes as promotions};
use crate::staff::Verifier;
use crate::stock::{StockSettings, routes as stock};

/// Largest import file accepted.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: MySqlPool,
    pub verifier: Arc<Verifier>,
    pub catalog: Catalog,
    pub promotions: Promotions,
    pub imports: Imports,
    pub stock: StockSettings,
    pub schemas: Schemas,
    pub orders: crate::orders::OrderSearch,
    pub cells: crate::cells::Cells,
    /// Wakes the background drain worker when a drain starts.
    pub drainer: crate::cells::drain::Drainer,
    pub aliases: crate::routing::aliases::Aliases,
}

impl FromRef<AppState> for Arc<Verifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Cellwear control plane API",
        description = "The global catalog, promotions, stock allocations and cell operations. Admin routes need a bearer token with the `admin` role, cell operations the `sre` role."
    ),
    paths(
        chassis::health::livez,
        chassis::health::readyz,
        chassis::health::metrics,
        crate::routing::routes::routing_table,
        crate::routing::aliases::set,
        catalog::list,
        catalog::create,
        catalog::get,
        catalog::replace,
        catalog::delete,
        catalog::publish,
        catalog::unpublish,
        catalog::change_price,
        catalog::brands,
        catalog::create_brand,
        catalog::categories,
        catalog::create_category,
        catalog::start_import,
        catalog::import_status,
        promotions::list,
        promotions::create,
        promotions::get,
        promotions::replace,
        crate::orders::routes::search,
        crate::orders::routes::detail,
        crate::orders::routes::advance,
        crate::orders::routes::refund,
        crate::orders::routes::cancel,
        crate::audit::routes::list,
        crate::cells::routes::list,
        crate::cells::routes::add,
        crate::cells::routes::activate,
        crate::cells::routes::set_weight,
        crate::cells::routes::fail,
        crate::cells::routes::recover,
        crate::cells::routes::remove,
        crate::cells::routes::drain,
        crate::cells::routes::drain_progress,
        stock::ledger,
        stock::restock,
        stock::adjust,
        stock::recall
    ),
    components(schemas(wire::ErrorBody, wire::PublishedRoutingTable))
)]
pub struct ApiDoc;

/// Every route of the control plane but the health routes.
pub fn router(state: AppState) -> Result<Router, serde_json::Error> {
    let cells = Router::new()
        .route(
            "/control/api/routing-table",
            get(crate::routing::routes::routing_table),
        )
        .with_state(state.pool.clone());
    let admin = Router::new()
        .route(
            "/admin/api/products",
            get(catalog::list).post(catalog::create),
        )
        .route(
            "/admin/api/products/{id}",
            get(catalog::get)
                .put(catalog::replace)
                .delete(catalog::delete),
        )
        .route("/admin/api/products/{id}/publish", post(catalog::publish))
        .route(
            "/admin/api/products/{id}/unpublish",
            post(catalog::unpublish),
        )
        .route(
            "/admin/api/variants/{sku}/price",
            put(catalog::change_price),
        )
        .route(
            "/admin/api/brands",
            get(catalog::brands).post(catalog::create_brand),
        )
        .route(
            "/admin/api/categories",
            get(catalog::categories).post(catalog::create_category),
        )
        .route(
            "/admin/api/imports",
            post(catalog::start_import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/admin/api/imports/{id}", get(catalog::import_status))
        .route(
            "/admin/api/promotions",
            get(promotions::list).post(promotions::create),
        )
        .route(
            "/admin/api/promotions/{id}",
            get(promotions::get).put(promotions::replace),
        )
        .route("/admin/api/orders", get(crate::orders::routes::search))
        .route(
            "/admin/api/cells/{cell}/orders/{id}",
            get(crate::orders::routes::detail),
        )
        .route(
            "/admin/api/cells/{cell}/orders/{id}/status",
            post(crate::orders::routes::advance),
        )
        .route(
            "/admin/api/cells/{cell}/orders/{id}/refunds",
            post(crate::orders::routes::refund),
        )
        .route(
            "/admin/api/cells/{cell}/orders/{id}/cancel",
            post(crate::orders::routes::cancel),
        )
        .route("/control/api/audit", get(crate::audit::routes::list))
        .route("/admin/api/stock/{sku}", get(stock::ledger))
        .route("/admin/api/stock/{sku}/restock", post(stock::restock))
        .route("/admin/api/stock/{sku}/adjust", post(stock::adjust))
        .route("/control/api/cells/{id}/recall-stock", post(stock::recall))
        .route(
            "/control/api/cells",
            get(crate::cells::routes::list).post(crate::cells::routes::add),
        )
        .route(
            "/control/api/cells/{id}/activate",
            post(crate::cells::routes::activate),
        )
        .route(
            "/control/api/cells/{id}",
            axum::routing::delete(crate::cells::routes::remove),
        )
        .route(
            "/control/api/cells/{id}/weight",
            put(crate::cells::routes::set_weight),
        )
        .route(
            "/control/api/cells/{id}/fail",
            post(crate::cells::routes::fail),
        )
        .route(
            "/control/api/cells/{id}/recover",
            post(crate::cells::routes::recover),
        )
        .route(
            "/control/api/cells/{id}/drain",
            post(crate::cells::routes::drain).get(crate::cells::routes::drain_progress),
        )
        .route(
            "/internal/accounts/{account_key}/sign-in-alias",
            put(crate::routing::aliases::set),
        )
        .with_state(state);
    Ok(
        chassis::http::openapi_document("/admin/api/openapi.json", ApiDoc::openapi())?
            .merge(cells)
            .merge(admin),
    )
}
