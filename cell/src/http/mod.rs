//! The cell's HTTP surface: every domain's `router()` merged under `/api`, the
//! health routes at the root, and the OpenAPI document generated from the
//! handlers' annotations.

use std::sync::Arc;

use axum::Router;
use utoipa::OpenApi;

use crate::auth::Auth;
use crate::cart::Carts;
use crate::catalog::Products;
use crate::checkout::Checkouts;
use crate::payments::PaymentSettings;
use crate::search::Search;
use crate::users::Addresses;

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
        crate::auth::routes::register,
        crate::auth::routes::login,
        crate::auth::routes::refresh,
        crate::auth::routes::logout,
        crate::auth::routes::me,
        crate::auth::routes::update_profile,
        crate::auth::routes::sessions,
        crate::auth::routes::revoke_session,
        crate::auth::routes::revoke_all_sessions,
        crate::auth::routes::change_password,
        crate::auth::email_change::request,
        crate::auth::email_change::confirm,
        crate::auth::routes::set_roles,
        crate::auth::routes::google_start,
        crate::auth::routes::google_callback,
        crate::auth::routes::google_finish,
        crate::users::routes::list,
        crate::users::routes::create,
        crate::users::routes::update,
        crate::users::routes::delete,
        crate::auth::routes::jwks,
        crate::catalog::routes::list,
        crate::catalog::routes::detail,
        crate::catalog::routes::categories,
        crate::catalog::routes::brands,
        crate::search::routes::search,
        crate::search::routes::suggest,
        crate::search::routes::similar,
        crate::search::routes::bought_together,
        crate::search::routes::for_you,
        crate::search::routes::trending,
        crate::search::routes::rebuild,
        crate::cart::routes::get_cart,
        crate::cart::routes::add,
        crate::cart::routes::set_quantity,
        crate::cart::routes::remove,
        crate::cart::routes::clear,
        crate::cart::routes::apply_coupon,
        crate::cart::routes::remove_coupon,
        crate::cart::takeover::handover,
        crate::orders::routes::list,
        crate::orders::routes::detail,
        crate::orders::routes::advance,
        crate::orders::routes::cancel,
        crate::orders::routes::invoice,
        crate::orders::routes::refund,
        crate::orders::routes::staff_list,
        crate::carriers::routes::webhook,
        crate::carriers::routes::view,
        crate::checkout::routes::start,
        crate::checkout::routes::view,
        crate::checkout::routes::address,
        crate::checkout::routes::shipping,
        crate::checkout::routes::payment,
        crate::checkout::webhook::receive,
        crate::moves::routes::list,
        crate::moves::routes::count,
        crate::moves::routes::fence,
        crate::moves::routes::export,
        crate::moves::routes::checksum,
        crate::moves::routes::import,
        crate::moves::routes::release,
        crate::moves::routes::seal
    ),
    components(schemas(wire::ErrorBody))
)]
pub struct ApiDoc;

/// What the cell's routes serve.
#[derive(Debug)]
pub struct Domains {
    pub auth: Arc<Auth>,
    pub addresses: Arc<Addresses>,
    pub products: Products,
    pub search: Search,
    pub carts: Arc<Carts>,
    pub checkouts: Arc<Checkouts>,
    pub orders: crate::orders::Orders,
    pub tracking: crate::carriers::Tracking,
    pub payments: PaymentSettings,
    pub moves: crate::moves::Moves,
    pub email_changes: crate::auth::EmailChanges,
}

/// Every route of the cell but the health routes, which the chassis adds.
pub fn router(domains: Domains) -> Result<Router, serde_json::Error> {
    let Domains {
        auth,
        addresses,
        products,
        search,
        carts,
        checkouts,
        orders,
        tracking,
        payments,
        moves,
        email_changes,
    } = domains;
    let fences = moves.fences().clone();
    Ok(
        chassis::http::openapi_document("/api/openapi.json", ApiDoc::openapi())?
            .merge(crate::users::router(addresses, auth.clone()))
            .merge(crate::cart::router(carts, auth.clone()))
            .merge(crate::orders::router(
                orders,
                checkouts.clone(),
                auth.clone(),
            ))
            .merge(crate::checkout::router(
                checkouts,
                auth.clone(),
                payments.webhook_secret,
                payments.webhook_tolerance_s,
            ))
            .merge(crate::carriers::routes::router(tracking))
            .merge(crate::search::router(search, auth.clone()))
            .merge(crate::auth::router(auth))
            .merge(crate::auth::email_router(email_changes))
            .merge(crate::catalog::router(products))
            .merge(crate::moves::router(moves))
            .layer(axum::middleware::from_fn_with_state(
                fences,
                crate::moves::fence::guard,
            )),
    )
}
