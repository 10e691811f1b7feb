//! Access tokens: the shared [`access_tokens`] crate (the control plane and
//! the tools verify and sign the same tokens).

pub use access_tokens::{Claims, SigningKeys, TokenError};
