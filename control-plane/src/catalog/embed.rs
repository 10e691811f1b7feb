//! Product vectors: computed by the control plane once per distinct product
//! text (so once per version at most, and not again for a price change),
//! kept in `product_embeddings` keyed by a hash of model and text, and sent
//! with the product's snapshot in `ProductUpserted`. Cells embed only
//! queries.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use embeddings::Embedder;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::mysql::MySqlConnection;
use tokio::sync::OnceCell;
use wire::catalog::{ProductEmbedding, ProductSnapshot};

/// Texts embedded in one run of the model.
const BATCH: usize = 32;

/// What a product's vector is made of: what a shopper would say about it.
pub fn text_of(p: &ProductSnapshot) -> String {
    let mut colours: Vec<&str> = Vec::new();
    for v in &p.variants {
        if !colours.contains(&v.colour.as_str()) {
            colours.push(&v.colour);
        }
    }
    let path: Vec<&str> = p.categories.iter().map(|c| c.name.as_str()).collect();
    format!(
        "{}. {} {}. {}. {}. {}",
        p.title,
        p.brand.name,
        path.join(" "),
        colours.join(", "),
        p.tags.join(", "),
        p.description
    )
}

fn hash(text: &str) -> Vec<u8> {
    let mut digest = Sha256::new();
    digest.update(embeddings::MODEL.as_bytes());
    digest.update(b"\n");
    digest.update(text.as_bytes());
    digest.finalize().to_vec()
}

#[derive(Clone)]
pub struct ProductEmbedder {
    dir: PathBuf,
    model: Arc<OnceCell<Arc<Embedder>>>,
    /// Vectors computed ahead for an import batch, by text hash.
    ready: moka::sync::Cache<Vec<u8>, Arc<Vec<f32>>>,
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

    async fn embed(&self, texts: Vec<String>) -> anyhow::Result<Vec<Vec<f32>>> {
        let model = self.model().await?;
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::with_capacity(texts.len());
            for chunk in texts.chunks(BATCH) {
                let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
                out.extend(model.embed(&refs)?);
            }
            Ok(out)
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
        let mut texts: Vec<(Vec<u8>, String)> = snapshots
            .iter()
            .map(|s| {
                let text = text_of(s);
                (hash(&text), text)
            })
            .filter(|(h, _)| !self.ready.contains_key(h))
            .collect();
        texts.sort();
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
        let (hashes, missing): (Vec<Vec<u8>>, Vec<String>) = texts
            .into_iter()
            .filter(|(h, _)| !stored.contains(h))
            .unzip();
        let vectors = self.embed(missing).await?;
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
        let text = text_of(snapshot);
        let key = hash(&text);
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
        let vector: Vec<f32> = match found {
            Some((true, vector)) => vector,
            found => {
                let vector = match (found, self.ready.get(&key)) {
                    (Some((_, vector)), _) => vector,
                    (None, Some(ready)) => ready.as_ref().clone(),
                    (None, None) => match self.embed(vec![text]).await.map(|mut v| v.pop()) {
                        Ok(Some(vector)) => vector,
                        Ok(None) | Err(_) => {
                            tracing::error!(
                                product = snapshot.id,
                                "embedding the product failed; it goes out without a vector"
                            );
                            return Ok(None);
                        }
                    },
                };
                let bytes = embeddings::to_le_bytes(&vector);
                sqlx::query(
                    "INSERT INTO product_embeddings (product_id, text_hash, model, vector) VALUES (?, ?, ?, ?) \
                     ON DUPLICATE KEY UPDATE text_hash = VALUES(text_hash), model = VALUES(model), vector = VALUES(vector)",
                )
                .bind(snapshot.id)
                .bind(key.as_slice())
                .bind(embeddings::MODEL)
                .bind(bytes)
                .execute(&mut *conn)
                .await?;
                vector
            }
        };
        Ok(Some(ProductEmbedding {
            model: embeddings::MODEL.to_owned(),
            vector: embeddings::encode(&vector),
        }))
    }
}
