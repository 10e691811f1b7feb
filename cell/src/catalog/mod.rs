//! The cell's read model of the global catalog (DESIGN.md §2, §5): applied
//! from the `catalog` topic (`apply`), read through a read-only pool and a
//! two-level cache (`cache`), listed with filters and keyset pagination
//! (`query`), served under `/api/products`, `/api/categories`, `/api/brands`
//! (`routes`). Browsing never leaves the cell.

pub mod apply;
pub mod cache;
pub mod query;
pub mod routes;
pub mod shelf;

use std::collections::BTreeMap;

use axum::Router;
use axum::routing::get;

use sqlx::types::Json;
use sqlx::{MySqlPool, Row};
use wire::catalog::{
    BrandCount, BrandList, CategoryList, CategoryNode, Image, Named, ProductDetail, ProductPage,
    ProductSummary, Rating, VariantView,
};

use crate::search::activity::Activity;
use crate::stock;
use cache::Cache;
use query::{Cursor, List, Sort};
use shelf::Shelf;

pub fn router(products: Products) -> Router {
    Router::new()
        .route("/api/products", get(routes::list))
        .route("/api/products/{slug}", get(routes::detail))
        .route("/api/categories", get(routes::categories))
        .route("/api/brands", get(routes::brands))
        .route("/internal/catalog/status", get(routes::status))
        .with_state(products)
}

#[derive(Debug, thiserror::Error)]
pub enum ProductsError {
    #[error("{0}")]
    InvalidQuery(String),
    #[error("The cursor is not one this list gave out (or belongs to another sort).")]
    InvalidCursor,
    #[error("No product has this address.")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ProductsError {
    fn from(error: sqlx::Error) -> Self {
        ProductsError::Unexpected(error.into())
    }
}

impl From<serde_json::Error> for ProductsError {
    fn from(error: serde_json::Error) -> Self {
        ProductsError::Unexpected(error.into())
    }
}

/// A list item from a row of `catalog_products` with the list's columns
/// (`images`, `colours`, `sizes` cast to text, `in_stock` computed).
pub fn summary_of(row: &sqlx::mysql::MySqlRow) -> Result<ProductSummary, ProductsError> {
    let images: Vec<Image> = serde_json::from_str(row.try_get::<&str, _>("images")?)?;
    Ok(ProductSummary {
        id: row.try_get("id")?,
        slug: row
            .try_get::<Option<String>, _>("slug")?
            .unwrap_or_default(),
        title: row.try_get("title")?,
        brand: Named {
            slug: row.try_get("brand_slug")?,
            name: row.try_get("brand_name")?,
        },
        category: Named {
            slug: row.try_get("category_slug")?,
            name: row.try_get("category_name")?,
        },
        price_minor: row.try_get("min_price")?,
        currency: row.try_get("currency")?,
        compare_at_minor: row.try_get("compare_at")?,
        image: images.into_iter().next(),
        rating: Rating {
            average: row.try_get("rating_avg")?,
            count: row.try_get("rating_count")?,
        },
        colours: serde_json::from_str(row.try_get::<&str, _>("colours")?)?,
        sizes: serde_json::from_str(row.try_get::<&str, _>("sizes")?)?,
        in_stock: row.try_get::<i64, _>("in_stock")? != 0,
    })
}

/// Where the page after the one ending at `last` starts, when `more` follow.
fn next_cursor(list: &List, more: bool, last: Option<&ProductSummary>) -> Option<String> {
    let last = last.filter(|_| more)?;
    Some(
        Cursor {
            s: list.sort,
            v: match list.sort {
                Sort::Newest => serde_json::Value::Null,
                Sort::PriceAsc | Sort::PriceDesc => last.price_minor.into(),
                Sort::Rating => last.rating.average.into(),
                Sort::Title => last.title.clone().into(),
            },
            i: last.id,
        }
        .encode(),
    )
}

/// How old the availability on a product page may be: a popular page reads
/// the cell's stock once a second, not once a view. Checkout checks the
/// share itself.
const AVAILABILITY_FRESH: std::time::Duration = std::time::Duration::from_secs(1);

type Levels = std::sync::Arc<std::collections::HashMap<String, (u32, u64)>>;

/// Reads of the catalog.
#[derive(Clone)]
pub struct Products {
    read: MySqlPool,
    cache: Cache,
    low_stock: u32,
    /// Stock levels by product id, for [`AVAILABILITY_FRESH`].
    levels: moka::sync::Cache<u64, Levels>,
    /// Where product views go, for recommendations.
    activity: Option<Activity>,
    /// The list and product pages in memory, when the indexer keeps them.
    shelf: Option<Shelf>,
    /// Lists and product pages answered, by what answered them (`shelf` or
    /// `database`).
    answered: Option<Answered>,
}

