//! The one `ProxyHttp` implementation. Each hook is short and calls a named
//! function: route in `request_filter`, pick the peer in `upstream_peer`, tag
//! the upstream request and the response, answer failures with our JSON
//! envelope, and log and count in `logging`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::*;
use pingora::proxy::FailToProxy;
use placement::ShopperKey;
use telemetry::Traceparent;
use telemetry::trace::TRACEPARENT;
use wire::{CheckReport, ErrorBody, HealthStatus, LivenessResponse, ReadinessResponse};

use crate::cors::{self, Cors};
use crate::limits::RateLimiter;
use crate::metrics::EdgeMetrics;
use crate::routing::{self, OwnEndpoint, Route, RoutingTable, SHOPPER_COOKIE};
use crate::static_files;

pub const CELL_HEADER: &str = "x-cellwear-cell";
/// On an answer from another cell because the shopper's own (named) failed.
pub const DEGRADED_HEADER: &str = "x-cellwear-degraded";
pub const SHOPPER_KEY_HEADER: &str = "x-cellwear-shopper-key";
const REQUEST_ID_HEADER: &str = "x-request-id";
/// Sign-in and registration bodies are a few hundred bytes.
const MAX_ROUTED_BODY: usize = 16 * 1024;
/// A provider's event carries the whole object it is about.
const MAX_WEBHOOK_BODY: usize = 256 * 1024;
/// A guest key lives a year; signing in replaces it with the account's key.
const GUEST_COOKIE_MAX_AGE_S: u64 = 365 * 24 * 3600;

#[derive(Debug)]
pub struct EdgeProxy {
    pub table: Arc<ArcSwap<RoutingTable>>,
    pub metrics: EdgeMetrics,
    pub static_dir: PathBuf,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub secure_cookies: bool,
    /// Checked when the config was (`edge.content_security_policy`).
    pub content_security_policy: HeaderValue,
    pub max_body_bytes: u64,
    pub per_ip: RateLimiter<IpAddr>,
    pub per_shopper: RateLimiter<ShopperKey>,
    pub cors: Cors,
}

/// What one request carries from hook to hook.
#[derive(Debug)]
pub struct RequestContext {
    started: Instant,
    request_id: String,
    /// The edge's span of the request's trace (the client's continued, or
    /// a new one): the parent of the upstream's.
    trace: Traceparent,
    /// The request's origin, when the allow-list lets it call cross-origin.
    cors_origin: Option<String>,
    route: Option<Route>,
    /// The shopper's own cell, failed, when another cell answers for it.
    degraded: Option<String>,
    /// A signing-in guest's own key, when the sign-in goes to the account's
    /// cell: the cell takes that guest's cart over by it.
    guest: Option<ShopperKey>,
    /// The account's key on a sign-in (password or Google): once the cell
    /// says yes, it replaces the guest key in the `sk` cookie, so what is
    /// routed by the cookie alone — a refresh after a reload, before any
    /// access token is at hand — reaches the account's cell.
    signing_in: Option<ShopperKey>,
    upstream_failed: bool,
    content_security_policy: HeaderValue,
}

impl RequestContext {
    /// The metrics and log label of the destination.
    fn target(&self) -> &str {
        match &self.route {
            Some(Route::Cell { id, .. }) => id,
            Some(Route::ControlPlane(_)) => "control-plane",
            Some(Route::Static) => "static",
            Some(Route::Own(_)) | None => "edge",
        }
    }

    fn cell(&self) -> Option<&str> {
        match &self.route {
            Some(Route::Cell { id, .. }) => Some(id),
            _ => None,
        }
    }
}

#[async_trait]
impl ProxyHttp for EdgeProxy {
    type CTX = RequestContext;

    fn new_ctx(&self) -> RequestContext {
        RequestContext {
            started: Instant::now(),
            request_id: String::new(),
            trace: Traceparent::root(),
            cors_origin: None,
            route: None,
            degraded: None,
            guest: None,
            signing_in: None,
            upstream_failed: false,
            content_security_policy: self.content_security_policy.clone(),
        }
    }

