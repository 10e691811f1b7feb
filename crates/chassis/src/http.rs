//! The HTTP layer shared by the services: one error type that every handler
//! returns, one JSON extractor whose rejections use the same envelope, and the
//! middleware stack every router is wrapped in.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use telemetry::Traceparent;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use tracing::Span;
use wire::ErrorBody;

use crate::metrics::Metrics;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    /// The id of the request being served, so an error body can quote it
    /// without every handler passing it along.
    static CURRENT_REQUEST_ID: String;
}

/// An error a handler returns: status, stable code and a message for people.
///
/// A 5xx keeps its cause for the log and shows the client only a generic
/// message and the request id.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    message: String,
    cause: Option<anyhow::Error>,
    /// Seconds, sent as `Retry-After` (429 and 503 answers).
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            cause: None,
            retry_after: None,
        }
    }

    /// A failure the client cannot act on; logged once, with its causes.
    pub fn unexpected(cause: impl Into<anyhow::Error>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal".into(),
            message: "Something went wrong on our side. Try again; if it keeps happening, quote the request id.".into(),
            cause: Some(cause.into()),
            retry_after: None,
        }
    }

    /// Tells the client when to try again.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &str {
        &self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            match &self.cause {
                Some(cause) => {
                    tracing::error!(error.code = %self.code, error.cause = format!("{cause:#}"), "request failed")
                }
                None => {
                    tracing::error!(error.code = %self.code, error.message = %self.message, "request failed")
                }
            }
        }
        let body = ErrorBody {
            code: self.code.into_owned(),
            message: self.message,
            request_id: CURRENT_REQUEST_ID.try_with(Clone::clone).ok(),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The token of an `Authorization: Bearer <token>` header, if one is sent.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

/// The id of the request being served (for audit records), if any.
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok()
}

/// `axum::Json`, but a body that cannot be read answers with our envelope:
/// 415 without a JSON content type, 413 over the size limit, 400 for broken
/// JSON and 422 for JSON of the wrong shape, naming the field at fault.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let (code, status) = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE)
        }
        JsonRejection::JsonSyntaxError(_) => ("malformed_json", StatusCode::BAD_REQUEST),
        JsonRejection::JsonDataError(_) => ("invalid_body", StatusCode::UNPROCESSABLE_ENTITY),
        JsonRejection::BytesRejection(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ("body_too_large", StatusCode::PAYLOAD_TOO_LARGE)
        }
        _ => ("unreadable_body", rejection.status()),
    };
    ApiError::new(status, code, rejection.body_text())
}

/// `axum::extract::Query`, but a query string that cannot be read answers
/// with our envelope: 400 `invalid_query`, naming the parameter at fault.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                rejection.body_text(),
            )),
        }
    }
}

/// What the middleware stack needs to know about the service.
#[derive(Debug, Clone)]
pub struct Stack {
    pub metrics: Metrics,
    /// Added to every request span (`cell` on a cell, empty elsewhere).
    pub cell: Option<String>,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    /// Origins allowed to call with credentials (CORS); empty for none.
    pub cors_origins: Vec<String>,
}

/// Wraps `router` in the service-wide middleware and the JSON fallbacks.
///
/// From the outside in: request id (kept from the caller or minted as a
/// UUIDv7, echoed on the response) → request span with id, method, route,
/// cell and trace → metrics → the id and trace made current → panics turned
/// into a 500 envelope → time-out → body limit → the routes.
pub fn wrap(router: Router, stack: Stack) -> Router {
    let cell: Arc<str> = stack.cell.unwrap_or_default().into();
    let timeout = stack.request_timeout;
    let cors = cors(&stack.cors_origins);
    let router = router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(stack.max_body_bytes));
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuidV7))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(move |request: &Request| request_span(request, &cell))
                    .on_request(())
                    .on_response(|response: &Response, latency: Duration, _: &Span| {
                        tracing::info!(
                            http.status = response.status().as_u16(),
                            duration_ms = latency.as_secs_f64() * 1000.0,
                            "request finished"
                        );
                    })
                    .on_failure(()),
            )
            .layer(middleware::from_fn_with_state(
                stack.metrics,
                record_metrics,
            ))
            .layer(middleware::from_fn(scope_request))
            .layer(cors)
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(middleware::from_fn(move |req: Request, next: Next| {
                enforce_timeout(req, next, timeout)
            })),
    )
}

