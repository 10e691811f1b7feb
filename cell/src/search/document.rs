//! What the search index, the vector store and the shelf hold of a product,
//! read from the cell's read model: the product list's summary plus the text
//! fields, the category path, the product page's images, attributes and
//! variant prices, and the product vector that came with the catalog event.

use std::collections::{BTreeMap, HashMap};

use sqlx::{MySql, MySqlPool, QueryBuilder, Row};
use wire::catalog::{Image, Named, ProductDetail, ProductSummary, VariantView};

/// A variant's size, colour, price and this cell's stock of it.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantDoc {
    pub sku: String,
    pub size: String,
    pub colour: String,
    pub price_minor: i64,
    pub currency: String,
    pub compare_at_minor: Option<i64>,
    /// `cell_stock.held` (0 without a row).
    pub held: u32,
    /// `cell_stock.global_hint` (0 without a row).
    pub hint: u64,
}

/// One listed product, as indexed.
#[derive(Debug, Clone)]
pub struct ProductDoc {
    pub summary: ProductSummary,
    /// The catalog version the read model holds.
    pub version: u64,
    pub description: String,
    pub tags: Vec<String>,
    /// From the top-level category down to the product's own.
    pub categories: Vec<Named>,
    /// Its variants, in position order, with this cell's stock of each.
    pub variants: Vec<VariantDoc>,
    /// Every image, in order (the summary carries the first).
    pub images: Vec<Image>,
    pub attributes: BTreeMap<String, String>,
    pub embedding: Option<Vec<f32>>,
}

impl ProductDoc {
    /// The product page, each variant's availability left as out of stock
    /// for the reader to fill in from the stock it reads.
    pub fn detail(&self) -> ProductDetail {
        let s = &self.summary;
        ProductDetail {
            id: s.id,
            version: self.version,
            slug: s.slug.clone(),
            title: s.title.clone(),
            description: self.description.clone(),
            brand: s.brand.clone(),
            categories: self.categories.clone(),
            tags: self.tags.clone(),
            images: self.images.clone(),
            attributes: self.attributes.clone(),
            rating: s.rating,
            variants: self
                .variants
                .iter()
                .map(|v| VariantView {
                    sku: v.sku.clone(),
                    size: v.size.clone(),
                    colour: v.colour.clone(),
                    price_minor: v.price_minor,
                    currency: v.currency.clone(),
                    compare_at_minor: v.compare_at_minor,
                    availability: crate::stock::availability(0, 0, 0),
                })
                .collect(),
        }
    }
}

const SELECT: &str = "SELECT p.id, p.version, p.slug, p.title, p.description, p.brand_slug, p.brand_name, \
     p.category_slug, p.category_name, CAST(p.categories AS CHAR) AS categories, \
     CAST(p.tags AS CHAR) AS tags, p.min_price, p.currency, p.compare_at, \
     CAST(p.images AS CHAR) AS images, p.rating_avg, p.rating_count, \
     CAST(p.colours AS CHAR) AS colours, CAST(p.sizes AS CHAR) AS sizes, \
     CAST(p.attributes AS CHAR) AS attributes, \
     EXISTS (SELECT 1 FROM catalog_variants sv JOIN cell_stock s ON s.sku = sv.sku \
             WHERE sv.product_id = p.id AND (s.held > 0 OR s.global_hint > 0)) AS in_stock, \
     e.vector \
     FROM catalog_products p LEFT JOIN catalog_embeddings e ON e.product_id = p.id \
     WHERE p.listed = TRUE AND p.slug IS NOT NULL";

/// The listed products among `ids` (the others are gone or unlisted).
pub async fn load(pool: &MySqlPool, ids: &[u64]) -> anyhow::Result<Vec<ProductDoc>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<MySql>::new(SELECT);
    q.push(" AND p.id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
    rows(q, pool).await
}

/// Up to `limit` listed products with ids above `after`, in id order: the
/// rebuild's pages.
pub async fn page(pool: &MySqlPool, after: u64, limit: u32) -> anyhow::Result<Vec<ProductDoc>> {
    let mut q = QueryBuilder::<MySql>::new(SELECT);
    q.push(" AND p.id > ")
        .push_bind(after)
        .push(" ORDER BY p.id LIMIT ")
        .push_bind(limit);
    rows(q, pool).await
}