    async fn request_filter(
        &self,
        session: &mut Session,
        ctx: &mut RequestContext,
    ) -> Result<bool> {
        ctx.request_id = request_id(session.req_header());
        if let Some(parent) = client_trace(session.req_header()) {
            ctx.trace = parent.child();
        }
        ctx.cors_origin = self.cors.allowed_origin(session.req_header());
        if cors::is_preflight(session.req_header()) {
            preflight(session, ctx).await?;
            return Ok(true);
        }
        if let Some(declared) = declared_length(session.req_header())
            && declared > self.max_body_bytes
        {
            let body = error_body(
                "body_too_large",
                &format!("A request body has at most {} bytes.", self.max_body_bytes),
                ctx,
            );
            respond_json(session, 413, &body, ctx, &[]).await?;
            return Ok(true);
        }
        let table = self.table.load();
        let route = match routing::route(session.req_header(), &table) {
            Ok(route) => route,
            Err(error) => {
                no_cell(session, &error, ctx).await?;
                return Ok(true);
            }
        };
        let route = match route {
            Route::Cell { .. } if routing::routed_by_body(session.req_header()) => {
                match self.route_by_body(session, &table, route, ctx).await? {
                    Some(route) => route,
                    None => return Ok(true),
                }
            }
            route => route,
        };
        let route = match route {
            Route::Cell {
                id, key, new_guest, ..
            } if table.is_failed(&id) => {
                if !routing::served_elsewhere(session.req_header()) {
                    let body = error_body(
                        "cell_unavailable",
                        &format!(
                            "Your part of the shop ({id}) is down for a moment. Browsing still works; your cart, checkout, orders and account are back shortly."
                        ),
                        ctx,
                    );
                    respond_json(
                        session,
                        503,
                        &body,
                        ctx,
                        &[("retry-after", "30"), (CELL_HEADER, id.as_str())],
                    )
                    .await?;
                    return Ok(true);
                }
                match routing::fallback_route(key, new_guest, &table) {
                    Ok(fallback) => {
                        ctx.degraded = Some(id);
                        fallback
                    }
                    Err(error) => {
                        no_cell(session, &error, ctx).await?;
                        return Ok(true);
                    }
                }
            }
            route => route,
        };
        if let Route::Cell { key, .. } = &route
            && session.req_header().uri.path() == routing::GOOGLE_FINISH
        {
            ctx.signing_in = Some(*key);
        }
        ctx.route = Some(route.clone());
        if let Err(seconds) = self.within_limits(session, &route) {
            let body = error_body(
                "rate_limited",
                &format!("Too many requests; try again in {seconds} s."),
                ctx,
            );
            respond_json(
                session,
                429,
                &body,
                ctx,
                &[("retry-after", &seconds.to_string())],
            )
            .await?;
            return Ok(true);
        }
        match route {
            Route::Own(endpoint) => {
                self.answer_own(session, endpoint, &table, ctx).await?;
                Ok(true)
            }
            Route::Static => {
                self.serve_static(session, ctx).await?;
                Ok(true)
            }
            Route::Cell { .. } | Route::ControlPlane(_) => Ok(false),
        }
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        ctx: &mut RequestContext,
    ) -> Result<Box<HttpPeer>> {
        let address = match &ctx.route {
            Some(Route::Cell { address, .. }) | Some(Route::ControlPlane(address)) => *address,
            _ => return Error::e_explain(ErrorType::InternalError, "request has no upstream"),
        };
        let mut peer = HttpPeer::new(address, false, String::new());
        peer.options.connection_timeout = Some(self.connect_timeout);
        peer.options.read_timeout = Some(self.read_timeout);
        Ok(Box::new(peer))
    }

