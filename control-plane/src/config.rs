//! The control plane's settings: `config/base.toml`, then
//! `config/$APP_ENV.toml`, then `CONTROL__…` environment variables.

use chassis::config::{
    ConfigError, HttpSettings, MySqlSettings, ReadinessSettings, RedisSettings, Settings, Sources,
};
use events::KafkaSettings;
use std::path::PathBuf;

use serde::Deserialize;

use crate::stock::StockSettings;
use telemetry::LogSettings;

pub const BASE: &str = include_str!("../config/base.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub http: HttpSettings,
    pub mysql: MySqlSettings,
    pub redis: RedisSettings,
    pub kafka: KafkaSettings,
    pub readiness: ReadinessSettings,
    pub log: LogSettings,
    pub control: ControlSettings,
    pub auth: StaffAuthSettings,
    pub stock: StockSettings,
    pub embeddings: EmbeddingSettings,
    pub trending: crate::trending::TrendingSettings,
    pub orders: crate::orders::OrderSearchSettings,
    pub drain: crate::cells::drain::DrainSettings,
}

/// The model product vectors are computed with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingSettings {
    /// all-MiniLM-L6-v2's files, as `cargo xtask models` unpacks them.
    pub model_dir: PathBuf,
}

/// How staff tokens are checked: the cells' key files, issuer and audience.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffAuthSettings {
    pub issuer: String,
    pub audience: String,
    /// The same Ed25519 PEM files the cells sign with.
    pub key_files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlSettings {
    /// `cells.yaml`: seeds the cell map at start.
    pub topology: PathBuf,
}

impl Settings for Config {
    const SOURCES: Sources = Sources {
        base: BASE,
        env_prefix: "CONTROL",
    };

    fn check(&self) -> Result<(), ConfigError> {
        self.http.check()?;
        self.mysql.check()?;
        self.redis.check()?;
        self.kafka.check().map_err(ConfigError)?;
        self.readiness.check()?;
        self.trending.check().map_err(ConfigError)?;
        self.orders.check().map_err(ConfigError)?;
        self.drain.check().map_err(ConfigError)?;
        if self.auth.key_files.is_empty() {
            return Err(ConfigError(
                "auth.key_files: list the Ed25519 key files the cells sign with, so admin and SRE tokens can be checked".into(),
            ));
        }
        if self.stock.share_floor == 0 || self.stock.share_floor > 1_000_000 {
            return Err(ConfigError(format!(
                "stock.share_floor: 1-1000000 units, not {}",
                self.stock.share_floor
            )));
        }
        Ok(())
    }
}