/// The products owning `skus`.
pub async fn products_of_skus(pool: &MySqlPool, skus: &[String]) -> anyhow::Result<Vec<u64>> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<MySql>::new(
        "SELECT DISTINCT product_id FROM catalog_variants WHERE sku IN (",
    );
    let mut list = q.separated(", ");
    for sku in skus {
        list.push_bind(sku.as_str());
    }
    q.push(")");
    let rows = q.build().fetch_all(pool).await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get::<u64, _>(0))
        .collect::<Result<_, _>>()?)
}

async fn rows(mut q: QueryBuilder<MySql>, pool: &MySqlPool) -> anyhow::Result<Vec<ProductDoc>> {
    let rows = q.build().fetch_all(pool).await?;
    let mut ids = Vec::with_capacity(rows.len());
    for row in &rows {
        ids.push(row.try_get::<u64, _>("id")?);
    }
    let mut variants = variants_of(pool, &ids).await?;
    let mut docs = Vec::with_capacity(rows.len());
    for (row, id) in rows.iter().zip(&ids) {
        let vector: Option<Vec<u8>> = row.try_get("vector")?;
        docs.push(ProductDoc {
            summary: crate::catalog::summary_of(row)?,
            version: row.try_get("version")?,
            description: row.try_get("description")?,
            tags: serde_json::from_str(row.try_get::<&str, _>("tags")?)?,
            categories: serde_json::from_str(row.try_get::<&str, _>("categories")?)?,
            variants: variants.remove(id).unwrap_or_default(),
            images: serde_json::from_str(row.try_get::<&str, _>("images")?)?,
            attributes: serde_json::from_str(row.try_get::<&str, _>("attributes")?)?,
            embedding: vector.and_then(|bytes| embeddings::from_le_bytes(&bytes)),
        });
    }
    Ok(docs)
}

/// Each product's variants, in position order, with their prices and this
/// cell's stock.
async fn variants_of(
    pool: &MySqlPool,
    ids: &[u64],
) -> anyhow::Result<HashMap<u64, Vec<VariantDoc>>> {
    let mut by_product: HashMap<u64, Vec<VariantDoc>> = HashMap::new();
    if ids.is_empty() {
        return Ok(by_product);
    }
    let mut q = QueryBuilder::<MySql>::new(
        "SELECT v.product_id, v.sku, v.size, v.colour, v.price_minor, v.currency, \
         v.compare_at_minor, s.held, s.global_hint \
         FROM catalog_variants v LEFT JOIN cell_stock s ON s.sku = v.sku WHERE v.product_id IN (",
    );
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(") ORDER BY v.product_id, v.position");
    for row in q.build().fetch_all(pool).await? {
        by_product
            .entry(row.try_get("product_id")?)
            .or_default()
            .push(VariantDoc {
                sku: row.try_get("sku")?,
                size: row.try_get("size")?,
                colour: row.try_get("colour")?,
                price_minor: row.try_get("price_minor")?,
                currency: row.try_get("currency")?,
                compare_at_minor: row.try_get("compare_at_minor")?,
                held: row.try_get::<Option<u32>, _>("held")?.unwrap_or(0),
                hint: row.try_get::<Option<u64>, _>("global_hint")?.unwrap_or(0),
            });
    }
    Ok(by_product)
}

/// A product for tests: in `category` under "clothing", one variant per
/// (size, colour) with one unit here; even ids in stock.
#[cfg(test)]
pub(crate) fn sample(
    id: u64,
    category: &str,
    price: i64,
    title: &str,
    variants: &[(&str, &str)],
) -> ProductDoc {
    let named = |slug: &str| Named {
        slug: slug.into(),
        name: slug.into(),
    };
    ProductDoc {
        version: 1,
        images: Vec::new(),
        attributes: Default::default(),
        summary: ProductSummary {
            id,
            slug: format!("p-{id}"),
            title: title.into(),
            brand: named("acme"),
            category: named(category),
            price_minor: price,
            currency: "GBP".into(),
            compare_at_minor: None,
            image: None,
            rating: wire::catalog::Rating {
                average: (id % 3) as f32,
                count: 1,
            },
            colours: Vec::new(),
            sizes: Vec::new(),
            in_stock: id.is_multiple_of(2),
        },
        description: String::new(),
        tags: Vec::new(),
        categories: vec![named("clothing"), named(category)],
        variants: variants
            .iter()
            .enumerate()
            .map(|(i, (size, colour))| VariantDoc {
                sku: format!("P{id}-{i}"),
                size: (*size).to_owned(),
                colour: (*colour).to_owned(),
                price_minor: price,
                currency: "GBP".into(),
                compare_at_minor: None,
                held: 1,
                hint: 0,
            })
            .collect(),
        embedding: None,
    }
}
