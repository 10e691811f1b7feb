//! Refresh-token sessions in Redis.
//!
//! A sign-in starts a session *family*: `family:<id>` (a hash: user, the hash
//! of the one valid token, device, IP, created, last used), `refresh:<hash>` →
//! the family id for every token the family ever issued, and the user's set
//! of families. Only hashes of tokens are stored. A refresh swaps the
//! family's current token atomically (a Lua script); a token that is no
//! longer current was already rotated — someone replayed it — so the whole
//! family is revoked. A revoked family's id is kept for one access-token
//! lifetime, so its access tokens stop working at once too. Everything
//! expires with the refresh TTL.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};
use wire::moves::SessionCopy;

#[derive(Debug, Clone)]
pub struct Sessions {
    redis: ConnectionManager,
    prefix: String,
    refresh_ttl: Duration,
    access_ttl: Duration,
}

/// A new session: its first refresh token and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub token: String,
    pub session: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    Rotated {
        token: String,
        user_id: String,
        session: String,
    },
    /// Unknown, expired or revoked.
    Invalid,
    /// Already rotated: the family is now revoked.
    Reused { user_id: String, session: String },
}

/// One session as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: String,
    pub device: String,
    pub ip: String,
    pub created: i64,
    pub last_used: i64,
}

/// KEYS: family, new token, revoked marker. ARGV: old hash, new hash, now,
/// refresh TTL, family id, access TTL.
const ROTATE: &str = r#"
local user = redis.call('HGET', KEYS[1], 'user')
if not user then return {-1, ''} end
if redis.call('HGET', KEYS[1], 'current') ~= ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[3], 1, 'EX', ARGV[6])
  return {0, user}
end
redis.call('HSET', KEYS[1], 'current', ARGV[2], 'last_used', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[5], 'EX', ARGV[4])
return {1, user}
"#;

