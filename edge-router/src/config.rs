//! The edge's settings: `config/base.toml`, then `config/$APP_ENV.toml`, then
//! `EDGE__…` environment variables. Checked once at boot.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;
use settings::{ConfigError, Settings, Sources};
use telemetry::LogSettings;

pub const BASE: &str = include_str!("../config/base.toml");

/// The largest `edge.write_buffer_bytes`: one buffer is kept per client
/// connection, so 10,000 connections hold ten times this.
pub const MAX_WRITE_BUFFER_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub edge: EdgeSettings,
    pub log: LogSettings,
}

/// `[edge.tls]`: HTTPS (TLS 1.2 and 1.3, HTTP/2 by ALPN) beside the plain
/// listener. Absent: plain HTTP only, as behind a load balancer that
/// terminates TLS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    pub listen: SocketAddr,
    /// The certificate chain, PEM.
    pub cert: PathBuf,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSettings {
    /// Plain HTTP: HTTP/1.1, and HTTP/2 for clients that start with it (h2c).
    pub listen: SocketAddr,
    #[serde(default)]
    pub tls: Option<TlsSettings>,
    pub topology: PathBuf,
    pub static_dir: PathBuf,
    pub threads: usize,
    /// Whether idle worker threads take tasks queued on busy ones (one
    /// multi-threaded runtime) rather than each thread serving the
    /// connections it was handed (a single-threaded runtime per thread).
    pub work_stealing: bool,
    pub grace_period_s: u64,
    pub graceful_shutdown_timeout_s: u64,
    pub upstream_connect_timeout_ms: u64,
    pub upstream_read_timeout_ms: u64,
    pub secure_cookies: bool,
    pub routing_refresh_ms: u64,
    pub routing_cache: PathBuf,
    pub content_security_policy: String,
    /// Origins whose pages may call the shop cross-origin, with credentials
    /// (`scheme://host[:port]`); the shop's own pages need none.
    pub cors_allowed_origins: Vec<String>,
    /// Larger declared bodies get 413 at the edge (cells check their own).
    pub max_body_bytes: u64,
    /// A client connection's write buffer (0: every write is sent at once).
    pub write_buffer_bytes: usize,
    /// Requests per window from one client address (0: no limit).
    pub rate_limit_per_ip: u32,
    /// Requests per window from one shopper key (0: no limit).
    pub rate_limit_per_shopper: u32,
    pub rate_limit_window_ms: u64,
    /// How often every cell's `/livez` is asked.
    pub health_every_ms: u64,
    pub health_timeout_ms: u64,
    /// Unanswered checks in a row before a cell is taken as down.
    pub health_failures: u32,
}

impl Settings for Config {
    const SOURCES: Sources = Sources {
        base: BASE,
        env_prefix: "EDGE",
    };

    fn check(&self) -> Result<(), ConfigError> {
        let edge = &self.edge;
        if http::HeaderValue::from_str(&edge.content_security_policy).is_err() {
            return Err(ConfigError(
                "edge.content_security_policy: not a valid header value".into(),
            ));
        }
        if let Some(bad) = edge
            .cors_allowed_origins
            .iter()
            .find(|origin| !is_origin(origin))
        {
            return Err(ConfigError(format!(
                "edge.cors_allowed_origins: \"{bad}\" is not an origin (scheme://host[:port], no path)"
            )));
        }
        if edge.max_body_bytes == 0 {
            return Err(ConfigError(
                "edge.max_body_bytes: must be greater than 0".into(),
            ));
        }
        if edge.write_buffer_bytes > MAX_WRITE_BUFFER_BYTES {
            return Err(ConfigError(format!(
                "edge.write_buffer_bytes: at most {MAX_WRITE_BUFFER_BYTES} (one buffer is kept per client connection)"
            )));
        }
        if edge.rate_limit_window_ms == 0 {
            return Err(ConfigError(
                "edge.rate_limit_window_ms: must be greater than 0".into(),
            ));
        }
        if edge.routing_refresh_ms == 0 {
            return Err(ConfigError(
                "edge.routing_refresh_ms: must be greater than 0".into(),
            ));
        }
        if edge.health_every_ms == 0 || edge.health_timeout_ms == 0 || edge.health_failures == 0 {
            return Err(ConfigError(
                "edge.health_every_ms, edge.health_timeout_ms and edge.health_failures: must be greater than 0".into(),
            ));
        }
        if let Some(tls) = &edge.tls {
            for (name, path) in [("cert", &tls.cert), ("key", &tls.key)] {
                if path.to_str().is_none() {
                    return Err(ConfigError(format!(
                        "edge.tls.{name}: the path {} is not UTF-8",
                        path.display()
                    )));
                }
            }
            if tls.listen == edge.listen {
                return Err(ConfigError(
                    "edge.tls.listen: must differ from edge.listen".into(),
                ));
            }
        }
        if edge.threads == 0 {
            return Err(ConfigError("edge.threads: must be at least 1".into()));
        }
        if edge.upstream_connect_timeout_ms == 0 || edge.upstream_read_timeout_ms == 0 {
            return Err(ConfigError(
                "edge.upstream_connect_timeout_ms and edge.upstream_read_timeout_ms: must be greater than 0".into(),
            ));
        }
        Ok(())
    }
}

/// `scheme://host[:port]` with nothing after.
fn is_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' '])
}
