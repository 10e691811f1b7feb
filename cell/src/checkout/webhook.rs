//! `POST /api/payments/stripe/webhook`: the provider's word on a payment.
//! The signature is checked over the raw body before anything is read; each
//! event id is acted on once (`payment_events`), and events may come in any
//! order: a success confirms a pending order whenever it comes, a failure
//! after the order was confirmed changes nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chassis::http::{ApiError, Json};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::service::Checkouts;
use crate::payments::Intent;
use crate::payments::signature::{self, SignatureError};

#[derive(Debug, Clone)]
pub struct WebhookState {
    pub checkouts: Arc<Checkouts>,
    pub secret: SecretString,
    pub tolerance_s: u64,
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: Value,
}

impl From<SignatureError> for ApiError {
    fn from(error: SignatureError) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_signature",
            error.to_string(),
        )
    }
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The intent an event is about, read from its object.
fn intent(object: &Value) -> Option<Intent> {
    Some(Intent {
        id: text(object, "/id")?,
        status: text(object, "/status")?,
        amount: object.pointer("/amount").and_then(Value::as_i64)?,
        currency: text(object, "/currency")?,
        client_secret: None,
    })
}

#[utoipa::path(post, path = "/api/payments/stripe/webhook", tag = "checkout",
    request_body(content = String, description = "A Stripe event, signed in the Stripe-Signature header"),
    responses(
        (status = 200, description = "Received (or already received: `duplicate: true`)"),
        (status = 400, description = "`invalid_signature` or `invalid_event`", body = wire::ErrorBody),
        (status = 503, description = "`payments_unavailable`: this cell takes no payments", body = wire::ErrorBody)))]
pub async fn receive(
    State(state): State<WebhookState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let secret = state.secret.expose_secret();
    if secret.is_empty() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "payments_unavailable",
            "This cell takes no payments.",
        ));
    }
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    signature::verify(secret, header, &body, now, state.tolerance_s)?;
    let event: Event = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_event",
            format!("The event could not be read: {e}"),
        )
    })?;
    let object = &event.data.object;
    let order = text(object, "/metadata/order_id");
    let checkouts = &state.checkouts;
    let fresh = sqlx::query(
        "INSERT IGNORE INTO payment_events (id, event_type, order_id) VALUES (?, ?, ?)",
    )
    .bind(&event.id)
    .bind(&event.kind)
    .bind(&order)
    .execute(checkouts.pool())
    .await
    .map_err(ApiError::unexpected)?
    .rows_affected()
        == 1;
    if !fresh {
        return Ok(Json(json!({ "received": true, "duplicate": true })));
    }
    let outcome = match (event.kind.as_str(), &order) {
        ("payment_intent.succeeded", Some(order)) => match intent(object) {
            Some(intent) => checkouts.confirm(order, &intent, "stripe").await,
            None => Ok(()),
        },
        ("payment_intent.payment_failed", Some(order)) => {
            let message = text(object, "/last_payment_error/message")
                .unwrap_or_else(|| "The payment failed.".into());
            checkouts.payment_failed(order, &message).await
        }
        _ => Ok(()),
    };
    if let Err(error) = outcome {
        // Forget the event so that the provider's retry runs it again.
        let _ = sqlx::query("DELETE FROM payment_events WHERE id = ?")
            .bind(&event.id)
            .execute(checkouts.pool())
            .await;
        return Err(ApiError::from(error));
    }
    Ok(Json(json!({ "received": true })))
}
