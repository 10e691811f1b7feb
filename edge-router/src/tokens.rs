//! Which shopper a token speaks for, believed only when the token's
//! signature checks out against the cells' published keys (their
//! `/.well-known/jwks.json`). Expiry is not checked here: an expired token
//! still routes its shopper home, where the cell answers 401.

use std::collections::HashMap;
use std::net::SocketAddr;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use placement::ShopperKey;
use serde::Deserialize;

/// The verifying keys of every cell, by `kid`.
#[derive(Clone, Default)]
pub struct TokenKeys {
    keys: HashMap<String, DecodingKey>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kid: String,
    kty: String,
    crv: Option<String>,
    x: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    sk: String,
}

impl TokenKeys {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether both hold the same keys. A `kid` is derived from its public
    /// key, so equal ids mean equal keys.
    pub fn same_as(&self, other: &TokenKeys) -> bool {
        self.keys.len() == other.keys.len()
            && self.keys.keys().all(|kid| other.keys.contains_key(kid))
    }

    /// Adds the Ed25519 keys of a JWKS document; others are skipped.
    pub fn add_jwks(&mut self, document: &[u8]) -> Result<usize, serde_json::Error> {
        let jwks: Jwks = serde_json::from_slice(document)?;
        let mut added = 0;
        for key in jwks.keys {
            if key.kty != "OKP" || key.crv.as_deref() != Some("Ed25519") {
                continue;
            }
            if let Some(decoding) = key
                .x
                .as_deref()
                .and_then(|x| DecodingKey::from_ed_components(x).ok())
            {
                self.keys.insert(key.kid, decoding);
                added += 1;
            }
        }
        Ok(added)
    }

    /// The `sk` claim of `token` when one of the keys signed it.
    pub fn shopper_key(&self, token: &str) -> Option<ShopperKey> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::EdDSA {
            return None;
        }
        let key = self.keys.get(&header.kid?)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .ok()?
            .claims;
        ShopperKey::parse(&claims.sk).ok()
    }
}

/// Fetches and merges the keys every cell publishes; cells that do not
/// answer are skipped (they will be asked again at the next refresh).
pub async fn fetch(
    client: &reqwest::Client,
    cells: impl IntoIterator<Item = SocketAddr>,
) -> TokenKeys {
    let mut keys = TokenKeys::default();
    for address in cells {
        let url = format!("http://{address}/.well-known/jwks.json");
        let document = match client
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
        {
            Ok(response) => response.bytes().await,
            Err(error) => Err(error),
        };
        match document {
            Ok(bytes) => {
                if let Err(error) = keys.add_jwks(&bytes) {
                    tracing::warn!(%url, %error, "unreadable key set");
                }
            }
            Err(error) => tracing::debug!(%url, %error, "no key set"),
        }
    }
    keys
}

#[cfg(test)]
pub(crate) mod testing {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ed25519_dalek::SigningKey;
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    use jsonwebtoken::Algorithm;

    use super::TokenKeys;

    /// A signing key from a seed, and its public `x` for a JWKS.
    pub fn signer(seed: u8) -> (jsonwebtoken::EncodingKey, String) {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let x = URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
        (
            jsonwebtoken::EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
            x,
        )
    }

    /// A token for `sk`, expired long ago (routing still believes it).
    pub fn token(key: &jsonwebtoken::EncodingKey, kid: &str, sk: &str) -> String {
        let mut header = jsonwebtoken::Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &serde_json::json!({"sk": sk, "exp": 1}), key).unwrap()
    }

    pub fn keys_with(kid: &str, x: &str) -> TokenKeys {
        let mut keys = TokenKeys::default();
        let document = serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": x, "alg": "EdDSA", "use": "sig"}]});
        assert_eq!(keys.add_jwks(document.to_string().as_bytes()).unwrap(), 1);
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{keys_with, signer, token};
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn a_signed_token_speaks_for_its_shopper_even_expired() {
        let (signing, x) = signer(1);
        let keys = keys_with("k1", &x);
        assert_eq!(
            keys.shopper_key(&token(&signing, "k1", "0123456789abcdef")),
            Some(ShopperKey::parse("0123456789abcdef").unwrap())
        );
    }

    #[test]
    fn key_sets_compare_by_kid() {
        let (_, x1) = signer(1);
        let (_, x2) = signer(2);
        assert!(keys_with("k1", &x1).same_as(&keys_with("k1", &x1)));
        assert!(!keys_with("k1", &x1).same_as(&keys_with("k2", &x2)));
        assert!(!TokenKeys::default().same_as(&keys_with("k1", &x1)));
    }

    #[test]
    fn forged_and_unknown_tokens_speak_for_nobody() {
        let (signing, x) = signer(1);
        let (other, _) = signer(2);
        let keys = keys_with("k1", &x);
        assert_eq!(
            keys.shopper_key(&token(&other, "k1", "0123456789abcdef")),
            None,
            "a forged signature was believed"
        );
        assert_eq!(
            keys.shopper_key(&token(&signing, "k9", "0123456789abcdef")),
            None,
            "an unknown kid was believed"
        );
        let claims = URL_SAFE_NO_PAD.encode(r#"{"sk":"0123456789abcdef"}"#);
        let none = format!("{}.{claims}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#));
        assert_eq!(keys.shopper_key(&none), None);
        assert_eq!(
            TokenKeys::default().shopper_key(&token(&signing, "k1", "0123456789abcdef")),
            None
        );
    }
}
