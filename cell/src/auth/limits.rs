//! Rate limits and lockout for sign-in, registration and refresh, counted in
//! Redis so every process of a cell shares them.
//!
//! Limits are fixed windows (`INCR`, expiry set on the first hit). Lockout is
//! per account name as typed, existing or not, so it reveals nothing: after
//! [`FREE_FAILURES`] wrong passwords within an hour each further one locks
//! sign-in for twice as long as the last (1 s, 2 s, 4 s … at most 15 min).

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

pub const FREE_FAILURES: u32 = 5;
const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
const FAILURE_MEMORY: Duration = Duration::from_secs(3600);

/// A fixed-window limit.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u64,
    pub window: Duration,
}

pub const LOGIN_PER_IP: Limit = Limit {
    max: 30,
    window: Duration::from_secs(60),
};
pub const LOGIN_PER_ACCOUNT: Limit = Limit {
    max: 10,
    window: Duration::from_secs(60),
};
pub const REGISTER_PER_IP: Limit = Limit {
    max: 20,
    window: Duration::from_secs(3600),
};
/// Links sent to new e-mail addresses, per account.
pub const EMAIL_CHANGE_PER_ACCOUNT: Limit = Limit {
    max: 5,
    window: Duration::from_secs(3600),
};
pub const REFRESH_PER_IP: Limit = Limit {
    max: 120,
    window: Duration::from_secs(60),
};

#[derive(Debug, Clone)]
pub struct Limits {
    redis: ConnectionManager,
    prefix: String,
}

impl Limits {
    pub fn new(redis: ConnectionManager, prefix: &str) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
        }
    }

    /// Counts one request in `scope`; `Some(seconds)` to wait when over.
    pub async fn hit(&self, scope: &str, limit: Limit) -> redis::RedisResult<Option<u64>> {
        let key = format!("{}auth:limit:{scope}", self.prefix);
        let mut redis = self.redis.clone();
        let (count, ttl): (u64, i64) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(limit.window.as_secs())
            .arg("NX")
            .ignore()
            .ttl(&key)
            .query_async(&mut redis)
            .await?;
        Ok((count > limit.max).then_some(ttl.max(1) as u64))
    }

    /// Seconds left on the account's lock, if it is locked.
    pub async fn locked(&self, account: &str) -> redis::RedisResult<Option<u64>> {
        let mut redis = self.redis.clone();
        let ttl: i64 = redis.ttl(self.lock_key(account)).await?;
        Ok((ttl > 0).then_some(ttl as u64))
    }

    /// Records a wrong password; locks the account past the free failures.
    pub async fn failed(&self, account: &str) -> redis::RedisResult<()> {
        let key = format!("{}auth:failures:{account}", self.prefix);
        let mut redis = self.redis.clone();
        let (failures,): (u32,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .expire(&key, FAILURE_MEMORY.as_secs() as i64)
            .ignore()
            .query_async(&mut redis)
            .await?;
        if let Some(lock) = lock_for(failures) {
            let _: () = redis
                .set_ex(self.lock_key(account), 1, lock.as_secs())
                .await?;
        }
        Ok(())
    }

    pub async fn succeeded(&self, account: &str) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        redis
            .del(format!("{}auth:failures:{account}", self.prefix))
            .await
    }

    fn lock_key(&self, account: &str) -> String {
        format!("{}auth:locked:{account}", self.prefix)
    }
}

/// How long the `failures`-th failure in a row locks the account.
pub fn lock_for(failures: u32) -> Option<Duration> {
    let over = failures
        .checked_sub(FREE_FAILURES)
        .filter(|over| *over > 0)?;
    let seconds = 1u64.checked_shl(over - 1).unwrap_or(u64::MAX);
    Some(Duration::from_secs(seconds).min(MAX_LOCK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_double_after_the_free_failures_and_stop_at_fifteen_minutes() {
        assert_eq!(lock_for(1), None);
        assert_eq!(lock_for(FREE_FAILURES), None);
        assert_eq!(lock_for(FREE_FAILURES + 1), Some(Duration::from_secs(1)));
        assert_eq!(lock_for(FREE_FAILURES + 2), Some(Duration::from_secs(2)));
        assert_eq!(lock_for(FREE_FAILURES + 4), Some(Duration::from_secs(8)));
        assert_eq!(lock_for(FREE_FAILURES + 40), Some(MAX_LOCK));
        assert_eq!(lock_for(u32::MAX), Some(MAX_LOCK));
    }
}
