//! Bodies of the orders API (`/api/orders`): a shopper's history and one
//! order whole, with its timeline.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::checkout::ShippingAddress;

/// One row of a shopper's order history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct OrderListItem {
    pub id: String,
    /// `pending`, `confirmed`, `processing`, `shipped`, `delivered` or `cancelled`.
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    pub item_count: u32,
    pub total_minor: i64,
    pub currency: String,
    /// The first line's title (what the list shows).
    pub first_title: Option<String>,
    /// The shopper's e-mail: in staff searches only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct OrderPage {
    pub items: Vec<OrderListItem>,
    /// For the next page (`cursor=`), `null` on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct OrderLineView {
    pub sku: String,
    pub title: String,
    pub size: String,
    pub colour: String,
    /// At the price paid.
    pub unit_price_minor: i64,
    pub quantity: u32,
    pub line_total_minor: i64,
}

/// One move of the order: who, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct TimelineEntry {
    pub from: Option<String>,
    pub to: String,
    /// RFC 3339.
    pub at: String,
    /// `system`, `checkout`, `user:<id>`, …
    pub actor: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct Tracking {
    pub carrier: String,
    pub number: String,
}

/// An order whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct OrderDetail {
    pub id: String,
    pub status: String,
    pub created_at: String,
    pub lines: Vec<OrderLineView>,
    pub currency: String,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub coupon: Option<String>,
    pub shipping_minor: i64,
    pub total_minor: i64,
    pub address: ShippingAddress,
    pub shipping_method: String,
    /// As the payment provider last reported it.
    pub payment_status: String,
    pub refunded: bool,
    pub cancel_reason: Option<String>,
    pub tracking: Option<Tracking>,
    /// The invoice's number once the order is paid; the PDF is at
    /// `/api/orders/{id}/invoice`.
    pub invoice_number: Option<String>,
    /// All money given back so far (a cancellation refunds the whole total).
    pub refunded_minor: i64,
    /// An admin's refunds, oldest first.
    pub refunds: Vec<RefundView>,
    /// What the carrier said, oldest first.
    pub tracking_events: Vec<TrackingEvent>,
    pub timeline: Vec<TimelineEntry>,
}

/// One refund of an order by an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct RefundView {
    pub id: String,
    pub amount_minor: i64,
    pub reason: String,
    /// `requested` (the provider is being asked; retried until it answers),
    /// `succeeded` or `failed` (the amount can be refunded again).
    pub state: String,
    pub error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// `POST /api/orders/{id}/refunds` (role `admin`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct RefundOrder {
    /// In minor units; at most what is left of the total.
    #[schema(example = 1500)]
    pub amount_minor: i64,
    #[schema(example = "One shirt arrived damaged")]
    pub reason: String,
}

/// What a carrier said about a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct TrackingEvent {
    /// `in_transit`, `out_for_delivery`, `delivered` or `exception`.
    pub status: String,
    pub detail: Option<String>,
    /// RFC 3339.
    pub at: String,
}

/// `POST /api/carriers/webhook`: a carrier's word on a shipment, signed
/// with the shared secret (`Carrier-Signature: t=<unix>,v1=<hex
/// HMAC-SHA256 of "<t>.<body>">`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct CarrierEvent {
    /// The carrier's id of this event; a repeat is acknowledged and ignored.
    pub event_id: String,
    pub carrier: String,
    pub tracking_number: String,
    /// `in_transit`, `out_for_delivery`, `delivered` or `exception`.
    pub status: String,
    #[serde(default)]
    pub detail: Option<String>,
    /// RFC 3339.
    pub occurred_at: String,
    /// The reference the shop booked the parcel under: the shopper's key.
    /// The edge routes the event to that shopper's cell by it.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A shipment's tracking, as `GET /api/tracking/{number}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct TrackingView {
    pub carrier: String,
    pub number: String,
    /// The order's status: `shipped` until delivered.
    pub status: String,
    pub events: Vec<TrackingEvent>,
}

/// `POST /api/orders/{id}/status` (role `admin`): move an order on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct AdvanceOrder {
    /// `processing`, `shipped` or `delivered`.
    #[schema(example = "shipped")]
    pub status: String,
    /// Why (kept in the timeline).
    #[schema(example = "Packed at the warehouse")]
    pub reason: String,
    /// Required to ship.
    #[serde(default)]
    pub tracking: Option<Tracking>,
}

/// `POST /api/orders/{id}/cancel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct CancelOrder {
    /// Why (kept in the timeline); a shopper may leave it out.
    #[serde(default)]
    pub reason: Option<String>,
}

/// One order found by a staff search across cells (`GET /admin/api/orders`
/// on the control plane).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CellOrder {
    /// The cell that holds the order (ask it for the whole order).
    pub cell: String,
    #[serde(flatten)]
    pub order: OrderListItem,
}

/// A cell that did not answer a search in time, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CellMiss {
    pub cell: String,
    /// `timeout`, `unreachable`, or `status <code>`.
    pub reason: String,
}

/// The control plane's answer to a staff order search: newest first across
/// the cells that answered, and the cells that did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CellOrderSearch {
    pub items: Vec<CellOrder>,
    pub answered: Vec<String>,
    pub unanswered: Vec<CellMiss>,
}
