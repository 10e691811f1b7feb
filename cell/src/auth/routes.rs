//! HTTP for identity: parse, call the service, map to `wire` types.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chassis::http::{ApiError, Json, bearer};
use wire::auth::{
    ChangePasswordRequest, JwksResponse, LoginRequest, RegisterRequest, SessionResponse,
    SessionsResponse, SetRolesRequest, TokenResponse, UserResponse,
};

use super::domain::Role;
use super::google::GoogleError;
use super::service::{Auth, AuthError, Issued, User};
use super::tokens::Claims;

/// The refresh cookie; scoped to `/api/auth` so only refresh and logout
/// ever carry it.
pub const REFRESH_COOKIE: &str = "refresh_token";
const REFRESH_PATH: &str = "/api/auth";
/// The double-submit CSRF token: a cookie the page's script can read and must
/// echo in [`CSRF_HEADER`] on the cookie-authenticated calls (refresh, logout).
/// Another site can make the browser send the cookie, not read it.
pub const CSRF_COOKIE: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        let (status, code) = match &error {
            AuthError::InvalidEmail(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_email"),
            AuthError::WeakPassword(_) => (StatusCode::UNPROCESSABLE_ENTITY, "weak_password"),
            AuthError::InvalidName(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_name"),
            AuthError::EmailTaken => (StatusCode::CONFLICT, "email_taken"),
            AuthError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            AuthError::MissingToken => (StatusCode::UNAUTHORIZED, "missing_token"),
            AuthError::TokenExpired => (StatusCode::UNAUTHORIZED, "token_expired"),
            AuthError::InvalidToken(_) => (StatusCode::UNAUTHORIZED, "invalid_token"),
            AuthError::TokenRevoked => (StatusCode::UNAUTHORIZED, "token_revoked"),
            AuthError::InvalidRefresh => (StatusCode::UNAUTHORIZED, "invalid_refresh_token"),
            AuthError::RefreshReused => (StatusCode::UNAUTHORIZED, "refresh_token_reused"),
            AuthError::SessionNotFound => (StatusCode::NOT_FOUND, "session_not_found"),
            AuthError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AuthError::InvalidTicket => (StatusCode::UNAUTHORIZED, "invalid_ticket"),
            AuthError::GoogleAccountMismatch => (StatusCode::CONFLICT, "google_account_mismatch"),
            AuthError::Google(google) => match google {
                GoogleError::Disabled => (StatusCode::NOT_FOUND, "google_disabled"),
                GoogleError::UnknownState => (StatusCode::BAD_REQUEST, "google_state_unknown"),
                GoogleError::Provider(_) => (StatusCode::BAD_GATEWAY, "google_unavailable"),
                GoogleError::InvalidIdToken(_) => {
                    (StatusCode::UNAUTHORIZED, "google_token_invalid")
                }
                GoogleError::UnverifiedEmail => (StatusCode::FORBIDDEN, "google_email_unverified"),
                GoogleError::Unexpected(_) => return ApiError::unexpected(error),
            },
            AuthError::UserNotFound => (StatusCode::NOT_FOUND, "user_not_found"),
            AuthError::UnknownRole(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_role"),
            AuthError::RateLimited(seconds) | AuthError::AccountLocked(seconds) => {
                let code = if matches!(error, AuthError::RateLimited(_)) {
                    "rate_limited"
                } else {
                    "account_locked"
                };
                let seconds = *seconds;
                return ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, error.to_string())
                    .retry_after(seconds);
            }
            AuthError::WrongPassword => (StatusCode::FORBIDDEN, "wrong_password"),
            AuthError::Unexpected(_) => return ApiError::unexpected(error),
        };
        if let AuthError::InvalidToken(reason) = &error {
            // Why a token failed helps an operator, not a caller.
            tracing::info!(reason = %reason, "access token refused");
        }
        ApiError::new(status, code, error.to_string())
    }
}

/// A request with a valid, unrevoked bearer access token.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Claims);

/// Any router whose state holds the `Auth` can ask for an authenticated
/// caller (`Arc<Auth>: FromRef<S>`).
impl<S> FromRequestParts<S> for Authenticated
where
    Arc<Auth>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Arc::<Auth>::from_ref(state);
        let token = bearer(&parts.headers).ok_or(AuthError::MissingToken)?;
        Ok(Authenticated(auth.authenticate(token).await?))
    }
}

/// A role a route can require.
pub trait RequiredRole {
    const ROLE: Role;
}

#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl RequiredRole for Admin {
    const ROLE: Role = Role::Admin;
}

#[derive(Debug, Clone, Copy)]
pub struct Sre;

impl RequiredRole for Sre {
    const ROLE: Role = Role::Sre;
}

