//! Carriers: what they say about shipments, and a simulated one.
//!
//! * A real carrier posts tracking events to `POST /api/carriers/webhook`,
//!   signed with the shared secret (`Carrier-Signature: t=<unix>,v1=<hex
//!   HMAC-SHA256 of "<t>.<body>">`, the scheme Stripe uses). Each event is
//!   kept once by its id; `delivered` moves a shipped order to `delivered`.
//! * The simulated carrier ([`simulated`]) stands in for the warehouse and a
//!   carrier on a local stack: it packs confirmed orders, ships them with a
//!   tracking number and delivers them after configured delays, sending its
//!   tracking events through the same signed path as a real carrier.

pub mod routes;
pub mod simulated;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sqlx::MySqlPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wire::orders::{CarrierEvent, TrackingEvent, TrackingView};

use crate::orders::service::OrderError;
use crate::orders::{Orders, is_token};
use crate::payments::signature::{self, SignatureError};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierSettings {
    /// The secret carriers sign their webhooks with; empty: the webhook is
    /// closed (503) and the simulated carrier signs with a secret of its own.
    pub webhook_secret: SecretString,
    pub webhook_tolerance_s: u64,
    pub simulated: simulated::SimulatedSettings,
}

impl CarrierSettings {
    pub fn check(&self) -> Result<(), String> {
        if self.webhook_tolerance_s == 0 {
            return Err("carrier.webhook_tolerance_s: above 0".into());
        }
        self.simulated.check()
    }
}

/// What the shop asks of a carrier it books parcels with: a parcel for an
/// order (its tracking number), and where the shopper follows it. The
/// simulated carrier is the one implementation that runs here; a real
/// carrier's API client goes behind the same trait, and its tracking events
/// come in through the webhook either way.
#[async_trait::async_trait]
pub trait Carrier: Send + Sync + std::fmt::Debug {
    /// The name orders and tracking events carry (`dpd`, `simulated`).
    fn name(&self) -> &'static str;
    /// Books `parcel`: its tracking number.
    async fn book(&self, parcel: &Parcel<'_>) -> anyhow::Result<String>;
}

/// What the shop books a parcel with.
#[derive(Debug, Clone, Copy)]
pub struct Parcel<'a> {
    pub order_id: &'a str,
    /// The shopper's key. The carrier keeps it with the parcel and sends it
    /// back as `reference` in every tracking event: the edge routes the
    /// event to the shopper's cell by it (DESIGN.md §3).
    pub reference: &'a str,
}

