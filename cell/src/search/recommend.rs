//! The vector side of search and the recommendation lists: semantic and
//! hybrid candidates, similar products, picks for the shopper, trending,
//! and bought together.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::Row;
use tantivy::collector::TopDocs;
use tantivy::query::TermSetQuery;
use tantivy::schema::Value;
use tantivy::{TantivyDocument, Term};
use wire::catalog::ProductSummary;
use wire::search::Recommendations;

use super::index::Live;
use super::query::{SearchRequest, text_ranked, words};
use super::vectors::VectorFilter;
use super::{Search, SearchError};

/// Candidates drawn from each ranking for semantic and hybrid search.
pub const CANDIDATES: usize = 300;
/// Reciprocal rank fusion's constant: a hit's fused score is the sum over
/// the rankings it is in of 1 / (K + rank).
pub const RRF_K: f32 = 60.0;
/// How fast a view or purchase stops counting for "for you".
pub const HISTORY_HALF_LIFE: Duration = Duration::from_secs(3 * 24 * 3600);
/// A purchase says more about taste than a view.
pub const PURCHASE_WEIGHT: f32 = 3.0;
/// Views and purchases looked at for "for you".
const HISTORY: u32 = 50;

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, SearchError> {
    Ok(tokio::task::spawn_blocking(work).await??)
}

/// Nearest products to the query's meaning.
pub async fn semantic(
    search: &Search,
    request: &SearchRequest,
) -> Result<Vec<(u64, f32)>, SearchError> {
    let vector = search.embedder.embed(&request.q).await?;
    let filter = VectorFilter {
        in_stock: request.filters.in_stock,
        exclude: Vec::new(),
    };
    let store = search.vectors.clone();
    blocking(move || store.search(&vector, CANDIDATES, &filter)).await
}

/// Text and vector rankings fused by reciprocal rank.
pub async fn hybrid(
    search: &Search,
    live: &std::sync::Arc<Live>,
    request: &SearchRequest,
) -> Result<Vec<(u64, f32)>, SearchError> {
    let vector_ranked = semantic(search, request).await?;
    let (live, words, filters) = (live.clone(), words(&request.q), request.filters.clone());
    let text = blocking(move || Ok(text_ranked(&live, &words, &filters, CANDIDATES)?)).await?;
    Ok(fuse(&[&text, &vector_ranked]))
}

/// Reciprocal rank fusion of `rankings`, best first.
pub fn fuse(rankings: &[&[(u64, f32)]]) -> Vec<(u64, f32)> {
    let mut scores: HashMap<u64, f32> = HashMap::new();
    for ranking in rankings {
        for (rank, (id, _)) in ranking.iter().enumerate() {
            *scores.entry(*id).or_default() += 1.0 / (RRF_K + rank as f32 + 1.0);
        }
    }
    let mut fused: Vec<(u64, f32)> = scores.into_iter().collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fused
}

/// The list items of `ids` from the index, in the order given, skipping
/// products no longer listed.
pub fn summaries(live: &Live, ids: &[u64]) -> tantivy::Result<Vec<ProductSummary>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let f = &live.fields;
    let searcher = live.reader.searcher();
    let query = TermSetQuery::new(ids.iter().map(|id| Term::from_field_u64(f.id, *id)));
    let hits = searcher.search(&query, &TopDocs::with_limit(ids.len()))?;
    let mut found: HashMap<u64, ProductSummary> = HashMap::new();
    for (_, address) in hits {
        let doc: TantivyDocument = searcher.doc(address)?;
        if let Some(product) = doc
            .get_first(f.summary)
            .and_then(|v| v.as_bytes())
            .and_then(|b| serde_json::from_slice::<ProductSummary>(b).ok())
        {
            found.insert(product.id, product);
        }
    }
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

async fn items(
    search: &Search,
    ids: Vec<u64>,
    limit: usize,
) -> Result<Vec<ProductSummary>, SearchError> {
    let live = search.live()?;
    let mut list = blocking(move || Ok(summaries(&live, &ids)?)).await?;
    list.truncate(limit);
    Ok(list)
}

fn vector_of(bytes: Option<Vec<u8>>) -> Option<Vec<f32>> {
    embeddings::from_le_bytes(&bytes?)
}

/// The listed product at `slug`: its id and vector.
async fn product(search: &Search, slug: &str) -> Result<(u64, Option<Vec<f32>>), SearchError> {
    let row = sqlx::query(
        "SELECT p.id, e.vector FROM catalog_products p \
         LEFT JOIN catalog_embeddings e ON e.product_id = p.id \
         WHERE p.slug = ? AND p.listed = TRUE",
    )
    .bind(slug)
    .fetch_optional(&search.read)
    .await?
    .ok_or(SearchError::NotFound)?;
    Ok((row.try_get("id")?, vector_of(row.try_get("vector")?)))
}

