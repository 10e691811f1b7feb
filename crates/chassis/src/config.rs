//! The settings every HTTP service shares (HTTP, MySQL, Redis, readiness), each
//! with the checks that run at boot. Loading is the `settings` crate's job.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
pub use settings::{ConfigError, Settings, Sources, extract, millis, redact};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace_ms: u64,
    pub request_timeout_ms: u64,
    pub max_body_bytes: usize,
    /// Other origins whose pages may call this API (CORS, with credentials).
    /// Empty: same origin only, which is how the shop reaches it through the
    /// edge.
    pub cors_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MySqlSettings {
    /// `mysql://user:password@host:port/database`.
    pub url: SecretString,
    pub max_connections: u32,
    pub connect_timeout_ms: u64,
    /// Create the database when it is missing (local runs, tests).
    pub create_database: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    pub url: SecretString,
    /// Prepended to every key, so tests and co-hosted services never collide.
    pub key_prefix: String,
    pub connect_timeout_ms: u64,
    pub response_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadinessSettings {
    /// Each dependency probe gives up after this long.
    pub check_timeout_ms: u64,
}

impl HttpSettings {
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.host.trim().is_empty() {
            return Err(ConfigError("http.host: must not be empty".into()));
        }
        positive("http.request_timeout_ms", self.request_timeout_ms)?;
        if let Some(bad) = self.cors_origins.iter().find(|origin| {
            !(origin.starts_with("https://") || origin.starts_with("http://"))
                || origin.ends_with('/')
                || axum::http::HeaderValue::from_str(origin).is_err()
        }) {
            return Err(ConfigError(format!(
                "http.cors_origins: \"{bad}\" is not an origin (scheme://host[:port], no path)"
            )));
        }
        positive("http.max_body_bytes", self.max_body_bytes as u64)
    }
}

impl MySqlSettings {
    pub fn check(&self) -> Result<(), ConfigError> {
        let url = self.url.expose_secret();
        if !url.starts_with("mysql://") && !url.starts_with("mariadb://") {
            return Err(ConfigError(format!(
                "mysql.url: must start with mysql:// (got \"{}\")",
                redact(url)
            )));
        }
        if database_name(url).is_none() {
            return Err(ConfigError(format!(
                "mysql.url: names no database (\"{}\" needs /<database> at the end)",
                redact(url)
            )));
        }
        positive("mysql.max_connections", u64::from(self.max_connections))?;
        positive("mysql.connect_timeout_ms", self.connect_timeout_ms)
    }
}

impl RedisSettings {
    pub fn check(&self) -> Result<(), ConfigError> {
        let url = self.url.expose_secret();
        if !url.starts_with("redis://") && !url.starts_with("rediss://") {
            return Err(ConfigError(format!(
                "redis.url: must start with redis:// or rediss:// (got \"{}\")",
                redact(url)
            )));
        }
        positive("redis.connect_timeout_ms", self.connect_timeout_ms)?;
        positive("redis.response_timeout_ms", self.response_timeout_ms)
    }
}

impl ReadinessSettings {
    pub fn check(&self) -> Result<(), ConfigError> {
        positive("readiness.check_timeout_ms", self.check_timeout_ms)
    }
}

fn positive(name: &str, value: u64) -> Result<(), ConfigError> {
    if value == 0 {
        return Err(ConfigError(format!("{name}: must be greater than 0")));
    }
    Ok(())
}

/// The database a MySQL URL names, if any.
pub fn database_name(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let path = rest.split_once('/')?.1;
    let name = path.split('?').next()?;
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_reads_the_path() {
        assert_eq!(
            database_name("mysql://root@h:1/cellwear?x=1"),
            Some("cellwear")
        );
        assert_eq!(database_name("mysql://root@h:1/"), None);
        assert_eq!(database_name("mysql://root@h:1"), None);
    }

    #[test]
    fn a_mysql_url_without_database_is_named_in_the_error() {
        let settings = MySqlSettings {
            url: SecretString::from("mysql://root:pw@127.0.0.1:3306"),
            max_connections: 5,
            connect_timeout_ms: 100,
            create_database: false,
        };
        let error = settings.check().unwrap_err().to_string();
        assert!(error.contains("mysql.url"), "{error}");
        assert!(!error.contains("pw"), "the password leaked: {error}");
    }
}