impl Sessions {
    pub fn new(
        redis: ConnectionManager,
        prefix: &str,
        refresh_ttl: Duration,
        access_ttl: Duration,
    ) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            refresh_ttl,
            access_ttl,
        }
    }

    /// Starts a session for `user_id`.
    pub async fn start(
        &self,
        user_id: &str,
        device: &str,
        ip: &str,
    ) -> redis::RedisResult<Started> {
        let session = uuid::Uuid::new_v4().simple().to_string();
        let token = new_token();
        let now = now();
        let ttl = self.refresh_ttl.as_secs();
        let mut redis = self.redis.clone();
        redis::pipe()
            .atomic()
            .hset_multiple(
                self.family_key(&session),
                &[
                    ("user", user_id.to_owned()),
                    ("current", hash(&token)),
                    ("device", device.to_owned()),
                    ("ip", ip.to_owned()),
                    ("created", now.to_string()),
                    ("last_used", now.to_string()),
                ],
            )
            .expire(self.family_key(&session), ttl as i64)
            .set_ex(self.token_key(&hash(&token)), &session, ttl)
            .sadd(self.user_key(user_id), &session)
            .expire(self.user_key(user_id), ttl as i64)
            .exec_async(&mut redis)
            .await?;
        Ok(Started { token, session })
    }

    /// Swaps `token` for a new one, or says why not.
    pub async fn rotate(&self, token: &str) -> redis::RedisResult<Refreshed> {
        let mut redis = self.redis.clone();
        let old = hash(token);
        let session: Option<String> = redis.get(self.token_key(&old)).await?;
        let Some(session) = session else {
            return Ok(Refreshed::Invalid);
        };
        let fresh = new_token();
        let (status, user_id): (i64, String) = redis::Script::new(ROTATE)
            .key(self.family_key(&session))
            .key(self.token_key(&hash(&fresh)))
            .key(self.revoked_key(&session))
            .arg(&old)
            .arg(hash(&fresh))
            .arg(now())
            .arg(self.refresh_ttl.as_secs())
            .arg(&session)
            .arg(self.access_ttl.as_secs())
            .invoke_async(&mut redis)
            .await?;
        Ok(match status {
            1 => Refreshed::Rotated {
                token: fresh,
                user_id,
                session,
            },
            0 => Refreshed::Reused { user_id, session },
            _ => Refreshed::Invalid,
        })
    }

    /// Ends the session `token` belongs to (sign-out).
    pub async fn end(&self, token: &str) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        let session: Option<String> = redis.get(self.token_key(&hash(token))).await?;
        let Some(session) = session else {
            return Ok(());
        };
        let user: Option<String> = redis.hget(self.family_key(&session), "user").await?;
        if let Some(user) = user {
            self.revoke(&user, &session).await?;
        }
        Ok(())
    }

    /// The user's live sessions, newest first.
    pub async fn list(&self, user_id: &str) -> redis::RedisResult<Vec<SessionInfo>> {
        let mut redis = self.redis.clone();
        let ids: Vec<String> = redis.smembers(self.user_key(user_id)).await?;
        let mut sessions = Vec::with_capacity(ids.len());
        for id in ids {
            let fields: std::collections::HashMap<String, String> =
                redis.hgetall(self.family_key(&id)).await?;
            if fields.is_empty() {
                // Expired or revoked: forget it.
                let _: () = redis.srem(self.user_key(user_id), &id).await?;
                continue;
            }
            let number = |name: &str| fields.get(name).and_then(|v| v.parse().ok()).unwrap_or(0);
            sessions.push(SessionInfo {
                device: fields.get("device").cloned().unwrap_or_default(),
                ip: fields.get("ip").cloned().unwrap_or_default(),
                created: number("created"),
                last_used: number("last_used"),
                id,
            });
        }
        sessions.sort_by_key(|session| std::cmp::Reverse(session.created));
        Ok(sessions)
    }

    /// Revokes one of `user_id`'s sessions; `false` when the user has no such
    /// session (someone else's id included).
    pub async fn revoke(&self, user_id: &str, session: &str) -> redis::RedisResult<bool> {
        let mut redis = self.redis.clone();
        let owned: bool = redis.sismember(self.user_key(user_id), session).await?;
        if !owned {
            return Ok(false);
        }
        redis::pipe()
            .atomic()
            .del(self.family_key(session))
            .srem(self.user_key(user_id), session)
            .set_ex(
                self.revoked_key(session),
                1,
                self.access_ttl.as_secs().max(1),
            )
            .exec_async(&mut redis)
            .await?;
        Ok(true)
    }

    /// Revokes every session of `user_id` but `keep`; returns how many.
    pub async fn revoke_all(&self, user_id: &str, keep: Option<&str>) -> redis::RedisResult<usize> {
        let mut redis = self.redis.clone();
        let ids: Vec<String> = redis.smembers(self.user_key(user_id)).await?;
        let mut revoked = 0;
        for id in ids.iter().filter(|id| Some(id.as_str()) != keep) {
            if self.revoke(user_id, id).await? {
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    /// Marks `id` used; `false` if it already was (single-use tickets).
    pub async fn spend_once(&self, id: &str, remember_secs: u64) -> redis::RedisResult<bool> {
        let mut redis = self.redis.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("{}auth:spent:{id}", self.prefix))
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(remember_secs)
            .query_async(&mut redis)
            .await?;
        Ok(set.is_some())
    }

    /// Refuses an access token's `jti` until the token would have expired.
    pub async fn deny(&self, jti: &str, for_secs: u64) -> redis::RedisResult<()> {
        if for_secs == 0 {
            return Ok(());
        }
        let mut redis = self.redis.clone();
        redis.set_ex(self.deny_key(jti), 1, for_secs).await
    }

    /// Whether the token `jti` of session `session` was revoked.
    pub async fn is_revoked(&self, jti: &str, session: &str) -> redis::RedisResult<bool> {
        let mut redis = self.redis.clone();
        let found: u32 = redis::cmd("EXISTS")
            .arg(self.deny_key(jti))
            .arg(self.revoked_key(session))
            .query_async(&mut redis)
            .await?;
        Ok(found > 0)
    }

    /// `user_id`'s live sessions with their time left, for a move to
    /// another cell. Only the current token of each family travels: a
    /// token rotated before the move is unknown there (refused, not taken
    /// for a replay).
    pub async fn export(&self, user_id: &str) -> redis::RedisResult<Vec<SessionCopy>> {
        let mut redis = self.redis.clone();
        let ids: Vec<String> = redis.smembers(self.user_key(user_id)).await?;
        let mut copies = Vec::with_capacity(ids.len());
        for id in ids {
            let fields: std::collections::BTreeMap<String, String> =
                redis.hgetall(self.family_key(&id)).await?;
            let ttl: i64 = redis.ttl(self.family_key(&id)).await?;
            if fields.is_empty() || ttl <= 0 {
                continue;
            }
            copies.push(SessionCopy {
                id,
                user_id: user_id.to_owned(),
                fields,
                ttl_s: ttl.unsigned_abs(),
            });
        }
        copies.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(copies)
    }

    /// Writes sessions moved here from another cell, replacing any copy.
    pub async fn import(&self, copies: &[SessionCopy]) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        for copy in copies {
            let fields: Vec<(&String, &String)> = copy.fields.iter().collect();
            let ttl = copy.ttl_s.max(1);
            let mut pipe = redis::pipe();
            pipe.atomic()
                .del(self.family_key(&copy.id))
                .hset_multiple(self.family_key(&copy.id), &fields)
                .expire(self.family_key(&copy.id), ttl as i64)
                .sadd(self.user_key(&copy.user_id), &copy.id)
                .expire(
                    self.user_key(&copy.user_id),
                    self.refresh_ttl.as_secs() as i64,
                );
            if let Some(current) = copy.fields.get("current") {
                pipe.set_ex(self.token_key(current), &copy.id, ttl);
            }
            pipe.exec_async(&mut redis).await?;
        }
        Ok(())
    }

    /// Forgets sessions that moved to another cell.
    pub async fn forget(&self, copies: &[SessionCopy]) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        for copy in copies {
            let mut pipe = redis::pipe();
            pipe.atomic()
                .del(self.family_key(&copy.id))
                .srem(self.user_key(&copy.user_id), &copy.id);
            if let Some(current) = copy.fields.get("current") {
                pipe.del(self.token_key(current));
            }
            pipe.exec_async(&mut redis).await?;
        }
        Ok(())
    }

    fn family_key(&self, session: &str) -> String {
        format!("{}auth:family:{session}", self.prefix)
    }

    fn token_key(&self, hash: &str) -> String {
        format!("{}auth:refresh:{hash}", self.prefix)
    }

    fn user_key(&self, user_id: &str) -> String {
        format!("{}auth:user-sessions:{user_id}", self.prefix)
    }

    fn deny_key(&self, jti: &str) -> String {
        format!("{}auth:deny:{jti}", self.prefix)
    }

    fn revoked_key(&self, session: &str) -> String {
        format!("{}auth:revoked-session:{session}", self.prefix)
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// 256 bits from the OS's CSPRNG (two v4 UUIDs carry 244 random bits).
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}
