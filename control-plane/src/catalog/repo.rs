//! The catalog tables. Single-row statements are checked against the schema
//! at compile time; the few that take a list build their `IN (…)` with
//! `QueryBuilder`, binding every value.

use std::collections::HashSet;

use sqlx::mysql::MySqlConnection;
use sqlx::{MySql, QueryBuilder, Row};
use wire::catalog::{
    ImageInput, Named, ProductInput, ProductSnapshot, Rating, Variant, VariantInput,
};

use super::Refs;

pub struct BrandRow {
    pub id: u64,
    pub slug: String,
    pub name: String,
}

pub struct CategoryRow {
    pub id: u64,
    pub slug: String,
    pub name: String,
    pub parent_id: Option<u64>,
    pub position: u32,
}

/// What a write needs of the stored product it changes.
pub struct ProductHead {
    pub id: u64,
    pub version: u64,
    pub rating: Rating,
}

pub async fn brands(conn: &mut MySqlConnection) -> Result<Vec<BrandRow>, sqlx::Error> {
    sqlx::query_as!(BrandRow, "SELECT id, slug, name FROM brands ORDER BY name")
        .fetch_all(conn)
        .await
}

pub async fn categories(conn: &mut MySqlConnection) -> Result<Vec<CategoryRow>, sqlx::Error> {
    sqlx::query_as!(
        CategoryRow,
        "SELECT id, slug, name, parent_id, position FROM categories ORDER BY position, name"
    )
    .fetch_all(conn)
    .await
}

pub async fn insert_brand(
    conn: &mut MySqlConnection,
    slug: &str,
    name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!("INSERT INTO brands (slug, name) VALUES (?, ?)", slug, name)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn category_id(
    conn: &mut MySqlConnection,
    slug: &str,
) -> Result<Option<u64>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM categories WHERE slug = ?", slug)
        .fetch_optional(conn)
        .await
}

pub async fn insert_category(
    conn: &mut MySqlConnection,
    slug: &str,
    name: &str,
    parent_id: Option<u64>,
    position: u32,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO categories (slug, name, parent_id, position) VALUES (?, ?, ?, ?)",
        slug,
        name,
        parent_id,
        position
    )
    .execute(conn)
    .await?;
    Ok(())
}

struct HeadRow {
    id: u64,
    version: u64,
    rating_avg: f32,
    rating_count: u32,
}

impl From<HeadRow> for ProductHead {
    fn from(r: HeadRow) -> Self {
        ProductHead {
            id: r.id,
            version: r.version,
            rating: Rating {
                average: r.rating_avg,
                count: r.rating_count,
            },
        }
    }
}

pub async fn lock_product(
    conn: &mut MySqlConnection,
    id: u64,
) -> Result<Option<ProductHead>, sqlx::Error> {
    let row = sqlx::query_as!(
        HeadRow,
        "SELECT id, version, rating_avg, rating_count FROM products WHERE id = ? FOR UPDATE",
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(ProductHead::from))
}

pub async fn lock_product_by_slug(
    conn: &mut MySqlConnection,
    slug: &str,
) -> Result<Option<ProductHead>, sqlx::Error> {
    let row = sqlx::query_as!(
        HeadRow,
        "SELECT id, version, rating_avg, rating_count FROM products WHERE slug = ? FOR UPDATE",
        slug
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(ProductHead::from))
}

/// `(sku, product id)` of the listed SKUs that exist.
pub async fn sku_owners(
    conn: &mut MySqlConnection,
    skus: &[&str],
) -> Result<Vec<(String, u64)>, sqlx::Error> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let mut query =
        QueryBuilder::<MySql>::new("SELECT sku, product_id FROM variants WHERE sku IN (");
    let mut list = query.separated(", ");
    for sku in skus {
        list.push_bind(*sku);
    }
    query.push(")");
    let rows = query.build().fetch_all(conn).await?;
    rows.iter()
        .map(|row| Ok((row.try_get("sku")?, row.try_get("product_id")?)))
        .collect()
}

pub async fn skus_in_ledger(
    conn: &mut MySqlConnection,
    skus: &[&str],
) -> Result<HashSet<String>, sqlx::Error> {
    if skus.is_empty() {
        return Ok(HashSet::new());
    }
    let mut query = QueryBuilder::<MySql>::new("SELECT sku FROM stock_ledger WHERE sku IN (");
    let mut list = query.separated(", ");
    for sku in skus {
        list.push_bind(*sku);
    }
    query.push(")");
    let rows = query.build().fetch_all(conn).await?;
    rows.iter().map(|row| row.try_get("sku")).collect()
}

fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

fn tags(input: &ProductInput) -> String {
    json_text(
        &input
            .tags
            .iter()
            .map(|t| t.trim().to_lowercase())
            .collect::<Vec<_>>(),
    )
}

pub async fn insert_product(
    conn: &mut MySqlConnection,
    brand_id: u64,
    category_id: u64,
    input: &ProductInput,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "INSERT INTO products (slug, version, title, description, brand_id, category_id, tags, attributes, published) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)",
        input.slug,
        input.title.trim(),
        input.description.trim(),
        brand_id,
        category_id,
        tags(input),
        json_text(&input.attributes),
        input.published
    )
    .execute(conn)
    .await?;
    Ok(done.last_insert_id())
}

