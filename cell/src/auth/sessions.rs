//! Refresh-token sessions in Redis.
//!
//! A login starts a *family*: `family:<id>` (a hash: user, the hash of the
//! one valid token, device, IP, created, last used) and `refresh:<hash>` → the
//! family id for every token the family ever issued. Only hashes are stored.
//! A refresh swaps the family's current token atomically (a Lua script); a
//! token that is no longer current was already rotated — someone replayed it
//! — so the whole family is revoked. Everything expires with the refresh TTL.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};

/// A family's tokens and record live this long after their last use.
#[derive(Debug, Clone)]
pub struct Sessions {
    redis: ConnectionManager,
    prefix: String,
    ttl: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// The new token and the family's user.
    Rotated { token: String, user_id: String },
    /// Unknown, expired or revoked.
    Invalid,
    /// Already rotated: the family is now revoked.
    Reused { user_id: String, family: String },
}

const ROTATE: &str = r#"
local user = redis.call('HGET', KEYS[1], 'user')
if not user then return {-1, ''} end
if redis.call('HGET', KEYS[1], 'current') ~= ARGV[1] then
  redis.call('DEL', KEYS[1])
  return {0, user}
end
redis.call('HSET', KEYS[1], 'current', ARGV[2], 'last_used', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[5], 'EX', ARGV[4])
return {1, user}
"#;

impl Sessions {
    pub fn new(redis: ConnectionManager, prefix: &str, ttl: Duration) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            ttl,
        }
    }

    /// Starts a family for `user_id`; returns its first token.
    pub async fn start(&self, user_id: &str, device: &str, ip: &str) -> redis::RedisResult<String> {
        let family = uuid::Uuid::new_v4().simple().to_string();
        let token = new_token();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl = self.ttl.as_secs();
        let mut redis = self.redis.clone();
        redis::pipe()
            .atomic()
            .hset_multiple(
                self.family_key(&family),
                &[
                    ("user", user_id.to_owned()),
                    ("current", hash(&token)),
                    ("device", device.to_owned()),
                    ("ip", ip.to_owned()),
                    ("created", now.to_string()),
                    ("last_used", now.to_string()),
                ],
            )
            .expire(self.family_key(&family), ttl as i64)
            .set_ex(self.token_key(&hash(&token)), &family, ttl)
            .exec_async(&mut redis)
            .await?;
        Ok(token)
    }

    /// Swaps `token` for a new one, or says why not.
    pub async fn rotate(&self, token: &str) -> redis::RedisResult<Refreshed> {
        let mut redis = self.redis.clone();
        let old = hash(token);
        let family: Option<String> = redis::cmd("GET")
            .arg(self.token_key(&old))
            .query_async(&mut redis)
            .await?;
        let Some(family) = family else {
            return Ok(Refreshed::Invalid);
        };
        let fresh = new_token();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let (status, user_id): (i64, String) = redis::Script::new(ROTATE)
            .key(self.family_key(&family))
            .key(self.token_key(&hash(&fresh)))
            .arg(&old)
            .arg(hash(&fresh))
            .arg(now)
            .arg(self.ttl.as_secs())
            .arg(&family)
            .invoke_async(&mut redis)
            .await?;
        Ok(match status {
            1 => Refreshed::Rotated {
                token: fresh,
                user_id,
            },
            0 => Refreshed::Reused { user_id, family },
            _ => Refreshed::Invalid,
        })
    }

    /// Revokes the family `token` belongs to (logout).
    pub async fn end(&self, token: &str) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        let family: Option<String> = redis::cmd("GET")
            .arg(self.token_key(&hash(token)))
            .query_async(&mut redis)
            .await?;
        if let Some(family) = family {
            redis::cmd("DEL")
                .arg(self.family_key(&family))
                .exec_async(&mut redis)
                .await?;
        }
        Ok(())
    }

    /// Refuses an access token's `jti` until the token would have expired.
    pub async fn deny(&self, jti: &str, for_secs: u64) -> redis::RedisResult<()> {
        if for_secs == 0 {
            return Ok(());
        }
        let mut redis = self.redis.clone();
        redis::cmd("SET")
            .arg(self.deny_key(jti))
            .arg(1)
            .arg("EX")
            .arg(for_secs)
            .exec_async(&mut redis)
            .await
    }

    pub async fn is_denied(&self, jti: &str) -> redis::RedisResult<bool> {
        let mut redis = self.redis.clone();
        redis::cmd("EXISTS")
            .arg(self.deny_key(jti))
            .query_async(&mut redis)
            .await
    }

    fn family_key(&self, family: &str) -> String {
        format!("{}auth:family:{family}", self.prefix)
    }

    fn token_key(&self, hash: &str) -> String {
        format!("{}auth:refresh:{hash}", self.prefix)
    }

    fn deny_key(&self, jti: &str) -> String {
        format!("{}auth:deny:{jti}", self.prefix)
    }
}

/// 256 bits from the OS's CSPRNG (two v4 UUIDs carry 244 random bits).
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}
