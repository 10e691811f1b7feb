//! The control plane's settings: `config/base.toml`, then
//! `config/$APP_ENV.toml`, then `CONTROL__…` environment variables.

use chassis::config::{
    ConfigError, HttpSettings, MySqlSettings, ReadinessSettings, RedisSettings, Sources, extract,
};
use events::KafkaSettings;
use figment::Figment;
use serde::Deserialize;
use telemetry::LogSettings;

pub const BASE: &str = include_str!("../config/base.toml");

const SOURCES: Sources = Sources {
    base: BASE,
    env_prefix: "CONTROL",
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub http: HttpSettings,
    pub mysql: MySqlSettings,
    pub redis: RedisSettings,
    pub kafka: KafkaSettings,
    pub readiness: ReadinessSettings,
    pub log: LogSettings,
}

impl Config {
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_figment(SOURCES.figment()?)
    }

    /// The base settings with `overrides` merged on top (tests).
    pub fn with_overrides(overrides: Figment) -> Result<Self, ConfigError> {
        Self::from_figment(SOURCES.base_with(overrides))
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = extract(figment)?;
        config.http.check()?;
        config.mysql.check()?;
        config.redis.check()?;
        config.kafka.check().map_err(ConfigError)?;
        config.readiness.check()?;
        Ok(config)
    }
}
