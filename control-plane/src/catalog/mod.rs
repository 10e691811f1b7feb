//! The global catalog (DESIGN.md §2): products, variants, brands and
//! categories, kept by the control plane and replicated to every cell.
//!
//! Every change runs in one transaction that bumps the product's version,
//! writes the whole snapshot (`ProductUpserted`) or a tombstone
//! (`ProductDeleted`) to the outbox for the compacted `catalog` topic, and
//! appends an audit record. `validate` holds the rules, `repo` the SQL,
//! `import` the bulk path, `embed` the product vectors, `backlog` the
//! products waiting for theirs, `routes` the admin API.

pub mod backlog;
pub mod embed;
pub mod import;
mod repo;
pub mod routes;
pub mod validate;

use std::collections::HashMap;
use std::sync::Arc;

use events::{Schemas, outbox};
use sqlx::MySqlPool;
use sqlx::mysql::MySqlConnection;
use wire::catalog::{
    AdminProductPage, BrandInput, Category, CategoryInput, Image, Named, PriceChange,
    ProductEmbedding, ProductInput, ProductSnapshot, Rating, Variant,
};
use wire::events::{EventPayload, ProductDeleted, ProductUpserted};

use crate::audit;
use crate::stock::{self, StockSettings};
use embed::ProductEmbedder;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("No brand has the slug \"{0}\"; create it first.")]
    UnknownBrand(String),
    #[error("No category has the slug \"{0}\"; create it first.")]
    UnknownCategory(String),
    #[error("Another product has the slug \"{0}\".")]
    SlugTaken(String),
    #[error("SKU {0} belongs to another product.")]
    SkuTaken(String),
    #[error("No product has this id.")]
    NotFound,
    #[error("No variant has this SKU.")]
    VariantNotFound,
    #[error("No import has this id.")]
    ImportNotFound,
    #[error(
        "The product changed since it was read (now at version {current}); reload and apply the change again."
    )]
    VersionConflict { current: u64 },
    #[error("A brand with the slug \"{0}\" exists.")]
    BrandExists(String),
    #[error("A category with the slug \"{0}\" exists.")]
    CategoryExists(String),
    #[error("The cursor is not one this list gave out.")]
    InvalidCursor,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for CatalogError {
    fn from(error: sqlx::Error) -> Self {
        CatalogError::Unexpected(error.into())
    }
}

impl From<outbox::EnqueueError> for CatalogError {
    fn from(error: outbox::EnqueueError) -> Self {
        CatalogError::Unexpected(error.into())
    }
}

impl From<stock::StockError> for CatalogError {
    fn from(error: stock::StockError) -> Self {
        CatalogError::Unexpected(anyhow::anyhow!("{error}"))
    }
}

impl CatalogError {
    /// The stable code an import reports per row.
    pub fn code(&self) -> &'static str {
        match self {
            CatalogError::Invalid { code, .. } => code,
            CatalogError::UnknownBrand(_) => "unknown_brand",
            CatalogError::UnknownCategory(_) => "unknown_category",
            CatalogError::SlugTaken(_) => "slug_taken",
            CatalogError::SkuTaken(_) => "sku_taken",
            CatalogError::NotFound => "product_not_found",
            CatalogError::VariantNotFound => "variant_not_found",
            CatalogError::ImportNotFound => "import_not_found",
            CatalogError::VersionConflict { .. } => "version_conflict",
            CatalogError::BrandExists(_) => "brand_exists",
            CatalogError::CategoryExists(_) => "category_exists",
            CatalogError::InvalidCursor => "invalid_cursor",
            CatalogError::Unexpected(_) => "internal",
        }
    }
}

/// Brands and categories by slug, with each category's path from the top.
#[derive(Debug, Default)]
pub struct Refs {
    brands: HashMap<String, (u64, Named)>,
    categories: HashMap<String, (u64, Vec<Named>)>,
}

impl Refs {
    pub async fn load(conn: &mut MySqlConnection) -> Result<Self, sqlx::Error> {
        let brands = repo::brands(&mut *conn)
            .await?
            .into_iter()
            .map(|b| {
                (
                    b.slug.clone(),
                    (
                        b.id,
                        Named {
                            slug: b.slug,
                            name: b.name,
                        },
                    ),
                )
            })
            .collect();
        let rows = repo::categories(conn).await?;
        let by_id: HashMap<u64, &repo::CategoryRow> = rows.iter().map(|c| (c.id, c)).collect();
        let mut categories = HashMap::new();
        for row in &rows {
            let mut path = Vec::new();
            let mut at = Some(row);
            // The tree is acyclic (a parent exists before its child), but a
            // bound keeps a corrupted table from looping forever.
            while let Some(category) = at.filter(|_| path.len() < 16) {
                path.push(Named {
                    slug: category.slug.clone(),
                    name: category.name.clone(),
                });
                at = category.parent_id.and_then(|id| by_id.get(&id).copied());
            }
            path.reverse();
            categories.insert(row.slug.clone(), (row.id, path));
        }
        Ok(Self { brands, categories })
    }
}