    async fn upstream_request_filter(
        &self,
        session: &mut Session,
        upstream: &mut RequestHeader,
        ctx: &mut RequestContext,
    ) -> Result<()> {
        upstream.insert_header(REQUEST_ID_HEADER, &ctx.request_id)?;
        upstream.insert_header(TRACEPARENT, ctx.trace.to_string())?;
        // The edge is where the client's address is known; what a client
        // claims in its own X-Forwarded-For is replaced, not trusted.
        if let Some(client) = session.client_addr().and_then(|addr| addr.as_inet()) {
            upstream.insert_header("x-forwarded-for", client.ip().to_string())?;
        } else {
            upstream.remove_header("x-forwarded-for");
        }
        // Only the edge says who the shopper is; a client cannot pick a key
        // by sending this header itself.
        upstream.remove_header(SHOPPER_KEY_HEADER);
        if let Some(Route::Cell { key, .. }) = &ctx.route {
            let key = ctx.guest.unwrap_or(*key);
            upstream.insert_header(SHOPPER_KEY_HEADER, key.to_string())?;
        }
        Ok(())
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        response: &mut ResponseHeader,
        ctx: &mut RequestContext,
    ) -> Result<()> {
        response.insert_header(REQUEST_ID_HEADER, &ctx.request_id)?;
        security_headers(response, &self.content_security_policy)?;
        cors::decorate(response, ctx.cors_origin.as_deref())?;
        if let Some(Route::Cell {
            id, key, new_guest, ..
        }) = &ctx.route
        {
            response.insert_header(CELL_HEADER, id)?;
            if let Some(home) = &ctx.degraded {
                response.insert_header(DEGRADED_HEADER, home)?;
            }
            if *new_guest {
                response.append_header("set-cookie", self.guest_cookie(&key.to_string()))?;
            } else if let Some(account) = ctx.signing_in
                && response.status.as_u16() < 400
                && routing::shopper_key(session.req_header()) != Some(account)
            {
                response.append_header("set-cookie", self.guest_cookie(&account.to_string()))?;
            }
        }
        Ok(())
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        error: &Error,
        ctx: &mut RequestContext,
    ) -> FailToProxy
    where
        RequestContext: Send + Sync,
    {
        ctx.upstream_failed = true;
        let target = ctx.target().to_owned();
        tracing::warn!(request_id = %ctx.request_id, target = %target, error = %error, "upstream failed");
        let body = error_body(
            "upstream_unavailable",
            &format!("{target} did not answer. Try again shortly."),
            ctx,
        );
        let mut extra = vec![("retry-after", "5")];
        let cell;
        if let Some(id) = ctx.cell() {
            cell = id.to_owned();
            extra.push((CELL_HEADER, cell.as_str()));
        }
        let status = 502;
        let written = respond_json(session, status, &body, ctx, &extra).await;
        FailToProxy {
            error_code: if written.is_ok() { status } else { 0 },
            can_reuse_downstream: false,
        }
    }

    async fn logging(
        &self,
        session: &mut Session,
        _error: Option<&Error>,
        ctx: &mut RequestContext,
    ) {
        let status = session.response_written().map(|response| response.status);
        let elapsed = ctx.started.elapsed();
        self.metrics.observe(
            ctx.target(),
            status.as_ref().map_or("0", StatusCode::as_str),
            elapsed,
            ctx.upstream_failed,
        );
        let request = session.req_header();
        tracing::info!(
            request_id = %ctx.request_id,
            trace_id = %ctx.trace.trace_id(),
            http.method = %request.method,
            http.path = request.uri.path(),
            http.status = status.map_or(0, |status| status.as_u16()),
            target = ctx.target(),
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        );
    }
}

impl EdgeProxy {
    /// Per client address, then per shopper; the edge's own endpoints are
    /// never limited (probes must always get through).
    fn within_limits(&self, session: &Session, route: &Route) -> std::result::Result<(), u64> {
        if matches!(route, Route::Own(_)) {
            return Ok(());
        }
        if let Some(address) = session.client_addr().and_then(|addr| addr.as_inet()) {
            self.per_ip.check(address.ip())?;
        }
        if let Route::Cell {
            key,
            new_guest: false,
            ..
        } = route
        {
            self.per_shopper.check(*key)?;
        }
        Ok(())
    }

    /// Reads a sign-in body (kept for the upstream by pingora's retry buffer)
    /// and routes by its e-mail; `None` when it answered the client itself.
    async fn route_by_body(
        &self,
        session: &mut Session,
        table: &RoutingTable,
        fallback: Route,
        ctx: &mut RequestContext,
    ) -> Result<Option<Route>> {
        let path = session.req_header().uri.path().to_owned();
        let webhook = routing::is_webhook(&path);
        let (limit, what) = if webhook {
            (MAX_WEBHOOK_BODY, "An event")
        } else {
            (MAX_ROUTED_BODY, "A sign-in body")
        };
        // A provider's callback is no guest: it gets no cookie.
        let fallback = match fallback {
            Route::Cell {
                id, address, key, ..
            } if webhook => Route::Cell {
                id,
                address,
                key,
                new_guest: false,
            },
            route => route,
        };
        session.as_downstream_mut().enable_retry_buffering();
        let mut body = Vec::new();
        while let Some(chunk) = session.as_downstream_mut().read_request_body().await? {
            body.extend_from_slice(&chunk);
            if body.len() > limit {
                let error = error_body(
                    "body_too_large",
                    &format!("{what} has at most {limit} bytes."),
                    ctx,
                );
                respond_json(session, 413, &error, ctx, &[]).await?;
                return Ok(None);
            }
        }
        let Some(key) = routing::body_shopper_key(&path, &body) else {
            // No e-mail to route by: any cell answers the validation error.
            return Ok(Some(fallback));
        };
        let own_key = routing::shopper_key(session.req_header());
        let new_guest = !webhook
            && matches!(
                fallback,
                Route::Cell {
                    new_guest: true,
                    ..
                }
            )
            && own_key.is_none();
        if !webhook {
            ctx.guest = own_key.filter(|guest| *guest != key);
        }
        if path == routing::LOGIN {
            ctx.signing_in = Some(key);
        }
        match routing::route_to_shopper(key, new_guest, table) {
            Ok(route) => Ok(Some(route)),
            Err(_) => Ok(Some(fallback)),
        }
    }

