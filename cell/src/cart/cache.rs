//! Redis in front of the `carts` and `cart_items` tables, for cart reads:
//! what a shopper's cart holds (its id, coupon and lines as SKU, quantity
//! and the price last seen), or that they have none. The header asks for the
//! cart on every page, so most reads never reach MySQL's cart tables. Prices,
//! stock and promotions are not cached here: every read still prices the
//! lines afresh from the catalog read model and this cell's stock.
//!
//! Each owner has a generation in Redis, bumped after every committed change
//! to their cart ([`CartCache::changed`]). An entry records the generation it
//! was read under and counts only while that is still current, so a read
//! that raced a change (read the old rows, stored them after the bump) is
//! never served. Entries expire after `cart.cache_ttl_s`; a generation lives
//! twice that from the last entry stored or change made, so it cannot start
//! again from zero while an entry of an earlier count is still there.
//!
//! Redis is a cache only: when it cannot be read the cart comes from MySQL;
//! when a change cannot be announced, an entry read before it can be served
//! until it expires (logged).

use std::time::Duration;

use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use wire::cart::HandedLine;

/// What a cart holds, as its tables say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contents {
    pub id: String,
    pub coupon: Option<String>,
    /// Oldest first.
    pub lines: Vec<HandedLine>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    generation: u64,
    /// `None`: the owner has no cart.
    cart: Option<Contents>,
}

/// What a look in the cache found.
#[derive(Debug, PartialEq, Eq)]
pub enum Cached {
    /// The owner's cart as of the current generation (`None`: no cart).
    Hit(Option<Contents>),
    /// Nothing current: read the tables, then [`CartCache::store`] what was
    /// read under this generation.
    Miss(u64),
}

#[derive(Clone)]
pub struct CartCache {
    /// `None`: caching is off (`cart.cache_ttl_s = 0`).
    redis: Option<ConnectionManager>,
    prefix: String,
    ttl: Duration,
}

impl std::fmt::Debug for CartCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CartCache")
            .field("on", &self.redis.is_some())
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl CartCache {
    /// A cache keeping entries for `ttl`; a zero `ttl` turns it off.
    pub fn new(redis: ConnectionManager, key_prefix: &str, ttl: Duration) -> Self {
        Self {
            redis: (!ttl.is_zero()).then_some(redis),
            prefix: format!("{key_prefix}cart:"),
            ttl,
        }
    }

    fn entry_key(&self, owner: &str) -> String {
        format!("{}entry:{owner}", self.prefix)
    }

    fn generation_key(&self, owner: &str) -> String {
        format!("{}generation:{owner}", self.prefix)
    }

    /// Seconds, as `EXPIRE` takes them.
    fn generation_ttl(&self) -> i64 {
        i64::try_from(self.ttl.as_secs().max(1).saturating_mul(2)).unwrap_or(i64::MAX)
    }

    /// `owner`'s cart if a current entry holds it.
    pub async fn read(&self, owner: &str) -> Cached {
        let Some(redis) = &self.redis else {
            return Cached::Miss(0);
        };
        let mut redis = redis.clone();
        let found: Result<(Option<u64>, Option<String>), _> = redis::cmd("MGET")
            .arg(self.generation_key(owner))
            .arg(self.entry_key(owner))
            .query_async(&mut redis)
            .await;
        let (generation, entry) = match found {
            Ok((generation, entry)) => (generation.unwrap_or(0), entry),
            Err(error) => {
                tracing::debug!(error = %error, "cart cache not readable; reading the tables");
                return Cached::Miss(0);
            }
        };
        match entry.and_then(|json| serde_json::from_str::<Entry>(&json).ok()) {
            Some(entry) if entry.generation == generation => Cached::Hit(entry.cart),
            _ => Cached::Miss(generation),
        }
    }

    /// Keeps `cart`, read from the tables after [`read`](Self::read) said
    /// `Miss(generation)`.
    pub async fn store(&self, owner: &str, generation: u64, cart: Option<&Contents>) {
        let Some(redis) = &self.redis else {
            return;
        };
        let json = match serde_json::to_string(&Entry {
            generation,
            cart: cart.cloned(),
        }) {
            Ok(json) => json,
            Err(error) => {
                tracing::warn!(error = %error, "cart cache entry not made");
                return;
            }
        };
        let mut redis = redis.clone();
        let stored = redis::pipe()
            .set_ex(self.entry_key(owner), json, self.ttl.as_secs().max(1))
            .expire(self.generation_key(owner), self.generation_ttl())
            .exec_async(&mut redis)
            .await;
        if let Err(error) = stored {
            tracing::debug!(error = %error, "cart cache entry not kept");
        }
    }

    /// `owner`'s cart changed (call after the commit): every entry read
    /// before stops counting.
    pub async fn changed(&self, owner: &str) {
        let Some(redis) = &self.redis else {
            return;
        };
        let mut redis = redis.clone();
        let bumped = redis::pipe()
            .atomic()
            .incr(self.generation_key(owner), 1)
            .expire(self.generation_key(owner), self.generation_ttl())
            .del(self.entry_key(owner))
            .exec_async(&mut redis)
            .await;
        if let Err(error) = bumped {
            tracing::warn!(owner, error = %error, ttl_s = self.ttl.as_secs(), "could not mark a cart changed in its cache; an older entry may be served until it expires");
        }
    }
}
