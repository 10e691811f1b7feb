//! Search, autocomplete and recommendation bodies.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::catalog::ProductSummary;

/// How `GET /api/search` ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS, Default)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    /// BM25 over the product text, with typo tolerance.
    #[default]
    Text,
    /// Nearest product vectors to the query's embedding.
    Semantic,
    /// Both lists fused by reciprocal rank (k = 60).
    Hybrid,
}

/// One page of search results with the facet counts of the whole match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct SearchResults {
    pub query: String,
    pub mode: SearchMode,
    /// Products matching the query and every filter.
    pub total: u64,
    pub page: u32,
    pub limit: u32,
    pub items: Vec<SearchHit>,
    pub facets: Facets,
    /// True when no product held every word, so products holding some of
    /// them are shown.
    pub relaxed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct SearchHit {
    pub product: ProductSummary,
    pub score: f32,
    /// Matched words wrapped in `<b>…</b>`, the rest HTML-escaped; absent
    /// when the field held no matched word.
    pub highlights: Highlights,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct Highlights {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Counts for each facet. Values within a facet are alternatives (OR),
/// facets narrow each other (AND), and each facet is counted without its
/// own filter, so a shopper sees what else they could pick.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct Facets {
    pub brand: Vec<FacetCount>,
    pub category: Vec<FacetCount>,
    pub size: Vec<FacetCount>,
    pub colour: Vec<FacetCount>,
    /// Products rated at least `min`, for min 4, 3, 2, 1.
    pub rating: Vec<RatingCount>,
    pub price: Vec<PriceCount>,
    /// Products this cell can sell now.
    pub in_stock: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct FacetCount {
    /// The slug or value to filter by.
    pub value: String,
    /// What to show: the brand's or category's name, else the value.
    pub label: String,
    pub count: u64,
    pub selected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct RatingCount {
    pub min: u8,
    pub count: u64,
}

/// Products whose "from" price lies in `[min_minor, max_minor)`; the last
/// bucket has no upper bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct PriceCount {
    pub min_minor: i64,
    pub max_minor: Option<i64>,
    pub count: u64,
}

/// `GET /api/search/suggest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct Suggestions {
    pub query: String,
    pub items: Vec<Suggestion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionKind {
    Product,
    Brand,
    Category,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct Suggestion {
    pub kind: SuggestionKind,
    /// What to show.
    pub text: String,
    /// The product, brand or category slug to go to.
    pub slug: String,
}

/// Products picked for the shopper: similar, for you, trending, bought
/// together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct Recommendations {
    /// `similar`, `for_you`, `trending`, `bought_together`.
    pub kind: String,
    /// Where the list came from when it could not be personal: `trending`
    /// for a shopper without history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    pub items: Vec<ProductSummary>,
}
