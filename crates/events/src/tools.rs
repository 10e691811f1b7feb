//! Operator tools behind `cargo xtask events …`: read a topic, and re-drive
//! dead letters to the topic they came from once the fault is fixed.

use std::io::Write;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::envelope::Envelope;
use crate::topics::dlq;

fn consumer(brokers: &str, group: &str, from_beginning: bool) -> anyhow::Result<StreamConsumer> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set(
            "auto.offset.reset",
            if from_beginning { "earliest" } else { "latest" },
        )
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "1000")
        .create()?)
}

/// How long a tool waits to be given partitions before it gives up.
const JOIN_LIMIT: Duration = Duration::from_secs(30);

/// The next message, or `None` once `idle` passed without one while the
/// consumer held partitions. Joining the group takes a while and does not
/// count as idle; it is bounded by [`JOIN_LIMIT`].
async fn next<'c>(
    consumer: &'c StreamConsumer,
    topic: &str,
    idle: Duration,
    quiet_since: &mut Option<Instant>,
    started: Instant,
) -> anyhow::Result<Option<BorrowedMessage<'c>>> {
    loop {
        match tokio::time::timeout(Duration::from_millis(200), consumer.recv()).await {
            Ok(message) => {
                *quiet_since = Some(Instant::now());
                return Ok(Some(message?));
            }
            Err(_) => {
                let assigned = consumer
                    .assignment()
                    .map(|a| a.count() > 0)
                    .unwrap_or(false);
                if assigned {
                    if quiet_since.get_or_insert_with(Instant::now).elapsed() >= idle {
                        return Ok(None);
                    }
                } else if started.elapsed() > JOIN_LIMIT {
                    anyhow::bail!(
                        "got no partitions of {topic} within {} s: does the topic exist, and is the broker up?",
                        JOIN_LIMIT.as_secs()
                    );
                }
            }
        }
    }
}

/// Prints each message of `topic` as one JSON line (position, key, headers,
/// and the envelope when the payload is one) until `limit` messages or `idle`
/// without any. Its group is its own, so it disturbs no consumer.
pub async fn tail(
    brokers: &str,
    topic: &str,
    from_beginning: bool,
    limit: Option<usize>,
    idle: Duration,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let group = format!("cellwear.tail.{}", uuid::Uuid::new_v4().simple());
    let consumer = consumer(brokers, &group, from_beginning)?;
    consumer.subscribe(&[topic])?;
    let (started, mut quiet_since) = (Instant::now(), None);
    let mut printed = 0;
    while limit.is_none_or(|limit| printed < limit) {
        let Some(message) = next(&consumer, topic, idle, &mut quiet_since, started).await? else {
            break;
        };
        let payload = message.payload().unwrap_or_default();
        let event = match Envelope::from_slice(payload) {
            Ok(envelope) => serde_json::to_value(envelope)?,
            Err(_) => serde_json::Value::String(String::from_utf8_lossy(payload).into_owned()),
        };
        let headers: serde_json::Map<String, serde_json::Value> = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| {
                        let value = h
                            .value
                            .map(|v| String::from_utf8_lossy(v).into_owned())
                            .unwrap_or_default();
                        (h.key.to_owned(), serde_json::Value::String(value))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let line = serde_json::json!({
            "topic": message.topic(),
            "partition": message.partition(),
            "offset": message.offset(),
            "key": message.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            "headers": headers,
            "event": event,
        });
        writeln!(out, "{line}")?;
        printed += 1;
    }
    consumer.unsubscribe();
    Ok(printed)
}

/// Publishes every message parked on `<topic>.dlq` back to the topic named in
/// its `dlq.topic` header (else `topic`), with its key and its original
/// headers, and commits as it goes: a second run re-drives only what came
/// since. Stops after `idle` with no message; returns how many it moved.
pub async fn replay_dead_letters(
    brokers: &str,
    topic: &str,
    idle: Duration,
) -> anyhow::Result<usize> {
    let source = dlq(topic);
    let consumer = consumer(brokers, &format!("cellwear.dlq-replay.{topic}"), true)?;
    consumer.subscribe(&[source.as_str()])?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .create()?;
    let (started, mut quiet_since) = (Instant::now(), None);
    let mut moved = 0;
    loop {
        let Some(message) = next(&consumer, &source, idle, &mut quiet_since, started).await? else {
            break;
        };
        let mut target = topic.to_owned();
        let mut headers = OwnedHeaders::new();
        if let Some(original) = message.headers() {
            for header in original.iter() {
                if header.key == "dlq.topic" {
                    if let Some(value) = header.value {
                        target = String::from_utf8_lossy(value).into_owned();
                    }
                } else if !header.key.starts_with("dlq.") {
                    headers = headers.insert(Header {
                        key: header.key,
                        value: header.value,
                    });
                }
            }
        }
        let mut record = FutureRecord::to(&target).headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(error, _)| anyhow::anyhow!("re-publishing to {target}: {error}"))?;
        consumer.commit_message(&message, CommitMode::Sync)?;
        moved += 1;
    }
    consumer.unsubscribe();
    Ok(moved)
}