/// An authenticated request whose token carries the role `R`.
#[derive(Debug, Clone)]
pub struct WithRole<R>(pub Claims, PhantomData<R>);

impl<S, R> FromRequestParts<S> for WithRole<R>
where
    Arc<Auth>: FromRef<S>,
    S: Send + Sync,
    R: RequiredRole + Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Authenticated(claims) = Authenticated::from_request_parts(parts, state).await?;
        if claims.roles.iter().any(|role| role == R::ROLE.as_str()) {
            Ok(WithRole(claims, PhantomData))
        } else {
            Err(AuthError::Forbidden(R::ROLE.as_str()).into())
        }
    }
}

pub(crate) fn user_response(user: User) -> UserResponse {
    UserResponse {
        id: user.id,
        email: user.email,
        name: user.name,
        roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        shopper_key: user.shopper_key.to_string(),
    }
}

fn refresh_cookie(auth: &Auth, token: String) -> Cookie<'static> {
    Cookie::build((REFRESH_COOKIE, token))
        .http_only(true)
        .secure(auth.cookie_secure())
        .same_site(SameSite::Strict)
        .path(REFRESH_PATH)
        .max_age(time::Duration::seconds(auth.refresh_ttl().as_secs() as i64))
        .build()
}

fn csrf_cookie(auth: &Auth) -> Cookie<'static> {
    let value = uuid::Uuid::new_v4().simple().to_string();
    Cookie::build((CSRF_COOKIE, value))
        .http_only(false)
        .secure(auth.cookie_secure())
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(time::Duration::seconds(auth.refresh_ttl().as_secs() as i64))
        .build()
}

/// A request that the refresh cookie authenticates must come from an allowed
/// origin (when the browser says one) and echo the CSRF cookie in a header.
fn check_csrf(auth: &Auth, headers: &HeaderMap, jar: &CookieJar) -> Result<(), ApiError> {
    let refused = |why: &str| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            format!("Cross-site request refused: {why}."),
        )
    };
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !auth.origin_allowed(origin) {
            return Err(refused(&format!("origin {origin} is not allowed")));
        }
    }
    let cookie = jar.get(CSRF_COOKIE).map(|c| c.value());
    let header = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match (cookie, header) {
        (Some(cookie), Some(header)) if !cookie.is_empty() && cookie == header => Ok(()),
        _ => Err(refused(&format!(
            "the {CSRF_HEADER} header must repeat the {CSRF_COOKIE} cookie"
        ))),
    }
}

fn issued(auth: &Auth, jar: CookieJar, issued: Issued) -> (CookieJar, Json<TokenResponse>) {
    let jar = jar
        .add(refresh_cookie(auth, issued.refresh_token))
        .add(csrf_cookie(auth));
    let body = TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer".into(),
        expires_in: auth.access_ttl().as_secs(),
        user: user_response(issued.user),
    };
    (jar, Json(body))
}

/// The client's device and address, for the session list.
fn client(headers: &HeaderMap) -> (String, String) {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let device: String = text("user-agent").chars().take(200).collect();
    let ip = text("x-forwarded-for")
        .split(',')
        .next()
        .unwrap_or_default()
        .trim();
    (
        device,
        if ip.is_empty() {
            "unknown".into()
        } else {
            ip.chars().take(45).collect()
        },
    )
}

/// Create an account.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "The account", body = UserResponse),
        (status = 409, description = "The e-mail address has an account (`email_taken`)", body = wire::ErrorBody),
        (status = 422, description = "`invalid_email`, `weak_password` or `invalid_name`", body = wire::ErrorBody)))]
pub async fn register(
    State(auth): State<Arc<Auth>>,
    headers: HeaderMap,
    Json(body): Json<RegisterRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let (_, ip) = client(&headers);
    let user = auth
        .register(&body.email, &body.password, &body.name, &ip)
        .await?;
    Ok((StatusCode::CREATED, Json(user_response(user))))
}

/// Sign in: an access token in the body, the refresh token in an HttpOnly cookie.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "`invalid_credentials`", body = wire::ErrorBody),
        (status = 429, description = "`rate_limited` or `account_locked`, with Retry-After", body = wire::ErrorBody)))]
pub async fn login(
    State(auth): State<Arc<Auth>>,
    headers: HeaderMap,
    jar: CookieJar,
    Json(body): Json<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let (device, ip) = client(&headers);
    let signed_in = auth
        .login(&body.email, &body.password, &device, &ip)
        .await?;
    auth.signed_in_from(
        &signed_in.user.id,
        crate::search::routes::shopper_key(&headers),
    )
    .await;
    Ok(issued(&auth, jar, signed_in))
}

