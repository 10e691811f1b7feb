//! Bodies of the cart API (`/api/cart`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::catalog::Availability;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct AddToCart {
    #[schema(example = "SHIRT-0001-M-NAVY")]
    pub sku: String,
    /// Units to add to what the cart already holds of this SKU.
    #[schema(example = 1)]
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct SetQuantity {
    /// The line's new quantity (0 removes it).
    #[schema(example = 2)]
    pub quantity: u32,
}

/// The cart as it stands now: every read prices it again and checks stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CartView {
    pub items: Vec<CartLine>,
    /// Units in the cart.
    pub item_count: u32,
    /// The lines' currency (a cart holds one), `null` when empty.
    pub currency: Option<String>,
    /// Sum of the lines that can be bought now, in minor units.
    pub subtotal_minor: i64,
    /// The coupon the shopper entered, if any.
    pub coupon: Option<String>,
    /// The promotion the cart gets now: the coupon's when it applies, else
    /// the best one that applies by itself.
    pub discount: Option<crate::promotions::Discount>,
    /// Set when the entered coupon does not apply now; the cart cannot be
    /// paid for until the shopper removes it or the cart fits it again.
    pub coupon_problem: Option<crate::promotions::CouponProblem>,
    /// `subtotal_minor` less the discount (shipping comes at checkout).
    pub total_minor: i64,
    /// False while any line has a problem the shopper must see first.
    pub ready_for_checkout: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CartLine {
    pub sku: String,
    pub product_slug: Option<String>,
    pub title: String,
    pub size: String,
    pub colour: String,
    pub image: Option<String>,
    pub quantity: u32,
    pub unit_price_minor: i64,
    pub line_total_minor: i64,
    pub currency: String,
    pub availability: Availability,
    /// The unit price when the shopper last saw this line, if it changed
    /// since (reading the cart acknowledges it).
    pub previous_price_minor: Option<i64>,
    /// `price_changed`, `out_of_stock`, `not_enough_stock` (fewer units
    /// than asked for are left) or `unavailable` (no longer sold).
    pub problems: Vec<String>,
}

/// `POST /internal/carts/handover` (cell to cell, with a service token):
/// the home cell of a shopper who signed in asks the cell of their guest key
/// for the guest's cart. `takeover_id` makes it idempotent: asked again, the
/// giving cell answers with what it handed over the first time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct HandoverRequest {
    pub shopper_key: String,
    pub takeover_id: String,
}

/// A guest cart, handed over (and gone from the giving cell).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct Handover {
    pub lines: Vec<HandedLine>,
    pub coupon: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct HandedLine {
    pub sku: String,
    pub quantity: u32,
    /// The unit price the guest last saw.
    pub price_seen_minor: i64,
}
