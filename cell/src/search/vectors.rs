//! The vector store behind one small adapter. The implementation here is
//! Qdrant's engine in process (`qdrant-edge` 0.7.2 — 0.8.0 and 0.9.0 do not
//! build on our rustc, see docs/SEARCH.md): one shard in a folder of the
//! cell's, cosine distance over 384-dimension product vectors, the payload
//! `in_stock` indexed for filtered search. Its API is synchronous: call it
//! from the blocking pool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use qdrant_edge::{
    Condition, CreateIndex, Distance, EdgeConfigBuilder, EdgeShard, EdgeVectorParamsBuilder,
    FieldCondition, FieldIndexOperations, Filter, HasIdCondition, JsonPath, Match, NamedQuery,
    PayloadFieldSchema, PayloadSchemaType, PointId, PointInsertOperations, PointOperations,
    PointStruct, QueryEnum, SearchRequest, UpdateOperation,
};

/// A product's vector and what filters read.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub id: u64,
    pub vector: Vec<f32>,
    pub in_stock: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct VectorFilter {
    /// Only products this cell can sell now.
    pub in_stock: bool,
    /// Never these (the product a "similar" list is for, what the shopper
    /// already saw).
    pub exclude: Vec<u64>,
}

pub trait VectorStore: Send + Sync + std::fmt::Debug {
    /// Forgets every point.
    fn clear(&self) -> anyhow::Result<()>;
    fn upsert(&self, points: Vec<Point>) -> anyhow::Result<()>;
    fn delete(&self, ids: &[u64]) -> anyhow::Result<()>;
    /// Builds the search graph after a bulk load.
    fn optimize(&self) -> anyhow::Result<()>;
    /// The `k` nearest points passing `filter`, by cosine similarity, best
    /// first.
    fn search(
        &self,
        vector: &[f32],
        k: usize,
        filter: &VectorFilter,
    ) -> anyhow::Result<Vec<(u64, f32)>>;
}

/// Opens the cell's store in `dir`, or in a fresh temporary folder when
/// `dir` is empty. Whatever the folder held is discarded: the store is
/// rebuilt from the read model at start.
pub fn open(dir: &Path, cell: &str) -> anyhow::Result<Arc<dyn VectorStore>> {
    let dir = if dir.as_os_str().is_empty() {
        std::env::temp_dir().join(format!("cellwear-vectors-{cell}-{}", std::process::id()))
    } else {
        dir.to_owned()
    };
    Ok(Arc::new(EdgeStore::create(dir)?))
}

const IN_STOCK: &str = "in_stock";

fn in_stock_path() -> anyhow::Result<JsonPath> {
    JsonPath::try_from(IN_STOCK).map_err(|_| anyhow::anyhow!("vector store: bad payload path"))
}

pub struct EdgeStore {
    dir: PathBuf,
    shard: RwLock<Option<EdgeShard>>,
}

impl std::fmt::Debug for EdgeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeStore").field("dir", &self.dir).finish()
    }
}

fn failed(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("vector store: {error}")
}

impl EdgeStore {
    pub fn create(dir: PathBuf) -> anyhow::Result<Self> {
        let store = Self {
            dir,
            shard: RwLock::new(None),
        };
        store.clear()?;
        Ok(store)
    }

    fn fresh_shard(&self) -> anyhow::Result<EdgeShard> {
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir)
                .with_context(|| format!("emptying {}", self.dir.display()))?;
        }
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        let config = EdgeConfigBuilder::new()
            .vector(
                "",
                EdgeVectorParamsBuilder::new(embeddings::DIMS, Distance::Cosine).build(),
            )
            .build();
        let shard = EdgeShard::new(&self.dir, config).map_err(failed)?;
        shard
            .update(UpdateOperation::FieldIndexOperation(
                FieldIndexOperations::CreateIndex(CreateIndex {
                    field_name: in_stock_path()?,
                    field_schema: Some(PayloadFieldSchema::FieldType(PayloadSchemaType::Bool)),
                }),
            ))
            .map_err(failed)?;
        Ok(shard)
    }

    fn with<T>(&self, work: impl FnOnce(&EdgeShard) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let guard = self
            .shard
            .read()
            .map_err(|_| anyhow::anyhow!("vector store lock poisoned"))?;
        let shard = guard
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("vector store closed"))?;
        work(shard)
    }
}