/// CORS for the configured origins: credentials allowed, the shop's headers,
/// `x-request-id` readable. With no origins it adds nothing to responses.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            AUTHORIZATION,
            CONTENT_TYPE,
            HeaderName::from_static("x-csrf-token"),
            REQUEST_ID,
        ])
        .expose_headers([REQUEST_ID])
        .max_age(Duration::from_secs(600))
}

/// The request id the id layer put on the request.
fn request_id_of(request: &Request) -> &str {
    request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The matched route template; only templates become labels and span
/// fields, so a scan of random paths cannot blow up the number of series.
fn route_of(request: &Request) -> &str {
    request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched")
}

fn request_span(request: &Request, cell: &str) -> Span {
    tracing::info_span!(
        "request",
        request_id = request_id_of(request),
        http.method = %request.method(),
        http.route = route_of(request),
        cell = if cell.is_empty() { None } else { Some(cell) },
        trace_id = tracing::field::Empty,
    )
}

#[derive(Clone, Copy, Debug)]
struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

async fn record_metrics(
    axum::extract::State(metrics): axum::extract::State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let route = route_of(&request).to_owned();
    let started = Instant::now();
    metrics.started();
    let response = next.run(request).await;
    metrics.finished(
        method.as_str(),
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Makes the request's id and trace current while it is served: error bodies
/// name the id, and events written on the way continue the trace. The trace
/// is the caller's (the edge starts one for every request), continued in a
/// span of this service's own; a request without one starts a trace here.
async fn scope_request(request: Request, next: Next) -> Response {
    let id = request_id_of(&request).to_owned();
    let trace = request
        .headers()
        .get(telemetry::trace::TRACEPARENT)
        .and_then(|value| value.to_str().ok())
        .and_then(Traceparent::parse)
        .map_or_else(Traceparent::root, |parent| parent.child());
    Span::current().record("trace_id", trace.trace_id());
    let served = telemetry::trace::within(trace, next.run(request));
    CURRENT_REQUEST_ID.scope(id, served).await
}

async fn enforce_timeout(request: Request, next: Next, limit: Duration) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!(
                "The request took longer than {} ms and was abandoned; try again.",
                limit.as_millis()
            ),
        )
        .into_response(),
    }
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".into());
    ApiError::unexpected(anyhow::anyhow!("handler panicked: {detail}")).into_response()
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("No route matches {method} {}.", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept {method}.", uri.path()),
    )
}

/// Serves `document` at `path` (serialised once, at start) and lists `path`
/// in it, so each service's OpenAPI document describes itself too.
pub fn openapi_document(
    path: &'static str,
    mut document: utoipa::openapi::OpenApi,
) -> Result<Router, serde_json::Error> {
    use utoipa::openapi::HttpMethod;
    use utoipa::openapi::ResponseBuilder;
    use utoipa::openapi::path::OperationBuilder;

    let operation = OperationBuilder::new()
        .tag("operations")
        .summary(Some("This OpenAPI document"))
        .response(
            "200",
            ResponseBuilder::new().description("The OpenAPI 3.1 document of this API"),
        )
        .build();
    document
        .paths
        .add_path_operation(path, vec![HttpMethod::Get], operation);
    let body = bytes::Bytes::from(serde_json::to_vec(&document)?);
    Ok(Router::new().route(
        path,
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([(http::header::CONTENT_TYPE, "application/json")], body) }
        }),
    ))
}
