//! Bodies of the orders API (`/api/orders`): a shopper's history and one
//! order whole, with its timeline.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::checkout::ShippingAddress;

/// One row of a shopper's order history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderListItem>,
    /// For the next page (`cursor=`), `null` on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    pub from: Option<String>,
    pub to: String,
    /// RFC 3339.
    pub at: String,
    /// `system`, `checkout`, `user:<id>`, …
    pub actor: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tracking {
    pub carrier: String,
    pub number: String,
}

/// An order whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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
    pub timeline: Vec<TimelineEntry>,
}

/// `POST /api/orders/{id}/status` (role `admin`): move an order on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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
