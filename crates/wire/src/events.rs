//! Event payloads: the `data` of an event envelope (DESIGN.md §4). Each payload
//! names its type (past tense), its schema version and the key that orders it.
//! The envelope, schemas and transport live in the `events` crate.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A payload that travels as an event.
pub trait EventPayload: Serialize + DeserializeOwned {
    /// `OrderPlaced`, `ProductUpserted`, … (past tense).
    const TYPE: &'static str;
    /// Bumped on every change a reader of the previous version would misread.
    const VERSION: u16;
    /// The Kafka key: events with the same key keep their order.
    fn key(&self) -> String;
}

/// A synthetic event for end-to-end probes of the backbone (the benchmark,
/// smoke checks after a deploy): it moves through outbox, broker and consumer
/// like any other event and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbePublished {
    /// The probe run this event belongs to; the key, so a run stays ordered.
    pub run: String,
    /// Position within the run, from 0.
    pub sequence: u64,
}

impl EventPayload for ProbePublished {
    const TYPE: &'static str = "ProbePublished";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.run.clone()
    }
}

/// An account was created (analytics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRegistered {
    pub user_id: String,
    pub shopper_key: String,
}

impl EventPayload for UserRegistered {
    const TYPE: &'static str = "UserRegistered";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.user_id.clone()
    }
}

/// A shopper signed in (analytics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserLoggedIn {
    pub user_id: String,
    pub session_id: String,
}

impl EventPayload for UserLoggedIn {
    const TYPE: &'static str = "UserLoggedIn";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.user_id.clone()
    }
}

/// A password was changed: the owner is told by e-mail (notifications).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChanged {
    pub user_id: String,
}

impl EventPayload for PasswordChanged {
    const TYPE: &'static str = "PasswordChanged";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.user_id.clone()
    }
}

/// A product was created or changed: its whole snapshot, on the compacted
/// `catalog` topic, keyed by product id so the last one per product stays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductUpserted {
    pub product: crate::catalog::ProductSnapshot,
    /// The product's vector, computed once per version by the control
    /// plane; absent when it could not be computed (the product is still
    /// found by text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<crate::catalog::ProductEmbedding>,
}

impl EventPayload for ProductUpserted {
    const TYPE: &'static str = "ProductUpserted";
    /// v2 added `embedding`.
    const VERSION: u16 = 2;

    fn key(&self) -> String {
        self.product.id.to_string()
    }
}

/// A product was deleted; `version` is above its last snapshot's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductDeleted {
    pub id: u64,
    pub version: u64,
}

impl EventPayload for ProductDeleted {
    const TYPE: &'static str = "ProductDeleted";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.id.to_string()
    }
}

/// A promotion was created or changed: its whole snapshot, on the compacted
/// `catalog` topic (so a new cell learns it in its rebuild), keyed
/// `promotion-<id>` apart from the products' numeric keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionUpserted {
    pub promotion: crate::promotions::PromotionSnapshot,
}

impl EventPayload for PromotionUpserted {
    const TYPE: &'static str = "PromotionUpserted";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        format!("promotion-{}", self.promotion.id)
    }
}

/// An order moved on after payment (`processing`, `shipped`, `delivered`),
/// on `<cell>.orders` keyed by order id; confirmation and cancellation have
/// their own events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderStatusChanged {
    pub order_id: String,
    pub cell: String,
    pub user_id: String,
    pub from: String,
    pub to: String,
    pub actor: String,
    pub reason: String,
    pub tracking_number: Option<String>,
}

impl EventPayload for OrderStatusChanged {
    const TYPE: &'static str = "OrderStatusChanged";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.order_id.clone()
    }
}

/// The control plane gave units to `cell` (`allocations` topic, keyed by cell
/// so a cell sees its grants and recalls in order). Every cell reads every
/// grant for its `unallocated` hints; only `cell` adds the units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockAllocated {
    pub cell: String,
    pub grants: Vec<StockGrant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockGrant {
    pub sku: String,
    pub quantity: u32,
    /// Units of the SKU left unallocated after this grant (the global hint).
    pub unallocated: u64,
}

impl EventPayload for StockAllocated {
    const TYPE: &'static str = "StockAllocated";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.cell.clone()
    }
}

/// The control plane asks `cell` to give back what it has not sold of `skus`,
/// or of everything when absent (a drained cell).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockRecalled {
    pub cell: String,
    pub skus: Option<Vec<String>>,
}

impl EventPayload for StockRecalled {
    const TYPE: &'static str = "StockRecalled";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.cell.clone()
    }
}

/// The unallocated stock of some SKUs changed without a grant (restock with
/// no cell to give to, adjustment, return): the hint every cell shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockHintUpdated {
    pub hints: Vec<StockHint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockHint {
    pub sku: String,
    pub unallocated: u64,
}

impl EventPayload for StockHintUpdated {
    const TYPE: &'static str = "StockHintUpdated";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.hints
            .first()
            .map(|hint| hint.sku.clone())
            .unwrap_or_default()
    }
}

/// A cell sold units from its share (`<cell>.inventory`, keyed by SKU).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockSold {
    pub sku: String,
    pub cell: String,
    pub quantity: u32,
    /// What the units were sold for (an order id).
    pub reference: String,
}

impl EventPayload for StockSold {
    const TYPE: &'static str = "StockSold";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.sku.clone()
    }
}