    async fn answer_own(
        &self,
        session: &mut Session,
        endpoint: OwnEndpoint,
        table: &RoutingTable,
        ctx: &RequestContext,
    ) -> Result<()> {
        match endpoint {
            OwnEndpoint::Live => {
                let body = LivenessResponse {
                    status: HealthStatus::Ok,
                    service: "edge".into(),
                };
                respond_json(session, 200, &body, ctx, &[]).await
            }
            OwnEndpoint::Ready => {
                let report = readiness(table);
                let status = if report.status == HealthStatus::Ok {
                    200
                } else {
                    503
                };
                respond_json(session, status, &report, ctx, &[]).await
            }
            OwnEndpoint::Metrics => match self.metrics.render() {
                Ok(text) => {
                    respond(
                        session,
                        200,
                        "text/plain; version=0.0.4; charset=utf-8",
                        Bytes::from(text),
                        ctx,
                        &[],
                    )
                    .await
                }
                Err(error) => {
                    tracing::error!(%error, "cannot render metrics");
                    let body = error_body("internal", "The metrics could not be rendered.", ctx);
                    respond_json(session, 500, &body, ctx, &[]).await
                }
            },
        }
    }

    async fn serve_static(&self, session: &mut Session, ctx: &RequestContext) -> Result<()> {
        let method = session.req_header().method.clone();
        if method != http::Method::GET && method != http::Method::HEAD {
            let body = error_body(
                "method_not_allowed",
                &format!("{method} is not accepted here."),
                ctx,
            );
            return respond_json(session, 405, &body, ctx, &[]).await;
        }
        let path = session.req_header().uri.path().to_owned();
        match static_files::lookup(&self.static_dir, &path).await {
            Some(file) => {
                let extra = [("cache-control", file.cache_control)];
                respond(
                    session,
                    200,
                    file.content_type,
                    Bytes::from(file.body),
                    ctx,
                    &extra,
                )
                .await
            }
            None => {
                let body = error_body(
                    "not_found",
                    &format!(
                        "Nothing is served at {path}: the frontend is not built (run `cargo xtask up`)."
                    ),
                    ctx,
                );
                respond_json(session, 404, &body, ctx, &[]).await
            }
        }
    }

    /// The `sk` cookie: a guest's key, or a signed-in shopper's own.
    fn guest_cookie(&self, key: &str) -> String {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        format!(
            "{SHOPPER_COOKIE}={key}; Path=/; Max-Age={GUEST_COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Lax{secure}"
        )
    }
}

/// The edge is ready while it can place shoppers; each cell is listed too
/// (a cell marked failed or not answering the health checks is `failing`
/// there, without making the edge unready: it still routes everyone else).
fn readiness(table: &RoutingTable) -> ReadinessResponse {
    let placeable = table.can_place();
    let cells = table.cells().iter().map(|cell| {
        let error = if cell.state == wire::CellState::Failed {
            Some("marked failed in the routing table".to_owned())
        } else if table.health().is_down(&cell.id) {
            Some("not answering the edge's health checks".to_owned())
        } else {
            None
        };
        CheckReport {
            name: format!("cell:{}", cell.id),
            status: if error.is_some() {
                HealthStatus::Failing
            } else {
                HealthStatus::Ok
            },
            target: format!(
                "{} ({})",
                table
                    .address_of(cell)
                    .map_or_else(|| "no address".to_owned(), |a| a.to_string()),
                format!("{:?}", cell.state).to_lowercase()
            ),
            duration_ms: 0,
            error,
        }
    });
    let mut report = ReadinessResponse {
        status: if placeable {
            HealthStatus::Ok
        } else {
            HealthStatus::Failing
        },
        service: "edge".into(),
        checks: vec![CheckReport {
            name: "routing_table".into(),
            status: if placeable {
                HealthStatus::Ok
            } else {
                HealthStatus::Failing
            },
            target: format!(
                "version {} with {} cells",
                table.version(),
                table.cell_count()
            ),
            duration_ms: 0,
            error: (!placeable).then(|| "no cell accepts new shoppers".to_owned()),
        }],
    };
    report.checks.extend(cells);
    report
}

