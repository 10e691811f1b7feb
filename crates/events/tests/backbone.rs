//! The backbone against a real MySQL and a real broker: outbox atomicity and
//! order, outages, crashes, dead letters and replay, consumer groups.

// Helpers outside #[test] functions panic on purpose: a broken fixture should
// fail the test at the line that broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use events::consumer::{Consumer, ConsumerSettings, Handler, HandlerError};
use events::outbox::{Relay, RelaySettings, enqueue};
use events::topics::{TopicSpec, dlq, ensure_topics};
use events::{Envelope, EventMetrics, KafkaSettings, Producer, Schemas};
use rdkafka::producer::FutureRecord;
use sqlx::mysql::{MySqlConnection, MySqlPoolOptions};
use sqlx::{Connection, MySqlPool};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use wire::events::ProbePublished;

/// A fresh database with the event tables and a ledger (the "state"), and a
/// fresh topic with its dead-letter topic.
struct Backbone {
    pool: MySqlPool,
    producer: Producer,
    brokers: String,
    topic: String,
}

async fn backbone(partitions: u16) -> Backbone {
    backbone_on(&testkit::kafka_brokers(), partitions, 10_000).await
}

async fn backbone_on(brokers: &str, partitions: u16, message_timeout_ms: u64) -> Backbone {
    let database = testkit::unique("test_events_");
    let mut admin = MySqlConnection::connect(&testkit::mysql_server())
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{database}`")))
        .execute(&mut admin)
        .await
        .unwrap();
    let pool = MySqlPoolOptions::new()
        .max_connections(10)
        .connect(&format!("{}/{database}", testkit::mysql_server()))
        .await
        .unwrap();
    events::MIGRATIONS.run(&pool).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE ledger (run VARCHAR(64) NOT NULL, sequence BIGINT UNSIGNED NOT NULL, PRIMARY KEY (run, sequence));
         CREATE TABLE effects (name VARCHAR(64) PRIMARY KEY, applied BIGINT NOT NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let topic = testkit::unique("test.events.");
    let spec = TopicSpec {
        name: topic.clone(),
        partitions,
        compacted: false,
        retention_ms: 3_600_000,
    };
    ensure_topics(
        brokers,
        &[spec.clone(), spec.dead_letters()],
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    let settings = KafkaSettings {
        brokers: brokers.to_owned(),
        partitions,
        connect_timeout_ms: 3000,
        message_timeout_ms,
        topic_prefix: String::new(),
    };
    let producer = Producer::connect(&settings, "test").await.unwrap();
    Backbone {
        pool,
        producer,
        brokers: brokers.to_owned(),
        topic,
    }
}

impl Backbone {
    /// Commits a ledger row and its event, or rolls both back.
    async fn write(&self, run: &str, sequence: u64, commit: bool) {
        let mut tx = self.pool.begin().await.unwrap();
        sqlx::query("INSERT INTO ledger (run, sequence) VALUES (?, ?)")
            .bind(run)
            .bind(sequence)
            .execute(&mut *tx)
            .await
            .unwrap();
        let envelope = Envelope::new(
            &ProbePublished {
                run: run.into(),
                sequence,
            },
            Some("cell-t"),
            None,
        )
        .unwrap();
        enqueue(&mut tx, &Schemas::builtin(), &self.topic, &envelope)
            .await
            .unwrap();
        if commit {
            tx.commit().await.unwrap();
        } else {
            tx.rollback().await.unwrap();
        }
    }

    fn relay(&self) -> (Relay, watch::Sender<bool>, JoinHandle<()>) {
        let settings = RelaySettings {
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_millis(500),
            ..RelaySettings::default()
        };
        let relay = Relay::new(
            self.pool.clone(),
            self.producer.clone(),
            EventMetrics::unregistered(),
            settings,
        );
        let (stop, shutdown) = watch::channel(false);
        let task = tokio::spawn(relay.clone().run(shutdown));
        (relay, stop, task)
    }

    async fn unsent(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM event_outbox WHERE sent_at IS NULL")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn wait_all_sent(&self) {
        let started = Instant::now();
        while self.unsent().await > 0 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "outbox rows stayed unsent"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every message now on `topic`, in partition order.
    async fn read(&self, topic: &str) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        events::tools::tail(
            &self.brokers,
            topic,
            true,
            None,
            Duration::from_secs(4),
            &mut out,
        )
        .await
        .unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    fn consumer(&self, group: &str, handler: Counter) -> RunningConsumer {
        self.consumer_with(group, Some(handler), 5)
    }

    fn consumer_with(
        &self,
        group: &str,
        handler: Option<Counter>,
        max_attempts: u32,
    ) -> RunningConsumer {
        let mut settings = ConsumerSettings::new(&self.brokers, group, &[self.topic.as_str()]);
        settings.session_timeout = Duration::from_millis(2000);
        settings.heartbeat_interval = Duration::from_millis(500);
        settings.backoff_min = Duration::from_millis(20);
        settings.backoff_max = Duration::from_millis(100);
        settings.max_attempts = max_attempts;
        settings.lag_interval = LAG_INTERVAL;
        let registry = prometheus::Registry::new();
        let metrics = EventMetrics::new(&registry).unwrap();
        let mut consumer =
            Consumer::new(settings, self.pool.clone(), self.producer.clone(), metrics);
        if let Some(handler) = handler {
            consumer = consumer.on::<ProbePublished>(handler);
        }
        let (stop, shutdown) = watch::channel(false);
        let task = tokio::spawn(consumer.run(shutdown));
        RunningConsumer {
            stop,
            task,
            registry,
        }
    }

    async fn effect(&self, name: &str) -> i64 {
        sqlx::query_scalar("SELECT COALESCE(MAX(applied), 0) FROM effects WHERE name = ?")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn wait_effect(&self, name: &str, expected: i64) {
        let started = Instant::now();
        while self.effect(name).await < expected {
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "{name} reached only {}",
                self.effect(name).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

struct RunningConsumer {
    stop: watch::Sender<bool>,
    task: JoinHandle<anyhow::Result<()>>,
    registry: prometheus::Registry,
}

impl RunningConsumer {
    /// Stops it and waits until it has left its group (one at a time: two
    /// members leaving at once can wedge a tansu group).
    async fn stop(self) -> prometheus::Registry {
        let _ = self.stop.send(true);
        self.task.await.unwrap().unwrap();
        self.registry
    }
}

/// How often the test consumers measure their lag.
const LAG_INTERVAL: Duration = Duration::from_millis(300);

/// Every one of `partitions` partitions has a lag reading, and each is 0.
fn assert_lags_zero(registry: &prometheus::Registry, partitions: usize, missing: &str) {
    let read = lags(registry);
    assert_eq!(read.len(), partitions, "{missing}: {read:?}");
    assert!(read.iter().all(|(_, lag)| *lag == 0), "{read:?}");
}

/// Each partition's `events_consumer_lag`, as (partition, lag).
fn lags(registry: &prometheus::Registry) -> Vec<(String, i64)> {
    registry
        .gather()
        .iter()
        .filter(|family| family.name() == "events_consumer_lag")
        .flat_map(|family| {
            family
                .get_metric()
                .iter()
                .map(|m| {
                    let partition = m
                        .get_label()
                        .iter()
                        .find(|l| l.name() == "partition")
                        .map(|l| l.value().to_owned())
                        .unwrap_or_default();
                    (partition, m.get_gauge().get_value() as i64)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn counter(registry: &prometheus::Registry, name: &str) -> u64 {
    registry
        .gather()
        .iter()
        .filter(|family| family.name() == name)
        .flat_map(|family| {
            family
                .get_metric()
                .iter()
                .map(|m| m.get_counter().get_value() as u64)
                .collect::<Vec<_>>()
        })
        .sum()
}

/// A handler whose side effect is a counter row: applied once per event, or
/// the test sees it.
#[derive(Clone)]
struct Counter {
    name: String,
    transient_failures: Arc<Mutex<u32>>,
    permanent: bool,
}

impl Counter {
    fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            transient_failures: Arc::new(Mutex::new(0)),
            permanent: false,
        }
    }
}

#[async_trait]
impl Handler for Counter {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        if self.permanent {
            return Err(HandlerError::Permanent(anyhow::anyhow!(
                "this event can never be applied"
            )));
        }
        {
            let mut failures = self.transient_failures.lock().unwrap();
            if *failures > 0 {
                *failures -= 1;
                return Err(HandlerError::Transient(anyhow::anyhow!(
                    "the warehouse API timed out"
                )));
            }
        }
        event
            .payload::<ProbePublished>()
            .map_err(|e| HandlerError::Permanent(e.into()))?;
        sqlx::query("INSERT INTO effects (name, applied) VALUES (?, 1) ON DUPLICATE KEY UPDATE applied = applied + 1")
            .bind(&self.name)
            .execute(conn)
            .await?;
        Ok(())
    }
}

fn sequences_by_key(messages: &[serde_json::Value]) -> BTreeMap<String, Vec<u64>> {
    let mut by_key: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for message in messages {
        let key = message["key"].as_str().unwrap().to_owned();
        by_key
            .entry(key)
            .or_default()
            .push(message["event"]["data"]["sequence"].as_u64().unwrap());
    }
    by_key
}

#[tokio::test]
async fn an_event_commits_and_rolls_back_with_its_state_change() {
    let backbone = backbone(1).await;
    backbone.write("kept", 0, true).await;
    backbone.write("dropped", 0, false).await;
    let (_relay, stop, task) = backbone.relay();

    backbone.wait_all_sent().await;
    let messages = backbone.read(&backbone.topic).await;

    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["key"], "kept");
    assert_eq!(messages[0]["event"]["type"], "ProbePublished");
    assert_eq!(messages[0]["headers"]["type"], "ProbePublished");
    assert_eq!(
        messages[0]["headers"]["traceparent"],
        messages[0]["event"]["traceparent"]
    );
    let ledger: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger")
        .fetch_one(&backbone.pool)
        .await
        .unwrap();
    assert_eq!(ledger, 1);
    let _ = stop.send(true);
    task.await.unwrap();
}

#[tokio::test]
async fn the_relay_delivers_every_committed_row_in_key_order() {
    let backbone = backbone(3).await;
    for sequence in 0..60 {
        backbone
            .write(&format!("key-{}", sequence % 4), sequence, true)
            .await;
    }
    let (_relay, stop, task) = backbone.relay();

    backbone.wait_all_sent().await;
    let by_key = sequences_by_key(&backbone.read(&backbone.topic).await);

    assert_eq!(by_key.len(), 4);
    for (key, sequences) in by_key {
        let expected: Vec<u64> = (0..60)
            .filter(|s| format!("key-{}", s % 4) == key)
            .collect();
        assert_eq!(
            sequences, expected,
            "{key} arrived out of order or incomplete"
        );
    }
    let _ = stop.send(true);
    task.await.unwrap();
}

#[tokio::test]
async fn a_malformed_event_never_reaches_the_outbox() {
    let backbone = backbone(1).await;
    let mut envelope = Envelope::new(
        &ProbePublished {
            run: "r".into(),
            sequence: 1,
        },
        None,
        None,
    )
    .unwrap();
    envelope.data = serde_json::json!({"run": "r"});
    let mut conn = backbone.pool.acquire().await.unwrap();

    let error = enqueue(&mut conn, &Schemas::builtin(), &backbone.topic, &envelope)
        .await
        .unwrap_err();

    assert!(error.to_string().contains("sequence"), "{error}");
    assert_eq!(backbone.unsent().await, 0);
}

/// A broker of its own behind a TCP relay that it advertises, so the test can
/// take it away from its clients and bring it back, its data intact.
struct IsolatedBroker {
    child: Child,
    relay: testkit::Relay,
}

impl Drop for IsolatedBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn isolated_broker() -> IsolatedBroker {
    let tansu = std::env::var("CELLWEAR_TANSU")
        .expect("CELLWEAR_TANSU names the tansu binary (cargo xtask test sets it)");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let broker = SocketAddr::from(([127, 0, 0, 1], port));
    let relay = testkit::Relay::start(broker).await.unwrap();
    let child = Command::new(tansu)
        .args(["broker", "--listener-url", &format!("tcp://{broker}")])
        .args([
            "--advertised-listener-url",
            &format!("tcp://{}", relay.address()),
        ])
        .args(["--storage-engine", "memory://tansu/"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(broker).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the isolated broker did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    IsolatedBroker { child, relay }
}

#[tokio::test]
async fn nothing_is_lost_while_the_broker_is_away() {
    let _ = tracing_subscriber::fmt().with_env_filter("info").try_init();
    let broker = isolated_broker().await;
    let backbone = backbone_on(&broker.relay.address().to_string(), 2, 1500).await;
    let (_relay, stop, task) = backbone.relay();
    for sequence in 0..10 {
        backbone.write("before", sequence, true).await;
    }
    backbone.wait_all_sent().await;

    broker.relay.cut();
    for sequence in 0..10 {
        backbone.write("during", sequence, true).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        backbone.unsent().await > 0,
        "rows were marked sent while the broker was away"
    );
    broker.relay.pass();

    backbone.wait_all_sent().await;
    let by_key = sequences_by_key(&backbone.read(&backbone.topic).await);
    assert_eq!(by_key["before"], (0..10).collect::<Vec<_>>());
    let mut during = by_key["during"].clone();
    during.dedup();
    assert_eq!(
        during,
        (0..10).collect::<Vec<_>>(),
        "lost or reordered: {:?}",
        by_key["during"]
    );
    let _ = stop.send(true);
    task.await.unwrap();
}

#[tokio::test]
async fn a_relay_crash_before_marking_duplicates_messages_but_not_effects() {
    let backbone = backbone(2).await;
    for sequence in 0..10 {
        backbone.write("crash", sequence, true).await;
    }
    let (_relay, stop, task) = backbone.relay();
    backbone.wait_all_sent().await;
    let _ = stop.send(true);
    task.await.unwrap();
    // What a relay that died after publishing, before marking, leaves behind.
    sqlx::query("UPDATE event_outbox SET sent_at = NULL")
        .execute(&backbone.pool)
        .await
        .unwrap();
    let (_relay, stop, task) = backbone.relay();
    backbone.wait_all_sent().await;
    assert_eq!(
        backbone.read(&backbone.topic).await.len(),
        20,
        "the re-run did not re-publish"
    );

    let consumer = backbone.consumer(&testkit::unique("group-"), Counter::new("crash"));
    backbone.wait_effect("crash", 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let registry = consumer.stop().await;

    assert_eq!(backbone.effect("crash").await, 10);
    assert_eq!(counter(&registry, "events_duplicates_total"), 10);
    let _ = stop.send(true);
    task.await.unwrap();
}

#[tokio::test]
async fn a_schema_invalid_event_is_dead_lettered_and_the_consumer_keeps_going() {
    let backbone = backbone(1).await;
    let mut bad = Envelope::new(
        &ProbePublished {
            run: "bad".into(),
            sequence: 0,
        },
        None,
        None,
    )
    .unwrap();
    bad.data = serde_json::json!({"run": "bad", "sequence": "zero"});
    let bad = bad.to_json();
    backbone
        .producer
        .current()
        .send(
            FutureRecord::to(&backbone.topic).key("bad").payload(&bad),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    backbone
        .producer
        .current()
        .send(
            FutureRecord::to(&backbone.topic)
                .key("junk")
                .payload("not an envelope"),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    backbone.write("good", 1, true).await;
    let (_relay, stop, task) = backbone.relay();

    let consumer = backbone.consumer(&testkit::unique("group-"), Counter::new("good"));
    backbone.wait_effect("good", 1).await;
    let registry = consumer.stop().await;

    let parked = backbone.read(&dlq(&backbone.topic)).await;
    assert_eq!(parked.len(), 2, "{parked:?}");
    let schema_error = parked[0]["headers"]["dlq.error"].as_str().unwrap();
    assert!(
        schema_error.contains("ProbePublished v1") && schema_error.contains("/sequence"),
        "{schema_error}"
    );
    assert_eq!(parked[0]["headers"]["dlq.topic"], backbone.topic.as_str());
    assert_eq!(parked[0]["headers"]["dlq.offset"], "0");
    assert!(
        parked[1]["headers"]["dlq.error"]
            .as_str()
            .unwrap()
            .contains("not an event envelope")
    );
    assert_eq!(counter(&registry, "events_dead_lettered_total"), 2);
    let _ = stop.send(true);
    task.await.unwrap();
}

#[tokio::test]
async fn replay_dlq_re_drives_dead_letters_once_the_fault_is_fixed() {
    let backbone = backbone(1).await;
    let group = testkit::unique("group-");
    for sequence in 0..3 {
        backbone.write("orphan", sequence, true).await;
    }
    let (_relay, stop, task) = backbone.relay();
    // Deployed without the handler: every event is parked.
    let broken = backbone.consumer_with(&group, None, 5);
    let started = Instant::now();
    while backbone.read(&dlq(&backbone.topic)).await.len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the events were not parked"
        );
    }
    broken.stop().await;

    let moved = events::tools::replay_dead_letters(
        &backbone.brokers,
        &backbone.topic,
        Duration::from_secs(3),
    )
    .await
    .unwrap();
    assert_eq!(moved, 3);
    // The fix: the same group, now with its handler, sees only the re-driven events.
    let fixed = backbone.consumer(&group, Counter::new("orphan"));
    backbone.wait_effect("orphan", 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    fixed.stop().await;

    assert_eq!(backbone.effect("orphan").await, 3);
    let again = events::tools::replay_dead_letters(
        &backbone.brokers,
        &backbone.topic,
        Duration::from_secs(2),
    )
    .await
    .unwrap();
    assert_eq!(again, 0, "a second replay re-drove the same dead letters");
    let _ = stop.send(true);
    task.await.unwrap();
}

#[tokio::test]
async fn transient_failures_are_retried_and_permanent_ones_parked_with_their_attempts() {
    let backbone = backbone(1).await;
    backbone.write("flaky", 0, true).await;
    let (_relay, stop, task) = backbone.relay();
    let flaky = Counter::new("flaky");
    *flaky.transient_failures.lock().unwrap() = 2;
    let consumer = backbone.consumer(&testkit::unique("group-"), flaky);
    backbone.wait_effect("flaky", 1).await;
    let registry = consumer.stop().await;
    assert_eq!(counter(&registry, "events_retried_total"), 2);

    let mut hopeless = Counter::new("hopeless");
    hopeless.permanent = true;
    let consumer = backbone.consumer_with(&testkit::unique("group-"), Some(hopeless), 5);
    let started = Instant::now();
    let parked = loop {
        let parked = backbone.read(&dlq(&backbone.topic)).await;
        if !parked.is_empty() {
            break parked;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the event was not parked"
        );
    };
    consumer.stop().await;
    assert_eq!(parked[0]["headers"]["dlq.attempts"], "1");
    assert!(
        parked[0]["headers"]["dlq.error"]
            .as_str()
            .unwrap()
            .contains("can never be applied")
    );
    let _ = stop.send(true);
    task.await.unwrap();
}

#[tokio::test]
async fn two_consumers_in_one_group_share_the_partitions_and_apply_each_event_once() {
    let backbone = backbone(4).await;
    let group = testkit::unique("group-");
    let (first_name, second_name) = ("first", "second");
    let first = backbone.consumer(&group, Counter::new(first_name));
    let second = backbone.consumer(&group, Counter::new(second_name));
    // Both members join (half a session time-out each) before events flow.
    tokio::time::sleep(Duration::from_secs(4)).await;
    for sequence in 0..40 {
        backbone
            .write(&format!("shopper-{sequence}"), sequence, true)
            .await;
    }
    let (_relay, stop, task) = backbone.relay();

    let started = Instant::now();
    while backbone.effect(first_name).await + backbone.effect(second_name).await < 40 {
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "not every event was applied"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.stop().await;
    first.stop().await;

    let (a, b) = (
        backbone.effect(first_name).await,
        backbone.effect(second_name).await,
    );
    assert_eq!(a + b, 40, "an event was applied twice: {a} + {b}");
    assert!(a > 0 && b > 0, "one member got every partition: {a} / {b}");
    let _ = stop.send(true);
    task.await.unwrap();
}

#[tokio::test]
async fn a_restarted_consumer_resumes_from_its_committed_offset() {
    let backbone = backbone(2).await;
    let group = testkit::unique("group-");
    let (_relay, stop, task) = backbone.relay();
    for sequence in 0..5 {
        backbone
            .write(&format!("k{sequence}"), sequence, true)
            .await;
    }
    let consumer = backbone.consumer(&group, Counter::new("resume"));
    backbone.wait_effect("resume", 5).await;
    consumer.stop().await;

    for sequence in 5..10 {
        backbone
            .write(&format!("k{sequence}"), sequence, true)
            .await;
    }
    let consumer = backbone.consumer(&group, Counter::new("resume"));
    backbone.wait_effect("resume", 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let registry = consumer.stop().await;

    assert_eq!(
        counter(&registry, "events_consumed_total"),
        5,
        "the restarted consumer re-applied old events"
    );
    assert_eq!(
        counter(&registry, "events_duplicates_total"),
        0,
        "the restarted consumer re-read committed events"
    );
    let _ = stop.send(true);
    task.await.unwrap();
}

/// Once a consumer has read a partition to its end no message comes to
/// measure the lag on, so it is measured on a timer: a benchmark waiting for
/// the lag to reach 0 once waited forever on a cell that had applied every
/// event, its gauge stuck at what it read mid-flood.
#[tokio::test]
async fn the_lag_reads_zero_once_every_event_is_read() {
    let backbone = backbone(2).await;
    let group = testkit::unique("group-");
    for sequence in 0..20 {
        backbone
            .write(&format!("k{sequence}"), sequence, true)
            .await;
    }
    let (_relay, stop, task) = backbone.relay();
    backbone.wait_all_sent().await;
    let consumer = backbone.consumer(&group, Counter::new("lag"));
    backbone.wait_effect("lag", 20).await;
    // Nothing more arrives; a few intervals later both partitions read 0.
    tokio::time::sleep(LAG_INTERVAL * 4).await;
    let registry = consumer.stop().await;

    assert_lags_zero(&registry, 2, "a partition's lag was never measured");

    // Restarted with nothing new to read, it has no read position: the
    // lag comes from the committed offsets.
    let consumer = backbone.consumer(&group, Counter::new("lag"));
    tokio::time::sleep(Duration::from_secs(4)).await;
    let registry = consumer.stop().await;
    assert_lags_zero(&registry, 2, "a restarted consumer measured no lag");
    let _ = stop.send(true);
    task.await.unwrap();
}
