//! The backbone's Prometheus metrics, registered in the service's registry.

use prometheus::{Gauge, IntCounterVec, IntGaugeVec, Opts, Registry};

#[derive(Debug, Clone)]
pub struct EventMetrics {
    pub(crate) published: IntCounterVec,
    pub(crate) consumed: IntCounterVec,
    pub(crate) duplicates: IntCounterVec,
    pub(crate) retried: IntCounterVec,
    pub(crate) dead_lettered: IntCounterVec,
    pub(crate) relay_lag_seconds: Gauge,
    pub(crate) consumer_lag: IntGaugeVec,
}

impl EventMetrics {
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let by_type = |name: &str, help: &str| IntCounterVec::new(Opts::new(name, help), &["type"]);
        let metrics = Self {
            published: by_type(
                "events_published_total",
                "Events the outbox relay published, by type",
            )?,
            consumed: by_type("events_consumed_total", "Events a handler applied, by type")?,
            duplicates: by_type(
                "events_duplicates_total",
                "Redelivered events skipped as already applied, by type",
            )?,
            retried: by_type(
                "events_retried_total",
                "Handler attempts retried after a transient error, by type",
            )?,
            dead_lettered: by_type(
                "events_dead_lettered_total",
                "Events parked on a dead-letter topic, by type",
            )?,
            relay_lag_seconds: Gauge::new(
                "events_relay_lag_seconds",
                "Age of the oldest unsent outbox row (0 when none)",
            )?,
            consumer_lag: IntGaugeVec::new(
                Opts::new(
                    "events_consumer_lag",
                    "Messages between a consumer's position and the end of its partition",
                ),
                &["group", "topic", "partition"],
            )?,
        };
        registry.register(Box::new(metrics.published.clone()))?;
        registry.register(Box::new(metrics.consumed.clone()))?;
        registry.register(Box::new(metrics.duplicates.clone()))?;
        registry.register(Box::new(metrics.retried.clone()))?;
        registry.register(Box::new(metrics.dead_lettered.clone()))?;
        registry.register(Box::new(metrics.relay_lag_seconds.clone()))?;
        registry.register(Box::new(metrics.consumer_lag.clone()))?;
        Ok(metrics)
    }

    /// Metrics nobody scrapes (tools and tests that need none).
    pub fn unregistered() -> Self {
        // Registering in a throw-away registry cannot collide.
        Self::new(&Registry::new())
            .unwrap_or_else(|error| panic!("metric definitions are invalid: {error}"))
    }
}
