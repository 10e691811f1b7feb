//! Product vectors: computed by the control plane once per distinct
//! product text (so once per version at most, and not again for a price
//! change), kept in `product_embeddings` keyed by a hash of model and text,
//! and sent with the product's snapshot in `ProductUpserted`. Cells embed
//! only queries.
//!
//! A product's vector is the weighted mean of the vectors of its parts —
//! title, brand with category path, colours, tags, and each sentence of the
//! description — scaled to unit length. Each part is embedded on its own and
//! kept by its text, so what many products share (a brand's path, a care
//! line, "Made in Portugal.") is computed once for the whole catalog, and
//! runs of the model hold parts of about the same length, so little of a
//! run is padding. Averaging pieces is also the usual way to embed text
//! longer than what a sentence model reads well.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use embeddings::Embedder;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::mysql::MySqlConnection;
use tokio::sync::OnceCell;
use wire::catalog::{ProductEmbedding, ProductSnapshot};

/// Texts embedded in one run of the model.
const BATCH: usize = 32;
/// How a product is cut into parts and the parts weighed; part of every
/// product's text hash, so a change here re-embeds each product once.
const SCHEME: &str = "parts-v1";
/// Description sentences past this many add little to what a product is.
const MAX_SENTENCES: usize = 6;
/// Part vectors kept in memory (about 1.6 KB each).
const PART_CACHE: u64 = 60_000;

/// A product's parts: each text with its weight.
pub type Parts = Vec<(String, f32)>;

/// What a product's vector is made of — what a shopper would say about it —
/// as texts with their weights. The title says what the thing is, so it
/// counts twice.
pub fn parts_of(p: &ProductSnapshot) -> Parts {
    let mut parts = vec![(p.title.trim().to_owned(), 2.0)];
    let path: Vec<&str> = p.categories.iter().map(|c| c.name.as_str()).collect();
    parts.push((format!("{} {}", p.brand.name, path.join(" ")), 1.0));
    let mut colours: Vec<&str> = p.variants.iter().map(|v| v.colour.as_str()).collect();
    colours.sort_unstable();
    colours.dedup();
    if !colours.is_empty() {
        parts.push((colours.join(", "), 1.0));
    }
    if !p.tags.is_empty() {
        parts.push((p.tags.join(", "), 1.0));
    }
    for sentence in sentences(&p.description).take(MAX_SENTENCES) {
        parts.push((sentence.to_owned(), 1.0));
    }
    parts.retain(|(text, _)| !text.trim().is_empty());
    parts
}

/// The sentences of `text`: cut after `.`, `!` or `?` followed by white
/// space, trimmed, empty ones left out.
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text.trim();
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let bytes = rest.as_bytes();
        let mut cut = rest.len();
        for (i, b) in bytes.iter().enumerate() {
            if matches!(b, b'.' | b'!' | b'?')
                && bytes.get(i + 1).is_some_and(u8::is_ascii_whitespace)
            {
                cut = i + 1;
                break;
            }
        }
        let (sentence, tail) = rest.split_at(cut);
        rest = tail.trim_start();
        Some(sentence.trim())
    })
    .filter(|s| !s.is_empty())
}

/// The product's text hash: the model, the scheme and every part with its
/// weight.
fn hash_of(parts: &[(String, f32)]) -> Vec<u8> {
    let mut digest = Sha256::new();
    digest.update(embeddings::MODEL.as_bytes());
    digest.update(b"\n");
    digest.update(SCHEME.as_bytes());
    for (text, weight) in parts {
        digest.update(b"\n");
        digest.update(weight.to_le_bytes());
        digest.update(text.as_bytes());
    }
    digest.finalize().to_vec()
}

fn part_key(text: &str) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update(text.as_bytes());
    digest.finalize().into()
}

#[derive(Clone)]
pub struct ProductEmbedder {
    dir: PathBuf,
    model: Arc<OnceCell<Arc<Embedder>>>,
    /// Vectors computed ahead for an import batch, by text hash.
    ready: moka::sync::Cache<Vec<u8>, Arc<Vec<f32>>>,
    /// Part vectors by a hash of the part's text.
    parts: moka::sync::Cache<[u8; 32], Arc<Vec<f32>>>,
    /// Parts run through the model since start (the rest came from `parts`).
    parts_embedded: Arc<AtomicU64>,
}

impl std::fmt::Debug for ProductEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProductEmbedder")
            .field("dir", &self.dir)
            .finish()
    }
}

