//! Rate limits at the edge: fixed windows per client address and per shopper
//! key, counted in memory (each edge instance limits what it sees; the cells
//! keep their own, shared limits for sign-in).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many independently locked maps the counters are spread over, so two
/// worker threads rarely wait for each other.
const SHARDS: usize = 16;
/// Above this many tracked keys in a shard, expired windows are swept.
const SWEEP_ABOVE: usize = 50_000;

#[derive(Debug)]
pub struct RateLimiter<K> {
    max: u32,
    window: Duration,
    hasher: RandomState,
    shards: Vec<Mutex<HashMap<K, (Instant, u32)>>>,
}

impl<K: Hash + Eq> RateLimiter<K> {
    /// `max` requests per `window`; `max` 0 turns the limit off.
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// Counts one request for `key`; `Err(seconds)` to wait when over.
    pub fn check(&self, key: K) -> Result<(), u64> {
        if self.max == 0 {
            return Ok(());
        }
        let shard = &self.shards[self.hasher.hash_one(&key) as usize % SHARDS];
        let now = Instant::now();
        // A poisoned lock only means another thread panicked mid-count; the
        // counts are still usable.
        let mut counts = shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if counts.len() > SWEEP_ABOVE {
            counts.retain(|_, (started, _)| now.duration_since(*started) < self.window);
        }
        let entry = counts.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > self.max {
            let left = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_limit_waits_for_the_next_window() {
        let limiter = RateLimiter::new(3, Duration::from_millis(200));
        for _ in 0..3 {
            assert_eq!(limiter.check("a"), Ok(()));
        }
        assert_eq!(limiter.check("a"), Err(1));
        assert_eq!(limiter.check("b"), Ok(()), "another key was limited");
        std::thread::sleep(Duration::from_millis(220));
        assert_eq!(limiter.check("a"), Ok(()));
    }

    #[test]
    fn zero_means_no_limit() {
        let limiter = RateLimiter::new(0, Duration::from_secs(1));
        for _ in 0..1000 {
            assert_eq!(limiter.check(1u8), Ok(()));
        }
    }
}
