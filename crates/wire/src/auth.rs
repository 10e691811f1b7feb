//! Bodies of the identity API (`/api/auth/*`, `/api/me`) and the JWKS.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
    #[schema(example = "Ada Lovelace")]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct UserResponse {
    pub id: String,
    pub email: String,
    pub name: String,
    pub roles: Vec<String>,
    /// The shopper key the edge routes this account by.
    pub shopper_key: String,
}

/// A new access token; the refresh token travels in an HttpOnly cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct TokenResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user: UserResponse,
}

/// One public key (RFC 8037 OKP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub key_use: String,
    pub kid: String,
    pub x: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct JwksResponse {
    pub keys: Vec<Jwk>,
}

/// One signed-in session (a device), for the account's session list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct SessionResponse {
    pub id: String,
    /// The browser's User-Agent when it signed in.
    pub device: String,
    pub ip: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last refresh.
    pub last_used_at: i64,
    /// This is the session making the request.
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct SessionsResponse {
    pub sessions: Vec<SessionResponse>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Asks to move the account to a new e-mail address (`POST /api/me/email`):
/// a link goes to the new address, and nothing changes until it is opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ChangeEmailRequest {
    #[schema(example = "ada@new.example")]
    pub email: String,
    /// The account's password, proving it is the owner asking.
    pub password: String,
}

/// A change of e-mail address waiting for its link to be opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct EmailChangePending {
    /// The address the link was sent to.
    pub email: String,
    /// RFC 3339; the link is refused after this.
    pub expires_at: String,
}

/// The token from the link sent to the new address
/// (`POST /api/me/email/confirm`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ConfirmEmailRequest {
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct SetRolesRequest {
    /// Any of `user`, `admin`, `sre`; `user` is always kept.
    pub roles: Vec<String>,
}
