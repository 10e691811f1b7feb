//! The transactional outbox. [`enqueue`] writes an event in the caller's
//! transaction, beside the state change it announces, so both commit or
//! neither does. The [`Relay`] publishes committed rows in `seq` order with
//! the idempotent producer and marks them sent.
//!
//! Ordering: rows are published in `seq` order and only a contiguous prefix
//! of a batch that the broker acknowledged is marked sent; anything after a
//! failure is sent again. Events for one key keep their order as long as the
//! transactions that write them lock the entity they are about (the usual
//! `SELECT … FOR UPDATE`), so their rows take `seq` values in commit order.
//! A crash between publishing and marking re-publishes rows: consumers are
//! idempotent, so the effect is still once.
//!
//! One relay per database is active: it holds a MySQL named lock on its own
//! connection and does all its work on that connection, so if the connection
//! dies the lock is gone and another relay takes over.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use sqlx::mysql::MySqlConnection;
use sqlx::{MySqlPool, QueryBuilder};
use tokio::sync::{Notify, watch};

use crate::envelope::Envelope;
use crate::metrics::EventMetrics;
use crate::producer::Producer;
use crate::schema::Schemas;

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error(transparent)]
    Invalid(#[from] crate::envelope::EnvelopeError),
    #[error("the event's data cannot be encoded: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("writing the event to the outbox: {0}")]
    Database(#[from] sqlx::Error),
}

/// Wraps `payload` in a new envelope (from `cell`, if a cell sends it) and
/// writes it for `topic` in the caller's transaction.
pub async fn enqueue_payload<P: wire::events::EventPayload>(
    conn: &mut MySqlConnection,
    schemas: &Schemas,
    topic: &str,
    cell: Option<&str>,
    payload: &P,
) -> Result<(), EnqueueError> {
    // The request or event being handled, if any, is where this one came from.
    let envelope = Envelope::new(payload, cell, telemetry::trace::current().as_ref())?;
    enqueue(conn, schemas, topic, &envelope).await
}

/// Writes `envelope` for `topic` in the caller's transaction, after checking
/// it against its schema.
pub async fn enqueue(
    conn: &mut MySqlConnection,
    schemas: &Schemas,
    topic: &str,
    envelope: &Envelope,
) -> Result<(), EnqueueError> {
    schemas.check(envelope)?;
    sqlx::query!(
        "INSERT INTO event_outbox (event_id, topic, event_key, event_type, traceparent, envelope) VALUES (?, ?, ?, ?, ?, ?)",
        envelope.id.to_string(),
        topic,
        envelope.key,
        envelope.event_type,
        envelope.traceparent,
        envelope.to_json(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How often the relay measures the age of its oldest unsent row.
const LAG_REPORT_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Rows published per round trip.
    pub batch_size: u32,
    /// How often an idle relay looks for new rows (a local `poke` wakes it
    /// sooner).
    pub poll: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Sent rows are deleted after this long.
    pub keep_sent: Duration,
    /// Prefix of the MySQL named lock that elects the one active relay (the
    /// database's name, hashed, completes it).
    pub lock_name: String,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            batch_size: 500,
            poll: Duration::from_millis(20),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            keep_sent: Duration::from_secs(24 * 3600),
            lock_name: "outbox:".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Relay {
    pool: MySqlPool,
    producer: Producer,
    metrics: EventMetrics,
    settings: RelaySettings,
    wake: Arc<Notify>,
}

struct Row {
    seq: u64,
    topic: String,
    key: String,
    event_type: String,
    traceparent: String,
    envelope: String,
}

impl Relay {
    pub fn new(
        pool: MySqlPool,
        producer: Producer,
        metrics: EventMetrics,
        settings: RelaySettings,
    ) -> Self {
        Self {
            pool,
            producer,
            metrics,
            settings,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Wakes the relay now (after a local commit) instead of at its next poll.
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// Relays until `shutdown` turns true. Errors are logged and retried with
    /// backoff; this only returns on shutdown.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = self.settings.backoff_min;
        while !*shutdown.borrow() {
            match self.lead(&mut shutdown).await {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), backoff_ms = backoff.as_millis() as u64, "outbox relay interrupted; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.changed() => return,
                    }
                    backoff = (backoff * 2).min(self.settings.backoff_max);
                }
            }
        }
    }

    /// Takes the lock, then relays until shutdown (`Ok`) or a failure (`Err`).
    async fn lead(&self, shutdown: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut conn = self.pool.acquire().await?.detach();
        loop {
            // Named locks are server-wide: qualify the name with the database
            // so relays of databases sharing a server do not exclude each other.
            let got = sqlx::query_scalar!(
                "SELECT GET_LOCK(CONCAT(?, SHA1(DATABASE())), 0)",
                self.settings.lock_name
            )
            .fetch_one(&mut conn)
            .await?;
            if got == Some(1) {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => return Ok(()),
            }
        }
        tracing::info!(lock = %self.settings.lock_name, "outbox relay active");
        let mut last_cleanup = Instant::now();
        let mut last_lag_report = Instant::now() - LAG_REPORT_INTERVAL;
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let published = self.relay_batch(&mut conn).await?;
            if last_lag_report.elapsed() >= LAG_REPORT_INTERVAL {
                self.report_lag(&mut conn).await?;
                last_lag_report = Instant::now();
            }
            if last_cleanup.elapsed() > Duration::from_secs(60) {
                self.delete_old(&mut conn).await?;
                last_cleanup = Instant::now();
            }
            if published < self.settings.batch_size as usize {
                tokio::select! {
                    _ = tokio::time::sleep(self.settings.poll) => {}
                    _ = self.wake.notified() => {}
                    _ = shutdown.changed() => return Ok(()),
                }
            }
        }
    }

    /// Publishes the oldest unsent rows; returns how many were marked sent.
    async fn relay_batch(&self, conn: &mut MySqlConnection) -> anyhow::Result<usize> {
        let rows: Vec<Row> = sqlx::query!(
            "SELECT seq, topic, event_key, event_type, traceparent, envelope FROM event_outbox \
             WHERE sent_at IS NULL ORDER BY seq LIMIT ?",
            self.settings.batch_size
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|row| Row {
            seq: row.seq,
            topic: row.topic,
            key: row.event_key,
            event_type: row.event_type,
            traceparent: row.traceparent,
            envelope: row.envelope,
        })
        .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        // Queue the whole batch, then wait: the idempotent producer keeps the
        // order within each partition while many messages are in flight.
        let producer = self.producer.current();
        let deliveries: Vec<_> = rows
            .iter()
            .map(|row| {
                let headers = OwnedHeaders::new()
                    .insert(Header {
                        key: "type",
                        value: Some(row.event_type.as_str()),
                    })
                    .insert(Header {
                        key: "traceparent",
                        value: Some(row.traceparent.as_str()),
                    });
                let record = FutureRecord::to(&row.topic)
                    .key(&row.key)
                    .payload(&row.envelope)
                    .headers(headers);
                producer.send_result(record).map_err(|(error, _)| error)
            })
            .collect();
        let mut sent = Vec::with_capacity(rows.len());
        let mut failure: Option<(u64, KafkaError)> = None;
        for (row, delivery) in rows.iter().zip(deliveries) {
            let outcome = match delivery {
                Ok(future) => match future.await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err((error, _))) => Err(error),
                    Err(_) => Err(KafkaError::Canceled),
                },
                Err(error) => Err(error),
            };
            match outcome {
                Ok(()) if failure.is_none() => sent.push(row),
                Ok(()) => {}
                Err(error) => {
                    failure.get_or_insert((row.seq, error));
                }
            }
        }
        if !sent.is_empty() {
            let mut update =
                QueryBuilder::new("UPDATE event_outbox SET sent_at = NOW(6) WHERE seq IN (");
            let mut list = update.separated(", ");
            for row in &sent {
                list.push_bind(row.seq);
            }
            update.push(")");
            update.build().execute(&mut *conn).await?;
            for row in &sent {
                self.metrics
                    .published
                    .with_label_values(&[row.event_type.as_str()])
                    .inc();
            }
        }
        if let Some((seq, error)) = failure {
            self.producer.renew_if_broken(&error);
            anyhow::bail!("publishing outbox row {seq} failed: {error}");
        }
        Ok(sent.len())
    }

    async fn report_lag(&self, conn: &mut MySqlConnection) -> anyhow::Result<()> {
        let micros: Option<i64> = sqlx::query_scalar!(
            "SELECT TIMESTAMPDIFF(MICROSECOND, MIN(created_at), NOW(6)) FROM event_outbox WHERE sent_at IS NULL"
        )
        .fetch_one(conn)
        .await?;
        self.metrics
            .relay_lag_seconds
            .set(micros.unwrap_or(0).max(0) as f64 / 1e6);
        Ok(())
    }

    async fn delete_old(&self, conn: &mut MySqlConnection) -> anyhow::Result<()> {
        let keep_micros = self.settings.keep_sent.as_micros() as u64;
        let deleted = sqlx::query!(
            "DELETE FROM event_outbox WHERE sent_at IS NOT NULL AND sent_at < NOW(6) - INTERVAL ? MICROSECOND LIMIT 10000",
            keep_micros
        )
        .execute(conn)
        .await?;
        if deleted.rows_affected() > 0 {
            tracing::info!(
                rows = deleted.rows_affected(),
                "deleted old sent outbox rows"
            );
        }
        Ok(())
    }
}
