//! The consumer runner: one consumer group, a handler per event type, and the
//! rules that make "exactly once in effect" the default.
//!
//! * Each event is applied in a MySQL transaction that first records its id
//!   in `event_processed` for this group; a redelivered event finds the row
//!   and is skipped, so its side effect happens once. Events that queue up on
//!   a partition share one transaction (one commit for many).
//! * A transient error is retried with exponential backoff, up to
//!   `max_attempts`; a permanent error, an unreadable envelope, data that fails
//!   its schema, or a type nobody handles is parked on `<topic>.dlq` with the
//!   error, the attempts and the original position, and the consumer moves on.
//! * The offset is committed only after the event was applied or parked, so a
//!   crash redelivers rather than loses.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::FutureRecord;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use sqlx::MySqlPool;
use sqlx::mysql::MySqlConnection;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tracing::Instrument;
use wire::events::EventPayload;

use crate::envelope::Envelope;
use crate::metrics::EventMetrics;
use crate::producer::Producer;
use crate::schema::Schemas;
use crate::topics::dlq;
use telemetry::Traceparent;

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth another try (a dependency was briefly away, a lock timed out).
    #[error("transient: {0:#}")]
    Transient(anyhow::Error),
    /// Will fail again however often it is tried: dead-letter it now.
    #[error("permanent: {0:#}")]
    Permanent(anyhow::Error),
}

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        HandlerError::Transient(error.into())
    }
}

/// Applies one type of event inside the runner's transaction.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError>;

    /// Called once the transaction that applied `event` has committed (not
    /// for a duplicate): for effects outside the database, such as telling
    /// an in-memory index to read the change.
    fn committed(&self, _event: &Envelope) {}
}

#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    pub brokers: String,
    /// The consumer group; also the name under which applied events are
    /// recorded, so two groups each apply every event once.
    pub group: String,
    pub topics: Vec<String>,
    pub max_attempts: u32,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub session_timeout: Duration,
    pub heartbeat_interval: Duration,
    /// How often consumer lag is measured for the metrics.
    pub lag_interval: Duration,
    /// How long the broker may hold a fetch open waiting for new messages:
    /// the floor of end-to-end latency when traffic trickles in.
    pub fetch_wait: Duration,
}

impl ConsumerSettings {
    pub fn new(brokers: &str, group: &str, topics: &[&str]) -> Self {
        Self {
            brokers: brokers.to_owned(),
            group: group.to_owned(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            max_attempts: 5,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            session_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(3),
            lag_interval: Duration::from_secs(5),
            fetch_wait: Duration::from_millis(10),
        }
    }
}

type HandlerKey = (String, u16);

/// Events received ahead of a partition's worker.
const PARTITION_QUEUE: usize = 256;
/// Most events one transaction applies.
const MAX_BATCH: usize = 64;

pub struct Consumer {
    settings: ConsumerSettings,
    pool: MySqlPool,
    producer: Producer,
    schemas: Schemas,
    metrics: EventMetrics,
    handlers: HashMap<HandlerKey, Arc<dyn Handler>>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("group", &self.settings.group)
            .field("topics", &self.settings.topics)
            .field("handlers", &self.handlers.keys().collect::<Vec<_>>())
            .finish()
    }
}

enum Outcome {
    /// Applied, skipped as a duplicate, or parked: commit the offset.
    Settled,
    /// Shutdown came first: leave the offset, the event comes back.
    Interrupted,
}

enum Applied {
    Done,
    Duplicate,
}

impl Consumer {
    pub fn new(
        settings: ConsumerSettings,
        pool: MySqlPool,
        producer: Producer,
        metrics: EventMetrics,
    ) -> Self {
        Self {
            settings,
            pool,
            producer,
            schemas: Schemas::builtin(),
            metrics,
            handlers: HashMap::new(),
        }
    }

    /// Routes events of `P`'s type and version to `handler`.
    pub fn on<P: EventPayload>(mut self, handler: impl Handler + 'static) -> Self {
        self.handlers
            .insert((P::TYPE.to_owned(), P::VERSION), Arc::new(handler));
        self
    }

