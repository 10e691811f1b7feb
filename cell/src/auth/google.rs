//! Google sign-in: OAuth 2.0 authorization code with PKCE, `state` and
//! `nonce`, the ID token verified against the provider's keys.
//!
//! The shopper's browser may start on any cell (it is routed by its guest
//! key), but the account lives on the e-mail's home cell. So the cell that
//! receives the callback verifies everything, then hands the browser a
//! one-minute *sign-in ticket* — a token signed with the cells' shared keys
//! whose `sk` claim the edge routes by — to `/api/auth/google/finish` on the
//! home cell, which spends the ticket once, links or creates the account and
//! starts the session (DESIGN.md §3: "Google sign-in finishes on the home cell
//! the same way").

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

/// Where the provider is and who we are to it (`auth.google`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleSettings {
    pub enabled: bool,
    pub client_id: String,
    pub client_secret: SecretString,
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// Our callback as the browser reaches it (through the edge).
    pub redirect_uri: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GoogleError {
    #[error("Google sign-in is not configured on this shop.")]
    Disabled,
    #[error("The sign-in attempt is unknown or expired; start again.")]
    UnknownState,
    #[error("Google did not confirm the sign-in: {0}")]
    Provider(String),
    #[error("Google's answer could not be verified: {0}")]
    InvalidIdToken(String),
    #[error("Google has not verified this e-mail address.")]
    UnverifiedEmail,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl GoogleError {
    pub fn into_auth(self) -> super::service::AuthError {
        super::service::AuthError::Google(self)
    }
}

/// What a started sign-in remembers until the callback (in Redis, 10 min).
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    nonce: String,
    verifier: String,
    return_to: String,
}

/// A verified Google identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoogleIdentity {
    pub subject: String,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    id_token: String,
}

