//! Connections to the dependencies a service cannot start without. Each
//! failure is one [`DependencyError`] naming the dependency, its address (never
//! its credentials) and how to get it running.

use std::str::FromStr;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{ConnectOptions, Connection};

use crate::config::{MySqlSettings, RedisSettings, database_name, millis, redact};

#[derive(Debug, thiserror::Error)]
#[error("{name} is not reachable at {target}: {reason}. {hint}")]
pub struct DependencyError {
    pub name: &'static str,
    pub target: String,
    pub reason: String,
    pub hint: &'static str,
}

const MYSQL_HINT: &str = "Is MariaDB running there? `cargo xtask up` starts one per cell; \
     the machine's own starts with `start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`";
const REDIS_HINT: &str = "Is Redis running there? `cargo xtask up` starts one per cell; \
     the machine's own starts with `redis-server --daemonize yes --port 6379`";

/// Opens the service's MySQL pool, creating its database first when the
/// settings ask for it.
pub async fn connect_mysql(settings: &MySqlSettings) -> Result<MySqlPool, DependencyError> {
    let url = settings.url.expose_secret();
    let target = redact(url);
    let fail = |reason: String| DependencyError {
        name: "MySQL",
        target: target.clone(),
        reason,
        hint: MYSQL_HINT,
    };
    let options = MySqlConnectOptions::from_str(url)
        .map_err(|e| fail(format!("mysql.url cannot be parsed: {e}")))?;
    if settings.create_database {
        create_database(url, settings.connect_timeout_ms)
            .await
            .map_err(&fail)?;
    }
    let pool = MySqlPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(millis(settings.connect_timeout_ms))
        .connect_with(options)
        .await
        .map_err(|e| fail(e.to_string()))?;
    Ok(pool)
}

/// Opens a read-only pool (`url`, a replica or the primary): every session
/// refuses writes, so a read path cannot change data by mistake.
pub async fn connect_mysql_read(
    url: &str,
    max_connections: u32,
    acquire_timeout_ms: u64,
) -> Result<MySqlPool, DependencyError> {
    let target = redact(url);
    let fail = |reason: String| DependencyError {
        name: "MySQL (read)",
        target: target.clone(),
        reason,
        hint: MYSQL_HINT,
    };
    let options = MySqlConnectOptions::from_str(url)
        .map_err(|e| fail(format!("the read URL cannot be parsed: {e}")))?;
    MySqlPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(millis(acquire_timeout_ms))
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::raw_sql("SET SESSION TRANSACTION READ ONLY")
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(|e| fail(e.to_string()))
}

async fn create_database(url: &str, timeout_ms: u64) -> Result<(), String> {
    let name = database_name(url).ok_or("mysql.url names no database")?;
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!(
            "database name \"{name}\" may only hold letters, digits and '_'"
        ));
    }
    let server_url = url
        .split_once("://")
        .and_then(|(scheme, rest)| {
            let authority = rest.split('/').next()?;
            Some(format!("{scheme}://{authority}"))
        })
        .ok_or("mysql.url cannot be parsed")?;
    let options = MySqlConnectOptions::from_str(&server_url).map_err(|e| e.to_string())?;
    let attempt = async {
        let mut conn = options.connect().await?;
        // The name was checked above to hold only [A-Za-z0-9_].
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE IF NOT EXISTS `{name}`"
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await
    };
    match tokio::time::timeout(millis(timeout_ms), attempt).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {timeout_ms} ms")),
    }
}

/// Opens a Redis connection manager (it reconnects by itself later) and checks
/// the server answers now.
pub async fn connect_redis(settings: &RedisSettings) -> Result<ConnectionManager, DependencyError> {
    let url = settings.url.expose_secret();
    let fail = |reason: String| DependencyError {
        name: "Redis",
        target: redact(url),
        reason,
        hint: REDIS_HINT,
    };
    let client = redis::Client::open(url).map_err(|e| fail(format!("redis.url: {e}")))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(millis(settings.connect_timeout_ms)))
        .set_response_timeout(Some(millis(settings.response_timeout_ms)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(200));
    let connect = async {
        let mut manager = ConnectionManager::new_with_config(client, config).await?;
        redis::cmd("PING")
            .query_async::<String>(&mut manager)
            .await?;
        Ok::<_, redis::RedisError>(manager)
    };
    // The manager retries on its own; bound the whole attempt so a dead
    // address fails start-up promptly.
    let budget = millis(settings.connect_timeout_ms.saturating_mul(2));
    match tokio::time::timeout(budget, connect).await {
        Ok(result) => result.map_err(|e| fail(e.to_string())),
        Err(_) => Err(fail(format!("no answer within {} ms", budget.as_millis()))),
    }
}