    /// Uses `schemas` instead of the built-in ones (tests of schema changes).
    pub fn with_schemas(mut self, schemas: Schemas) -> Self {
        self.schemas = schemas;
        self
    }

    /// Consumes until `shutdown` turns true, then leaves the group.
    ///
    /// One worker per partition applies that partition's events in order, so
    /// partitions proceed side by side while each stays ordered. A worker
    /// commits each event's offset once it is applied or parked; on shutdown
    /// it stops before the next event, whose offset stays uncommitted.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        let this = Arc::new(self);
        let settings = &this.settings;
        let consumer: Arc<Shared> = Arc::new(Shared(Arc::new(
            ClientConfig::new()
                .set("bootstrap.servers", &settings.brokers)
                .set("group.id", &settings.group)
                .set("enable.auto.commit", "false")
                .set("auto.offset.reset", "earliest")
                .set("enable.partition.eof", "false")
                .set(
                    "session.timeout.ms",
                    settings.session_timeout.as_millis().to_string(),
                )
                .set(
                    "heartbeat.interval.ms",
                    settings.heartbeat_interval.as_millis().to_string(),
                )
                .set(
                    "fetch.wait.max.ms",
                    settings.fetch_wait.as_millis().to_string(),
                )
                .create()?,
        )));
        let topics: Vec<&str> = settings.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics)?;
        tracing::info!(group = %settings.group, topics = ?topics, "consumer started");
        let mut queues: HashMap<(String, i32), mpsc::Sender<OwnedMessage>> = HashMap::new();
        let mut workers = JoinSet::new();
        // The lag is measured on a timer, not when a message comes: once a
        // partition has been read to its end no message comes, and the gauge
        // would keep whatever it last read while the flood was still
        // arriving (seen: 320 on a cell that had applied every event).
        // Dropping `recv` on a tick loses nothing: a message leaves
        // librdkafka's queue only when it is returned.
        let mut measure = tokio::time::interval(settings.lag_interval);
        measure.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // An interval's first tick is at once; the first reading is due one
        // interval in, once the group has handed out its partitions.
        measure.reset();
        loop {
            let message = tokio::select! {
                _ = shutdown.changed() => break,
                _ = measure.tick() => {
                    this.measure_lag(&consumer).await;
                    continue;
                }
                message = consumer.recv() => message,
            };
            match message {
                Err(error) => {
                    tracing::warn!(group = %settings.group, %error, "receiving failed; retrying");
                    tokio::time::sleep(settings.backoff_min).await;
                }
                Ok(message) => {
                    let message = message.detach();
                    let queue = queues
                        .entry((message.topic().to_owned(), message.partition()))
                        .or_insert_with(|| {
                            let (sender, receiver) = mpsc::channel(PARTITION_QUEUE);
                            workers.spawn(this.clone().work(
                                consumer.clone(),
                                receiver,
                                shutdown.clone(),
                            ));
                            sender
                        });
                    // A full queue holds the loop back: backpressure, not loss.
                    let queued = tokio::select! {
                        queued = queue.send(message) => queued.is_ok(),
                        _ = shutdown.changed() => false,
                    };
                    if !queued {
                        break;
                    }
                }
            }
        }
        drop(queues);
        while workers.join_next().await.is_some() {}
        consumer.unsubscribe();
        close(consumer, &settings.group).await;
        tracing::info!(group = %settings.group, "consumer stopped");
        Ok(())
    }

    /// Applies one partition's events in order and commits their offsets.
    /// Events that queued up while the previous ones were applied go in one
    /// transaction (one commit for many), falling back to one at a time when
    /// any of them needs retrying or parking.
    async fn work(
        self: Arc<Self>,
        consumer: Arc<Shared>,
        mut queue: mpsc::Receiver<OwnedMessage>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        while let Some(first) = queue.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(message) => batch.push(message),
                    Err(_) => break,
                }
            }
            if *shutdown.borrow() {
                return;
            }
            if batch.len() > 1 && self.apply_batch(&batch).await {
                if let Some(last) = batch.last() {
                    self.commit(&consumer, last);
                }
                continue;
            }
            for message in &batch {
                if *shutdown.borrow() {
                    return;
                }
                match self.process(message, &mut shutdown).await {
                    Outcome::Settled => self.commit(&consumer, message),
                    Outcome::Interrupted => return,
                }
            }
        }
    }

    /// Applies `batch` in one transaction; `false`, with nothing applied, when
    /// any event in it is unreadable, fails its schema, has no handler or
    /// fails in its handler — the one-at-a-time path then deals with each.
    async fn apply_batch(&self, batch: &[OwnedMessage]) -> bool {
        let mut ready = Vec::with_capacity(batch.len());
        for message in batch {
            let Ok(envelope) = Envelope::from_slice(message.payload().unwrap_or_default()) else {
                return false;
            };
            if self.schemas.check(&envelope).is_err() {
                return false;
            }
            let Some(handler) = self
                .handlers
                .get(&(envelope.event_type.clone(), envelope.version))
            else {
                return false;
            };
            ready.push((envelope, handler.clone()));
        }
        match self.apply_all(&ready).await {
            Ok(outcomes) => {
                for ((envelope, _), outcome) in ready.iter().zip(outcomes) {
                    let counter = match outcome {
                        Applied::Done => &self.metrics.consumed,
                        Applied::Duplicate => &self.metrics.duplicates,
                    };
                    counter
                        .with_label_values(&[envelope.event_type.as_str()])
                        .inc();
                }
                true
            }
            Err(error) => {
                tracing::debug!(group = %self.settings.group, %error, "batch failed; applying its events one at a time");
                false
            }
        }
    }

    async fn apply_all(
        &self,
        ready: &[(Envelope, Arc<dyn Handler>)],
    ) -> Result<Vec<Applied>, HandlerError> {
        let mut tx = self.pool.begin().await?;
        let mut outcomes = Vec::with_capacity(ready.len());
        for (envelope, handler) in ready {
            if self.record_processed(&mut tx, envelope).await? {
                handler.handle(&mut tx, envelope).await?;
                outcomes.push(Applied::Done);
            } else {
                outcomes.push(Applied::Duplicate);
            }
        }
        tx.commit().await?;
        for ((envelope, handler), outcome) in ready.iter().zip(&outcomes) {
            if matches!(outcome, Applied::Done) {
                handler.committed(envelope);
            }
        }
        Ok(outcomes)
    }

    /// Records the event as applied by this group; `false` if it already was.
    async fn record_processed(
        &self,
        conn: &mut MySqlConnection,
        envelope: &Envelope,
    ) -> Result<bool, sqlx::Error> {
        let recorded = sqlx::query!(
            "INSERT IGNORE INTO event_processed (consumer, event_id) VALUES (?, ?)",
            self.settings.group,
            envelope.id.to_string()
        )
        .execute(conn)
        .await?;
        Ok(recorded.rows_affected() == 1)
    }

    fn commit(&self, consumer: &StreamConsumer, message: &OwnedMessage) {
        let mut next = TopicPartitionList::new();
        let added = next.add_partition_offset(
            message.topic(),
            message.partition(),
            Offset::Offset(message.offset() + 1),
        );
        // A revoked partition refuses the commit; its new owner sees the event
        // again and skips it as already applied.
        if let Err(error) = added.and_then(|()| consumer.commit(&next, CommitMode::Async)) {
            tracing::warn!(group = %self.settings.group, %error, "offset commit failed");
        }
    }

    async fn process(
        &self,
        message: &OwnedMessage,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Outcome {
        let payload = message.payload().unwrap_or_default();
        let envelope = match Envelope::from_slice(payload) {
            Ok(envelope) => envelope,
            Err(error) => {
                return self
                    .park(message, "unreadable", &error.to_string(), 0, shutdown)
                    .await;
            }
        };
        let event_type = envelope.event_type.clone();
        if let Err(error) = self.schemas.check(&envelope) {
            return self
                .park(message, &event_type, &error.to_string(), 0, shutdown)
                .await;
        }
        let Some(handler) = self.handlers.get(&(event_type.clone(), envelope.version)) else {
            let reason = format!(
                "no handler for {} v{} in consumer group {}",
                event_type, envelope.version, self.settings.group
            );
            return self.park(message, &event_type, &reason, 0, shutdown).await;
        };
        let span = tracing::info_span!(
            "event",
            event.id = %envelope.id,
            event.type = %event_type,
            traceparent = %envelope.traceparent,
            topic = message.topic(),
            partition = message.partition(),
            offset = message.offset(),
        );
        let mut backoff = self.settings.backoff_min;
        let mut attempt = 0;
        loop {
            attempt += 1;
            // What the handler writes (events included) continues this trace.
            let trace = envelope.trace().unwrap_or_else(Traceparent::root);
            match telemetry::trace::within(trace, self.apply(handler.as_ref(), &envelope))
                .instrument(span.clone())
                .await
            {
                Ok(Applied::Done) => {
                    self.metrics
                        .consumed
                        .with_label_values(&[event_type.as_str()])
                        .inc();
                    return Outcome::Settled;
                }
                Ok(Applied::Duplicate) => {
                    self.metrics
                        .duplicates
                        .with_label_values(&[event_type.as_str()])
                        .inc();
                    return Outcome::Settled;
                }
                Err(HandlerError::Transient(error)) if attempt < self.settings.max_attempts => {
                    self.metrics
                        .retried
                        .with_label_values(&[event_type.as_str()])
                        .inc();
                    span.in_scope(|| {
                        tracing::warn!(attempt, backoff_ms = backoff.as_millis() as u64, error = %format!("{error:#}"), "handler failed; retrying")
                    });
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.changed() => return Outcome::Interrupted,
                    }
                    backoff = (backoff * 2).min(self.settings.backoff_max);
                }
                Err(error) => {
                    return self
                        .park(message, &event_type, &error.to_string(), attempt, shutdown)
                        .await;
                }
            }
        }
    }

    async fn apply(
        &self,
        handler: &dyn Handler,
        envelope: &Envelope,
    ) -> Result<Applied, HandlerError> {
        let mut tx = self.pool.begin().await?;
        if !self.record_processed(&mut tx, envelope).await? {
            tx.rollback().await?;
            return Ok(Applied::Duplicate);
        }
        handler.handle(&mut tx, envelope).await?;
        tx.commit().await?;
        handler.committed(envelope);
        Ok(Applied::Done)
    }

    /// Parks `message` on its topic's dead-letter topic, retrying the publish
    /// until it succeeds or shutdown comes (a message is never dropped).
    async fn park(
        &self,
        message: &OwnedMessage,
        event_type: &str,
        reason: &str,
        attempts: u32,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Outcome {
        let target = dlq(message.topic());
        tracing::warn!(
            topic = message.topic(),
            partition = message.partition(),
            offset = message.offset(),
            event.type = event_type,
            attempts,
            reason,
            dead_letter_topic = %target,
            "event dead-lettered"
        );
        let facts = [
            ("dlq.error", reason.to_owned()),
            ("dlq.attempts", attempts.to_string()),
            ("dlq.topic", message.topic().to_owned()),
            ("dlq.partition", message.partition().to_string()),
            ("dlq.offset", message.offset().to_string()),
            ("dlq.group", self.settings.group.clone()),
            (
                "dlq.failed_at",
                time::OffsetDateTime::now_utc().unix_timestamp().to_string(),
            ),
        ];
        let mut backoff = self.settings.backoff_min;
        loop {
            let mut headers = OwnedHeaders::new();
            if let Some(original) = message.headers() {
                for header in original.iter() {
                    headers = headers.insert(Header {
                        key: header.key,
                        value: header.value,
                    });
                }
            }
            for (key, value) in &facts {
                headers = headers.insert(Header {
                    key,
                    value: Some(value.as_str()),
                });
            }
            let mut record = FutureRecord::to(&target).headers(headers);
            if let Some(key) = message.key() {
                record = record.key(key);
            }
            if let Some(payload) = message.payload() {
                record = record.payload(payload);
            }
            let producer = self.producer.current();
            match producer.send(record, Duration::from_secs(5)).await {
                Ok(_) => {
                    self.metrics
                        .dead_lettered
                        .with_label_values(&[event_type])
                        .inc();
                    return Outcome::Settled;
                }
                Err((error, _)) => {
                    tracing::error!(%error, dead_letter_topic = %target, "cannot park the event; retrying");
                    self.producer.renew_if_broken(&error);
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.changed() => return Outcome::Interrupted,
                    }
                    backoff = (backoff * 2).min(self.settings.backoff_max);
                }
            }
        }
    }

    async fn measure_lag(&self, consumer: &Arc<Shared>) {
        let consumer = consumer.clone();
        let group = self.settings.group.clone();
        let metrics = self.metrics.clone();
        // Watermark look-ups block their thread.
        let _ = tokio::task::spawn_blocking(move || {
            let Ok(positions) = consumer.position() else {
                return;
            };
            // A partition not read from since it was assigned (a restarted
            // service with nothing new to read) has no position yet: its
            // committed offset is where reading would start.
            let unread = positions
                .elements()
                .iter()
                .any(|e| !matches!(e.offset(), Offset::Offset(_)));
            let committed = if unread {
                consumer.committed(Duration::from_secs(1)).ok()
            } else {
                None
            };
            for element in positions.elements() {
                let position = match element.offset() {
                    Offset::Offset(position) => position,
                    _ => match committed
                        .as_ref()
                        .and_then(|c| c.find_partition(element.topic(), element.partition()))
                        .map(|e| e.offset())
                    {
                        Some(Offset::Offset(position)) => position,
                        _ => continue,
                    },
                };
                if let Ok((_, high)) = consumer.fetch_watermarks(
                    element.topic(),
                    element.partition(),
                    Duration::from_secs(1),
                ) {
                    metrics
                        .consumer_lag
                        .with_label_values(&[
                            group.as_str(),
                            element.topic(),
                            &element.partition().to_string(),
                        ])
                        .set((high - position).max(0));
                }
            }
        })
        .await;
    }
}

