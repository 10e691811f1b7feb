//! Cellwear's event backbone (DESIGN.md §4), used by the cells and the control
//! plane. "Exactly once in effect" is the default:
//!
//! * [`Envelope`] — `{id, type, version, occurred_at, cell, key, traceparent,
//!   data}`; payload types live in `wire::events`, and [`Schemas`] checks each
//!   `data` against the JSON Schema of its type and version (files in
//!   `schemas/`) when it is written and when it is read.
//! * [`topics`] — the per-cell and global topic names and settings, created at
//!   start when missing, each with a `<topic>.dlq`.
//! * [`outbox`] — [`outbox::enqueue`] writes an event in the caller's MySQL
//!   transaction; the [`outbox::Relay`] (one active per database) publishes in
//!   order with the idempotent [`Producer`] and marks rows sent.
//! * [`consumer`] — consumer groups with a handler per event type, idempotent
//!   through `event_processed`, retries with backoff, dead letters, offsets
//!   committed after handling.
//! * [`tools`] — tail a topic, re-drive dead letters.
//!
//! The tables live in each service's own database; [`MIGRATIONS`] creates
//! them, tracked apart from the service's own migrations.

pub mod consumer;
mod envelope;
pub mod metrics;
pub mod outbox;
mod producer;
mod schema;
pub mod tools;
pub mod topics;

use std::borrow::Cow;

pub use envelope::{Envelope, EnvelopeError};
pub use metrics::EventMetrics;
pub use producer::{BrokerUnreachable, KafkaSettings, Producer};
pub use schema::Schemas;
use sqlx::migrate::Migrator;
pub use telemetry::Traceparent;

/// The outbox and processed-events tables, tracked in their own migrations
/// table so they never clash with the service's own migrations.
pub static MIGRATIONS: Migrator = Migrator {
    table_name: Cow::Borrowed("_events_migrations"),
    ..sqlx::migrate!("./migrations")
};
