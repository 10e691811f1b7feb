//! `GET /api/search`, `/api/search/suggest`, the recommendation lists, and
//! `POST /api/ops/search/rebuild` (role `sre`).

use std::sync::Arc;

use axum::extract::{FromRef, Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use chassis::http::{ApiError, Json, Query};
use serde::Deserialize;
use wire::search::{Recommendations, SearchMode, SearchResults, Suggestions};

use super::query::{Base, SearchParams, SearchRequest};
use super::{Search, SearchError, recommend, suggest};
use crate::auth::Auth;
use crate::auth::routes::{Sre, WithRole};

#[derive(Debug, Clone)]
pub struct State {
    pub search: Search,
    pub auth: Arc<Auth>,
}

impl FromRef<State> for Arc<Auth> {
    fn from_ref(state: &State) -> Self {
        state.auth.clone()
    }
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> Self {
        let (status, code) = match &error {
            SearchError::InvalidQuery(_) => (StatusCode::BAD_REQUEST, "invalid_query"),
            SearchError::QueryTooLong => (StatusCode::BAD_REQUEST, "query_too_long"),
            SearchError::NotFound => (StatusCode::NOT_FOUND, "product_not_found"),
            SearchError::Warming => {
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "search_warming",
                    error.to_string(),
                )
                .retry_after(2);
            }
            SearchError::Unexpected(_) => return ApiError::unexpected(error),
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// The shopper the edge routed this request for.
pub fn shopper_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get(crate::SHOPPER_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| {
            !k.is_empty()
                && k.len() <= 64
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
}

#[utoipa::path(get, path = "/api/search", tag = "search", params(SearchParams),
    responses(
        (status = 200, description = "A page of hits with highlights and facet counts", body = SearchResults),
        (status = 400, description = "`invalid_query` (names the parameter) or `query_too_long`", body = wire::ErrorBody),
        (status = 503, description = "`search_warming`: the index is being built (Retry-After)", body = wire::ErrorBody)))]
pub async fn search(
    AxumState(state): AxumState<State>,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchResults>, ApiError> {
    let request = SearchRequest::parse(params)?;
    let search = &state.search;
    let live = search.live()?;
    let base = match request.mode {
        SearchMode::Text => Base::Words(super::query::words(&request.q)),
        SearchMode::Semantic => Base::Ranked(recommend::semantic(search, &request).await?),
        SearchMode::Hybrid => Base::Ranked(recommend::hybrid(search, &live, &request).await?),
    };
    let labels = search.labels.clone();
    let results =
        tokio::task::spawn_blocking(move || super::query::run(&live, &labels, &request, &base))
            .await
            .map_err(SearchError::from)?
            .map_err(SearchError::from)?;
    Ok(Json(results))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SuggestParams {
    /// What the shopper has typed so far (1-100 characters).
    pub q: String,
    /// 1-20, default 8.
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/search/suggest", tag = "search", params(SuggestParams),
    responses(
        (status = 200, description = "Products, brands and categories for autocomplete", body = Suggestions),
        (status = 400, description = "`invalid_query`", body = wire::ErrorBody)))]
pub async fn suggest(
    AxumState(state): AxumState<State>,
    Query(params): Query<SuggestParams>,
) -> Result<Json<Suggestions>, ApiError> {
    let q = params.q.trim().to_owned();
    if q.is_empty() || q.chars().count() > 100 {
        return Err(SearchError::InvalidQuery("q: 1-100 characters".into()).into());
    }
    let limit = params.limit.unwrap_or(8);
    if !(1..=20).contains(&limit) {
        return Err(SearchError::InvalidQuery("limit: 1-20".into()).into());
    }
    let live = state.search.live()?;
    let labels = state.search.labels.snapshot();
    let typed = q.clone();
    let items = tokio::task::spawn_blocking(move || {
        suggest::suggest(&live, &labels, &typed, limit as usize)
    })
    .await
    .map_err(SearchError::from)?
    .map_err(SearchError::from)?;
    Ok(Json(Suggestions { query: q, items }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListLimit {
    /// 1-48, default 12.
    pub limit: Option<u32>,
}

fn limit(params: &ListLimit) -> Result<usize, SearchError> {
    let limit = params.limit.unwrap_or(12);
    if !(1..=48).contains(&limit) {
        return Err(SearchError::InvalidQuery("limit: 1-48".into()));
    }
    Ok(limit as usize)
}

#[utoipa::path(get, path = "/api/products/{slug}/similar", tag = "recommendations",
    params(("slug" = String, Path, description = "The product's slug"), ListLimit),
    responses(
        (status = 200, description = "Nearest products by meaning, in stock, without the product itself", body = Recommendations),
        (status = 404, description = "`product_not_found`", body = wire::ErrorBody)))]
pub async fn similar(
    AxumState(state): AxumState<State>,
    Path(slug): Path<String>,
    Query(params): Query<ListLimit>,
) -> Result<Json<Recommendations>, ApiError> {
    let limit = limit(&params)?;
    Ok(Json(recommend::similar(&state.search, &slug, limit).await?))
}

#[utoipa::path(get, path = "/api/products/{slug}/bought-together", tag = "recommendations",
    params(("slug" = String, Path, description = "The product's slug"), ListLimit),
    responses(
        (status = 200, description = "Products most often bought with this one in this cell", body = Recommendations),
        (status = 404, description = "`product_not_found`", body = wire::ErrorBody)))]
pub async fn bought_together(
    AxumState(state): AxumState<State>,
    Path(slug): Path<String>,
    Query(params): Query<ListLimit>,
) -> Result<Json<Recommendations>, ApiError> {
    let limit = limit(&params)?;
    Ok(Json(
        recommend::bought_together(&state.search, &slug, limit).await?,
    ))
}

#[utoipa::path(get, path = "/api/recommendations/for-you", tag = "recommendations",
    params(ListLimit),
    responses(
        (status = 200, description = "Picked from the shopper's views and purchases in this cell; trending when there are none", body = Recommendations)))]
