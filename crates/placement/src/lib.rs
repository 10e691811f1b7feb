//! Shopper key → cell (DESIGN.md §3).
//!
//! [`ShopperKey`] is the 16-hex-character key every shopper carries (a guest in
//! the `sk` cookie, a signed-in shopper as a token claim). [`place`] maps a key
//! onto one of the cells that accept shoppers with weighted rendezvous hashing:
//! each cell scores the key, the highest score wins, so adding or removing a
//! cell moves only the keys that land on or leave that cell. The edge, the
//! cells and the control plane all call this one function, so they agree on
//! where a shopper lives without asking each other. [`Placer`] compiles a
//! whole routing table: explicit overrides (migrated shoppers, highest epoch
//! first) win over the hash.

mod key;
mod placer;
mod rendezvous;

pub use key::{ParseShopperKeyError, ShopperKey};
pub use placer::{InvalidTable, Placer};
pub use rendezvous::{PlacementError, place, place_active, place_among};