pub async fn update_product(
    conn: &mut MySqlConnection,
    id: u64,
    brand_id: u64,
    category_id: u64,
    input: &ProductInput,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE products SET slug = ?, version = version + 1, title = ?, description = ?, brand_id = ?, category_id = ?, tags = ?, attributes = ?, published = ?, updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
        input.slug,
        input.title.trim(),
        input.description.trim(),
        brand_id,
        category_id,
        tags(input),
        json_text(&input.attributes),
        input.published,
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn replace_images(
    conn: &mut MySqlConnection,
    id: u64,
    images: &[ImageInput],
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM product_images WHERE product_id = ?", id)
        .execute(&mut *conn)
        .await?;
    if images.is_empty() {
        return Ok(());
    }
    let mut query =
        QueryBuilder::<MySql>::new("INSERT INTO product_images (product_id, position, url, alt) ");
    query.push_values(images.iter().enumerate(), |mut row, (position, image)| {
        row.push_bind(id)
            .push_bind(position as u32)
            .push_bind(image.url.trim())
            .push_bind(image.alt.trim());
    });
    query.build().execute(conn).await?;
    Ok(())
}

pub async fn replace_variants(
    conn: &mut MySqlConnection,
    id: u64,
    variants: &[VariantInput],
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM variants WHERE product_id = ?", id)
        .execute(&mut *conn)
        .await?;
    let mut query = QueryBuilder::<MySql>::new(
        "INSERT INTO variants (sku, product_id, position, size, colour, price_minor, currency, compare_at_minor) ",
    );
    query.push_values(variants.iter().enumerate(), |mut row, (position, v)| {
        row.push_bind(v.sku.as_str())
            .push_bind(id)
            .push_bind(position as u32)
            .push_bind(v.size.trim())
            .push_bind(v.colour.trim().to_lowercase())
            .push_bind(v.price_minor)
            .push_bind(v.currency.as_str())
            .push_bind(v.compare_at_minor);
    });
    query.build().execute(conn).await?;
    Ok(())
}

pub async fn delete_product(conn: &mut MySqlConnection, id: u64) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM products WHERE id = ?", id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_published(
    conn: &mut MySqlConnection,
    id: u64,
    published: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE products SET published = ?, version = version + 1, updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
        published,
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn bump_version(conn: &mut MySqlConnection, id: u64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE products SET version = version + 1, updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn product_of_sku(
    conn: &mut MySqlConnection,
    sku: &str,
) -> Result<Option<u64>, sqlx::Error> {
    sqlx::query_scalar!("SELECT product_id FROM variants WHERE sku = ?", sku)
        .fetch_optional(conn)
        .await
}

pub async fn price_of(
    conn: &mut MySqlConnection,
    sku: &str,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    let row = sqlx::query!(
        "SELECT price_minor, compare_at_minor FROM variants WHERE sku = ?",
        sku
    )
    .fetch_one(conn)
    .await?;
    Ok((row.price_minor, row.compare_at_minor))
}

pub async fn set_price(
    conn: &mut MySqlConnection,
    sku: &str,
    price_minor: i64,
    compare_at_minor: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE variants SET price_minor = ?, compare_at_minor = ? WHERE sku = ?",
        price_minor,
        compare_at_minor,
        sku
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn product_ids_after(
    conn: &mut MySqlConnection,
    after: u64,
    limit: u32,
) -> Result<Vec<u64>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM products WHERE id > ? ORDER BY id LIMIT ?",
        after,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The product as stored, in the shape the `catalog` topic carries.
pub async fn snapshot(
    conn: &mut MySqlConnection,
    refs: &Refs,
    id: u64,
) -> Result<Option<ProductSnapshot>, sqlx::Error> {
    let Some(p) = sqlx::query!(
        r#"SELECT p.id, p.slug, p.version, p.title, p.description,
                  b.slug AS brand_slug, b.name AS brand_name, c.slug AS category_slug,
                  p.tags AS "tags: sqlx::types::Json<Vec<String>>",
                  p.attributes AS "attributes: sqlx::types::Json<std::collections::BTreeMap<String, String>>",
                  p.published AS "published: bool", p.rating_avg, p.rating_count, p.updated_at
           FROM products p
           JOIN brands b ON b.id = p.brand_id
           JOIN categories c ON c.id = p.category_id
           WHERE p.id = ?"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let images = sqlx::query!(
        "SELECT url, alt FROM product_images WHERE product_id = ? ORDER BY position",
        id
    )
    .fetch_all(&mut *conn)
    .await?;
    let variants = sqlx::query_as!(
        Variant,
        "SELECT sku, size, colour, price_minor, currency, compare_at_minor FROM variants WHERE product_id = ? ORDER BY position",
        id
    )
    .fetch_all(conn)
    .await?;
    let categories = refs
        .categories
        .get(&p.category_slug)
        .map(|(_, path)| path.clone())
        .unwrap_or_default();
    Ok(Some(ProductSnapshot {
        id: p.id,
        version: p.version,
        slug: p.slug,
        title: p.title,
        description: p.description,
        brand: Named {
            slug: p.brand_slug,
            name: p.brand_name,
        },
        categories,
        tags: p.tags.0,
        images: images
            .into_iter()
            .map(|i| wire::catalog::Image {
                url: i.url,
                alt: i.alt,
            })
            .collect(),
        attributes: p.attributes.0,
        published: p.published,
        rating: Rating {
            average: p.rating_avg,
            count: p.rating_count,
        },
        variants,
        updated_at: p
            .updated_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    }))
}
