//! The cell's settings: `config/base.toml`, then `config/$APP_ENV.toml`, then
//! `CELL__…` environment variables. Checked once at boot.

use chassis::config::{
    ConfigError, HttpSettings, MySqlSettings, ReadinessSettings, RedisSettings, Settings, Sources,
};
use events::KafkaSettings;
use std::path::PathBuf;

use crate::auth::google::GoogleSettings;
use secrecy::ExposeSecret;

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
    pub auth: AuthConfig,
    pub catalog: CatalogConfig,
    pub stock: crate::stock::StockSettings,
    pub search: SearchConfig,
    pub cart: crate::cart::CartSettings,
    pub routing: crate::peers::RoutingSettings,
    pub checkout: crate::checkout::CheckoutSettings,
    pub payments: crate::payments::PaymentSettings,
    pub invoices: crate::invoices::InvoiceSettings,
    pub mail: crate::notifications::MailSettings,
    pub carrier: crate::carriers::CarrierSettings,
}

/// Search and recommendations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// all-MiniLM-L6-v2's files (`config.json`, `tokenizer.json`,
    /// `model.safetensors`), as `cargo xtask models` unpacks them.
    pub model_dir: PathBuf,
    /// Load the model at start instead of on the first semantic query.
    pub warm_model: bool,
    /// Query vectors remembered.
    pub query_cache: u64,
    /// Where the in-process vector store keeps its files; empty for a fresh
    /// folder under the system's temporary directory (it is rebuilt from the
    /// read model at every start either way).
    pub vector_dir: PathBuf,
}

impl SearchConfig {
    fn check(&self) -> Result<(), ConfigError> {
        if self.model_dir.as_os_str().is_empty() {
            return Err(ConfigError(
                "search.model_dir: the folder of all-MiniLM-L6-v2 (`cargo xtask models` unpacks it into models/all-minilm-l6-v2)".into(),
            ));
        }
        Ok(())
    }
}

/// The catalog read model's read path.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// A read replica (`mysql://…`); empty reads from the primary (`mysql.url`)
    /// through a pool of its own.
    pub read_url: secrecy::SecretString,
    pub read_max_connections: u32,
    pub read_acquire_timeout_ms: u64,
    /// How long a cached list or product may be served.
    pub cache_ttl_ms: u64,
    /// Entries kept in process.
    pub cache_capacity: u64,
}

impl CatalogConfig {
    fn check(&self) -> Result<(), ConfigError> {
        let url = self.read_url.expose_secret();
        if !url.is_empty() && !url.starts_with("mysql://") {
            return Err(ConfigError(
                "catalog.read_url: a mysql:// URL, or empty to read from the primary".into(),
            ));
        }
        if self.read_max_connections == 0 || self.read_acquire_timeout_ms == 0 {
            return Err(ConfigError(
                "catalog.read_max_connections and catalog.read_acquire_timeout_ms: above 0".into(),
            ));
        }
        if self.cache_ttl_ms < 1000 {
            return Err(ConfigError("catalog.cache_ttl_ms: at least 1000".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    pub access_ttl_s: u64,
    pub refresh_ttl_s: u64,
    pub bcrypt_cost: u32,
    pub signing_key_files: Vec<PathBuf>,
    pub ephemeral_key: bool,
    pub cookie_secure: bool,
    /// Origins whose pages may use the refresh cookie (`scheme://host[:port]`).
    pub allowed_origins: Vec<String>,
    /// E-mail addresses that get every role when they register.
    pub bootstrap_admins: Vec<String>,
    pub google: GoogleSettings,
}

impl AuthConfig {
    fn check(&self) -> Result<(), ConfigError> {
        if !(4..=31).contains(&self.bcrypt_cost) {
            return Err(ConfigError(format!(
                "auth.bcrypt_cost: {} is outside 4-31",
                self.bcrypt_cost
            )));
        }
        if self.access_ttl_s == 0 || self.refresh_ttl_s <= self.access_ttl_s {
            return Err(ConfigError(
                "auth.access_ttl_s and auth.refresh_ttl_s: both above 0, the refresh TTL longer"
                    .into(),
            ));
        }
        if let Some(bad) = self
            .allowed_origins
            .iter()
            .find(|o| !(o.starts_with("https://") || o.starts_with("http://")) || o.ends_with('/'))
        {
            return Err(ConfigError(format!(
                "auth.allowed_origins: \"{bad}\" is not an origin (scheme://host[:port], no path)"
            )));
        }
        let google = &self.google;
        if google.enabled {
            if google.client_id.trim().is_empty() || google.client_secret.expose_secret().is_empty()
            {
                return Err(ConfigError(
                    "auth.google.client_id and auth.google.client_secret: needed when auth.google.enabled".into(),
                ));
            }
            for (name, url) in [
                ("authorization_endpoint", &google.authorization_endpoint),
                ("token_endpoint", &google.token_endpoint),
                ("jwks_uri", &google.jwks_uri),
                ("redirect_uri", &google.redirect_uri),
            ] {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(ConfigError(format!(
                        "auth.google.{name}: \"{url}\" is not an http(s) URL"
                    )));
                }
            }
        }
        if self.signing_key_files.is_empty() && !self.ephemeral_key {
            return Err(ConfigError(
                "auth.signing_key_files: list at least one Ed25519 key (make one with `openssl genpkey -algorithm ed25519 -out key.pem`), or set auth.ephemeral_key = true for a throw-away key".into(),
            ));
        }
        Ok(())
    }
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
        self.readiness.check()?;
        self.auth.check()?;
        self.catalog.check()?;
        self.cart.check().map_err(ConfigError)?;
        self.routing.check().map_err(ConfigError)?;
        self.checkout.check().map_err(ConfigError)?;
        self.payments.check().map_err(ConfigError)?;
        self.invoices.check().map_err(ConfigError)?;
        self.mail.check().map_err(ConfigError)?;
        self.carrier.check().map_err(ConfigError)?;
        self.search.check()
    }
}
