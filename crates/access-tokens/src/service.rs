//! Service tokens: how one part of the platform proves to another that it
//! is calling (a cell taking over a guest cart, the control plane moving a
//! shopper). They are signed with the platform's keys like access tokens,
//! for an audience no shopper token ever has, and live for a minute.

use serde::{Deserialize, Serialize};

use crate::{SigningKeys, TokenError};

/// The audience of service tokens: never accepted as a shopper's.
pub const AUDIENCE: &str = "cellwear-internal";
/// The caller name of the control plane.
pub const CONTROL_PLANE: &str = "control-plane";
const TTL_S: u64 = 60;

#[derive(Debug, Serialize, Deserialize)]
struct ServiceClaims {
    /// `cell:<id>` or `control-plane`.
    sub: String,
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
    jti: String,
}

/// Who is calling, as a service token names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Cell(String),
    ControlPlane,
}

impl Caller {
    fn subject(&self) -> String {
        match self {
            Caller::Cell(id) => format!("cell:{id}"),
            Caller::ControlPlane => CONTROL_PLANE.to_owned(),
        }
    }
}

/// A token saying "`caller` calls", valid for a minute.
pub fn issue(keys: &SigningKeys, caller: &Caller) -> anyhow::Result<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    keys.sign_any(&ServiceClaims {
        sub: caller.subject(),
        iss: keys.issuer().to_owned(),
        aud: AUDIENCE.to_owned(),
        iat: now,
        exp: now + TTL_S,
        jti: uuid::Uuid::new_v4().to_string(),
    })
}

/// The caller of a valid service token.
pub fn verify(keys: &SigningKeys, token: &str) -> Result<Caller, TokenError> {
    let claims: ServiceClaims = keys.verify_any(token, AUDIENCE)?;
    if claims.sub == CONTROL_PLANE {
        return Ok(Caller::ControlPlane);
    }
    claims
        .sub
        .strip_prefix("cell:")
        .filter(|id| !id.is_empty())
        .map(|id| Caller::Cell(id.to_owned()))
        .ok_or_else(|| TokenError::Invalid(format!("unknown service {}", claims.sub)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_token_names_its_caller_and_is_no_access_token() {
        let keys = SigningKeys::ephemeral("cellwear", "cellwear-shop").unwrap();
        for caller in [Caller::ControlPlane, Caller::Cell("cell-1".into())] {
            let token = issue(&keys, &caller).unwrap();
            assert_eq!(verify(&keys, &token).unwrap(), caller);
            assert!(keys.verify(&token).is_err(), "a shopper audience took it");
        }
    }

    #[test]
    fn another_platforms_token_is_refused() {
        let ours = SigningKeys::ephemeral("cellwear", "cellwear-shop").unwrap();
        let theirs = SigningKeys::ephemeral("cellwear", "cellwear-shop").unwrap();
        let token = issue(&theirs, &Caller::ControlPlane).unwrap();
        assert!(verify(&ours, &token).is_err());
    }
}
