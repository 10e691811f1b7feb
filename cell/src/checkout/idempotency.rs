//! `Idempotency-Key` on the POSTs that move money or stock. The first
//! response to a (caller, key) is stored and replayed for a retry with the
//! same method, path and body (`idempotent-replayed: true`); the same key
//! with anything else is a 422; a retry while the first is still running
//! is a 409. Server errors are not stored, so a retry runs again. Callers
//! are told apart by their verified token (or guest key); a request whose
//! token does not verify runs as usual and is refused there.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chassis::http::ApiError;
use sha2::{Digest, Sha256};
use sqlx::MySqlPool;

use crate::auth::Auth;
use crate::cart::Owner;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

/// A request still running after this long is taken to have died with its
/// process; a retry may take its key over.
const ABANDONED: Duration = Duration::from_secs(60);
/// Responses larger than this are not stored (none of ours come close).
const MAX_BODY: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct Keys {
    pub pool: MySqlPool,
    pub auth: Arc<Auth>,
    pub ttl: Duration,
}

fn invalid_key() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_idempotency_key",
        "Idempotency-Key: 1-255 visible ASCII characters (a UUID is a good choice).",
    )
}

/// The caller a key belongs to, if one can be told.
async fn scope(keys: &Keys, headers: &HeaderMap) -> Option<String> {
    if let Some(token) = chassis::http::bearer(headers) {
        return keys
            .auth
            .authenticate(token)
            .await
            .ok()
            .map(|claims| Owner::User(claims.sub).key());
    }
    crate::search::routes::shopper_key(headers).map(|sk| Owner::Guest(sk).key())
}

enum Claim {
    /// Ours to run.
    Run,
    Replay(u16, Option<String>, Vec<u8>),
    Mismatch,
    Running,
}

async fn claim(keys: &Keys, (scope, key): (&str, &str), hash: &[u8]) -> Result<Claim, sqlx::Error> {
    let mut tx = keys.pool.begin().await?;
    // Forget this key's response once it is older than the TTL, and a
    // first attempt that died.
    sqlx::query(
        r#"DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ?
             AND (created_at < CURRENT_TIMESTAMP(6) - INTERVAL ? SECOND
                  OR (status = 0 AND created_at < CURRENT_TIMESTAMP(6) - INTERVAL ? SECOND))"#,
    )
    .bind(scope)
    .bind(key)
    .bind(keys.ttl.as_secs())
    .bind(ABANDONED.as_secs())
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query(
        "INSERT IGNORE INTO idempotency_keys (scope, idem_key, request_hash) VALUES (?, ?, ?)",
    )
    .bind(scope)
    .bind(key)
    .bind(hash)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 1 {
        tx.commit().await?;
        return Ok(Claim::Run);
    }
    let (stored, status, content_type, body): (Vec<u8>, u16, Option<String>, Option<Vec<u8>>) =
        sqlx::query_as(
            "SELECT request_hash, status, content_type, body FROM idempotency_keys WHERE scope = ? AND idem_key = ?",
        )
        .bind(scope)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(if stored != hash {
        Claim::Mismatch
    } else if status == 0 {
        Claim::Running
    } else {
        Claim::Replay(status, content_type, body.unwrap_or_default())
    })
}

async fn store(
    keys: &Keys,
    (scope, key): (&str, &str),
    response: Option<(u16, Option<String>, &Bytes)>,
) -> Result<(), sqlx::Error> {
    match response {
        Some((status, content_type, body)) => {
            sqlx::query(
                "UPDATE idempotency_keys SET status = ?, content_type = ?, body = ? WHERE scope = ? AND idem_key = ?",
            )
            .bind(status)
            .bind(content_type)
            .bind(body.as_ref())
            .bind(scope)
            .bind(key)
            .execute(&keys.pool)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ?")
                .bind(scope)
                .bind(key)
                .execute(&keys.pool)
                .await?;
        }
    }
    Ok(())
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn layer(State(keys): State<Keys>, request: Request, next: Next) -> Response {
    let Some(value) = request
        .headers()
        .get(HEADER)
        .filter(|_| request.method() == Method::POST)
    else {
        return next.run(request).await;
    };
    let key = match value.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            key.to_owned()
        }
        _ => return invalid_key().into_response(),
    };
    let Some(scope) = scope(&keys, request.headers()).await else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let body = match to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "The request body is too large.",
            )
            .into_response();
        }
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(parts.uri.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(&body);
    let hash = hasher.finalize();
    match claim(&keys, (&scope, &key), &hash).await {
        Err(error) => return ApiError::unexpected(error).into_response(),
        Ok(Claim::Mismatch) => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different request; use a new key for a new request.",
            )
            .into_response();
        }
        Ok(Claim::Running) => {
            return ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_in_use",
                "The first request with this Idempotency-Key is still running; retry shortly.",
            )
            .retry_after(1)
            .into_response();
        }
        Ok(Claim::Replay(status, content_type, stored)) => {
            let mut response = Response::new(Body::from(stored));
            *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            if let Some(value) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            response
                .headers_mut()
                .insert(REPLAYED, HeaderValue::from_static("true"));
            return response;
        }
        Ok(Claim::Run) => {}
    }
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        let _ = store(&keys, (&scope, &key), None).await;
        return ApiError::unexpected(anyhow::anyhow!("response body unreadable")).into_response();
    };
    let keep = !parts.status.is_server_error();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let outcome = store(
        &keys,
        (&scope, &key),
        keep.then_some((parts.status.as_u16(), content_type, &bytes)),
    )
    .await;
    if let Err(error) = outcome {
        tracing::error!(error = %error, "could not record an idempotent response");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Deletes stored responses older than `ttl`.
pub async fn forget_old(pool: &MySqlPool, ttl: Duration) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at < CURRENT_TIMESTAMP(6) - INTERVAL ? SECOND LIMIT 1000",
    )
    .bind(ttl.as_secs())
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected())
}