/// Swap the refresh cookie for a new one and a new access token.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth",
    responses(
        (status = 200, description = "Rotated", body = TokenResponse),
        (status = 401, description = "`invalid_refresh_token`, or `refresh_token_reused` (the session family is revoked)", body = wire::ErrorBody),
        (status = 403, description = "`csrf_failed`: send the csrf_token cookie's value in x-csrf-token", body = wire::ErrorBody)))]
pub async fn refresh(
    State(auth): State<Arc<Auth>>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<impl IntoResponse, ApiError> {
    let token = jar
        .get(REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
        .ok_or(AuthError::InvalidRefresh)?;
    check_csrf(&auth, &headers, &jar)?;
    let (_, ip) = client(&headers);
    match auth.refresh(&token, &ip).await {
        Ok(rotated) => Ok(issued(&auth, jar, rotated).into_response()),
        // A dead session's cookie is useless: drop it. Anything else (a rate
        // limit, an outage) leaves the session as it was.
        Err(error @ (AuthError::InvalidRefresh | AuthError::RefreshReused)) => {
            let jar = jar.remove(Cookie::build(REFRESH_COOKIE).path(REFRESH_PATH));
            Ok((jar, ApiError::from(error)).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

/// Sign out: ends the refresh session and revokes the access token.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out (also when nothing was signed in)")))]
pub async fn logout(
    State(auth): State<Arc<Auth>>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<impl IntoResponse, ApiError> {
    let refresh = jar.get(REFRESH_COOKIE).map(|c| c.value().to_owned());
    if refresh.is_some() {
        check_csrf(&auth, &headers, &jar)?;
    }
    let access = match bearer(&headers) {
        Some(token) => auth.authenticate(token).await.ok(),
        None => None,
    };
    auth.logout(refresh.as_deref(), access.as_ref()).await?;
    let jar = jar.remove(Cookie::build(REFRESH_COOKIE).path(REFRESH_PATH));
    Ok((StatusCode::NO_CONTENT, jar))
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/me", tag = "auth",
    responses(
        (status = 200, description = "The account", body = UserResponse),
        (status = 401, description = "`missing_token`, `invalid_token`, `token_expired` or `token_revoked`", body = wire::ErrorBody)))]
pub async fn me(
    State(auth): State<Arc<Auth>>,
    Authenticated(claims): Authenticated,
) -> Result<Json<UserResponse>, ApiError> {
    Ok(Json(user_response(auth.user(&claims.sub).await?)))
}

/// The public keys that verify access tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, description = "JSON Web Key Set", body = JwksResponse)))]
pub async fn jwks(State(auth): State<Arc<Auth>>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(auth.keys().jwks()),
    )
}

/// The caller's signed-in sessions.
#[utoipa::path(get, path = "/api/me/sessions", tag = "auth",
    responses((status = 200, description = "Newest first", body = SessionsResponse)))]
pub async fn sessions(
    State(auth): State<Arc<Auth>>,
    Authenticated(claims): Authenticated,
) -> Result<Json<SessionsResponse>, ApiError> {
    let sessions = auth
        .sessions(&claims.sub)
        .await?
        .into_iter()
        .map(|session| SessionResponse {
            current: session.id == claims.sid,
            id: session.id,
            device: session.device,
            ip: session.ip,
            created_at: session.created,
            last_used_at: session.last_used,
        })
        .collect();
    Ok(Json(SessionsResponse { sessions }))
}

/// Sign out one session (another device, or this one).
#[utoipa::path(delete, path = "/api/me/sessions/{id}", tag = "auth",
    params(("id" = String, Path, description = "The session id")),
    responses(
        (status = 204, description = "Signed out"),
        (status = 404, description = "`session_not_found`: not a session of yours", body = wire::ErrorBody)))]
pub async fn revoke_session(
    State(auth): State<Arc<Auth>>,
    Authenticated(claims): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.revoke_session(&claims.sub, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sign out every session, this one included.
#[utoipa::path(delete, path = "/api/me/sessions", tag = "auth",
    responses((status = 204, description = "Every session signed out")))]
pub async fn revoke_all_sessions(
    State(auth): State<Arc<Auth>>,
    Authenticated(claims): Authenticated,
) -> Result<StatusCode, ApiError> {
    auth.revoke_all_sessions(&claims.sub).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change the password; every other session is signed out.
#[utoipa::path(post, path = "/api/me/password", tag = "auth", request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "`wrong_password`: the current password is wrong", body = wire::ErrorBody),
        (status = 422, description = "`weak_password`", body = wire::ErrorBody)))]
