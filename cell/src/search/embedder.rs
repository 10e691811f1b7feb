//! Query embeddings in the cell: the model is loaded on first use (or
//! warmed at start), runs on the blocking pool one query at a time per core,
//! and recent queries are remembered so a popular query costs one run.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use embeddings::Embedder;
use tokio::sync::{OnceCell, Semaphore};

use super::SearchError;

#[derive(Clone)]
pub struct QueryEmbedder {
    dir: PathBuf,
    model: Arc<OnceCell<Arc<Embedder>>>,
    /// One run per core at a time: the model's own threads share them.
    runs: Arc<Semaphore>,
    recent: moka::sync::Cache<String, Arc<Vec<f32>>>,
}

impl std::fmt::Debug for QueryEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryEmbedder")
            .field("dir", &self.dir)
            .field("loaded", &self.model.initialized())
            .finish()
    }
}

impl QueryEmbedder {
    pub fn new(dir: PathBuf, cache_capacity: u64) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            dir,
            model: Arc::new(OnceCell::new()),
            runs: Arc::new(Semaphore::new(cores)),
            recent: moka::sync::Cache::builder()
                .max_capacity(cache_capacity)
                .time_to_live(Duration::from_secs(600))
                .build(),
        }
    }

    pub async fn model(&self) -> Result<Arc<Embedder>, SearchError> {
        self.model
            .get_or_try_init(|| async {
                let dir = self.dir.clone();
                let model = tokio::task::spawn_blocking(move || Embedder::load(&dir)).await??;
                tracing::info!(dir = %self.dir.display(), "embedding model loaded");
                Ok::<_, SearchError>(Arc::new(model))
            })
            .await
            .cloned()
    }

    /// The unit vector of `text` (lower-cased and trimmed first).
    pub async fn embed(&self, text: &str) -> Result<Arc<Vec<f32>>, SearchError> {
        let key = text.trim().to_lowercase();
        if let Some(hit) = self.recent.get(&key) {
            return Ok(hit);
        }
        let model = self.model().await?;
        let _permit = self
            .runs
            .acquire()
            .await
            .map_err(|e| SearchError::Unexpected(e.into()))?;
        let input = key.clone();
        let vector = tokio::task::spawn_blocking(move || model.embed_one(&input)).await??;
        let vector = Arc::new(vector);
        self.recent.insert(key, vector.clone());
        Ok(vector)
    }
}

impl From<embeddings::EmbedError> for SearchError {
    fn from(error: embeddings::EmbedError) -> Self {
        SearchError::Unexpected(error.into())
    }
}
