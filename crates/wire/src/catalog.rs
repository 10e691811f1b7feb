//! The catalog: what an admin writes to the control plane (`/admin/api/*`),
//! the snapshot the `catalog` topic carries to the cells, and what a shopper
//! reads from a cell (`/api/products`, `/api/categories`, `/api/brands`).
//!
//! Prices are integers in minor units (pence, cents) with an ISO 4217 code;
//! no float ever carries money.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

// ---- admin input (control plane) -------------------------------------------

/// A product as an admin writes it: created, replaced, or one row of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    /// Lower-case words joined by `-`, unique: the product's address in the shop.
    #[schema(example = "oxford-shirt-white")]
    pub slug: String,
    #[schema(example = "Oxford shirt")]
    pub title: String,
    pub description: String,
    /// A brand's slug (the brand must exist).
    #[schema(example = "harbour-and-finch")]
    pub brand: String,
    /// A category's slug (the category must exist).
    #[schema(example = "shirts")]
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// In display order.
    #[serde(default)]
    pub images: Vec<ImageInput>,
    /// Free attributes shown on the product page (`material`, `fit`, …).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub published: bool,
    /// At least one; each size × colour once.
    pub variants: Vec<VariantInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ImageInput {
    pub url: String,
    /// Describes the picture for screen readers; required.
    pub alt: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct VariantInput {
    /// Upper-case letters, digits and `-`, unique across the catalog.
    #[schema(example = "OXF-WHT-M")]
    pub sku: String,
    #[schema(example = "M")]
    pub size: String,
    #[schema(example = "white")]
    pub colour: String,
    /// Minor units: 4500 is 45.00.
    #[schema(example = 4500)]
    pub price_minor: i64,
    #[schema(example = "GBP")]
    pub currency: String,
    /// The former price shown struck through; above `price_minor` when set.
    #[serde(default)]
    pub compare_at_minor: Option<i64>,
    /// Units on hand to record when the SKU is new (create, import); ignored
    /// for an SKU that exists: restock or adjust that one.
    #[serde(default)]
    pub stock: Option<u64>,
}

/// A product replaced whole: the input and the version it was read at, so two
/// admins editing at once cannot overwrite each other unseen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ProductUpdate {
    pub expected_version: u64,
    #[serde(flatten)]
    pub product: ProductInput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct PriceChange {
    pub price_minor: i64,
    #[serde(default)]
    pub compare_at_minor: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct BrandInput {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub slug: String,
    pub name: String,
    /// The parent category's slug; none for a top-level category.
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub position: u32,
}

// ---- admin output (control plane) ------------------------------------------

/// A brand, or a category in a product's path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct Named {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct Category {
    pub slug: String,
    pub name: String,
    pub parent: Option<String>,
    pub position: u32,
}

/// A product as the control plane holds it (and as the `catalog` topic
/// carries it: [`ProductUpserted`](crate::events::ProductUpserted)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ProductSnapshot {
    pub id: u64,
    /// Bumped by every change; a cell ignores a snapshot older than its own.
    pub version: u64,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub brand: Named,
    /// From the top-level category down to the product's own.
    pub categories: Vec<Named>,
    pub tags: Vec<String>,
    pub images: Vec<Image>,
    pub attributes: BTreeMap<String, String>,
    pub published: bool,
    pub rating: Rating,
    pub variants: Vec<Variant>,
    /// RFC 3339.
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct Image {
    pub url: String,
    pub alt: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub sku: String,
    pub size: String,
    pub colour: String,
    pub price_minor: i64,
    pub currency: String,
    pub compare_at_minor: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema, TS, Default)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    /// 0–5, two decimals; 0 with no reviews.
    pub average: f32,
    pub count: u32,
}

/// A page of the admin's product list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct AdminProductPage {
    pub items: Vec<ProductSnapshot>,
    pub next_cursor: Option<String>,
}

// ---- bulk import -----------------------------------------------------------

/// Where an import stands; polled at `/admin/api/imports/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct ImportJob {
    pub id: String,
    /// `running`, `finished` or `failed` (the file could not be read at all).
    pub state: String,
    /// Products (not lines) in the file.
    pub total: u64,
    pub processed: u64,
    pub created: u64,
    pub updated: u64,
    /// Products that already held exactly what the row says: left alone.
    pub unchanged: u64,
    pub failed: u64,
    /// The first 1,000 rejected rows, each with why.
    pub errors: Vec<ImportRowError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct ImportRowError {
    /// 1-based: the line of a CSV file (the header is line 1), the index + 1 of a
    /// JSON array.
    pub row: u64,
    pub slug: Option<String>,
    pub code: String,
    pub message: String,
}

// ---- shop (cells) ----------------------------------------------------------

/// One product in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct ProductSummary {
    pub id: u64,
    pub slug: String,
    pub title: String,
    pub brand: Named,
    /// The product's own (deepest) category.
    pub category: Named,
    /// The lowest price of its variants.
    pub price_minor: i64,
    pub currency: String,
    pub compare_at_minor: Option<i64>,
    pub image: Option<Image>,
    pub rating: Rating,
    pub colours: Vec<String>,
    pub sizes: Vec<String>,
    pub in_stock: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct ProductPage {
    pub items: Vec<ProductSummary>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A product page: everything about one product, each variant with its
/// availability in this cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct ProductDetail {
    pub id: u64,
    pub version: u64,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub brand: Named,
    pub categories: Vec<Named>,
    pub tags: Vec<String>,
    pub images: Vec<Image>,
    pub attributes: BTreeMap<String, String>,
    pub rating: Rating,
    pub variants: Vec<VariantView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct VariantView {
    pub sku: String,
    pub size: String,
    pub colour: String,
    pub price_minor: i64,
    pub currency: String,
    pub compare_at_minor: Option<i64>,
    pub availability: Availability,
}

/// What a shopper is told about stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct Availability {
    /// `in_stock`, `low_stock` (a few left) or `out_of_stock`.
    pub status: String,
    /// Units this cell can sell now, from its share.
    pub quantity: u32,
    /// Units not yet given to any cell, as last heard from the control plane:
    /// more can come when this cell's share runs out.
    pub global_hint: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CategoryNode {
    pub slug: String,
    pub name: String,
    pub parent: Option<String>,
    /// Published products in it and under it.
    pub products: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct BrandCount {
    pub slug: String,
    pub name: String,
    pub products: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CategoryList {
    pub items: Vec<CategoryNode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct BrandList {
    pub items: Vec<BrandCount>,
}

// ---- stock (control plane) -------------------------------------------------

/// The control plane's ledger of one SKU: `allocated + unallocated + sold =
/// on_hand`, always.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct StockLedger {
    pub sku: String,
    pub on_hand: u64,
    pub unallocated: u64,
    pub allocated: u64,
    pub sold: u64,
    pub cells: Vec<CellShare>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CellShare {
    pub cell: String,
    /// Given to the cell and not yet reported sold or returned.
    pub allocated: u64,
    pub sold: u64,
}

/// New units arrived (`quantity` > 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct Restock {
    pub quantity: u64,
}

/// A count correction: `delta` units found (+) or lost (−); a loss comes out
/// of unallocated stock only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct StockAdjustment {
    pub delta: i64,
    pub reason: String,
}

/// A product's vector as it travels in `ProductUpserted`: the model's name
/// and base64 of its little-endian `f32`s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductEmbedding {
    pub model: String,
    pub vector: String,
}

/// A cell's read model, as `GET /internal/catalog/status` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CatalogStatus {
    /// Products listed (published, not deleted).
    pub listed_products: u64,
}
