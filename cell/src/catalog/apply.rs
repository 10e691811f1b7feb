//! Applies the `catalog` topic to the read model. A snapshot replaces the
//! product's rows when its version is newer than the one held; an older or
//! equal one is ignored, so redelivery, replays and a rebuild from the start
//! of the compacted topic all end in the same state.

use async_trait::async_trait;
use events::Envelope;
use events::consumer::{Handler, HandlerError};
use sqlx::mysql::MySqlConnection;
use sqlx::{MySql, QueryBuilder};
use wire::catalog::{ProductEmbedding, ProductSnapshot};
use wire::events::{ProductDeleted, ProductUpserted};

use super::cache::Cache;
use crate::search::Changes;

fn json(value: &impl serde::Serialize) -> Result<String, HandlerError> {
    serde_json::to_string(value).map_err(|e| HandlerError::Permanent(e.into()))
}

/// The version held for product `id`, locking its row.
async fn held_version(conn: &mut MySqlConnection, id: u64) -> Result<Option<u64>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT version FROM catalog_products WHERE id = ? FOR UPDATE",
        id
    )
    .fetch_optional(conn)
    .await
}

/// Writes `p` (and its vector, when it came with one of ours) over whatever
/// the read model holds for it.
pub async fn upsert(
    conn: &mut MySqlConnection,
    p: &ProductSnapshot,
    embedding: Option<&ProductEmbedding>,
) -> Result<bool, HandlerError> {
    if held_version(&mut *conn, p.id)
        .await?
        .is_some_and(|held| held >= p.version)
    {
        return Ok(false);
    }
    let Some(category) = p.categories.last() else {
        return Err(HandlerError::Permanent(anyhow::anyhow!(
            "product {} has no category",
            p.id
        )));
    };
    let cheapest = p.variants.iter().min_by_key(|v| v.price_minor);
    let Some(cheapest) = cheapest else {
        return Err(HandlerError::Permanent(anyhow::anyhow!(
            "product {} has no variants",
            p.id
        )));
    };
    let mut colours: Vec<&str> = Vec::new();
    let mut sizes: Vec<&str> = Vec::new();
    for v in &p.variants {
        if !colours.contains(&v.colour.as_str()) {
            colours.push(&v.colour);
        }
        if !sizes.contains(&v.size.as_str()) {
            sizes.push(&v.size);
        }
    }
    // Events of different products may arrive out of order: a slug or SKU
    // this product now has may still sit on another one's older rows. The
    // control plane keeps both unique, so the other's newer snapshot is on
    // its way; until then it loses the slug, and the SKUs move here.
    let stale = sqlx::query_scalar!(
        "SELECT id FROM catalog_products WHERE slug = ? AND id <> ?",
        p.slug,
        p.id
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(stale) = stale {
        sqlx::query!(
            "UPDATE catalog_products SET slug = NULL, listed = FALSE WHERE id = ?",
            stale
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query!(
            "UPDATE catalog_product_categories SET listed = FALSE WHERE product_id = ?",
            stale
        )
        .execute(&mut *conn)
        .await?;
    }
    let mut moved = QueryBuilder::<MySql>::new("DELETE FROM catalog_variants WHERE sku IN (");
    let mut list = moved.separated(", ");
    for v in &p.variants {
        list.push_bind(v.sku.as_str());
    }
    moved.push(")");
    moved.build().execute(&mut *conn).await?;

    sqlx::query!(
        r#"INSERT INTO catalog_products
             (id, version, slug, title, description, brand_slug, brand_name, category_slug, category_name,
              categories, tags, images, attributes, colours, sizes, listed, min_price, currency, compare_at,
              rating_avg, rating_count)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON DUPLICATE KEY UPDATE
             version = VALUES(version), slug = VALUES(slug), title = VALUES(title),
             description = VALUES(description), brand_slug = VALUES(brand_slug),
             brand_name = VALUES(brand_name), category_slug = VALUES(category_slug),
             category_name = VALUES(category_name), categories = VALUES(categories),
             tags = VALUES(tags), images = VALUES(images), attributes = VALUES(attributes),
             colours = VALUES(colours), sizes = VALUES(sizes), listed = VALUES(listed),
             min_price = VALUES(min_price), currency = VALUES(currency),
             compare_at = VALUES(compare_at), rating_avg = VALUES(rating_avg),
             rating_count = VALUES(rating_count), applied_at = CURRENT_TIMESTAMP(6)"#,
        p.id,
        p.version,
        p.slug,
        p.title,
        p.description,
        p.brand.slug,
        p.brand.name,
        category.slug,
        category.name,
        json(&p.categories)?,
        json(&p.tags)?,
        json(&p.images)?,
        json(&p.attributes)?,
        json(&colours)?,
        json(&sizes)?,
        p.published,
        cheapest.price_minor,
        cheapest.currency,
        cheapest.compare_at_minor,
        p.rating.average,
        p.rating.count
    )
    .execute(&mut *conn)
    .await?;

    sqlx::query!(
        "DELETE FROM catalog_product_categories WHERE product_id = ?",
        p.id
    )
    .execute(&mut *conn)
    .await?;
    let mut path = QueryBuilder::<MySql>::new(
        "INSERT IGNORE INTO catalog_product_categories (category_slug, product_id, listed, brand_slug, min_price, rating_avg, title) ",
    );
    path.push_values(&p.categories, |mut row, c| {
        row.push_bind(c.slug.as_str())
            .push_bind(p.id)
            .push_bind(p.published)
            .push_bind(p.brand.slug.as_str())
            .push_bind(cheapest.price_minor)
            .push_bind(p.rating.average)
            .push_bind(p.title.as_str());
    });
    path.build().execute(&mut *conn).await?;

    let mut tree =
        QueryBuilder::<MySql>::new("INSERT INTO catalog_categories (slug, name, parent_slug) ");
    tree.push_values(p.categories.iter().enumerate(), |mut row, (i, c)| {
        let parent = i.checked_sub(1).map(|up| p.categories[up].slug.as_str());
        row.push_bind(c.slug.as_str())
            .push_bind(c.name.as_str())
            .push_bind(parent);
    });
    tree.push(" ON DUPLICATE KEY UPDATE name = VALUES(name), parent_slug = VALUES(parent_slug)");
    tree.build().execute(&mut *conn).await?;

    sqlx::query!("DELETE FROM catalog_variants WHERE product_id = ?", p.id)
        .execute(&mut *conn)
        .await?;
    let mut variants = QueryBuilder::<MySql>::new(
        "INSERT INTO catalog_variants (sku, product_id, position, size, colour, price_minor, currency, compare_at_minor) ",
    );
    variants.push_values(p.variants.iter().enumerate(), |mut row, (i, v)| {
        row.push_bind(v.sku.as_str())
            .push_bind(p.id)
            .push_bind(i as u32)
            .push_bind(v.size.as_str())
            .push_bind(v.colour.as_str())
            .push_bind(v.price_minor)
            .push_bind(v.currency.as_str())
            .push_bind(v.compare_at_minor);
    });
    variants.build().execute(&mut *conn).await?;
    store_embedding(conn, p.id, embedding).await?;
    Ok(true)
}

/// Keeps the product's vector, or drops the old one when the new version
/// came without a usable vector (a vector of another model is not
/// comparable with the queries' and is dropped too).
async fn store_embedding(
    conn: &mut MySqlConnection,
    id: u64,
    embedding: Option<&ProductEmbedding>,
) -> Result<(), HandlerError> {
    let vector = embedding
        .filter(|e| e.model == embeddings::MODEL)
        .and_then(|e| embeddings::decode(&e.vector).ok());
    match vector {
        Some(vector) => {
            let bytes = embeddings::to_le_bytes(&vector);
            sqlx::query(
                "INSERT INTO catalog_embeddings (product_id, model, vector) VALUES (?, ?, ?) \
                 ON DUPLICATE KEY UPDATE model = VALUES(model), vector = VALUES(vector)",
            )
            .bind(id)
            .bind(embeddings::MODEL)
            .bind(bytes)
            .execute(conn)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM catalog_embeddings WHERE product_id = ?")
                .bind(id)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// Leaves a tombstone at `version`: hidden, no slug, no variants.
pub async fn delete(
    conn: &mut MySqlConnection,
    id: u64,
    version: u64,
) -> Result<bool, HandlerError> {
    if held_version(&mut *conn, id)
        .await?
        .is_some_and(|held| held >= version)
    {
        return Ok(false);
    }
    sqlx::query!(
        r#"INSERT INTO catalog_products
             (id, version, slug, title, description, brand_slug, brand_name, category_slug, category_name,
              categories, tags, images, attributes, colours, sizes, listed, min_price, currency, compare_at,
              rating_avg, rating_count)
           VALUES (?, ?, NULL, '', '', '', '', '', '', '[]', '[]', '[]', '{}', '[]', '[]', FALSE, 0, 'GBP', NULL, 0, 0)
           ON DUPLICATE KEY UPDATE version = VALUES(version), slug = NULL, listed = FALSE,
             applied_at = CURRENT_TIMESTAMP(6)"#,
        id,
        version
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM catalog_variants WHERE product_id = ?", id)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "DELETE FROM catalog_product_categories WHERE product_id = ?",
        id
    )
    .execute(&mut *conn)
    .await?;
    store_embedding(conn, id, None).await?;
    Ok(true)
}

/// `ProductUpserted` → the read model.
#[derive(Debug, Clone)]
pub struct OnUpserted {
    pub cache: Cache,
    pub search: Changes,
}

#[async_trait]
impl Handler for OnUpserted {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let event: ProductUpserted = event
            .payload()
            .map_err(|e| HandlerError::Permanent(e.into()))?;
        if upsert(conn, &event.product, event.embedding.as_ref()).await? {
            self.cache.invalidate().await;
        }
        Ok(())
    }

    fn committed(&self, event: &Envelope) {
        if let Ok(event) = event.payload::<ProductUpserted>() {
            self.search.products([event.product.id]);
        }
    }
}

/// `ProductDeleted` → a tombstone.
#[derive(Debug, Clone)]
pub struct OnDeleted {
    pub cache: Cache,
    pub search: Changes,
}

#[async_trait]
impl Handler for OnDeleted {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let event: ProductDeleted = event
            .payload()
            .map_err(|e| HandlerError::Permanent(e.into()))?;
        if delete(conn, event.id, event.version).await? {
            self.cache.invalidate().await;
        }
        Ok(())
    }

    fn committed(&self, event: &Envelope) {
        if let Ok(event) = event.payload::<ProductDeleted>() {
            self.search.products([event.id]);
        }
    }
}