#[derive(Clone)]
struct Answered {
    lists: prometheus::IntCounterVec,
    pages: prometheus::IntCounterVec,
}

impl std::fmt::Debug for Products {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Products")
            .field("cache", &self.cache)
            .finish()
    }
}

impl Products {
    pub fn new(read: MySqlPool, cache: Cache, low_stock: u32) -> Self {
        Self {
            read,
            cache,
            low_stock,
            levels: moka::sync::Cache::builder()
                .max_capacity(50_000)
                .time_to_live(AVAILABILITY_FRESH)
                .build(),
            activity: None,
            shelf: None,
            answered: None,
        }
    }

    /// Answers lists and product pages from `shelf` whenever it is up to
    /// date, counting on `registry` which answered.
    pub fn with_shelf(
        mut self,
        shelf: Shelf,
        registry: &prometheus::Registry,
    ) -> Result<Self, prometheus::Error> {
        let counter = |name: &str, what: &str| -> Result<_, prometheus::Error> {
            let counter = prometheus::IntCounterVec::new(
                prometheus::Opts::new(
                    name,
                    format!(
                        "{what} answered, by what answered them: the shelf in memory or the read model"
                    ),
                ),
                &["answered_by"],
            )?;
            registry.register(Box::new(counter.clone()))?;
            Ok(counter)
        };
        self.answered = Some(Answered {
            lists: counter("catalog_lists_total", "Product list pages")?,
            pages: counter("catalog_product_pages_total", "Product pages")?,
        });
        self.shelf = Some(shelf);
        Ok(self)
    }

    /// Records product views in `activity`.
    pub fn with_activity(mut self, activity: Activity) -> Self {
        self.activity = Some(activity);
        self
    }

    /// Notes a view of product `id` by `shopper` (never waits).
    pub fn viewed(&self, shopper: &str, id: u64) {
        if let Some(activity) = &self.activity {
            activity.viewed(shopper, id);
        }
    }

    fn counted(&self, what: impl Fn(&Answered) -> &prometheus::IntCounterVec, answered_by: &str) {
        if let Some(answered) = &self.answered {
            what(answered).with_label_values(&[answered_by]).inc();
        }
    }

    /// A page of the list, as JSON bytes: from the shelf when it is up to
    /// date, else from the read model (cached).
    pub async fn list(&self, list: &List) -> Result<Vec<u8>, ProductsError> {
        if let Some(shelf) = &self.shelf {
            let generation = self.cache.generation().await;
            if let Some(page) = shelf.page(list, generation)? {
                self.counted(|a| &a.lists, "shelf");
                return Ok(page);
            }
        }
        self.counted(|a| &a.lists, "database");
        let bytes = self
            .cache
            .get_or_load(&list.cache_key(), async || {
                let page = self.list_uncached(list).await?;
                Ok::<_, ProductsError>(serde_json::to_vec(&page)?)
            })
            .await?;
        Ok(bytes.to_vec())
    }

    pub async fn list_uncached(&self, list: &List) -> Result<ProductPage, ProductsError> {
        let rows = list.sql().build().fetch_all(&self.read).await?;
        let more = rows.len() > list.limit as usize;
        let mut items = Vec::with_capacity(rows.len().min(list.limit as usize));
        for row in rows.iter().take(list.limit as usize) {
            items.push(summary_of(row)?);
        }
        let next_cursor = next_cursor(list, more, items.last());
        Ok(ProductPage { items, next_cursor })
    }

    /// How many products the read model lists (published, not deleted).
    pub async fn listed(&self) -> Result<u64, sqlx::Error> {
        let listed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM catalog_products WHERE listed")
            .fetch_one(&self.read)
            .await?;
        Ok(u64::try_from(listed).unwrap_or(0))
    }

    /// The product page with each variant's availability in this cell:
    /// from the shelf when it is up to date, else the product from the read
    /// model (cached) with the stock read at most [`AVAILABILITY_FRESH`]
    /// ago.
    pub async fn detail(&self, slug: &str) -> Result<ProductDetail, ProductsError> {
        if slug.is_empty() || slug.len() > 120 {
            return Err(ProductsError::NotFound);
        }
        if let Some(shelf) = &self.shelf
            && let Some(found) = shelf.product(slug, self.cache.generation().await)
        {
            self.counted(|a| &a.pages, "shelf");
            let (mut product, held) = found.ok_or(ProductsError::NotFound)?;
            for variant in &mut product.variants {
                let (quantity, hint) = held.of(&variant.sku);
                variant.availability = stock::availability(quantity, hint, self.low_stock);
            }
            return Ok(product);
        }
        self.counted(|a| &a.pages, "database");
        let bytes = self
            .cache
            .get_or_load(&format!("product:{slug}"), async || {
                let product = self.detail_uncached(slug).await?;
                Ok::<_, ProductsError>(serde_json::to_vec(&product)?)
            })
            .await?;
        let mut product: Option<ProductDetail> = serde_json::from_slice(&bytes)?;
        let product = product.as_mut().ok_or(ProductsError::NotFound)?;
        let stock = match self.levels.get(&product.id) {
            Some(levels) => levels,
            None => {
                let skus: Vec<&str> = product.variants.iter().map(|v| v.sku.as_str()).collect();
                let levels = Levels::new(stock::levels(&self.read, &skus).await?);
                self.levels.insert(product.id, levels.clone());
                levels
            }
        };
        for variant in &mut product.variants {
            let (held, hint) = stock.get(&variant.sku).copied().unwrap_or((0, 0));
            variant.availability = stock::availability(held, hint, self.low_stock);
        }
        Ok(product.clone())
    }

