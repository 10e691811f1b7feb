//! The control plane's settings: `config/base.toml`, then
//! `config/$APP_ENV.toml`, then `CONTROL__…` environment variables.

use chassis::config::{
    ConfigError, HttpSettings, MySqlSettings, ReadinessSettings, RedisSettings, Settings, Sources,
};
use events::KafkaSettings;
use std::path::PathBuf;

use serde::Deserialize;
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
        self.readiness.check()
    }
}