/// What an import row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
    /// The product already held exactly this: nothing written or announced.
    Unchanged,
}

/// What a write did to stock: SKUs that are new and came with units on hand.
pub type NewStock = Vec<(String, u64)>;

/// When the products a write announces get their vectors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vectors {
    /// Before the write commits: the product goes out with its vector.
    #[default]
    Now,
    /// After it: a product whose vector is not at hand goes out without one
    /// and joins the vector backlog, which gives it its vector as a new
    /// version once no import is running ([`backlog`]). A large import then
    /// takes minutes, not the model's hour.
    Later,
}

/// The catalog service.
#[derive(Debug, Clone)]
pub struct Catalog {
    pool: MySqlPool,
    schemas: Schemas,
    stock: StockSettings,
    /// The `catalog` topic, with the platform's prefix.
    topic: String,
    embedder: ProductEmbedder,
    /// Imports under way, which the vector backlog waits for.
    imports: Arc<backlog::ImportActivity>,
}

impl Catalog {
    pub fn new(
        pool: MySqlPool,
        stock: StockSettings,
        topic: String,
        embedder: ProductEmbedder,
    ) -> Self {
        Self {
            pool,
            schemas: Schemas::builtin(),
            stock,
            topic,
            embedder,
            imports: Arc::default(),
        }
    }

    /// Computes the vectors of `inputs` ahead of their writes, in batches
    /// (an import's rows). A failure only costs speed: each write computes
    /// its own vector when none is ready.
    pub async fn prepare_embeddings(&self, pool: &MySqlPool, inputs: &[&ProductInput]) {
        let prepared = async {
            let mut conn = pool.acquire().await?;
            let refs = Refs::load(&mut conn).await?;
            let snapshots: Vec<ProductSnapshot> = inputs
                .iter()
                .filter_map(|input| {
                    let (_, brand) = refs.brands.get(&input.brand)?;
                    let (_, categories) = refs.categories.get(&input.category)?;
                    Some(snapshot_of(
                        0,
                        0,
                        Rating::default(),
                        brand.clone(),
                        categories.clone(),
                        input,
                    ))
                })
                .collect();
            self.embedder.prepare(&mut conn, &snapshots).await
        };
        if let Err(error) = prepared.await {
            tracing::warn!(error = %format!("{error:#}"), "embedding an import batch ahead failed");
        }
    }

    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    pub async fn create(
        &self,
        actor: &str,
        input: &ProductInput,
    ) -> Result<ProductSnapshot, CatalogError> {
        validate::product(input)?;
        let mut tx = self.pool.begin().await?;
        let refs = Refs::load(&mut tx).await?;
        let (snapshot, new_stock) = self
            .write(&mut tx, &refs, None, input, Vectors::Now)
            .await?;
        stock::receive_new(&mut tx, &self.schemas, &self.stock, &new_stock).await?;
        audit::record(
            &mut tx,
            actor,
            "product.create",
            &subject(snapshot.id),
            &serde_json::json!({ "slug": snapshot.slug, "version": snapshot.version }),
        )
        .await?;
        tx.commit().await?;
        Ok(snapshot)
    }

