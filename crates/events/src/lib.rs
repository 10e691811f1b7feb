//! Cellwear's Kafka layer, used by the cells and the control plane.
//!
//! Today it owns the connection: [`KafkaSettings`] and an idempotent
//! [`Producer`] that checks the broker at start-up, answers readiness probes
//! and flushes on shutdown. The event envelope, JSON Schemas, outbox relay and
//! consumer runner (DESIGN.md §4) build on this producer.

mod producer;

pub use producer::{BrokerUnreachable, KafkaSettings, Producer};
