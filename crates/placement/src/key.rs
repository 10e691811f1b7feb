use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// A shopper's routing key: 64 bits shown as exactly 16 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShopperKey(u64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseShopperKeyError {
    #[error("a shopper key has exactly 16 characters, this one has {0}")]
    WrongLength(usize),
    #[error("a shopper key holds only the hex digits 0-9 and a-f")]
    NotHex,
}

impl ShopperKey {
    /// A fresh key for a new guest. UUIDv4 draws its bits from the OS's CSPRNG,
    /// so keys cannot be guessed from one another.
    pub fn random() -> Self {
        let (high, _) = uuid::Uuid::new_v4().as_u64_pair();
        Self(high)
    }

    pub fn parse(text: &str) -> Result<Self, ParseShopperKeyError> {
        if text.len() != 16 {
            return Err(ParseShopperKeyError::WrongLength(text.chars().count()));
        }
        // `from_str_radix` accepts a leading `+` and upper case; the key's one
        // spelling is 16 lowercase hex digits, so check the bytes first.
        if !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ParseShopperKeyError::NotHex);
        }
        u64::from_str_radix(text, 16)
            .map(Self)
            .map_err(|_| ParseShopperKeyError::NotHex)
    }

    /// A signed-in shopper's key: the first 64 bits of SHA-256 over the
    /// normalised e-mail address, so every device lands on the same cell.
    pub fn for_account(normalised_email: &str) -> Self {
        let digest = Sha256::digest(normalised_email.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        Self(u64::from_be_bytes(first))
    }

    /// The account key for an e-mail as typed: trimmed and lower-cased first,
    /// exactly as the cells normalise it, so the edge and the home cell agree.
    pub fn for_email(raw: &str) -> Self {
        Self::for_account(&raw.trim().to_lowercase())
    }

    pub fn as_u64(self) -> u64 {
        self.0
    }
}

/// Every 64-bit value is a key; this is how a key derived from other data
/// (a hashed e-mail) is made.
impl From<u64> for ShopperKey {
    fn from(raw: u64) -> Self {
        Self(raw)
    }
}

impl FromStr for ShopperKey {
    type Err = ParseShopperKeyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for ShopperKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for ShopperKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShopperKey({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_key_of_the_wrong_length_is_rejected() {
        assert_eq!(
            ShopperKey::parse("abc"),
            Err(ParseShopperKeyError::WrongLength(3))
        );
    }

    #[test]
    fn upper_case_and_signs_are_rejected() {
        assert_eq!(
            ShopperKey::parse("ABCDEF0123456789"),
            Err(ParseShopperKeyError::NotHex)
        );
        assert_eq!(
            ShopperKey::parse("+bcdef0123456789"),
            Err(ParseShopperKeyError::NotHex)
        );
    }

    #[test]
    fn multibyte_text_reports_its_length_in_characters() {
        assert_eq!(
            ShopperKey::parse("ééééééééé"),
            Err(ParseShopperKeyError::WrongLength(9))
        );
    }

    #[test]
    fn an_account_key_is_stable_and_depends_on_the_address() {
        let ada = ShopperKey::for_account("ada@example.com");
        assert_eq!(ada, ShopperKey::for_account("ada@example.com"));
        assert_ne!(ada, ShopperKey::for_account("bob@example.com"));
        // SHA-256("ada@example.com") starts with these 8 bytes.
        assert_eq!(ada.to_string().len(), 16);
    }

    #[test]
    fn random_keys_differ() {
        assert_ne!(ShopperKey::random(), ShopperKey::random());
    }

    proptest! {
        #[test]
        fn display_and_parse_round_trip(raw in any::<u64>()) {
            let key = ShopperKey(raw);
            let shown = key.to_string();
            prop_assert_eq!(shown.len(), 16);
            prop_assert_eq!(ShopperKey::parse(&shown), Ok(key));
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,40}") {
            let _ = ShopperKey::parse(&text);
        }
    }
}
