//! Promotions and coupons: defined in the control plane
//! (`/admin/api/promotions`), replicated to every cell on the `catalog` topic,
//! applied to carts and orders in the cell (`/api/cart/coupon`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum PromotionKind {
    /// `value` percent off the lines in scope (1-100).
    Percentage,
    /// `value` minor units off the lines in scope (never more than they cost).
    FixedAmount,
    /// The chosen shipping method costs nothing (`value` is 0).
    FreeShipping,
}

/// A promotion as an admin writes it. With a `code` it is a coupon the
/// shopper enters; without one it applies by itself to every cart it fits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct PromotionInput {
    /// 3-32 of A-Z, 0-9, `-` and `_` (kept upper case; shoppers may type any case).
    #[schema(example = "WINTER15")]
    #[serde(default)]
    pub code: Option<String>,
    #[schema(example = "15% off knitwear")]
    pub name: String,
    pub kind: PromotionKind,
    /// Percent for `percentage`, minor units for `fixed_amount`, 0 for `free_shipping`.
    #[schema(example = 15)]
    #[serde(default)]
    pub value: i64,
    /// The currency of `value` (for `fixed_amount`) and of `min_spend_minor`;
    /// a cart in another currency does not qualify.
    #[schema(example = "GBP")]
    #[serde(default)]
    pub currency: Option<String>,
    /// Least cart subtotal (every line, in minor units) that qualifies.
    #[serde(default)]
    pub min_spend_minor: i64,
    /// Category slugs (a product in a sub-category counts); empty: every category.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Brand slugs; empty: every brand. With both, a line must match both.
    #[serde(default)]
    pub brands: Vec<String>,
    /// RFC 3339; from when it applies.
    #[schema(example = "2026-12-01T00:00:00Z")]
    pub starts_at: String,
    /// RFC 3339; until when (exclusive); `null`: no end.
    #[serde(default)]
    pub ends_at: Option<String>,
    /// Orders one shopper may place with it.
    #[serde(default)]
    pub per_shopper_limit: Option<u32>,
    /// Orders it may be used on across the platform, shared out to the cells.
    #[serde(default)]
    pub global_cap: Option<u64>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// What the control plane announces and the cells apply: the input as
/// validated, with its id, version and each cell's share of the cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct PromotionSnapshot {
    pub id: u64,
    /// Bumped by every change; a cell ignores a snapshot older than its own.
    pub version: u64,
    pub code: Option<String>,
    pub name: String,
    pub kind: PromotionKind,
    pub value: i64,
    pub currency: Option<String>,
    pub min_spend_minor: i64,
    pub categories: Vec<String>,
    pub brands: Vec<String>,
    pub starts_at: String,
    pub ends_at: Option<String>,
    pub per_shopper_limit: Option<u32>,
    pub global_cap: Option<u64>,
    /// Orders each cell may use it on (present when there is a cap); a cell
    /// missing here has no share.
    pub cell_caps: BTreeMap<String, u64>,
    pub active: bool,
    /// RFC 3339.
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct PromotionList {
    pub items: Vec<PromotionSnapshot>,
}

/// `PUT /api/cart/coupon`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ApplyCoupon {
    #[schema(example = "WINTER15")]
    pub code: String,
}

/// The promotion a cart or order gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct Discount {
    pub promotion_id: u64,
    /// The coupon entered; `null` for a promotion that applies by itself.
    pub code: Option<String>,
    pub name: String,
    pub kind: PromotionKind,
    /// Off the lines, in minor units (0 for free shipping).
    pub amount_minor: i64,
    pub free_shipping: bool,
}

/// Why the cart's coupon does not apply now (the same code and message its
/// `PUT` would have answered with).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CouponProblem {
    pub coupon: String,
    #[schema(example = "coupon_min_spend")]
    pub code: String,
    pub message: String,
}
