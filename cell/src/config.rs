//! The cell's settings: `config/base.toml`, then `config/$APP_ENV.toml`, then
//! `CELL__…` environment variables. Checked once at boot.

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
    env_prefix: "CELL",
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub cell: CellIdentity,
    pub http: HttpSettings,
    pub mysql: MySqlSettings,
    pub redis: RedisSettings,
    pub kafka: KafkaSettings,
    pub readiness: ReadinessSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellIdentity {
    /// This cell's id in `cells.yaml` (`cell-0`); names its topics and tags
    /// its logs and responses.
    pub id: String,
}

impl Config {
    /// Reads the settings from files and the environment.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_figment(SOURCES.figment()?)
    }

    /// The base settings with `overrides` merged on top (tests).
    pub fn with_overrides(overrides: Figment) -> Result<Self, ConfigError> {
        Self::from_figment(SOURCES.base_with(overrides))
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = extract(figment)?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        topology::check_cell_id(&self.cell.id).map_err(|e| ConfigError(format!("cell.id: {e}")))?;
        self.http.check()?;
        self.mysql.check()?;
        self.redis.check()?;
        self.kafka.check().map_err(ConfigError)?;
        self.readiness.check()
    }
}
