//! Stripe's webhook signature: the header `Stripe-Signature: t=<unix
//! seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">[,v1=…]`, keyed with the
//! endpoint's secret. Any one `v1` may match (Stripe sends several while a
//! secret is being rolled); a timestamp too far from now is a replay.

use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("no signature in the Stripe-Signature header matches")]
    Mismatch,
    #[error("the webhook was signed {0} s from now, outside the tolerance")]
    Stale(i64),
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header Stripe would send for `body` at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret.as_bytes(), timestamp, body)
        .finalize()
        .into_bytes();
    format!("t={timestamp},v1={}", hex::encode(digest))
}

/// Checks `header` for `body` at `now` (unix seconds).
pub fn verify(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance_s: u64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match name {
            "t" => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                )
            }
            "v1" => signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let matched = signatures.iter().any(|signature| {
        mac(secret.as_bytes(), timestamp, body)
            .verify_slice(signature)
            .is_ok()
    });
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    let skew = timestamp - now;
    if skew.unsigned_abs() > tolerance_s {
        return Err(SignatureError::Stale(skew));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    #[test]
    fn a_signature_made_by_sign_verifies() {
        let header = sign(SECRET, 1_700_000_000, BODY);
        assert_eq!(
            verify(SECRET, Some(&header), BODY, 1_700_000_010, 300),
            Ok(())
        );
    }

    #[test]
    fn another_body_secret_or_time_is_refused() {
        let header = sign(SECRET, 1_700_000_000, BODY);
        assert_eq!(
            verify(SECRET, Some(&header), b"{}", 1_700_000_000, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_other", Some(&header), BODY, 1_700_000_000, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, Some(&header), BODY, 1_700_001_000, 300),
            Err(SignatureError::Stale(-1000))
        );
        assert_eq!(
            verify(SECRET, None, BODY, 1_700_000_000, 300),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(SECRET, Some("v1=zz"), BODY, 1_700_000_000, 300),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn any_of_several_signatures_may_match() {
        let good = sign(SECRET, 1_700_000_000, BODY);
        let bad = sign("whsec_old", 1_700_000_000, BODY);
        let v1 = good.split("v1=").nth(1).unwrap_or_default();
        let header = format!("{bad},v1={v1}");
        assert_eq!(
            verify(SECRET, Some(&header), BODY, 1_700_000_000, 300),
            Ok(())
        );
    }
}
