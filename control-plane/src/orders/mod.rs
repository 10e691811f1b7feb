//! Staff order search across every cell (`GET /admin/api/orders`, role
//! `admin`): orders live in the cells, so the control plane asks each cell in
//! its map at once (`GET /api/admin/orders`, with the caller's own token,
//! which every cell can check), waits at most `orders.fanout_timeout_ms` for
//! each, and merges what came back newest first. Cells that did not answer
//! in time, could not be reached or refused are listed with the reason, so a
//! partial answer is never mistaken for a whole one.

pub mod routes;

use std::time::Duration;

use serde::Deserialize;
use sqlx::MySqlPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wire::orders::{CellMiss, CellOrder, CellOrderSearch, OrderPage};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSearchSettings {
    /// How long each cell gets to answer.
    pub fanout_timeout_ms: u64,
}

impl OrderSearchSettings {
    pub fn check(&self) -> Result<(), String> {
        if !(100..=60_000).contains(&self.fanout_timeout_ms) {
            return Err("orders.fanout_timeout_ms: 100-60000".into());
        }
        Ok(())
    }
}

/// The filters of a search, checked here so that one bad parameter is one
/// clear 400 rather than a refusal from every cell.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// `pending`, `confirmed`, `processing`, `shipped`, `delivered` or `cancelled`.
    pub status: Option<String>,
    /// Placed on or after (YYYY-MM-DD or RFC 3339).
    pub from: Option<String>,
    /// Placed before (YYYY-MM-DD or RFC 3339).
    pub to: Option<String>,
    /// Text in the shopper's e-mail, a line's title or SKU, or the start of
    /// the order id.
    pub q: Option<String>,
    /// 1-100, default 20: the most returned in all.
    pub limit: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

const STATUSES: [&str; 6] = [
    "pending",
    "confirmed",
    "processing",
    "shipped",
    "delivered",
    "cancelled",
];

fn is_day_or_time(text: &str) -> bool {
    if OffsetDateTime::parse(text, &Rfc3339).is_ok() {
        return true;
    }
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 4
        && parts[1].len() == 2
        && parts[2].len() == 2
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// A query's parameters as each cell is asked with them, and its limit.
type Forwarded = (Vec<(&'static str, String)>, u32);

impl SearchQuery {
    /// The query checked, as the pairs each cell is asked with.
    pub fn pairs(&self) -> Result<Forwarded, SearchError> {
        let invalid = |field, message| SearchError::Invalid { field, message };
        let mut pairs = Vec::new();
        if let Some(status) = self.status.as_deref().filter(|s| !s.is_empty()) {
            if !STATUSES.contains(&status) {
                return Err(invalid(
                    "status",
                    "pending, confirmed, processing, shipped, delivered or cancelled",
                ));
            }
            pairs.push(("status", status.to_owned()));
        }
        for (field, value) in [("from", &self.from), ("to", &self.to)] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                if !is_day_or_time(value) {
                    return Err(invalid(field, "a date (YYYY-MM-DD) or an RFC 3339 time"));
                }
                pairs.push((field, value.to_owned()));
            }
        }
        if let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            if q.chars().count() > 100 || q.chars().any(char::is_control) {
                return Err(invalid("q", "up to 100 characters of text"));
            }
            pairs.push(("q", q.to_owned()));
        }
        let limit = self.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(invalid("limit", "1-100"));
        }
        pairs.push(("limit", limit.to_string()));
        Ok((pairs, limit))
    }
}

/// Asks the cells.
#[derive(Debug, Clone)]
pub struct OrderSearch {
    pool: MySqlPool,
    client: reqwest::Client,
    timeout: Duration,
}

impl OrderSearch {
    pub fn new(pool: MySqlPool, settings: &OrderSearchSettings) -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(Self {
            pool,
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_millis(settings.fanout_timeout_ms))
                .build()?,
            timeout: Duration::from_millis(settings.fanout_timeout_ms),
        })
    }

    /// Searches every cell in the map with the caller's `authorization`.
    pub async fn search(
        &self,
        authorization: &str,
        query: &SearchQuery,
    ) -> Result<CellOrderSearch, SearchError> {
        let (pairs, limit) = query.pairs()?;
        let cells = self.cells().await?;
        let asks = cells.iter().map(|cell| {
            let base = base_url(&cell.http_address);
            let request = self
                .client
                .get(format!("{base}/api/admin/orders"))
                .header(reqwest::header::AUTHORIZATION, authorization)
                .query(&pairs)
                .timeout(self.timeout);
            async move { (cell.id.clone(), ask(request).await) }
        });
        let answers = futures_util::future::join_all(asks).await;
        let mut result = CellOrderSearch {
            items: Vec::new(),
            answered: Vec::new(),
            unanswered: Vec::new(),
        };
        for (cell, answer) in answers {
            match answer {
                Ok(page) => {
                    result
                        .items
                        .extend(page.items.into_iter().map(|order| CellOrder {
                            cell: cell.clone(),
                            order,
                        }));
                    result.answered.push(cell);
                }
                Err(reason) => {
                    tracing::warn!(cell = %cell, reason = %reason, "a cell did not answer an order search");
                    result.unanswered.push(CellMiss { cell, reason });
                }
            }
        }
        // RFC 3339 in UTC sorts as text.
        result.items.sort_by(|a, b| {
            (&b.order.created_at, &b.order.id).cmp(&(&a.order.created_at, &a.order.id))
        });
        result.items.truncate(limit as usize);
        Ok(result)
    }
}