impl ProductEmbedder {
    /// Checks that the model's files are there; loads it on first use.
    pub fn new(dir: &Path) -> Result<Self, embeddings::EmbedError> {
        for file in ["config.json", "tokenizer.json", "model.safetensors"] {
            let path = dir.join(file);
            if !path.is_file() {
                return Err(embeddings::EmbedError::Missing { path });
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            model: Arc::new(OnceCell::new()),
            ready: moka::sync::Cache::new(10_000),
            parts: moka::sync::Cache::new(PART_CACHE),
            parts_embedded: Arc::new(AtomicU64::new(0)),
        })
    }

    async fn model(&self) -> anyhow::Result<Arc<Embedder>> {
        Ok(self
            .model
            .get_or_try_init(|| async {
                let dir = self.dir.clone();
                let model = tokio::task::spawn_blocking(move || Embedder::load(&dir)).await??;
                Ok::<_, anyhow::Error>(Arc::new(model))
            })
            .await?
            .clone())
    }

    /// Parts run through the model since start.
    pub fn parts_embedded(&self) -> u64 {
        self.parts_embedded.load(Ordering::Relaxed)
    }

    /// The vector of each product, given as its parts: the parts not seen
    /// before are embedded, shortest first so a run of the model pads
    /// little, then each product's parts are averaged by weight.
    async fn vectors(&self, products: Vec<Parts>) -> anyhow::Result<Vec<Vec<f32>>> {
        let model = self.model().await?;
        let parts = self.parts.clone();
        let counter = Arc::clone(&self.parts_embedded);
        tokio::task::spawn_blocking(move || {
            let mut missing: Vec<&str> = products
                .iter()
                .flatten()
                .map(|(text, _)| text.as_str())
                .filter(|text| !parts.contains_key(&part_key(text)))
                .collect();
            missing.sort_unstable_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
            missing.dedup();
            // Held here as well as in the cache, which may evict before the
            // products below are averaged.
            let mut fresh: std::collections::HashMap<[u8; 32], Arc<Vec<f32>>> =
                std::collections::HashMap::with_capacity(missing.len());
            for chunk in missing.chunks(BATCH) {
                for (text, vector) in chunk.iter().zip(model.embed(chunk)?) {
                    let (key, vector) = (part_key(text), Arc::new(vector));
                    parts.insert(key, Arc::clone(&vector));
                    fresh.insert(key, vector);
                }
                counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
            products
                .iter()
                .map(|product| {
                    let mut sum = vec![0f32; embeddings::DIMS];
                    for (text, weight) in product {
                        let key = part_key(text);
                        let vector = fresh
                            .get(&key)
                            .cloned()
                            .or_else(|| parts.get(&key))
                            .ok_or_else(|| anyhow::anyhow!("a part's vector went missing"))?;
                        for (s, x) in sum.iter_mut().zip(vector.iter()) {
                            *s += weight * x;
                        }
                    }
                    Ok(embeddings::unit_length(sum))
                })
                .collect()
        })
        .await?
    }

    /// Computes, in batches, the vectors of `snapshots` not already stored,
    /// so that the writes that follow find them ready.
    pub async fn prepare(
        &self,
        conn: &mut MySqlConnection,
        snapshots: &[ProductSnapshot],
    ) -> anyhow::Result<()> {
        let mut texts: Vec<(Vec<u8>, Parts)> = snapshots
            .iter()
            .map(|s| {
                let parts = parts_of(s);
                (hash_of(&parts), parts)
            })
            .filter(|(h, _)| !self.ready.contains_key(h))
            .collect();
        texts.sort_by(|a, b| a.0.cmp(&b.0));
        texts.dedup_by(|a, b| a.0 == b.0);
        if texts.is_empty() {
            return Ok(());
        }
        let mut stored = std::collections::HashSet::new();
        let mut q = sqlx::QueryBuilder::<sqlx::MySql>::new(
            "SELECT text_hash FROM product_embeddings WHERE text_hash IN (",
        );
        let mut list = q.separated(", ");
        for (h, _) in &texts {
            list.push_bind(h.as_slice());
        }
        q.push(")");
        for row in q.build().fetch_all(&mut *conn).await? {
            stored.insert(row.try_get::<Vec<u8>, _>(0)?);
        }
        let (hashes, missing): (Vec<Vec<u8>>, Vec<Parts>) = texts
            .into_iter()
            .filter(|(h, _)| !stored.contains(h))
            .unzip();
        let vectors = self.vectors(missing).await?;
        for (h, v) in hashes.into_iter().zip(vectors) {
            self.ready.insert(h, Arc::new(v));
        }
        Ok(())
    }

    /// The vector of `snapshot`: the stored one when its text is unchanged,
    /// else computed now and stored. `None` (logged) when the model fails:
    /// the product still goes out, found by text only.
    pub async fn for_snapshot(
        &self,
        conn: &mut MySqlConnection,
        snapshot: &ProductSnapshot,
    ) -> Result<Option<ProductEmbedding>, sqlx::Error> {
        Ok(self.resolve(conn, snapshot, true).await?.embedding())
    }

    /// The vector of `snapshot` if one is at hand — stored for this text, or
    /// computed ahead — without running the model.
    pub async fn at_hand(
        &self,
        conn: &mut MySqlConnection,
        snapshot: &ProductSnapshot,
    ) -> Result<Option<ProductEmbedding>, sqlx::Error> {
        Ok(self.resolve(conn, snapshot, false).await?.embedding())
    }

    /// Where the vector of `snapshot` comes from: the product's own stored
    /// row for this text; another product's row for the same text, a vector
    /// computed ahead, or (when `compute`) the model, each stored as the
    /// product's own; or nowhere.
    pub async fn resolve(
        &self,
        conn: &mut MySqlConnection,
        snapshot: &ProductSnapshot,
        compute: bool,
    ) -> Result<Resolved, sqlx::Error> {
        let parts = parts_of(snapshot);
        let key = hash_of(&parts);
        // This product's own row, else any product with the same text.
        let stored = sqlx::query(
            "SELECT vector, product_id = ? AS own FROM product_embeddings WHERE text_hash = ? \
             ORDER BY own DESC LIMIT 1",
        )
        .bind(snapshot.id)
        .bind(key.as_slice())
        .fetch_optional(&mut *conn)
        .await?;
        let mut found: Option<(bool, Vec<f32>)> = None;
        if let Some(row) = stored {
            let own: bool = row.try_get("own")?;
            let bytes: Vec<u8> = row.try_get("vector")?;
            found = embeddings::from_le_bytes(&bytes).map(|v| (own, v));
        }
        let vector = match (found, self.ready.get(&key)) {
            (Some((true, vector)), _) => return Ok(Resolved::Own(encoded(&vector))),
            (Some((false, vector)), _) => vector,
            (None, Some(ready)) => ready.as_ref().clone(),
            (None, None) if !compute => return Ok(Resolved::Missing),
            (None, None) => match self.vectors(vec![parts]).await.map(|mut v| v.pop()) {
                Ok(Some(vector)) => vector,
                Ok(None) | Err(_) => {
                    tracing::error!(
                        product = snapshot.id,
                        "embedding the product failed; it goes out without a vector, and the vector backlog gets it"
                    );
                    return Ok(Resolved::Missing);
                }
            },
        };
        sqlx::query(
            "INSERT INTO product_embeddings (product_id, text_hash, model, vector) VALUES (?, ?, ?, ?) \
             ON DUPLICATE KEY UPDATE text_hash = VALUES(text_hash), model = VALUES(model), vector = VALUES(vector)",
        )
        .bind(snapshot.id)
        .bind(key.as_slice())
        .bind(embeddings::MODEL)
        .bind(embeddings::to_le_bytes(&vector))
        .execute(&mut *conn)
        .await?;
        Ok(Resolved::Stored(encoded(&vector)))
    }
}

/// Where a product's vector came from ([`ProductEmbedder::resolve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// The product's own row already held it for this text.
    Own(ProductEmbedding),
    /// Stored as the product's own just now.
    Stored(ProductEmbedding),
    /// None at hand, or the model failed.
    Missing,
}