    /// The product without availability; `None` (cached too) when unknown.
    async fn detail_uncached(&self, slug: &str) -> Result<Option<ProductDetail>, ProductsError> {
        let Some(p) = sqlx::query!(
            r#"SELECT id, version, slug AS "slug?: String", title, description, brand_slug, brand_name,
                      categories AS "categories: Json<Vec<Named>>",
                      tags AS "tags: Json<Vec<String>>",
                      images AS "images: Json<Vec<Image>>",
                      attributes AS "attributes: Json<BTreeMap<String, String>>",
                      rating_avg, rating_count
               FROM catalog_products WHERE slug = ? AND listed = TRUE"#,
            slug
        )
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let variants = sqlx::query!(
            "SELECT sku, size, colour, price_minor, currency, compare_at_minor FROM catalog_variants WHERE product_id = ? ORDER BY position",
            p.id
        )
        .fetch_all(&self.read)
        .await?;
        Ok(Some(ProductDetail {
            id: p.id,
            version: p.version,
            slug: p.slug.unwrap_or_default(),
            title: p.title,
            description: p.description,
            brand: Named {
                slug: p.brand_slug,
                name: p.brand_name,
            },
            categories: p.categories.0,
            tags: p.tags.0,
            images: p.images.0,
            attributes: p.attributes.0,
            rating: Rating {
                average: p.rating_avg,
                count: p.rating_count,
            },
            variants: variants
                .into_iter()
                .map(|v| VariantView {
                    sku: v.sku,
                    size: v.size,
                    colour: v.colour,
                    price_minor: v.price_minor,
                    currency: v.currency,
                    compare_at_minor: v.compare_at_minor,
                    availability: stock::availability(0, 0, 0),
                })
                .collect(),
        }))
    }

    pub async fn categories(&self) -> Result<Vec<u8>, ProductsError> {
        let bytes = self
            .cache
            .get_or_load("categories", async || {
                let rows = sqlx::query!(
                    r#"SELECT c.slug, c.name, c.parent_slug AS "parent_slug?: String",
                              COUNT(p.id) AS "products!: i64"
                       FROM catalog_categories c
                       LEFT JOIN catalog_product_categories pc ON pc.category_slug = c.slug
                       LEFT JOIN catalog_products p ON p.id = pc.product_id AND p.listed = TRUE
                       GROUP BY c.slug, c.name, c.parent_slug
                       ORDER BY c.parent_slug IS NOT NULL, c.parent_slug, c.name"#
                )
                .fetch_all(&self.read)
                .await?;
                let list = CategoryList {
                    items: rows
                        .into_iter()
                        .map(|r| CategoryNode {
                            slug: r.slug,
                            name: r.name,
                            parent: r.parent_slug,
                            products: u64::try_from(r.products).unwrap_or(0),
                        })
                        .collect(),
                };
                Ok::<_, ProductsError>(serde_json::to_vec(&list)?)
            })
            .await?;
        Ok(bytes.to_vec())
    }

    pub async fn brands(&self) -> Result<Vec<u8>, ProductsError> {
        let bytes = self
            .cache
            .get_or_load("brands", async || {
                let rows = sqlx::query!(
                    r#"SELECT brand_slug, brand_name, COUNT(*) AS "products!: i64"
                       FROM catalog_products WHERE listed = TRUE
                       GROUP BY brand_slug, brand_name ORDER BY brand_name"#
                )
                .fetch_all(&self.read)
                .await?;
                let list = BrandList {
                    items: rows
                        .into_iter()
                        .map(|r| BrandCount {
                            slug: r.brand_slug,
                            name: r.brand_name,
                            products: u64::try_from(r.products).unwrap_or(0),
                        })
                        .collect(),
                };
                Ok::<_, ProductsError>(serde_json::to_vec(&list)?)
            })
            .await?;
        Ok(bytes.to_vec())
    }
}