    /// Replaces a product whole, if it is still at `expected_version`.
    pub async fn replace(
        &self,
        actor: &str,
        id: u64,
        expected_version: u64,
        input: &ProductInput,
    ) -> Result<ProductSnapshot, CatalogError> {
        validate::product(input)?;
        let mut tx = self.pool.begin().await?;
        let current = repo::lock_product(&mut tx, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        if current.version != expected_version {
            return Err(CatalogError::VersionConflict {
                current: current.version,
            });
        }
        let refs = Refs::load(&mut tx).await?;
        let (snapshot, new_stock) = self
            .write(&mut tx, &refs, Some(current), input, Vectors::Now)
            .await?;
        stock::receive_new(&mut tx, &self.schemas, &self.stock, &new_stock).await?;
        audit::record(
            &mut tx,
            actor,
            "product.replace",
            &subject(id),
            &serde_json::json!({ "slug": snapshot.slug, "version": snapshot.version }),
        )
        .await?;
        tx.commit().await?;
        Ok(snapshot)
    }

    /// Creates or replaces the product with `input.slug` (the import's rule),
    /// leaving it alone when the input says what it already holds, so a
    /// re-run import announces only real changes. Runs in the caller's
    /// transaction.
    pub async fn upsert_by_slug(
        &self,
        conn: &mut MySqlConnection,
        refs: &Refs,
        input: &ProductInput,
        vectors: Vectors,
    ) -> Result<(Upserted, NewStock), CatalogError> {
        validate::product(input)?;
        let Some(existing) = repo::lock_product_by_slug(&mut *conn, &input.slug).await? else {
            let (_, new_stock) = self.write(conn, refs, None, input, vectors).await?;
            return Ok((Upserted::Created, new_stock));
        };
        if let (Some(stored), Some((_, brand)), Some((_, categories))) = (
            repo::snapshot(&mut *conn, refs, existing.id).await?,
            refs.brands.get(&input.brand),
            refs.categories.get(&input.category),
        ) {
            let mut candidate = snapshot_of(
                stored.id,
                stored.version,
                stored.rating,
                brand.clone(),
                categories.clone(),
                input,
            );
            candidate.updated_at.clone_from(&stored.updated_at);
            if candidate == stored {
                return Ok((Upserted::Unchanged, Vec::new()));
            }
        }
        let (_, new_stock) = self
            .write(conn, refs, Some(existing), input, vectors)
            .await?;
        Ok((Upserted::Updated, new_stock))
    }

    /// Writes the rows, the outbox event, and returns the snapshot.
    async fn write(
        &self,
        conn: &mut MySqlConnection,
        refs: &Refs,
        existing: Option<repo::ProductHead>,
        input: &ProductInput,
        vectors: Vectors,
    ) -> Result<(ProductSnapshot, NewStock), CatalogError> {
        let (brand_id, brand) = refs
            .brands
            .get(&input.brand)
            .cloned()
            .ok_or_else(|| CatalogError::UnknownBrand(input.brand.clone()))?;
        let (category_id, categories) = refs
            .categories
            .get(&input.category)
            .cloned()
            .ok_or_else(|| CatalogError::UnknownCategory(input.category.clone()))?;
        let skus: Vec<&str> = input.variants.iter().map(|v| v.sku.as_str()).collect();
        let owners = repo::sku_owners(&mut *conn, &skus).await?;
        let (id, version, rating) = match &existing {
            Some(head) => {
                if let Some((sku, _)) = owners.iter().find(|(_, owner)| *owner != head.id) {
                    return Err(CatalogError::SkuTaken(sku.clone()));
                }
                repo::update_product(&mut *conn, head.id, brand_id, category_id, input)
                    .await
                    .map_err(|e| conflict(e, CatalogError::SlugTaken(input.slug.clone())))?;
                (head.id, head.version + 1, head.rating)
            }
            None => {
                if let Some((sku, _)) = owners.first() {
                    return Err(CatalogError::SkuTaken(sku.clone()));
                }
                let id = repo::insert_product(&mut *conn, brand_id, category_id, input)
                    .await
                    .map_err(|e| conflict(e, CatalogError::SlugTaken(input.slug.clone())))?;
                (id, 1, Rating::default())
            }
        };
        repo::replace_images(&mut *conn, id, &input.images).await?;
        repo::replace_variants(&mut *conn, id, &input.variants)
            .await
            .map_err(|e| conflict(e, CatalogError::SkuTaken(skus.join(", "))))?;
        let with_stock: Vec<&str> = input
            .variants
            .iter()
            .filter(|v| v.stock.is_some_and(|units| units > 0))
            .map(|v| v.sku.as_str())
            .collect();
        let known = repo::skus_in_ledger(&mut *conn, &with_stock).await?;
        let new_stock = input
            .variants
            .iter()
            .filter_map(|v| Some((v.sku.clone(), v.stock.filter(|units| *units > 0)?)))
            .filter(|(sku, _)| !known.contains(sku))
            .collect();
        let snapshot = snapshot_of(id, version, rating, brand, categories, input);
        let embedding = self.embedding(&mut *conn, &snapshot, vectors).await?;
        self.announce(
            &mut *conn,
            &ProductUpserted {
                product: snapshot.clone(),
                embedding,
            },
        )
        .await?;
        Ok((snapshot, new_stock))
    }

    /// The vector `snapshot` goes out with. Without one (asked for later,
    /// or the model failed) the product joins the vector backlog.
    async fn embedding(
        &self,
        conn: &mut MySqlConnection,
        snapshot: &ProductSnapshot,
        vectors: Vectors,
    ) -> Result<Option<ProductEmbedding>, CatalogError> {
        let embedding = match vectors {
            Vectors::Now => self.embedder.for_snapshot(&mut *conn, snapshot).await?,
            Vectors::Later => self.embedder.at_hand(&mut *conn, snapshot).await?,
        };
        if embedding.is_none() {
            backlog::queue(&mut *conn, snapshot.id).await?;
        }
        Ok(embedding)
    }

    async fn announce<P: EventPayload>(
        &self,
        conn: &mut MySqlConnection,
        payload: &P,
    ) -> Result<(), CatalogError> {
        outbox::enqueue_payload(conn, &self.schemas, &self.topic, None, payload).await?;
        Ok(())
    }

    pub async fn delete(&self, actor: &str, id: u64) -> Result<(), CatalogError> {
        let mut tx = self.pool.begin().await?;
        let current = repo::lock_product(&mut tx, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        repo::delete_product(&mut tx, id).await?;
        self.announce(
            &mut tx,
            &ProductDeleted {
                id,
                version: current.version + 1,
            },
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            "product.delete",
            &subject(id),
            &serde_json::json!({ "version": current.version + 1 }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_published(
        &self,
        actor: &str,
        id: u64,
        published: bool,
    ) -> Result<ProductSnapshot, CatalogError> {
        let mut tx = self.pool.begin().await?;
        repo::lock_product(&mut tx, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        repo::set_published(&mut tx, id, published).await?;
        let snapshot = self.reannounce(&mut tx, id).await?;
        let action = if published {
            "product.publish"
        } else {
            "product.unpublish"
        };
        audit::record(
            &mut tx,
            actor,
            action,
            &subject(id),
            &serde_json::json!({ "version": snapshot.version }),
        )
        .await?;
        tx.commit().await?;
        Ok(snapshot)
    }

    pub async fn change_price(
        &self,
        actor: &str,
        sku: &str,
        change: &PriceChange,
    ) -> Result<ProductSnapshot, CatalogError> {
        validate::price(sku, change.price_minor, change.compare_at_minor)?;
        let mut tx = self.pool.begin().await?;
        let id = repo::product_of_sku(&mut tx, sku)
            .await?
            .ok_or(CatalogError::VariantNotFound)?;
        repo::lock_product(&mut tx, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        let before = repo::price_of(&mut tx, sku).await?;
        repo::set_price(&mut tx, sku, change.price_minor, change.compare_at_minor).await?;
        repo::bump_version(&mut tx, id).await?;
        let snapshot = self.reannounce(&mut tx, id).await?;
        audit::record(
            &mut tx,
            actor,
            "variant.price",
            &format!("sku:{sku}"),
            &serde_json::json!({
                "before": { "price_minor": before.0, "compare_at_minor": before.1 },
                "after": { "price_minor": change.price_minor, "compare_at_minor": change.compare_at_minor },
                "version": snapshot.version,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(snapshot)
    }

    /// Reads the product back (version already bumped) and announces it.
    async fn reannounce(
        &self,
        conn: &mut MySqlConnection,
        id: u64,
    ) -> Result<ProductSnapshot, CatalogError> {
        let refs = Refs::load(&mut *conn).await?;
        let snapshot = repo::snapshot(&mut *conn, &refs, id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        let embedding = self.embedding(&mut *conn, &snapshot, Vectors::Now).await?;
        self.announce(
            conn,
            &ProductUpserted {
                product: snapshot.clone(),
                embedding,
            },
        )
        .await?;
        Ok(snapshot)
    }

    pub async fn get(&self, id: u64) -> Result<ProductSnapshot, CatalogError> {
        let mut conn = self.pool.acquire().await?;
        let refs = Refs::load(&mut conn).await?;
        repo::snapshot(&mut conn, &refs, id)
            .await?
            .ok_or(CatalogError::NotFound)
    }

    /// Products by id, `limit` at a time after `cursor`.
    pub async fn list(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<AdminProductPage, CatalogError> {
        let after = match cursor {
            None => 0,
            Some(text) => text
                .parse::<u64>()
                .map_err(|_| CatalogError::InvalidCursor)?,
        };
        let mut conn = self.pool.acquire().await?;
        let refs = Refs::load(&mut conn).await?;
        let ids = repo::product_ids_after(&mut conn, after, limit + 1).await?;
        let mut items = Vec::with_capacity(ids.len());
        for id in ids.iter().take(limit as usize) {
            if let Some(snapshot) = repo::snapshot(&mut conn, &refs, *id).await? {
                items.push(snapshot);
            }
        }
        let next_cursor = (ids.len() > limit as usize)
            .then(|| items.last().map(|p| p.id.to_string()))
            .flatten();
        Ok(AdminProductPage { items, next_cursor })
    }

    pub async fn create_brand(
        &self,
        actor: &str,
        input: &BrandInput,
    ) -> Result<Named, CatalogError> {
        validate::brand(input)?;
        let mut tx = self.pool.begin().await?;
        repo::insert_brand(&mut tx, &input.slug, input.name.trim())
            .await
            .map_err(|e| conflict(e, CatalogError::BrandExists(input.slug.clone())))?;
        audit::record(
            &mut tx,
            actor,
            "brand.create",
            &format!("brand:{}", input.slug),
            &serde_json::json!({ "name": input.name.trim() }),
        )
        .await?;
        tx.commit().await?;
        Ok(Named {
            slug: input.slug.clone(),
            name: input.name.trim().to_owned(),
        })
    }

    pub async fn brands(&self) -> Result<Vec<Named>, CatalogError> {
        let mut conn = self.pool.acquire().await?;
        Ok(repo::brands(&mut conn)
            .await?
            .into_iter()
            .map(|b| Named {
                slug: b.slug,
                name: b.name,
            })
            .collect())
    }

    pub async fn create_category(
        &self,
        actor: &str,
        input: &CategoryInput,
    ) -> Result<Category, CatalogError> {
        validate::category(input)?;
        let mut tx = self.pool.begin().await?;
        let parent_id = match &input.parent {
            None => None,
            Some(parent) => Some(
                repo::category_id(&mut tx, parent)
                    .await?
                    .ok_or_else(|| CatalogError::UnknownCategory(parent.clone()))?,
            ),
        };
        repo::insert_category(
            &mut tx,
            &input.slug,
            input.name.trim(),
            parent_id,
            input.position,
        )
        .await
        .map_err(|e| conflict(e, CatalogError::CategoryExists(input.slug.clone())))?;
        audit::record(
            &mut tx,
            actor,
            "category.create",
            &format!("category:{}", input.slug),
            &serde_json::json!({ "name": input.name.trim(), "parent": input.parent }),
        )
        .await?;
        tx.commit().await?;
        Ok(Category {
            slug: input.slug.clone(),
            name: input.name.trim().to_owned(),
            parent: input.parent.clone(),
            position: input.position,
        })
    }

    pub async fn categories(&self) -> Result<Vec<Category>, CatalogError> {
        let mut conn = self.pool.acquire().await?;
        let rows = repo::categories(&mut conn).await?;
        let slugs: HashMap<u64, String> = rows.iter().map(|c| (c.id, c.slug.clone())).collect();
        Ok(rows
            .iter()
            .map(|c| Category {
                slug: c.slug.clone(),
                name: c.name.clone(),
                parent: c.parent_id.and_then(|id| slugs.get(&id).cloned()),
                position: c.position,
            })
            .collect())
    }
}

/// The snapshot `input` makes of product `id` at `version`.
fn snapshot_of(
    id: u64,
    version: u64,
    rating: Rating,
    brand: Named,
    categories: Vec<Named>,
    input: &ProductInput,
) -> ProductSnapshot {
    ProductSnapshot {
        id,
        version,
        slug: input.slug.clone(),
        title: input.title.trim().to_owned(),
        description: input.description.trim().to_owned(),
        brand,
        categories,
        tags: input.tags.iter().map(|t| t.trim().to_lowercase()).collect(),
        images: input
            .images
            .iter()
            .map(|i| Image {
                url: i.url.trim().to_owned(),
                alt: i.alt.trim().to_owned(),
            })
            .collect(),
        attributes: input
            .attributes
            .iter()
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect(),
        published: input.published,
        rating,
        variants: input
            .variants
            .iter()
            .map(|v| Variant {
                sku: v.sku.clone(),
                size: v.size.trim().to_owned(),
                colour: v.colour.trim().to_lowercase(),
                price_minor: v.price_minor,
                currency: v.currency.clone(),
                compare_at_minor: v.compare_at_minor,
            })
            .collect(),
        updated_at: now_rfc3339(),
    }
}

fn subject(id: u64) -> String {
    format!("product:{id}")
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// `taken` when `error` is a unique-key violation, else the error itself.
fn conflict(error: sqlx::Error, taken: CatalogError) -> CatalogError {
    if is_unique_violation(&error) {
        taken
    } else {
        error.into()
    }
}