impl Drop for EdgeStore {
    fn drop(&mut self) {
        if let Ok(mut guard) = self.shard.write() {
            guard.take();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl VectorStore for EdgeStore {
    fn clear(&self) -> anyhow::Result<()> {
        let mut guard = self
            .shard
            .write()
            .map_err(|_| anyhow::anyhow!("vector store lock poisoned"))?;
        // The old shard flushes and lets go of its files before they go.
        guard.take();
        *guard = Some(self.fresh_shard()?);
        Ok(())
    }

    fn upsert(&self, points: Vec<Point>) -> anyhow::Result<()> {
        if points.is_empty() {
            return Ok(());
        }
        let points = points
            .into_iter()
            .map(|p| {
                PointStruct::new(
                    PointId::NumId(p.id),
                    p.vector,
                    serde_json::json!({ IN_STOCK: p.in_stock }),
                )
                .into()
            })
            .collect();
        self.with(|shard| {
            shard
                .update(UpdateOperation::PointOperation(
                    PointOperations::UpsertPoints(PointInsertOperations::PointsList(points)),
                ))
                .map_err(failed)
        })
    }

    fn delete(&self, ids: &[u64]) -> anyhow::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids = ids.iter().map(|id| PointId::NumId(*id)).collect();
        self.with(|shard| {
            shard
                .update(UpdateOperation::PointOperation(
                    PointOperations::DeletePoints { ids },
                ))
                .map_err(failed)
        })
    }

    fn optimize(&self) -> anyhow::Result<()> {
        self.with(|shard| shard.optimize().map(|_| ()).map_err(failed))
    }

    fn search(
        &self,
        vector: &[f32],
        k: usize,
        filter: &VectorFilter,
    ) -> anyhow::Result<Vec<(u64, f32)>> {
        let mut conditions = Filter::new();
        if filter.in_stock {
            conditions.must = Some(vec![Condition::Field(FieldCondition::new_match(
                in_stock_path()?,
                Match::from(true),
            ))]);
        }
        if !filter.exclude.is_empty() {
            let ids: HasIdCondition = filter
                .exclude
                .iter()
                .map(|id| PointId::NumId(*id))
                .collect();
            conditions.must_not = Some(vec![Condition::HasId(ids)]);
        }
        let request = SearchRequest {
            query: QueryEnum::Nearest(NamedQuery::default_dense(vector.to_vec())),
            filter: (filter.in_stock || !filter.exclude.is_empty()).then_some(conditions),
            params: None,
            limit: k,
            offset: 0,
            with_payload: None,
            with_vector: None,
            score_threshold: None,
        };
        #[allow(deprecated)]
        let hits = self.with(|shard| shard.search(request).map_err(failed))?;
        Ok(hits
            .into_iter()
            .filter_map(|hit| match hit.id {
                PointId::NumId(id) => Some((id, hit.score)),
                PointId::Uuid(_) => None,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: usize) -> Vec<f32> {
        embeddings::unit_length(
            (0..embeddings::DIMS)
                .map(|i| (((i * 7 + seed * 13) % 17) as f32) - 8.0)
                .collect(),
        )
    }

    #[test]
    fn finds_nearest_with_filters_and_forgets_deleted() {
        let dir =
            std::env::temp_dir().join(format!("cellwear-vectors-test-{}", uuid::Uuid::new_v4()));
        let store = EdgeStore::create(dir.clone()).unwrap();
        store
            .upsert(
                (1..=20)
                    .map(|id| Point {
                        id,
                        vector: unit(id as usize),
                        in_stock: id % 2 == 0,
                    })
                    .collect(),
            )
            .unwrap();
        let hits = store.search(&unit(4), 3, &VectorFilter::default()).unwrap();
        assert_eq!(hits[0].0, 4);
        assert!((hits[0].1 - 1.0).abs() < 1e-4);
        let hits = store
            .search(
                &unit(4),
                20,
                &VectorFilter {
                    in_stock: true,
                    exclude: vec![4],
                },
            )
            .unwrap();
        assert!(hits.iter().all(|(id, _)| id % 2 == 0 && *id != 4));
        assert_eq!(hits.len(), 9);
        store.delete(&[6, 8]).unwrap();
        let hits = store
            .search(&unit(6), 20, &VectorFilter::default())
            .unwrap();
        assert!(hits.iter().all(|(id, _)| *id != 6 && *id != 8));
        store.clear().unwrap();
        assert!(
            store
                .search(&unit(6), 5, &VectorFilter::default())
                .unwrap()
                .is_empty()
        );
        drop(store);
        assert!(!dir.exists());
    }

    /// A point on the unit sphere from a seed (xorshift).
    fn scattered(seed: u64) -> Vec<f32> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        embeddings::unit_length(
            (0..embeddings::DIMS)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % 2_000) as f32 / 1_000.0 - 1.0
                })
                .collect(),
        )
    }

    #[test]
    fn points_are_graph_indexed_only_once_optimised() {
        let dir =
            std::env::temp_dir().join(format!("cellwear-vectors-test-{}", uuid::Uuid::new_v4()));
        let store = EdgeStore::create(dir).unwrap();
        let indexed = |store: &EdgeStore| {
            store
                .with(|shard| Ok(shard.info().indexed_vectors_count))
                .unwrap()
        };
        for chunk in (1..=8_000u64).collect::<Vec<_>>().chunks(1_000) {
            store
                .upsert(
                    chunk
                        .iter()
                        .map(|&id| Point {
                            id,
                            vector: scattered(id),
                            in_stock: true,
                        })
                        .collect(),
                )
                .unwrap();
        }
        // Upserts alone leave every point to be scanned one by one.
        assert_eq!(indexed(&store), 0);
        store.optimize().unwrap();
        assert!(indexed(&store) >= 6_000, "{} indexed", indexed(&store));
        let hits = store
            .search(&scattered(4_321), 1, &VectorFilter::default())
            .unwrap();
        assert_eq!(hits[0].0, 4_321);
    }
}