/// How long closing a consumer may take before shutdown goes on without it
/// (the close goes on on its own thread). Leaving the group is all a close
/// does for us — the offsets are committed as events are applied — so a
/// shutdown should not wait long on it.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// The consumer, shared by the receiving loop and the partition workers.
/// librdkafka's close can wait without end for a rebalance the broker never
/// finishes (seen with the local broker: `rd_kafka_assign` with no time-out
/// inside the consumer's drop), so whoever lets go of it last never closes
/// it on a runtime thread: not a graceful stop ([`close`]), and not a task
/// dropped with its runtime either (a test that ends without stopping its
/// service), which once hung a test binary until it was killed.
struct Shared(Arc<StreamConsumer>);

impl std::ops::Deref for Shared {
    type Target = StreamConsumer;

    fn deref(&self) -> &StreamConsumer {
        &self.0
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if tokio::runtime::Handle::try_current().is_err() {
            // Off the runtime already (`close`'s thread): the field's drop
            // right after this closes the consumer here.
            return;
        }
        // A thread takes a second handle and lets go of it once the field's
        // (released as this returns) is gone, so the close happens there.
        let handle = self.0.clone();
        let closing = std::thread::Builder::new()
            .name("consumer close".into())
            .spawn(move || {
                while Arc::strong_count(&handle) > 1 {
                    std::thread::sleep(Duration::from_millis(1));
                }
                drop(handle);
            });
        if closing.is_err() {
            tracing::error!("no thread to close a consumer on");
        }
    }
}

/// Drops the last handle of `consumer` on a thread of its own, and waits a
/// bounded time for it: a close that takes longer is left behind, and the
/// process ending takes it along.
async fn close(consumer: Arc<Shared>, group: &str) {
    let (done, closed) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("consumer close".into())
        .spawn(move || {
            drop(consumer);
            let _ = done.send(());
        });
    if spawned.is_err() {
        tracing::warn!(group, "no thread to close the consumer on; leaving it open");
        return;
    }
    if tokio::time::timeout(CLOSE_TIMEOUT, closed).await.is_err() {
        tracing::warn!(
            group,
            timeout_s = CLOSE_TIMEOUT.as_secs(),
            "the consumer did not close in time; shutting down without it"
        );
    }
}