/// How long a forwarded order action may take: a refund waits for the
/// payment provider.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an order action could not be handed to its cell.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("No cell {0} is in the map.")]
    UnknownCell(String),
    #[error("That is not an order id.")]
    BadOrderId,
    #[error("Cell {0} did not answer in time.")]
    Timeout(String),
    #[error("Cell {0} could not be reached.")]
    Unreachable(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// An order action a cell serves: `method /api/orders/{id}{suffix}` with `body`.
#[derive(Debug)]
pub struct OrderAction<'a> {
    pub method: reqwest::Method,
    pub suffix: &'a str,
    pub body: Option<serde_json::Value>,
}

/// What a cell answered to a forwarded action: its status and JSON body,
/// passed on as they are, so its error codes reach the caller.
#[derive(Debug)]
pub struct CellAnswer {
    pub status: u16,
    pub body: axum::body::Bytes,
}

impl OrderSearch {
    /// Sends `action` on order `id` to `cell`, as the caller
    /// (`authorization`), passing on an `Idempotency-Key`.
    pub async fn forward(
        &self,
        authorization: &str,
        idempotency_key: Option<&str>,
        (cell, id): (&str, &str),
        action: OrderAction<'_>,
    ) -> Result<CellAnswer, ForwardError> {
        if id.is_empty()
            || id.len() > 64
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ForwardError::BadOrderId);
        }
        let cells = self.cells().await?;
        let target = cells
            .iter()
            .find(|c| c.id == cell)
            .ok_or_else(|| ForwardError::UnknownCell(cell.to_owned()))?;
        let base = base_url(&target.http_address);
        let mut request = self
            .client
            .request(
                action.method,
                format!("{base}/api/orders/{id}{}", action.suffix),
            )
            .header(reqwest::header::AUTHORIZATION, authorization)
            .timeout(FORWARD_TIMEOUT);
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        if let Some(body) = &action.body {
            request = request.json(body);
        }
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                ForwardError::Timeout(cell.to_owned())
            } else {
                ForwardError::Unreachable(cell.to_owned())
            }
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(failed)?;
        Ok(CellAnswer { status, body })
    }
}

impl OrderSearch {
    /// The cells in the map now.
    async fn cells(&self) -> anyhow::Result<Vec<crate::routing::repo::CellRow>> {
        let mut conn = self.pool.acquire().await?;
        Ok(crate::routing::repo::cells(&mut conn).await?)
    }
}

/// A cell's `http_address` as a base URL (`host:port` gets `http://`).
fn base_url(http_address: &str) -> String {
    if http_address.starts_with("http") {
        http_address.to_owned()
    } else {
        format!("http://{http_address}")
    }
}

/// One cell's page, or why there is none.
async fn ask(request: reqwest::RequestBuilder) -> Result<OrderPage, String> {
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            "timeout".to_owned()
        } else {
            "unreachable".to_owned()
        }
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("status {}", status.as_u16()));
    }
    response.json().await.map_err(|e| {
        if e.is_timeout() {
            "timeout".to_owned()
        } else {
            format!("unreadable answer: {e}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_checked_before_any_cell_is_asked() {
        let good = SearchQuery {
            status: Some("shipped".into()),
            from: Some("2026-11-01".into()),
            q: Some("  ada@example.com ".into()),
            ..Default::default()
        };
        let (pairs, limit) = good.pairs().unwrap();
        assert_eq!(limit, 20);
        assert!(pairs.contains(&("q", "ada@example.com".into())));
        for bad in [
            SearchQuery {
                status: Some("lost".into()),
                ..Default::default()
            },
            SearchQuery {
                to: Some("tomorrow".into()),
                ..Default::default()
            },
            SearchQuery {
                limit: Some(0),
                ..Default::default()
            },
            SearchQuery {
                q: Some("x".repeat(101)),
                ..Default::default()
            },
        ] {
            assert!(bad.pairs().is_err(), "{bad:?}");
        }
    }
}