/// Where a shopper follows shipment `number` of `carrier`: the carrier's
/// own tracking page for the carriers we know, else the shop's tracking
/// page (`GET /api/tracking/{number}`).
pub fn tracking_url(shop_url: &str, carrier: &str, number: &str) -> String {
    let shop = shop_url.trim_end_matches('/');
    match carrier {
        "dpd" => format!("https://track.dpd.co.uk/parcels/{number}"),
        "ups" => format!("https://www.ups.com/track?tracknum={number}"),
        "dhl" => format!("https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}"),
        "royal-mail" => {
            format!("https://www.royalmail.com/track-your-item#/tracking-results/{number}")
        }
        _ => format!("{shop}/api/tracking/{number}"),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    #[error("the carrier webhook is not configured in this cell (carrier.webhook_secret)")]
    Closed,
    #[error("{0}")]
    Signature(SignatureError),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    #[error("No shipment with this tracking number.")]
    UnknownShipment,
    #[error("The shipment's order is moving to another cell; send the event again shortly.")]
    Moving,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for TrackingError {
    fn from(error: sqlx::Error) -> Self {
        TrackingError::Unexpected(error.into())
    }
}

const STATUSES: [&str; 4] = ["in_transit", "out_for_delivery", "delivered", "exception"];

/// Checks a carrier event's fields; its time, parsed.
fn validate(event: &CarrierEvent) -> Result<OffsetDateTime, TrackingError> {
    let invalid = |field, message| TrackingError::Invalid { field, message };
    if !is_token(&event.event_id, 64) {
        return Err(invalid("event_id", "1-64 letters, digits, - and _"));
    }
    if !is_token(&event.carrier, 32) {
        return Err(invalid("carrier", "1-32 letters, digits, - and _"));
    }
    if !is_token(&event.tracking_number, 64) {
        return Err(invalid("tracking_number", "1-64 letters, digits, - and _"));
    }
    if !STATUSES.contains(&event.status.as_str()) {
        return Err(invalid(
            "status",
            "in_transit, out_for_delivery, delivered or exception",
        ));
    }
    if event
        .detail
        .as_ref()
        .is_some_and(|d| d.chars().count() > 500 || d.chars().any(char::is_control))
    {
        return Err(invalid("detail", "up to 500 characters of text"));
    }
    OffsetDateTime::parse(&event.occurred_at, &Rfc3339)
        .map_err(|_| invalid("occurred_at", "an RFC 3339 time"))
}

/// Takes carriers' tracking events.
#[derive(Debug, Clone)]
pub struct Tracking {
    pool: MySqlPool,
    orders: Orders,
    secret: SecretString,
    tolerance_s: u64,
}

impl Tracking {
    pub fn new(pool: MySqlPool, orders: Orders, settings: &CarrierSettings) -> Self {
        Self {
            pool,
            orders,
            secret: settings.webhook_secret.clone(),
            tolerance_s: settings.webhook_tolerance_s,
        }
    }

    /// The secret events are signed with (the simulated carrier's, when no
    /// real one is configured).
    pub fn with_secret(mut self, secret: SecretString) -> Self {
        self.secret = secret;
        self
    }

    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// A signed event (`header` as the carrier sent it, `body` its JSON):
    /// verified, kept once, and applied to the order.
    pub async fn receive(&self, header: Option<&str>, body: &[u8]) -> Result<(), TrackingError> {
        let secret = self.secret.expose_secret();
        if secret.is_empty() {
            return Err(TrackingError::Closed);
        }
        let now = OffsetDateTime::now_utc().unix_timestamp();
        signature::verify(secret, header, body, now, self.tolerance_s)
            .map_err(TrackingError::Signature)?;
        let event: CarrierEvent =
            serde_json::from_slice(body).map_err(|_| TrackingError::Invalid {
                field: "body",
                message: "{event_id, carrier, tracking_number, status, detail?, occurred_at}",
            })?;
        self.apply(&event).await
    }

    async fn apply(&self, event: &CarrierEvent) -> Result<(), TrackingError> {
        let at = validate(event)?;
        let order: Option<(String, String, String)> = sqlx::query_as(
            "SELECT id, CAST(status AS CHAR), shopper_key FROM orders WHERE tracking_number = ? AND carrier = ?",
        )
        .bind(&event.tracking_number)
        .bind(&event.carrier)
        .fetch_optional(&self.pool)
        .await?;
        let (order_id, status, shopper_key) = order.ok_or(TrackingError::UnknownShipment)?;
        // The reference routed the event here; one that names another
        // shopper means the carrier mixed parcels up.
        if event.reference.as_ref().is_some_and(|r| *r != shopper_key) {
            return Err(TrackingError::Invalid {
                field: "reference",
                message: "not the reference the parcel was booked under",
            });
        }
        // A shopper being moved to another cell takes their orders as they
        // are: nothing of theirs changes here meanwhile.
        let moving: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM shopper_fences f JOIN orders o ON o.shopper_key = f.shopper_key WHERE o.id = ?",
        )
        .bind(&order_id)
        .fetch_one(&self.pool)
        .await?;
        if moving > 0 {
            return Err(TrackingError::Moving);
        }
        let kept = sqlx::query(
            r#"INSERT IGNORE INTO tracking_events (event_id, order_id, carrier, tracking_number, status, detail, occurred_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)"#,
        )
        .bind(&event.event_id)
        .bind(&order_id)
        .bind(&event.carrier)
        .bind(&event.tracking_number)
        .bind(&event.status)
        .bind(&event.detail)
        .bind(at)
        .execute(&self.pool)
        .await?;
        if kept.rows_affected() == 1 {
            tracing::info!(order = %order_id, carrier = %event.carrier, status = %event.status, "tracking event");
        }
        // Also for a repeated event: the move may have failed the first time.
        if event.status == "delivered" && status == "shipped" {
            match self
                .orders
                .advance(
                    &format!("carrier:{}", event.carrier),
                    &order_id,
                    "delivered",
                    "The carrier delivered it",
                    None,
                )
                .await
            {
                Ok(_) | Err(OrderError::Moved(_) | OrderError::Illegal { .. }) => {}
                Err(other) => return Err(TrackingError::Unexpected(other.into())),
            }
        }
        Ok(())
    }

    /// Shipment `number`'s tracking, for the link in the shipping e-mail.
    pub async fn view(&self, number: &str) -> Result<TrackingView, TrackingError> {
        if !is_token(number, 64) {
            return Err(TrackingError::UnknownShipment);
        }
        let order: Option<(String, String, String)> = sqlx::query_as(
            "SELECT id, carrier, CAST(status AS CHAR) FROM orders WHERE tracking_number = ?",
        )
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        let (order_id, carrier, status) = order.ok_or(TrackingError::UnknownShipment)?;
        let mut conn = self.pool.acquire().await?;
        Ok(TrackingView {
            carrier,
            number: number.to_owned(),
            status,
            events: events_of(&mut conn, &order_id).await?,
        })
    }
}

/// What the carrier said about order `order_id`'s shipment, oldest first.
pub async fn events_of(
    conn: &mut sqlx::MySqlConnection,
    order_id: &str,
) -> Result<Vec<TrackingEvent>, sqlx::Error> {
    let events: Vec<(String, Option<String>, OffsetDateTime)> = sqlx::query_as(
        "SELECT CAST(status AS CHAR), detail, occurred_at FROM tracking_events WHERE order_id = ? ORDER BY occurred_at, received_at",
    )
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(events
        .into_iter()
        .map(|(status, detail, at)| TrackingEvent {
            status,
            detail,
            at: at.format(&Rfc3339).unwrap_or_default(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> CarrierEvent {
        CarrierEvent {
            event_id: "evt-1".into(),
            carrier: "dpd".into(),
            tracking_number: "DPD123".into(),
            status: "delivered".into(),
            detail: None,
            occurred_at: "2026-11-26T10:00:00Z".into(),
            reference: None,
        }
    }

    #[test]
    fn events_are_checked_field_by_field() {
        assert!(validate(&event()).is_ok());
        let mut bad = event();
        bad.status = "lost_in_space".into();
        assert!(matches!(
            validate(&bad),
            Err(TrackingError::Invalid {
                field: "status",
                ..
            })
        ));
        let mut bad = event();
        bad.tracking_number = "DPD 1; DROP".into();
        assert!(validate(&bad).is_err());
        let mut bad = event();
        bad.occurred_at = "yesterday".into();
        assert!(validate(&bad).is_err());
    }

    #[test]
    fn links_go_to_the_carrier_or_the_shop() {
        assert!(tracking_url("https://shop.test/", "dpd", "X1").starts_with("https://track.dpd"));
        assert_eq!(
            tracking_url("https://shop.test/", "simulated", "SIM1"),
            "https://shop.test/api/tracking/SIM1"
        );
    }
}
