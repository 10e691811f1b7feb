//! Two levels of cache in front of the read model: in-process (per replica)
//! and Redis (shared by the cell's replicas). Keys carry the catalog
//! generation, which the consumer bumps whenever it applies a change, so a
//! new version makes every older entry unreachable at once; entries also
//! expire after a TTL, which bounds how long a read that raced a change can
//! serve what it saw.

use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

/// How long a replica trusts the generation it last read from Redis: the
/// bound on how late it notices a change, traded for a Redis round trip per
/// request.
const GENERATION_FRESH: Duration = Duration::from_millis(250);

#[derive(Clone)]
pub struct Cache {
    local: moka::sync::Cache<String, Arc<Vec<u8>>>,
    /// The generation last read and when.
    seen: Arc<std::sync::Mutex<(u64, Option<std::time::Instant>)>>,
    redis: ConnectionManager,
    prefix: String,
    ttl: Duration,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl Cache {
    pub fn new(redis: ConnectionManager, key_prefix: &str, ttl: Duration, capacity: u64) -> Self {
        Self {
            local: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            seen: Arc::new(std::sync::Mutex::new((0, None))),
            redis,
            prefix: format!("{key_prefix}catalog:"),
            ttl,
        }
    }

    fn generation_key(&self) -> String {
        format!("{}generation", self.prefix)
    }

    /// The current generation; 0 when Redis cannot say (then nothing is
    /// shared, and the local entries still expire by TTL).
    pub async fn generation(&self) -> u64 {
        if let Ok(seen) = self.seen.lock()
            && let (generation, Some(at)) = *seen
            && at.elapsed() < GENERATION_FRESH
        {
            return generation;
        }
        let generation = self.generation_now().await;
        if let Ok(mut seen) = self.seen.lock() {
            *seen = (generation, Some(std::time::Instant::now()));
        }
        generation
    }

    /// The current generation, asked of Redis whatever the replica last
    /// read (0 when Redis cannot say).
    pub async fn generation_now(&self) -> u64 {
        let mut redis = self.redis.clone();
        redis
            .get::<_, Option<u64>>(self.generation_key())
            .await
            .ok()
            .flatten()
            .unwrap_or(0)
    }

    /// Makes every cached entry stale (called when a change is applied).
    pub async fn invalidate(&self) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.1 = None;
        }
        let mut redis = self.redis.clone();
        if let Err(error) = redis.incr::<_, _, u64>(self.generation_key(), 1).await {
            tracing::warn!(error = %error, "could not bump the catalog cache generation; entries expire by TTL");
        }
    }

    /// The cached bytes for `key`, or those `load` makes (then cached).
    pub async fn get_or_load<E>(
        &self,
        key: &str,
        load: impl AsyncFnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<Arc<Vec<u8>>, E> {
        let generation = self.generation().await;
        let key = format!("{}{generation}:{key}", self.prefix);
        if let Some(hit) = self.local.get(&key) {
            return Ok(hit);
        }
        let mut redis = self.redis.clone();
        if let Ok(Some(bytes)) = redis.get::<_, Option<Vec<u8>>>(&key).await {
            let bytes = Arc::new(bytes);
            self.local.insert(key, bytes.clone());
            return Ok(bytes);
        }
        let bytes = Arc::new(load().await?);
        let seconds = self.ttl.as_secs().max(1);
        if let Err(error) = redis
            .set_ex::<_, _, ()>(&key, bytes.as_slice(), seconds)
            .await
        {
            tracing::debug!(error = %error, "catalog cache entry not shared");
        }
        self.local.insert(key, bytes.clone());
        Ok(bytes)
    }
}