pub async fn similar(
    search: &Search,
    slug: &str,
    limit: usize,
) -> Result<Recommendations, SearchError> {
    let (id, vector) = product(search, slug).await?;
    let ids = match vector {
        None => Vec::new(),
        Some(vector) => {
            let store = search.vectors.clone();
            let filter = VectorFilter {
                in_stock: true,
                exclude: vec![id],
            };
            blocking(move || store.search(&vector, limit, &filter))
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        }
    };
    Ok(Recommendations {
        kind: "similar".into(),
        fallback: None,
        items: items(search, ids, limit).await?,
    })
}

/// The shopper's taste: the mean of the vectors of what they viewed and
/// bought here, each weighted by kind and halved every half-life of age.
async fn taste(
    search: &Search,
    shopper: &str,
) -> Result<Option<(Vec<f32>, Vec<u64>)>, SearchError> {
    let rows = sqlx::query(
        "SELECT a.product_id, a.kind, TIMESTAMPDIFF(SECOND, a.at, CURRENT_TIMESTAMP(6)) AS age, e.vector \
         FROM shopper_activity a LEFT JOIN catalog_embeddings e ON e.product_id = a.product_id \
         WHERE a.shopper_key = ? ORDER BY a.at DESC LIMIT ?",
    )
    .bind(shopper)
    .bind(HISTORY)
    .fetch_all(&search.write)
    .await?;
    let mut sum = vec![0f32; embeddings::DIMS];
    let mut seen = Vec::new();
    let mut weight_total = 0f32;
    for row in &rows {
        let id: u64 = row.try_get("product_id")?;
        if !seen.contains(&id) {
            seen.push(id);
        }
        let Some(vector) = vector_of(row.try_get("vector")?) else {
            continue;
        };
        let kind: String = row.try_get("kind")?;
        let age = row.try_get::<i64, _>("age")?.max(0) as f32;
        let weight = if kind == "purchase" {
            PURCHASE_WEIGHT
        } else {
            1.0
        } * 0.5f32.powf(age / HISTORY_HALF_LIFE.as_secs_f32());
        weight_total += weight;
        for (s, v) in sum.iter_mut().zip(&vector) {
            *s += weight * v;
        }
    }
    let norm = embeddings::norm(&sum);
    if weight_total <= 0.0 || norm <= f32::EPSILON {
        return Ok(None);
    }
    Ok(Some((sum.into_iter().map(|x| x / norm).collect(), seen)))
}

pub async fn for_you(
    search: &Search,
    shopper: Option<&str>,
    limit: usize,
) -> Result<Recommendations, SearchError> {
    let taste = match shopper {
        Some(shopper) => taste(search, shopper).await?,
        None => None,
    };
    let Some((vector, seen)) = taste else {
        let mut list = trending(search, limit).await?;
        list.kind = "for_you".into();
        list.fallback = Some("trending".into());
        return Ok(list);
    };
    let store = search.vectors.clone();
    let filter = VectorFilter {
        in_stock: true,
        exclude: seen,
    };
    let ids = blocking(move || store.search(&vector, limit, &filter))
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    Ok(Recommendations {
        kind: "for_you".into(),
        fallback: None,
        items: items(search, ids, limit).await?,
    })
}

pub async fn trending(search: &Search, limit: usize) -> Result<Recommendations, SearchError> {
    let ids: Vec<u64> = sqlx::query_scalar(
        "SELECT product_id FROM cell_trending ORDER BY score DESC, product_id LIMIT ?",
    )
    .bind(limit as u32 * 2)
    .fetch_all(&search.read)
    .await?;
    if !ids.is_empty() {
        return Ok(Recommendations {
            kind: "trending".into(),
            fallback: None,
            items: items(search, ids, limit).await?,
        });
    }
    // Nothing viewed anywhere yet: the best rated.
    let live = search.live()?;
    let list = blocking(move || {
        let searcher = live.reader.searcher();
        let top = searcher.search(
            &tantivy::query::AllQuery,
            &TopDocs::with_limit(limit).order_by_fast_field::<f64>("rating", tantivy::Order::Desc),
        )?;
        let mut out = Vec::new();
        for (_, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(p) = doc
                .get_first(live.fields.summary)
                .and_then(|v| v.as_bytes())
                .and_then(|b| serde_json::from_slice::<ProductSummary>(b).ok())
            {
                out.push(p);
            }
        }
        Ok(out)
    })
    .await?;
    Ok(Recommendations {
        kind: "trending".into(),
        fallback: Some("top_rated".into()),
        items: list,
    })
}

pub async fn bought_together(
    search: &Search,
    slug: &str,
    limit: usize,
) -> Result<Recommendations, SearchError> {
    let (id, _) = product(search, slug).await?;
    let ids: Vec<u64> = sqlx::query_scalar(
        "SELECT other_id FROM co_purchases WHERE product_id = ? ORDER BY times DESC, other_id LIMIT ?",
    )
    .bind(id)
    .bind(limit as u32 * 2)
    .fetch_all(&search.read)
    .await?;
    Ok(Recommendations {
        kind: "bought_together".into(),
        fallback: None,
        items: items(search, ids, limit).await?,
    })
}