/// A sale was undone — its order cancelled after payment — and the units
/// went back into the cell's share (`<cell>.inventory`, keyed by SKU).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockUnsold {
    pub sku: String,
    pub cell: String,
    pub quantity: u32,
    /// The order whose sale was undone.
    pub reference: String,
}

impl EventPayload for StockUnsold {
    const TYPE: &'static str = "StockUnsold";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.sku.clone()
    }
}

/// A cell's share of `sku` ran low: it holds `held` and sold `demand` in the
/// last hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockTopUpRequested {
    pub sku: String,
    pub cell: String,
    pub held: u32,
    pub demand: u32,
}

impl EventPayload for StockTopUpRequested {
    const TYPE: &'static str = "StockTopUpRequested";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.sku.clone()
    }
}

/// A cell gave back unsold units after a recall (`<cell>.inventory`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockReturned {
    pub cell: String,
    pub items: Vec<StockCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockCount {
    pub sku: String,
    pub quantity: u32,
}

impl EventPayload for StockReturned {
    const TYPE: &'static str = "StockReturned";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.cell.clone()
    }
}

/// Products viewed in a cell since its last report (`<cell>.analytics`,
/// keyed by cell): what the control plane's trending list is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductsViewed {
    pub cell: String,
    pub views: Vec<ProductViews>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductViews {
    pub product_id: u64,
    pub count: u32,
}

impl EventPayload for ProductsViewed {
    const TYPE: &'static str = "ProductsViewed";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.cell.clone()
    }
}

/// The platform's trending products, most trending first (`trending`,
/// keyed `global`): each cell replaces its list with this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendingUpdated {
    pub items: Vec<TrendingItem>,
    /// RFC 3339.
    pub computed_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendingItem {
    pub product_id: u64,
    /// Views, each decayed by its age (half-life from the control plane's
    /// settings).
    pub score: f64,
}

impl EventPayload for TrendingUpdated {
    const TYPE: &'static str = "TrendingUpdated";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        "global".into()
    }
}

/// A shopper started paying: the order exists, its stock is reserved
/// (`<cell>.orders`, keyed by order id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderPlaced {
    pub order_id: String,
    pub cell: String,
    pub user_id: String,
    pub currency: String,
    pub total_minor: i64,
    pub lines: Vec<OrderLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    pub sku: String,
    pub quantity: u32,
    pub unit_price_minor: i64,
}

impl EventPayload for OrderPlaced {
    const TYPE: &'static str = "OrderPlaced";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.order_id.clone()
    }
}

/// The payment provider said the money moved; the stock is sold
/// (`<cell>.orders`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderConfirmed {
    pub order_id: String,
    pub cell: String,
    pub payment_intent: String,
    pub currency: String,
    pub total_minor: i64,
}

impl EventPayload for OrderConfirmed {
    const TYPE: &'static str = "OrderConfirmed";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.order_id.clone()
    }
}

/// An order will not go ahead; its reserved stock went back to the cell
/// (`<cell>.orders`). `refunded` when money had moved and was returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderCancelled {
    pub order_id: String,
    pub cell: String,
    pub reason: String,
    pub refunded: bool,
}

impl EventPayload for OrderCancelled {
    const TYPE: &'static str = "OrderCancelled";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.order_id.clone()
    }
}

/// Money went back to the shopper on a paid order without cancelling it (an
/// admin's partial or full refund), on `<cell>.orders` keyed by order id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRefunded {
    pub order_id: String,
    pub cell: String,
    pub refund_id: String,
    pub amount_minor: i64,
    pub currency: String,
    /// All refunds of the order so far, this one included.
    pub refunded_minor: i64,
    pub reason: String,
    pub actor: String,
}

impl EventPayload for OrderRefunded {
    const TYPE: &'static str = "OrderRefunded";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.order_id.clone()
    }
}

/// The control plane gave `cell` more uses of a promotion's global cap
/// (`allocations`, keyed by cell). `granted` is everything the cell has
/// been given of it so far, not the increment, so a redelivered or
/// reordered grant changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionCapGranted {
    pub promotion_id: u64,
    pub cell: String,
    pub granted: u64,
}

impl EventPayload for PromotionCapGranted {
    const TYPE: &'static str = "PromotionCapGranted";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        self.cell.clone()
    }
}

/// A cell's share of a promotion's cap ran low or out (`<cell>.inventory`,
/// keyed by promotion): it has used `used` of the `granted` it was given
/// (less what it gave back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionCapTopUpRequested {
    pub promotion_id: u64,
    pub cell: String,
    pub used: u64,
    pub granted: u64,
}

impl EventPayload for PromotionCapTopUpRequested {
    const TYPE: &'static str = "PromotionCapTopUpRequested";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        format!("promotion-{}", self.promotion_id)
    }
}

/// A recalled cell gave back the uses of a promotion's cap it had not
/// spent (`<cell>.inventory`). `returned` is everything it has given back
/// of this promotion so far, so a redelivery changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionCapReturned {
    pub promotion_id: u64,
    pub cell: String,
    pub returned: u64,
}

impl EventPayload for PromotionCapReturned {
    const TYPE: &'static str = "PromotionCapReturned";
    const VERSION: u16 = 1;

    fn key(&self) -> String {
        format!("promotion-{}", self.promotion_id)
    }
}