/// 503 `no_cell_available`: placement found no cell for the request.
async fn no_cell(
    session: &mut Session,
    error: &routing::RouteError,
    ctx: &RequestContext,
) -> Result<()> {
    let body = error_body(
        "no_cell_available",
        &format!("No cell can take this request now ({error}). Try again shortly."),
        ctx,
    );
    respond_json(session, 503, &body, ctx, &[("retry-after", "5")]).await
}

/// The body size a request declares, if it declares one.
fn declared_length(request: &RequestHeader) -> Option<u64> {
    request
        .headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The client's `traceparent`, when it sent a well-formed one.
fn client_trace(request: &RequestHeader) -> Option<Traceparent> {
    request
        .headers
        .get(TRACEPARENT)
        .and_then(|value| value.to_str().ok())
        .and_then(Traceparent::parse)
}

/// Answers a CORS preflight: 204 with what may be sent for an origin on the
/// allow-list, 403 `cors_origin_not_allowed` for any other.
async fn preflight(session: &mut Session, ctx: &RequestContext) -> Result<()> {
    if ctx.cors_origin.is_none() {
        let origin = cors::origin(session.req_header()).unwrap_or_default();
        let body = error_body(
            "cors_origin_not_allowed",
            &format!("{origin} may not call this shop from a browser (edge.cors_allowed_origins)."),
            ctx,
        );
        return respond_json(session, 403, &body, ctx, &[]).await;
    }
    let extra = [
        ("access-control-allow-methods", cors::ALLOW_METHODS),
        ("access-control-allow-headers", cors::ALLOW_HEADERS),
        ("access-control-max-age", cors::MAX_AGE_S),
    ];
    respond(session, 204, "text/plain", Bytes::new(), ctx, &extra).await
}

/// The caller's request id when it is a sane token, else a fresh UUIDv7.
fn request_id(request: &RequestHeader) -> String {
    request
        .headers
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

fn error_body(code: &str, message: &str, ctx: &RequestContext) -> ErrorBody {
    ErrorBody {
        code: code.into(),
        message: message.into(),
        request_id: Some(ctx.request_id.clone()),
    }
}

async fn respond_json(
    session: &mut Session,
    status: u16,
    body: &impl serde::Serialize,
    ctx: &RequestContext,
    extra: &[(&'static str, &str)],
) -> Result<()> {
    let bytes = serde_json::to_vec(body)
        .map_err(|e| Error::because(ErrorType::InternalError, "encoding a JSON body", e))?;
    respond(
        session,
        status,
        "application/json",
        Bytes::from(bytes),
        ctx,
        extra,
    )
    .await
}

/// The headers every answer of the shop carries, proxied or the edge's own.
/// Their values are made once (a `&str` would be copied and checked again
/// on every response).
fn security_headers(
    header: &mut ResponseHeader,
    content_security_policy: &HeaderValue,
) -> Result<()> {
    const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000; includeSubDomains");
    const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
    const REFERRER: HeaderValue = HeaderValue::from_static("strict-origin-when-cross-origin");
    const DENY: HeaderValue = HeaderValue::from_static("DENY");
    header.insert_header("strict-transport-security", HSTS)?;
    header.insert_header("content-security-policy", content_security_policy.clone())?;
    header.insert_header("x-content-type-options", NOSNIFF)?;
    header.insert_header("referrer-policy", REFERRER)?;
    header.insert_header("x-frame-options", DENY)?;
    Ok(())
}

async fn respond(
    session: &mut Session,
    status: u16,
    content_type: &str,
    body: Bytes,
    ctx: &RequestContext,
    extra: &[(&'static str, &str)],
) -> Result<()> {
    let mut header = ResponseHeader::build(status, Some(10 + extra.len()))?;
    header.insert_header("content-type", content_type)?;
    security_headers(&mut header, &ctx.content_security_policy)?;
    header.insert_header("content-length", body.len().to_string())?;
    header.insert_header(REQUEST_ID_HEADER, &ctx.request_id)?;
    cors::decorate(&mut header, ctx.cors_origin.as_deref())?;
    for (name, value) in extra {
        header.insert_header(*name, *value)?;
    }
    let head_only = session.req_header().method == http::Method::HEAD;
    session
        .write_response_header(Box::new(header), head_only)
        .await?;
    if !head_only {
        session.write_response_body(Some(body), true).await?;
    }
    Ok(())
}
