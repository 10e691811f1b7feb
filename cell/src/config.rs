//! The cell's settings: `config/base.toml`, then `config/$APP_ENV.toml`, then
//! `CELL__…` environment variables. Checked once at boot.

use chassis::config::{
    ConfigError, HttpSettings, MySqlSettings, ReadinessSettings, RedisSettings, Settings, Sources,
};
use events::KafkaSettings;
use serde::Deserialize;
use telemetry::LogSettings;

pub const BASE: &str = include_str!("../config/base.toml");

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

impl Settings for Config {
    const SOURCES: Sources = Sources {
        base: BASE,
        env_prefix: "CELL",
    };

    fn check(&self) -> Result<(), ConfigError> {
        topology::check_cell_id(&self.cell.id).map_err(|e| ConfigError(format!("cell.id: {e}")))?;
        self.http.check()?;
        self.mysql.check()?;
        self.redis.check()?;
        self.kafka.check().map_err(ConfigError)?;
        self.readiness.check()
    }
}
