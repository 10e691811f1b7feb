//! The other cells, as the control plane's routing table describes them:
//! which cell a shopper key lives on (the same `placement` the edge routes
//! by) and where that cell listens. Refreshed in the background; the last
//! good table is kept while the control plane cannot be reached. With no
//! table URL configured the cell knows no peers, and every guest is taken
//! to live here.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use placement::{Placer, ShopperKey};
use serde::Deserialize;
use wire::PublishedRoutingTable;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSettings {
    /// The control plane's `/control/api/routing-table`; empty: no peers.
    pub table_url: String,
    pub refresh_ms: u64,
    pub timeout_ms: u64,
}

impl RoutingSettings {
    pub fn check(&self) -> Result<(), String> {
        if self.refresh_ms < 100 || self.timeout_ms < 100 {
            return Err("routing.refresh_ms and routing.timeout_ms: at least 100".into());
        }
        if !(self.table_url.is_empty()
            || self.table_url.starts_with("http://")
            || self.table_url.starts_with("https://"))
        {
            return Err("routing.table_url: an http(s) URL, or empty".into());
        }
        Ok(())
    }
}

/// Why the control plane did not set a sign-in alias.
#[derive(Debug, thiserror::Error)]
pub enum AliasError {
    /// Another account has the address (on another cell).
    #[error("the address belongs to another account")]
    Taken,
    #[error("the control plane did not set the sign-in alias: {0}")]
    Unreachable(String),
}

/// Where a shopper key lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Home {
    /// This cell (also: no table yet, or a key that is not a shopper key).
    Here,
    /// Another cell, at `http://{address}`.
    Elsewhere { cell: String, address: String },
}

#[derive(Debug)]
struct Known {
    placer: Placer,
    endpoints: std::collections::BTreeMap<String, String>,
}

#[derive(Debug)]
pub struct Peers {
    cell: String,
    settings: RoutingSettings,
    client: reqwest::Client,
    table: RwLock<Option<Arc<Known>>>,
}

impl Peers {
    pub fn new(cell: &str, settings: RoutingSettings) -> anyhow::Result<Arc<Self>> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .build()?;
        Ok(Arc::new(Self {
            cell: cell.to_owned(),
            settings,
            client,
            table: RwLock::new(None),
        }))
    }

    pub fn enabled(&self) -> bool {
        !self.settings.table_url.is_empty()
    }

    /// Fetches the table; the one held stays on any failure.
    pub async fn refresh(&self) -> anyhow::Result<u64> {
        let published: PublishedRoutingTable = self
            .client
            .get(&self.settings.table_url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let version = published.table.version;
        let placer = Placer::new(&published.table)?;
        let known = Arc::new(Known {
            placer,
            endpoints: published.endpoints,
        });
        if let Ok(mut held) = self.table.write() {
            *held = Some(known);
        }
        Ok(version)
    }

    /// The cell `shopper_key` lives on.
    pub fn home_of(&self, shopper_key: &str) -> Home {
        let Ok(key) = ShopperKey::parse(shopper_key) else {
            return Home::Here;
        };
        let known = match self.table.read() {
            Ok(held) => held.clone(),
            Err(_) => None,
        };
        let Some(known) = known else {
            return Home::Here;
        };
        match known.placer.place(key) {
            Ok(cell) if cell.id != self.cell => match known.endpoints.get(&cell.id) {
                Some(address) => Home::Elsewhere {
                    cell: cell.id.clone(),
                    address: address.clone(),
                },
                None => Home::Here,
            },
            _ => Home::Here,
        }
    }

    /// Sets the sign-in alias of the account `account_key` at the control
    /// plane (its address is the routing table's URL's origin), calling
    /// with the service token `token`. With no table URL configured this
    /// cell is the only one, and there is nothing to tell.
    pub async fn set_sign_in_alias(
        &self,
        token: &str,
        account_key: &str,
        alias_key: Option<&str>,
    ) -> Result<(), AliasError> {
        if !self.enabled() {
            return Ok(());
        }
        let url = reqwest::Url::parse(&self.settings.table_url)
            .and_then(|table| {
                table.join(&format!("/internal/accounts/{account_key}/sign-in-alias"))
            })
            .map_err(|e| AliasError::Unreachable(format!("routing.table_url: {e}")))?;
        let body = wire::SignInAlias {
            alias_key: alias_key.map(str::to_owned),
        };
        let response = self
            .client
            .put(url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| AliasError::Unreachable(e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body: wire::ErrorBody = response.json().await.unwrap_or(wire::ErrorBody {
            code: "unknown".into(),
            message: String::new(),
            request_id: None,
        });
        if status == reqwest::StatusCode::CONFLICT {
            return Err(AliasError::Taken);
        }
        Err(AliasError::Unreachable(format!(
            "the control plane answered {status} {}: {}",
            body.code, body.message
        )))
    }

    /// Refreshes every `refresh_ms` until `stop`.
    pub async fn follow(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        if !self.enabled() {
            return;
        }
        let mut tick = tokio::time::interval(Duration::from_millis(self.settings.refresh_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = None;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            match self.refresh().await {
                Ok(version) if last != Some(version) => {
                    tracing::info!(version, "routing table loaded");
                    last = Some(version);
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = %error, "routing table not refreshed; keeping the last one");
                }
            }
        }
    }
}
