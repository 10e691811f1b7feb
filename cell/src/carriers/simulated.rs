//! The simulated warehouse and carrier of a local stack: every `every_ms` it
//! moves paid orders along by the clock: confirmed longer than
//! `pack_after_ms` → processing; processing longer than `ship_after_ms` →
//! shipped with a tracking number from carrier `simulated`; shipped longer
//! than half of `deliver_after_ms` → an `in_transit` event, longer than
//! `deliver_after_ms` → `delivered`. The tracking events are signed and
//! received like a real carrier's webhook. Off unless enabled.

use std::time::Duration;

use serde::Deserialize;
use sqlx::MySqlPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wire::orders::{CarrierEvent, Tracking as TrackingNumber};

use super::{Carrier, Parcel, Tracking};
use crate::orders::Orders;
use crate::payments::signature;
use secrecy::ExposeSecret;

pub const CARRIER: &str = "simulated";

/// The simulated carrier: books a parcel by making up a tracking number.
#[derive(Debug, Clone, Copy, Default)]
pub struct Simulated;

#[async_trait::async_trait]
impl super::Carrier for Simulated {
    fn name(&self) -> &'static str {
        CARRIER
    }

    async fn book(&self, _parcel: &Parcel<'_>) -> anyhow::Result<String> {
        Ok(format!(
            "SIM{}",
            uuid::Uuid::new_v4().simple().to_string()[..16].to_ascii_uppercase()
        ))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatedSettings {
    pub enabled: bool,
    pub every_ms: u64,
    pub pack_after_ms: u64,
    pub ship_after_ms: u64,
    pub deliver_after_ms: u64,
}

impl SimulatedSettings {
    pub fn check(&self) -> Result<(), String> {
        if self.enabled && self.every_ms < 50 {
            return Err("carrier.simulated.every_ms: at least 50".into());
        }
        Ok(())
    }
}

/// Orders in `status` that entered it more than `after` ago (the time
/// column `stamp`), oldest first: id, tracking number and shopper key.
async fn due(
    pool: &MySqlPool,
    status: &str,
    stamp: &str,
    after: Duration,
    carrier: &str,
) -> Result<Vec<(String, Option<String>, String)>, sqlx::Error> {
    // Only the carrier's own parcels once shipped; any paid order before;
    // none of a shopper being moved to another cell (the new cell's carrier
    // takes them on).
    let sql = format!(
        "SELECT id, tracking_number, shopper_key FROM orders WHERE status = ? AND {stamp} < CURRENT_TIMESTAMP(6) - INTERVAL ? MICROSECOND AND (status <> 'shipped' OR carrier = ?) AND NOT EXISTS (SELECT 1 FROM shopper_fences f WHERE f.shopper_key = orders.shopper_key) ORDER BY {stamp} LIMIT 50"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(status)
        .bind(u64::try_from(after.as_micros()).unwrap_or(u64::MAX))
        .bind(carrier)
        .fetch_all(pool)
        .await
}

/// One pass over the orders that are due a move, parcels booked with
/// `carrier`.
pub async fn tick(
    pool: &MySqlPool,
    orders: &Orders,
    tracking: &Tracking,
    carrier: &dyn Carrier,
    settings: &SimulatedSettings,
) -> anyhow::Result<()> {
    let actor = format!("carrier:{}", carrier.name());
    for (id, _, _) in due(
        pool,
        "confirmed",
        "confirmed_at",
        Duration::from_millis(settings.pack_after_ms),
        carrier.name(),
    )
    .await?
    {
        settle(
            orders
                .advance(&actor, &id, "processing", "Picked and packed", None)
                .await,
        );
    }
    for (id, _, shopper_key) in due(
        pool,
        "processing",
        "processing_at",
        Duration::from_millis(settings.ship_after_ms),
        carrier.name(),
    )
    .await?
    {
        let parcel = TrackingNumber {
            carrier: carrier.name().to_owned(),
            number: carrier
                .book(&Parcel {
                    order_id: &id,
                    reference: &shopper_key,
                })
                .await?,
        };
        settle(
            orders
                .advance(
                    &actor,
                    &id,
                    "shipped",
                    "Handed to the carrier",
                    Some(&parcel),
                )
                .await,
        );
    }
    let deliver = Duration::from_millis(settings.deliver_after_ms);
    for (status, after) in [("in_transit", deliver / 2), ("delivered", deliver)] {
        for (_, number, shopper_key) in
            due(pool, "shipped", "shipped_at", after, carrier.name()).await?
        {
            let Some(number) = number else { continue };
            let detail = match status {
                "delivered" => "Delivered to the front door",
                _ => "At the local depot",
            };
            let event = CarrierEvent {
                event_id: format!("sim-{number}-{status}"),
                carrier: CARRIER.to_owned(),
                tracking_number: number,
                status: status.to_owned(),
                detail: Some(detail.to_owned()),
                occurred_at: OffsetDateTime::now_utc()
                    .format(&Rfc3339)
                    .unwrap_or_default(),
                // As a real carrier echoes it (the event is handed to the
                // cell directly, not through the edge).
                reference: Some(shopper_key),
            };
            let body = serde_json::to_vec(&event)?;
            let header = signature::sign(
                tracking.secret().expose_secret(),
                OffsetDateTime::now_utc().unix_timestamp(),
                &body,
            );
            if let Err(error) = tracking.receive(Some(&header), &body).await {
                tracing::warn!(error = %error, "the simulated carrier's event was refused");
            }
        }
    }
    Ok(())
}

/// A move another actor made first is no failure of the simulation.
fn settle(result: Result<wire::orders::OrderDetail, crate::orders::service::OrderError>) {
    use crate::orders::service::OrderError;
    match result {
        Ok(_) | Err(OrderError::Moved(_) | OrderError::Illegal { .. }) => {}
        Err(error) => {
            tracing::warn!(error = %error, "the simulated carrier could not move an order")
        }
    }
}

/// Runs the simulation until `stop`.
pub async fn run(
    pool: MySqlPool,
    orders: Orders,
    tracking: Tracking,
    settings: SimulatedSettings,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick_every = tokio::time::interval(Duration::from_millis(settings.every_ms));
    tick_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick_every.tick() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        if let Err(error) = tick(&pool, &orders, &tracking, &Simulated, &settings).await {
            tracing::warn!(error = %error, "the simulated carrier's round failed; next round retries");
        }
    }
}
