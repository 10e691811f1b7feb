//! Layered, typed configuration for every Cellwear binary (STYLE.md, "Config").
//!
//! A binary compiles in its `config/base.toml` (so it runs from any folder),
//! then [`Sources::figment`] layers `$APP_CONFIG_DIR/$APP_ENV.toml` (default
//! `config/local.toml`, optional unless `APP_ENV` is set) and the binary's
//! `PREFIX__SECTION__KEY` environment variables on top. [`extract`] turns the
//! result into the binary's `Config` type, whose structs deny unknown keys, and
//! reports every problem with the key and where its value came from. This is
//! the one place that reads the environment for settings.

use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::de::DeserializeOwned;

/// Where the settings of one binary come from.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The binary's `config/base.toml`, compiled in so the binary runs from any
    /// directory.
    pub base: &'static str,
    /// Prefix of the binary's environment variables, e.g. `CELL` for
    /// `CELL__MYSQL__URL`.
    pub env_prefix: &'static str,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Sources {
    /// Base, then `$APP_CONFIG_DIR/$APP_ENV.toml` (`config/local.toml` by
    /// default, optional), then the environment.
    pub fn figment(&self) -> Result<Figment, ConfigError> {
        let explicit_env = std::env::var("APP_ENV").ok();
        let app_env = explicit_env.clone().unwrap_or_else(|| "local".into());
        if !app_env
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ConfigError(format!(
                "APP_ENV=\"{app_env}\" is not an environment name (letters, digits, '-', '_')"
            )));
        }
        let dir =
            PathBuf::from(std::env::var("APP_CONFIG_DIR").unwrap_or_else(|_| "config".into()));
        let file = dir.join(format!("{app_env}.toml"));
        if explicit_env.is_some() && !file.exists() {
            return Err(ConfigError(format!(
                "APP_ENV={app_env} but {} does not exist (set APP_CONFIG_DIR to the folder that holds it)",
                file.display()
            )));
        }
        Ok(Figment::new()
            .merge(Toml::string(self.base))
            .merge(Toml::file(file))
            .merge(Env::prefixed(&format!("{}__", self.env_prefix)).split("__")))
    }

    pub fn load<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        extract(self.figment()?)
    }

    /// The base settings with `overrides` on top and nothing else: what tests
    /// start services with, whatever the environment holds.
    pub fn base_with(&self, overrides: Figment) -> Figment {
        Figment::from(Toml::string(self.base)).merge(overrides)
    }
}

/// A binary's typed settings: where they come from and what, beyond their
/// types, makes them valid. `load` is what `main` calls; `with_overrides` is
/// what tests call.
pub trait Settings: DeserializeOwned {
    const SOURCES: Sources;

    /// Checks that types cannot express: ranges, formats, rules across fields.
    /// Each error names the setting.
    fn check(&self) -> Result<(), ConfigError>;

    /// Reads the settings from the files and the environment, and checks them.
    fn load() -> Result<Self, ConfigError> {
        Self::checked(Self::SOURCES.figment()?)
    }

    /// The base settings with `overrides` on top and nothing else (tests).
    fn with_overrides(overrides: Figment) -> Result<Self, ConfigError> {
        Self::checked(Self::SOURCES.base_with(overrides))
    }

    fn checked(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Self = extract(figment)?;
        settings.check()?;
        Ok(settings)
    }
}

/// Extracts typed settings, folding every problem figment found into one
/// message that names each key and where its value came from.
pub fn extract<T: DeserializeOwned>(figment: Figment) -> Result<T, ConfigError> {
    figment.extract().map_err(|error| {
        let all: Vec<String> = error.into_iter().map(|e| e.to_string()).collect();
        ConfigError(all.join("; "))
    })
}

/// A time-out or interval given in milliseconds (`*_ms` settings).
pub fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// `host:port` of a URL, without user, password or path: safe to log and to
/// show in health reports.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    if scheme.is_empty() {
        host_port.to_owned()
    } else {
        format!("{scheme}://{host_port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_drops_credentials_and_path() {
        assert_eq!(
            redact("mysql://root:hunter2@db.internal:3306/shop?ssl-mode=required"),
            "mysql://db.internal:3306"
        );
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }

    #[test]
    fn an_unknown_key_is_named_with_its_source() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Http {
            port: u16,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Config {
            http: Http,
        }
        let figment = Figment::from(Toml::string("[http]\nport = 1\nprot = 2\n"));
        let error = extract::<Config>(figment).unwrap_err().to_string();
        assert!(
            error.contains("unknown field") && error.contains("prot"),
            "{error}"
        );
        assert!(error.contains("http"), "{error}");
    }
}