pub async fn for_you(
    AxumState(state): AxumState<State>,
    headers: HeaderMap,
    Query(params): Query<ListLimit>,
) -> Result<Json<Recommendations>, ApiError> {
    let limit = limit(&params)?;
    let shopper = shopper_key(&headers);
    Ok(Json(
        recommend::for_you(&state.search, shopper.as_deref(), limit).await?,
    ))
}

#[utoipa::path(get, path = "/api/recommendations/trending", tag = "recommendations",
    params(ListLimit),
    responses(
        (status = 200, description = "Most viewed products across the platform lately (time-decayed)", body = Recommendations)))]
pub async fn trending(
    AxumState(state): AxumState<State>,
    Query(params): Query<ListLimit>,
) -> Result<Json<Recommendations>, ApiError> {
    let limit = limit(&params)?;
    Ok(Json(recommend::trending(&state.search, limit).await?))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Rebuilt {
    pub products: u64,
}

#[utoipa::path(post, path = "/api/ops/search/rebuild", tag = "search",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The index and vector store were rebuilt from the read model and swapped in", body = Rebuilt),
        (status = 401, description = "`missing_token` or `invalid_token`", body = wire::ErrorBody),
        (status = 403, description = "`forbidden`: needs role sre", body = wire::ErrorBody)))]
pub async fn rebuild(
    AxumState(state): AxumState<State>,
    caller: WithRole<Sre>,
) -> Result<Json<Rebuilt>, ApiError> {
    tracing::info!(by = %caller.0.sub, "search rebuild requested");
    let products = state
        .search
        .changes
        .rebuild()
        .await
        .map_err(SearchError::Unexpected)?;
    Ok(Json(Rebuilt { products }))
}
