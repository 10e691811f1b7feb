//! Access tokens: EdDSA-signed JWTs the edge and the control plane can verify with the public keys
//! published at `/.well-known/jwks.json`.
//!
//! Keys come from PEM files (PKCS#8 Ed25519, e.g. `openssl genpkey -algorithm
//! ed25519`); the first signs, every one verifies, so a new key can be put
//! first while the old one stays listed until its tokens have expired. The
//! `kid` is derived from the public key, so every cell names a key alike.
//! Cells sign; the control plane and `cargo xtask` load the same files.

pub mod service;

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wire::auth::{Jwk, JwksResponse};

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The shopper key: where the edge routes this shopper.
    pub sk: String,
    pub roles: Vec<String>,
    /// The session (refresh family) the token was issued for.
    pub sid: String,
    pub jti: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid: {0}")]
    Invalid(String),
}

struct VerifyingKey {
    kid: String,
    key: DecodingKey,
    x: String,
}

/// The cell's signing keys.
pub struct SigningKeys {
    signing_kid: String,
    signing: EncodingKey,
    verifying: Vec<VerifyingKey>,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.verifying.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("SigningKeys")
            .field("signing_kid", &self.signing_kid)
            .field("kids", &kids)
            .finish()
    }
}

impl SigningKeys {
    /// Loads the keys from PEM files, the first being the one that signs.
    pub fn from_files(
        files: &[impl AsRef<Path>],
        issuer: &str,
        audience: &str,
    ) -> anyhow::Result<Self> {
        let keys = files
            .iter()
            .map(|file| {
                let file = file.as_ref();
                let pem = std::fs::read_to_string(file).with_context(|| {
                    format!("auth.signing_key_files: cannot read {}", file.display())
                })?;
                SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
                    anyhow::anyhow!(
                        "auth.signing_key_files: {} is not a PKCS#8 Ed25519 private key: {e}",
                        file.display()
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Self::from_keys(keys, issuer, audience)
    }

    /// A key made up at start: tokens it signs die with the process and other
    /// cells cannot verify them. For tests and single-cell experiments only.
    pub fn ephemeral(issuer: &str, audience: &str) -> anyhow::Result<Self> {
        let (a, b) = uuid::Uuid::new_v4().as_u64_pair();
        let (c, d) = uuid::Uuid::new_v4().as_u64_pair();
        let mut seed = [0u8; 32];
        for (chunk, part) in seed.chunks_mut(8).zip([a, b, c, d]) {
            chunk.copy_from_slice(&part.to_le_bytes());
        }
        Self::from_keys(vec![SigningKey::from_bytes(&seed)], issuer, audience)
    }

    fn from_keys(keys: Vec<SigningKey>, issuer: &str, audience: &str) -> anyhow::Result<Self> {
        let first = keys
            .first()
            .context("auth.signing_key_files: list at least one key")?;
        let pem = first
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("encoding the signing key: {e}"))?;
        let signing =
            EncodingKey::from_ed_pem(pem.as_bytes()).context("loading the signing key")?;
        let verifying = keys
            .iter()
            .map(|key| {
                let public = key.verifying_key().to_bytes();
                let x = URL_SAFE_NO_PAD.encode(public);
                let kid = hex16(&Sha256::digest(public));
                let key = DecodingKey::from_ed_components(&x).context("loading a verifying key")?;
                Ok(VerifyingKey { kid, key, x })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            signing_kid: verifying[0].kid.clone(),
            signing,
            verifying,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        self.sign_any(claims)
    }

    /// Signs any claims with the active key (sign-in tickets use it too).
    pub fn sign_any<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.signing_kid.clone());
        jsonwebtoken::encode(&header, claims, &self.signing).context("signing a token")
    }

    /// Checks an access token: signature (by `kid`), algorithm, issuer,
    /// audience and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        self.verify_any(token, &self.audience)
    }

    /// Checks a token of ours meant for `audience`.
    pub fn verify_any<T: DeserializeOwned>(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<T, TokenError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| TokenError::Invalid(e.to_string()))?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Invalid(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| TokenError::Invalid("the token names no key (kid)".into()))?;
        let key = self
            .verifying
            .iter()
            .find(|key| key.kid == kid)
            .ok_or_else(|| TokenError::Invalid("the token was signed by an unknown key".into()))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 0;
        jsonwebtoken::decode::<T>(token, &key.key, &validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid(error.to_string()),
            })
    }

    /// The public keys, as a JSON Web Key Set.
    pub fn jwks(&self) -> JwksResponse {
        JwksResponse {
            keys: self
                .verifying
                .iter()
                .map(|key| Jwk {
                    kty: "OKP".into(),
                    crv: "Ed25519".into(),
                    alg: "EdDSA".into(),
                    key_use: "sig".into(),
                    kid: key.kid.clone(),
                    x: key.x.clone(),
                })
                .collect(),
        }
    }
}

