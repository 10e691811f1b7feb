//! The edge's settings: `config/base.toml`, then `config/$APP_ENV.toml`, then
//! `EDGE__…` environment variables. Checked once at boot.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;
use settings::{ConfigError, Settings, Sources};
use telemetry::LogSettings;

pub const BASE: &str = include_str!("../config/base.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub edge: EdgeSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSettings {
    pub listen: SocketAddr,
    pub topology: PathBuf,
    pub static_dir: PathBuf,
    pub threads: usize,
    pub grace_period_s: u64,
    pub graceful_shutdown_timeout_s: u64,
    pub upstream_connect_timeout_ms: u64,
    pub upstream_read_timeout_ms: u64,
    pub secure_cookies: bool,
    pub routing_refresh_ms: u64,
    pub routing_cache: PathBuf,
    pub content_security_policy: String,
    /// Larger declared bodies get 413 at the edge (cells check their own).
    pub max_body_bytes: u64,
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
        if edge.max_body_bytes == 0 {
            return Err(ConfigError(
                "edge.max_body_bytes: must be greater than 0".into(),
            ));
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
