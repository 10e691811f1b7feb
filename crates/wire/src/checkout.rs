//! Bodies of the checkout API (`/api/checkout/*`) and of an order as the
//! checkout shows it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::cart::CartView;
use crate::users::AddressRequest;

/// Step 1: a saved address by id, or a new one (saved to the account when
/// `save` is true). Exactly one of `address_id` and `address`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct CheckoutAddress {
    #[serde(default)]
    pub address_id: Option<String>,
    #[serde(default)]
    pub address: Option<AddressRequest>,
    #[serde(default)]
    pub save: bool,
}

/// Step 2: one of the options the checkout lists for its address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct CheckoutShipping {
    #[schema(example = "standard")]
    pub method: String,
}

/// Step 3. With `payment_method` (a Stripe PaymentMethod id, such as the
/// test card `pm_card_visa`) the payment is confirmed at once; without it
/// the browser confirms it with the returned `client_secret` (Stripe.js).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct CheckoutPayment {
    #[serde(default)]
    pub payment_method: Option<String>,
}

/// Where an order goes: checked and normalised like a saved address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct ShippingAddress {
    pub full_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postcode: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct ShippingOption {
    #[schema(example = "standard")]
    pub method: String,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    /// Working days to delivery, at the earliest and the latest.
    pub min_days: u32,
    pub max_days: u32,
}

/// A checkout at whatever step it has reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CheckoutView {
    pub id: String,
    /// `address` (needs an address), `shipping` (needs a method),
    /// `payment` (ready to pay), `paying` (an order waits for its payment),
    /// `completed` (paid) or `cancelled`.
    pub step: String,
    /// The cart priced now; once paying, the order's lines instead.
    pub cart: CartView,
    pub address: Option<ShippingAddress>,
    pub shipping_options: Vec<ShippingOption>,
    pub shipping: Option<ShippingOption>,
    pub subtotal_minor: i64,
    /// Off the lines (the cart's `discount`); a free-shipping promotion
    /// shows as `shipping_minor` 0 instead.
    pub discount_minor: i64,
    pub shipping_minor: i64,
    /// `subtotal_minor - discount_minor + shipping_minor`: what is charged.
    pub total_minor: i64,
    pub currency: Option<String>,
    pub order: Option<OrderSummary>,
    pub payment: Option<PaymentView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct OrderSummary {
    pub id: String,
    /// `pending`, `confirmed`, `processing`, `shipped`, `delivered` or `cancelled`.
    pub status: String,
    pub total_minor: i64,
    pub currency: String,
    /// Until when the order's stock is held for its payment.
    pub reserved_until: String,
    pub cancel_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct PaymentView {
    /// `stripe`.
    pub provider: String,
    /// The PaymentIntent.
    pub intent: String,
    /// For Stripe.js in the browser.
    pub client_secret: String,
    pub publishable_key: String,
    /// Whether the browser collects the card with Stripe.js (Stripe's own
    /// servers); `false` with the local Stripe emulator, which Stripe.js
    /// cannot talk to: the shop's page then sends a test PaymentMethod.
    pub stripe_js: bool,
    /// As the provider reported it: `requires_payment_method`,
    /// `requires_action`, `processing`, `succeeded`, `failed`, …
    pub status: String,
    /// Why the last attempt failed, in the provider's words.
    pub error: Option<String>,
}