fn hex16(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_in: i64) -> Claims {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Claims {
            sub: "u1".into(),
            sk: "0123456789abcdef".into(),
            roles: vec!["user".into()],
            sid: "s1".into(),
            jti: "j1".into(),
            iss: "cellwear".into(),
            aud: "cellwear-shop".into(),
            iat: now,
            exp: now + exp_in,
        }
    }

    fn keys() -> SigningKeys {
        SigningKeys::ephemeral("cellwear", "cellwear-shop").unwrap()
    }

    #[test]
    fn a_signed_token_verifies() {
        let keys = keys();
        let claims = claims(60);
        let token = keys.sign(&claims).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), claims);
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let keys = keys();
        assert_eq!(
            keys.verify(&keys.sign(&claims(-5)).unwrap()),
            Err(TokenError::Expired)
        );
        let token = keys.sign(&claims(60)).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        payload["roles"] = serde_json::json!(["admin"]);
        parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
        assert!(matches!(
            keys.verify(&parts.join(".")),
            Err(TokenError::Invalid(_))
        ));
        let other = SigningKeys::ephemeral("cellwear", "cellwear-shop").unwrap();
        assert!(matches!(
            keys.verify(&other.sign(&claims(60)).unwrap()),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn alg_none_is_refused() {
        let keys = keys();
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(60)).unwrap());
        assert!(keys.verify(&format!("{header}.{payload}.")).is_err());
    }

    #[test]
    fn a_wrong_audience_is_refused() {
        let keys = keys();
        let mut wrong = claims(60);
        wrong.aud = "someone-else".into();
        assert!(matches!(
            keys.verify(&keys.sign(&wrong).unwrap()),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn a_key_moved_second_still_verifies_its_tokens() {
        let dir = std::env::temp_dir().join(format!("cellwear-keys-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, seed: u8| {
            let key = SigningKey::from_bytes(&[seed; 32]);
            let path = dir.join(name);
            std::fs::write(&path, key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap();
            path
        };
        let (old, new) = (write("old.pem", 1), write("new.pem", 2));
        let before = SigningKeys::from_files(&[&old], "cellwear", "cellwear-shop").unwrap();
        let after = SigningKeys::from_files(&[&new, &old], "cellwear", "cellwear-shop").unwrap();
        let claims = claims(60);
        let issued_before = before.sign(&claims).unwrap();

        assert_eq!(after.verify(&issued_before).unwrap(), claims);
        assert_eq!(after.jwks().keys.len(), 2);
        let issued_after = after.sign(&claims).unwrap();
        assert!(
            before.verify(&issued_after).is_err(),
            "the old set knew the new key"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_jwks_names_the_signing_key() {
        let keys = keys();
        let token = keys.sign(&claims(60)).unwrap();
        let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
        let jwks = keys.jwks();
        assert_eq!(jwks.keys.len(), 1);
        assert_eq!(jwks.keys[0].kid, kid);
        assert_eq!(jwks.keys[0].crv, "Ed25519");
    }
}