#[derive(Debug, Deserialize)]
struct IdClaims {
    sub: String,
    email: Option<String>,
    email_verified: Option<bool>,
    name: Option<String>,
    nonce: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Jwks {
    keys: Vec<RsaJwk>,
}

#[derive(Debug, Deserialize)]
struct RsaJwk {
    kid: Option<String>,
    kty: String,
    n: Option<String>,
    e: Option<String>,
}

const PENDING_TTL: Duration = Duration::from_secs(600);

#[derive(Debug)]
pub struct Google {
    settings: GoogleSettings,
    http: reqwest::Client,
    redis: ConnectionManager,
    prefix: String,
    /// The provider's keys by `kid`, fetched on first use and again when a
    /// token names a key we have not seen (the provider rotated).
    keys: RwLock<Vec<(String, DecodingKey)>>,
}

impl Google {
    pub fn new(
        settings: GoogleSettings,
        redis: ConnectionManager,
        prefix: &str,
    ) -> anyhow::Result<Arc<Self>> {
        // One process-wide TLS provider; a second install (tests) is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Arc::new(Self {
            settings,
            http,
            redis,
            prefix: prefix.to_owned(),
            keys: RwLock::new(Vec::new()),
        }))
    }

    /// The provider's authorization URL for a new sign-in; `return_to` is the
    /// shop path to land on afterwards.
    pub async fn start(&self, return_to: &str) -> Result<String, GoogleError> {
        self.enabled()?;
        let state = random();
        let pending = Pending {
            nonce: random(),
            verifier: format!("{}{}", random(), random()),
            return_to: safe_return_path(return_to),
        };
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
        let mut redis = self.redis.clone();
        let json = serde_json::to_string(&pending).map_err(anyhow::Error::from)?;
        let _: () = redis
            .set_ex(self.pending_key(&state), json, PENDING_TTL.as_secs())
            .await
            .map_err(anyhow::Error::from)?;
        let url = reqwest::Url::parse_with_params(
            &self.settings.authorization_endpoint,
            &[
                ("response_type", "code"),
                ("client_id", self.settings.client_id.as_str()),
                ("redirect_uri", self.settings.redirect_uri.as_str()),
                ("scope", "openid email profile"),
                ("state", state.as_str()),
                ("nonce", pending.nonce.as_str()),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        )
        .map_err(|e| anyhow::anyhow!("auth.google.authorization_endpoint: {e}"))?;
        Ok(url.into())
    }

    /// Spends `state`, exchanges `code` (with the PKCE verifier) and verifies
    /// the ID token: signature by the provider's keys, issuer, audience,
    /// expiry, nonce, and a verified e-mail.
    pub async fn callback(
        &self,
        code: &str,
        state: &str,
    ) -> Result<(GoogleIdentity, String), GoogleError> {
        self.enabled()?;
        let mut redis = self.redis.clone();
        let pending: Option<String> = redis::cmd("GETDEL")
            .arg(self.pending_key(state))
            .query_async(&mut redis)
            .await
            .map_err(anyhow::Error::from)?;
        let pending: Pending = serde_json::from_str(&pending.ok_or(GoogleError::UnknownState)?)
            .map_err(anyhow::Error::from)?;
        let answer = self
            .http
            .post(&self.settings.token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.settings.redirect_uri.as_str()),
                ("client_id", self.settings.client_id.as_str()),
                ("client_secret", self.settings.client_secret.expose_secret()),
                ("code_verifier", pending.verifier.as_str()),
            ])
            .send()
            .await
            .map_err(|e| GoogleError::Provider(format!("token endpoint unreachable: {e}")))?;
        if !answer.status().is_success() {
            return Err(GoogleError::Provider(format!(
                "token endpoint answered {}",
                answer.status()
            )));
        }
        let answer: TokenAnswer = answer.json().await.map_err(|e| {
            GoogleError::Provider(format!("token endpoint answered no ID token: {e}"))
        })?;
        let claims = self.verify(&answer.id_token).await?;
        if claims.nonce.as_deref() != Some(pending.nonce.as_str()) {
            return Err(GoogleError::InvalidIdToken(
                "the nonce does not match this sign-in".into(),
            ));
        }
        if claims.email_verified != Some(true) {
            return Err(GoogleError::UnverifiedEmail);
        }
        let email = claims
            .email
            .ok_or_else(|| GoogleError::InvalidIdToken("no e-mail claim".into()))?;
        let name = claims
            .name
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
        Ok((
            GoogleIdentity {
                subject: claims.sub,
                email,
                name,
            },
            pending.return_to,
        ))
    }

    async fn verify(&self, id_token: &str) -> Result<IdClaims, GoogleError> {
        let invalid = |why: String| GoogleError::InvalidIdToken(why);
        let header = jsonwebtoken::decode_header(id_token).map_err(|e| invalid(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(invalid(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| invalid("the token names no key".into()))?;
        let key = match self.key(&kid).await {
            Some(key) => key,
            None => {
                self.refresh_keys().await?;
                self.key(&kid).await.ok_or_else(|| {
                    invalid("signed by a key the provider does not publish".into())
                })?
            }
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| invalid(e.to_string()))
    }

    async fn key(&self, kid: &str) -> Option<DecodingKey> {
        self.keys
            .read()
            .await
            .iter()
            .find(|(id, _)| id == kid)
            .map(|(_, key)| key.clone())
    }

    async fn refresh_keys(&self) -> Result<(), GoogleError> {
        let jwks: Jwks = self
            .http
            .get(&self.settings.jwks_uri)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| GoogleError::Provider(format!("keys unreachable: {e}")))?
            .json()
            .await
            .map_err(|e| GoogleError::Provider(format!("keys unreadable: {e}")))?;
        let keys = jwks
            .keys
            .into_iter()
            .filter(|key| key.kty == "RSA")
            .filter_map(|key| {
                let key_id = key.kid?;
                let decoding = DecodingKey::from_rsa_components(&key.n?, &key.e?).ok()?;
                Some((key_id, decoding))
            })
            .collect();
        *self.keys.write().await = keys;
        Ok(())
    }

    fn enabled(&self) -> Result<(), GoogleError> {
        if self.settings.enabled {
            Ok(())
        } else {
            Err(GoogleError::Disabled)
        }
    }

    fn pending_key(&self, state: &str) -> String {
        format!("{}auth:oidc:{state}", self.prefix)
    }
}

/// Only a path of this shop (no scheme, no `//host`), so the sign-in cannot be
/// used to send a shopper to another site.
fn safe_return_path(requested: &str) -> String {
    let ok =
        requested.starts_with('/') && !requested.starts_with("//") && !requested.contains('\\');
    if ok {
        requested.to_owned()
    } else {
        "/".to_owned()
    }
}

fn random() -> String {
    URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_stay_on_the_shop() {
        assert_eq!(safe_return_path("/account/orders"), "/account/orders");
        assert_eq!(safe_return_path("https://evil.example/"), "/");
        assert_eq!(safe_return_path("//evil.example/"), "/");
        assert_eq!(safe_return_path("/\\evil.example"), "/");
    }
}