pub async fn change_password(
    State(auth): State<Arc<Auth>>,
    Authenticated(claims): Authenticated,
    Json(body): Json<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    auth.change_password(&claims, &body.current_password, &body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set an account's roles (`user` is always kept). Administrators only;
/// audited. The account's next access token carries them.
#[utoipa::path(put, path = "/api/auth/users/{id}/roles", tag = "auth", request_body = SetRolesRequest,
    params(("id" = String, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account with its roles", body = UserResponse),
        (status = 403, description = "`forbidden`: the caller is no administrator", body = wire::ErrorBody),
        (status = 404, description = "`user_not_found`", body = wire::ErrorBody),
        (status = 422, description = "`unknown_role`", body = wire::ErrorBody)))]
pub async fn set_roles(
    State(auth): State<Arc<Auth>>,
    WithRole(actor, _): WithRole<Admin>,
    Path(id): Path<String>,
    Json(body): Json<SetRolesRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    Ok(Json(user_response(
        auth.set_roles(&actor, &id, &body.roles).await?,
    )))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct GoogleStart {
    /// The shop path to land on after signing in.
    return_to: Option<String>,
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct GoogleCallback {
    code: Option<String>,
    state: Option<String>,
    /// Set by the provider when the shopper declined or it failed.
    error: Option<String>,
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct GoogleFinish {
    ticket: String,
}

fn see_other(location: &str) -> Result<axum::response::Response, ApiError> {
    let value = header::HeaderValue::from_str(location).map_err(ApiError::unexpected)?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response())
}

/// Start signing in with Google: redirects to the provider.
#[utoipa::path(get, path = "/api/auth/google/start", tag = "auth", params(GoogleStart),
    responses(
        (status = 303, description = "To the provider's sign-in page"),
        (status = 404, description = "`google_disabled`", body = wire::ErrorBody)))]
pub async fn google_start(
    State(auth): State<Arc<Auth>>,
    axum::extract::Query(query): axum::extract::Query<GoogleStart>,
) -> Result<axum::response::Response, ApiError> {
    let url = auth
        .google_start(query.return_to.as_deref().unwrap_or("/"))
        .await?;
    see_other(&url)
}

/// The provider's redirect back: verified here, finished on the home cell.
#[utoipa::path(get, path = "/api/auth/google/callback", tag = "auth", params(GoogleCallback),
    responses(
        (status = 303, description = "To the finish step on the account's home cell"),
        (status = 400, description = "`google_state_unknown` or `google_declined`", body = wire::ErrorBody),
        (status = 401, description = "`google_token_invalid`", body = wire::ErrorBody),
        (status = 403, description = "`google_email_unverified`", body = wire::ErrorBody)))]
pub async fn google_callback(
    State(auth): State<Arc<Auth>>,
    axum::extract::Query(query): axum::extract::Query<GoogleCallback>,
) -> Result<axum::response::Response, ApiError> {
    if let Some(error) = query.error {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "google_declined",
            format!("Google sign-in did not complete ({error})."),
        ));
    }
    let (Some(code), Some(state)) = (query.code, query.state) else {
        return Err(GoogleError::UnknownState.into_auth().into());
    };
    let next = auth.google_callback(&code, &state).await?;
    see_other(&next)
}

/// Finish a Google sign-in on the home cell: sets the session cookies and
/// redirects into the shop, which then refreshes for an access token.
#[utoipa::path(get, path = "/api/auth/google/finish", tag = "auth", params(GoogleFinish),
    responses(
        (status = 303, description = "Signed in; to the page the sign-in started from"),
        (status = 401, description = "`invalid_ticket`", body = wire::ErrorBody),
        (status = 409, description = "`google_account_mismatch`", body = wire::ErrorBody)))]
pub async fn google_finish(
    State(auth): State<Arc<Auth>>,
    headers: HeaderMap,
    jar: CookieJar,
    axum::extract::Query(query): axum::extract::Query<GoogleFinish>,
) -> Result<axum::response::Response, ApiError> {
    let (device, ip) = client(&headers);
    let (signed_in, return_to) = auth.google_finish(&query.ticket, &device, &ip).await?;
    auth.signed_in_from(
        &signed_in.user.id,
        crate::search::routes::shopper_key(&headers),
    )
    .await;
    let jar = jar
        .add(refresh_cookie(&auth, signed_in.refresh_token))
        .add(csrf_cookie(&auth));
    Ok((jar, see_other(&return_to)?).into_response())
}

/// Change the account's display name.
#[utoipa::path(patch, path = "/api/me", tag = "auth", request_body = wire::users::UpdateProfileRequest,
    responses(
        (status = 200, description = "The account", body = UserResponse),
        (status = 422, description = "`invalid_name`", body = wire::ErrorBody)))]
pub async fn update_profile(
    State(auth): State<Arc<Auth>>,
    Authenticated(claims): Authenticated,
    Json(body): Json<wire::users::UpdateProfileRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    Ok(Json(user_response(
        auth.rename(&claims.sub, &body.name).await?,
    )))
}
