//! Search and recommendations in the cell (DESIGN.md §5), all in process:
//! a tantivy index for text and facets (`index`, `query`), product vectors
//! in a vector store behind one small adapter (`vectors`), query embeddings
//! from all-MiniLM-L6-v2 (`embedder`), and the recommendation lists
//! (`recommend`). Both stores are fed by one indexer task (`indexer`) from
//! the cell's read model, told which products changed by the catalog and
//! stock consumers; they are rebuilt from the read model at start and on
//! demand.

pub mod activity;
pub mod document;
pub mod embedder;
pub mod index;
pub mod indexer;
pub mod query;
pub mod recommend;
pub mod routes;
pub mod suggest;
pub mod vectors;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use arc_swap::ArcSwapOption;
use axum::Router;
use axum::routing::{get, post};
use sqlx::MySqlPool;

use document::ProductDoc;
use embedder::QueryEmbedder;
use index::Live;
pub use indexer::Changes;
use vectors::VectorStore;

use crate::catalog::shelf::Shelf;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("{0}")]
    InvalidQuery(String),
    #[error("The query is longer than {} characters.", query::MAX_QUERY_CHARS)]
    QueryTooLong,
    #[error("The search index is being built; try again in a few seconds.")]
    Warming,
    #[error("No product has this address.")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(error: tantivy::TantivyError) -> Self {
        SearchError::Unexpected(error.into())
    }
}

impl From<sqlx::Error> for SearchError {
    fn from(error: sqlx::Error) -> Self {
        SearchError::Unexpected(error.into())
    }
}

impl From<tokio::task::JoinError> for SearchError {
    fn from(error: tokio::task::JoinError) -> Self {
        SearchError::Unexpected(error.into())
    }
}

/// Brand and category names by slug, learnt from the indexed products: the
/// facets' labels and the autocomplete's brand and category entries.
#[derive(Debug, Default)]
pub struct Names {
    pub brands: BTreeMap<String, String>,
    pub categories: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct Labels(Arc<RwLock<Arc<Names>>>);

impl Labels {
    pub fn snapshot(&self) -> Arc<Names> {
        self.0.read().map(|n| n.clone()).unwrap_or_default()
    }

    fn learn(&self, docs: &[ProductDoc]) {
        let current = self.snapshot();
        let new = |map: &BTreeMap<String, String>, slug: &str, name: &str| {
            map.get(slug).is_none_or(|held| held != name)
        };
        if !docs.iter().any(|d| {
            new(
                &current.brands,
                &d.summary.brand.slug,
                &d.summary.brand.name,
            ) || d
                .categories
                .iter()
                .any(|c| new(&current.categories, &c.slug, &c.name))
        }) {
            return;
        }
        let Ok(mut held) = self.0.write() else {
            return;
        };
        let mut names = Names {
            brands: held.brands.clone(),
            categories: held.categories.clone(),
        };
        for d in docs {
            names
                .brands
                .insert(d.summary.brand.slug.clone(), d.summary.brand.name.clone());
            for c in &d.categories {
                names.categories.insert(c.slug.clone(), c.name.clone());
            }
        }
        *held = Arc::new(names);
    }
}

/// Shared by the routes and the indexer.
#[derive(Clone)]
pub struct Search {
    pub(crate) live: Arc<ArcSwapOption<Live>>,
    pub(crate) labels: Labels,
    pub(crate) vectors: Arc<dyn VectorStore>,
    pub(crate) embedder: QueryEmbedder,
    pub(crate) changes: Changes,
    /// The catalog's list in memory, kept by the indexer.
    pub(crate) shelf: Shelf,
    pub(crate) read: MySqlPool,
    pub(crate) write: MySqlPool,
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search")
            .field("ready", &self.live.load().is_some())
            .finish()
    }
}

impl Search {
    pub fn new(
        vectors: Arc<dyn VectorStore>,
        embedder: QueryEmbedder,
        changes: Changes,
        shelf: Shelf,
        read: MySqlPool,
        write: MySqlPool,
    ) -> Self {
        Self {
            live: Arc::new(ArcSwapOption::empty()),
            labels: Labels::default(),
            vectors,
            embedder,
            changes,
            shelf,
            read,
            write,
        }
    }

    /// The index searchers read, or `Warming` before the first build.
    pub fn live(&self) -> Result<Arc<Live>, SearchError> {
        self.live.load_full().ok_or(SearchError::Warming)
    }

    pub fn changes(&self) -> &Changes {
        &self.changes
    }
}

pub fn router(search: Search, auth: Arc<crate::auth::Auth>) -> Router {
    Router::new()
        .route("/api/search", get(routes::search))
        .route("/api/search/suggest", get(routes::suggest))
        .route("/api/products/{slug}/similar", get(routes::similar))
        .route(
            "/api/products/{slug}/bought-together",
            get(routes::bought_together),
        )
        .route("/api/recommendations/for-you", get(routes::for_you))
        .route("/api/recommendations/trending", get(routes::trending))
        .route("/api/ops/search/rebuild", post(routes::rebuild))
        .with_state(routes::State { search, auth })
}