impl Resolved {
    pub fn embedding(self) -> Option<ProductEmbedding> {
        match self {
            Resolved::Own(embedding) | Resolved::Stored(embedding) => Some(embedding),
            Resolved::Missing => None,
        }
    }
}

fn encoded(vector: &[f32]) -> ProductEmbedding {
    ProductEmbedding {
        model: embeddings::MODEL.to_owned(),
        vector: embeddings::encode(vector),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::catalog::{Named, Rating, Variant};

    fn product(title: &str, colours: &[&str], tags: &[&str], description: &str) -> ProductSnapshot {
        ProductSnapshot {
            id: 1,
            version: 1,
            slug: "p".into(),
            title: title.into(),
            description: description.into(),
            brand: Named {
                slug: "hart".into(),
                name: "Oliver Hart".into(),
            },
            categories: vec![
                Named {
                    slug: "shirts".into(),
                    name: "Shirts".into(),
                },
                Named {
                    slug: "casual-shirts".into(),
                    name: "Casual shirts".into(),
                },
            ],
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            images: Vec::new(),
            attributes: Default::default(),
            published: true,
            rating: Rating::default(),
            variants: colours
                .iter()
                .map(|colour| Variant {
                    sku: format!("SKU-{colour}"),
                    size: "M".into(),
                    colour: (*colour).to_owned(),
                    price_minor: 4_500,
                    currency: "GBP".into(),
                    compare_at_minor: None,
                })
                .collect(),
            updated_at: "2026-11-27T00:00:00Z".into(),
        }
    }

    #[test]
    fn a_description_is_cut_into_its_sentences() {
        let cut: Vec<&str> =
            sentences("  Light and cool. Wear it in the sun!   Why not?Care: wash cold ").collect();
        assert_eq!(
            cut,
            [
                "Light and cool.",
                "Wear it in the sun!",
                "Why not?Care: wash cold"
            ]
        );
        assert_eq!(sentences("").count(), 0);
        assert_eq!(
            sentences("No full stop").collect::<Vec<_>>(),
            ["No full stop"]
        );
        assert_eq!(
            sentences("v2.5 fabric. Done.").collect::<Vec<_>>(),
            ["v2.5 fabric.", "Done."]
        );
    }

    #[test]
    fn parts_are_the_title_twice_then_path_colours_tags_and_sentences() {
        let p = product(
            "Slim seersucker shirt",
            &["white", "navy", "white"],
            &["seersucker", "summer"],
            "Puckered cotton. Made in Portugal.",
        );
        let parts = parts_of(&p);
        assert_eq!(
            parts,
            [
                ("Slim seersucker shirt".to_owned(), 2.0),
                ("Oliver Hart Shirts Casual shirts".to_owned(), 1.0),
                ("navy, white".to_owned(), 1.0),
                ("seersucker, summer".to_owned(), 1.0),
                ("Puckered cotton.".to_owned(), 1.0),
                ("Made in Portugal.".to_owned(), 1.0),
            ]
        );
        // Colours in another order are the same product text.
        let reordered = product(
            "Slim seersucker shirt",
            &["navy", "white"],
            &["seersucker", "summer"],
            "Puckered cotton. Made in Portugal.",
        );
        assert_eq!(hash_of(&parts), hash_of(&parts_of(&reordered)));
        // Any change to what is said is a new text.
        let retitled = product("Slim linen shirt", &["navy"], &[], "Puckered cotton.");
        assert_ne!(hash_of(&parts), hash_of(&parts_of(&retitled)));
        let long = "One. ".repeat(20);
        assert_eq!(
            parts_of(&product("T", &[], &[], &long)).len(),
            2 + MAX_SENTENCES
        );
    }

    #[tokio::test]
    async fn shared_parts_are_embedded_once_and_the_mean_still_means_the_product() {
        let Ok(embedder) = ProductEmbedder::new(&testkit::model_dir()) else {
            panic!("the model is missing: run `cargo xtask models`");
        };
        let summer = product(
            "Slim seersucker shirt",
            &["white"],
            &["seersucker", "summer"],
            "Puckered seersucker that stays off the skin in the heat. Made in Portugal.",
        );
        let winter = product(
            "Heavy wool overcoat",
            &["charcoal"],
            &["wool", "winter"],
            "Dense melton wool against the cold. Made in Portugal.",
        );
        let vectors = embedder
            .vectors(vec![parts_of(&summer), parts_of(&winter)])
            .await
            .unwrap();
        // "Made in Portugal." and the brand's path are shared.
        let distinct = 2 * 6 - 2;
        assert_eq!(embedder.parts_embedded(), distinct);
        for v in &vectors {
            assert_eq!(v.len(), embeddings::DIMS);
            let norm = embeddings::norm(v);
            assert!((norm - 1.0).abs() < 1e-4, "unit length, not {norm}");
        }
        // Again: nothing new to run through the model, the same vector.
        let again = embedder.vectors(vec![parts_of(&summer)]).await.unwrap();
        assert_eq!(embedder.parts_embedded(), distinct);
        assert_eq!(again[0], vectors[0]);

        // Each query finds its own product first, by a margin, though both
        // are filed as shirts by one brand. (Measured when this was written:
        // the mean of parts separates them by 0.14 and 0.15; one embedding
        // of the whole text, by 0.07 and 0.13.)
        let model = embedder.model().await.unwrap();
        for (query, wanted, other) in [
            ("a light summer shirt", &vectors[0], &vectors[1]),
            ("something warm for winter", &vectors[1], &vectors[0]),
        ] {
            let vector = model.embed_one(query).unwrap();
            let (near, far) = (
                embeddings::cosine(&vector, wanted),
                embeddings::cosine(&vector, other),
            );
            assert!(near > far + 0.05, "{query:?}: {near} against {far}");
        }
    }
}
