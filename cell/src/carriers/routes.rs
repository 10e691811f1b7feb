//! HTTP for carriers: their signed webhook, and the public tracking page of
//! a shipment (the link in the shipping e-mail).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chassis::http::{ApiError, Json};
use serde_json::{Value, json};
use wire::orders::TrackingView;

use super::{Tracking, TrackingError};

pub const SIGNATURE_HEADER: &str = "carrier-signature";

impl From<TrackingError> for ApiError {
    fn from(error: TrackingError) -> Self {
        let (status, code) = match &error {
            TrackingError::Closed => (StatusCode::SERVICE_UNAVAILABLE, "carrier_webhook_closed"),
            TrackingError::Signature(_) => (StatusCode::BAD_REQUEST, "invalid_signature"),
            TrackingError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_tracking_event"),
            TrackingError::UnknownShipment => (StatusCode::NOT_FOUND, "shipment_not_found"),
            TrackingError::Moving => {
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "shipment_moving",
                    error.to_string(),
                )
                .retry_after(5);
            }
            TrackingError::Unexpected(_) => return ApiError::unexpected(error),
        };
        let message = match &error {
            TrackingError::Signature(inner) => inner
                .to_string()
                .replace("Stripe-Signature", "Carrier-Signature"),
            other => other.to_string(),
        };
        ApiError::new(status, code, message)
    }
}

/// A carrier's tracking event, signed (see `CarrierEvent`).
#[utoipa::path(post, path = "/api/carriers/webhook", tag = "orders",
    request_body(content = wire::orders::CarrierEvent, description = "Signed in the Carrier-Signature header"),
    responses(
        (status = 200, description = "Taken (also for an event already taken)"),
        (status = 400, description = "`invalid_signature` or `invalid_tracking_event`", body = wire::ErrorBody),
        (status = 404, description = "`shipment_not_found`: no order ships under this carrier and number", body = wire::ErrorBody),
        (status = 503, description = "`carrier_webhook_closed`: no secret configured", body = wire::ErrorBody)))]
pub async fn webhook(
    State(tracking): State<Tracking>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    tracking.receive(header, &body).await?;
    Ok(Json(json!({"received": true})))
}

/// Where a shipment is (public: the tracking number is the secret).
#[utoipa::path(get, path = "/api/tracking/{number}", tag = "orders",
    params(("number" = String, Path, description = "The tracking number")),
    responses(
        (status = 200, description = "The shipment's events", body = TrackingView),
        (status = 404, description = "`shipment_not_found`", body = wire::ErrorBody)))]
pub async fn view(
    State(tracking): State<Tracking>,
    Path(number): Path<String>,
) -> Result<Json<TrackingView>, ApiError> {
    Ok(Json(tracking.view(&number).await?))
}

/// The carriers' routes.
pub fn router(tracking: Tracking) -> axum::Router {
    axum::Router::new()
        .route("/api/carriers/webhook", axum::routing::post(webhook))
        .route("/api/tracking/{number}", axum::routing::get(view))
        .with_state(tracking)
}
