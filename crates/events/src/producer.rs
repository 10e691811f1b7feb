use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, Producer as _};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSettings {
    /// Bootstrap servers, `host:port[,host:port…]`.
    pub brokers: String,
    /// Partitions of each topic this service creates.
    pub partitions: u16,
    pub connect_timeout_ms: u64,
    /// How long a produced message may wait for the broker before it fails.
    pub message_timeout_ms: u64,
    /// Put before every topic name: one broker can carry several isolated
    /// platforms (tests, previews). Empty in production.
    #[serde(default)]
    pub topic_prefix: String,
}

impl KafkaSettings {
    /// `name` with this platform's prefix.
    pub fn topic(&self, name: &str) -> String {
        format!("{}{name}", self.topic_prefix)
    }

    /// `specs` renamed with this platform's prefix.
    pub fn namespaced(
        &self,
        specs: Vec<crate::topics::TopicSpec>,
    ) -> Vec<crate::topics::TopicSpec> {
        specs
            .into_iter()
            .map(|mut spec| {
                spec.name = self.topic(&spec.name);
                spec
            })
            .collect()
    }

    pub fn check(&self) -> Result<(), String> {
        if self.brokers.trim().is_empty() {
            return Err("kafka.brokers: must name at least one host:port".into());
        }
        for broker in self.brokers.split(',') {
            let port = broker
                .trim()
                .rsplit_once(':')
                .map(|(_, p)| p.parse::<u16>());
            if !matches!(port, Some(Ok(p)) if p > 0) {
                return Err(format!("kafka.brokers: \"{broker}\" is not host:port"));
            }
        }
        if self.partitions == 0 {
            return Err("kafka.partitions: must be at least 1".into());
        }
        if self.connect_timeout_ms == 0 || self.message_timeout_ms == 0 {
            return Err(
                "kafka.connect_timeout_ms and kafka.message_timeout_ms: must be greater than 0"
                    .into(),
            );
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "Kafka broker is not reachable at {brokers}: {reason}. Is the broker running? `cargo xtask up` starts one (tansu); `cargo xtask test` starts one for the tests"
)]
pub struct BrokerUnreachable {
    pub brokers: String,
    pub reason: String,
}

/// The service's one Kafka producer: idempotent (`enable.idempotence`,
/// `acks=all`), so a retried send never duplicates or reorders a message
/// within a partition.
///
/// An idempotent producer that hits a fatal error (a fenced producer id after
/// its messages timed out, for one) refuses every later message; librdkafka's
/// answer is a new instance, which [`Producer::renew_if_fatal`] makes in place
/// for every clone.
#[derive(Clone)]
pub struct Producer {
    inner: Arc<ArcSwap<FutureProducer>>,
    config: ClientConfig,
    brokers: String,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("brokers", &self.brokers)
            .finish()
    }
}

impl Producer {
    /// Creates the producer and waits until the broker answers a metadata
    /// request, so a missing broker fails start-up rather than the first send.
    pub async fn connect(
        settings: &KafkaSettings,
        client_id: &str,
    ) -> Result<Self, BrokerUnreachable> {
        let unreachable = |reason: String| BrokerUnreachable {
            brokers: settings.brokers.clone(),
            reason,
        };
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &settings.brokers)
            .set("client.id", client_id)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // Batching costs latency; a few milliseconds still batch well.
            .set("linger.ms", "2")
            .set(
                "message.timeout.ms",
                settings.message_timeout_ms.to_string(),
            )
            .set(
                "socket.connection.setup.timeout.ms",
                settings.connect_timeout_ms.max(1000).to_string(),
            );
        let inner: FutureProducer = config.create().map_err(|e| unreachable(e.to_string()))?;
        let producer = Self {
            inner: Arc::new(ArcSwap::from_pointee(inner)),
            config,
            brokers: settings.brokers.clone(),
        };
        producer
            .ping(Duration::from_millis(settings.connect_timeout_ms))
            .await
            .map_err(unreachable)?;
        Ok(producer)
    }

    /// Asks the broker for cluster metadata; `Err` says why it did not answer.
    pub async fn ping(&self, timeout: Duration) -> Result<(), String> {
        let producer = self.current();
        // librdkafka's metadata call blocks its thread.
        let answer = tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(None, timeout)
                .map(|metadata| metadata.brokers().len())
        })
        .await
        .map_err(|e| format!("metadata task failed: {e}"))?;
        match answer {
            Ok(0) => Err("the broker answered with no brokers in its metadata".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Where the producer connects (safe to show: no credentials).
    pub fn brokers(&self) -> &str {
        &self.brokers
    }

    /// The librdkafka producer in use now.
    pub fn current(&self) -> Arc<FutureProducer> {
        self.inner.load_full()
    }

    /// Replaces the producer when `error` (what a send failed with) or the
    /// client says it cannot go on: a fatal error, or a producer id the broker
    /// fenced or forgot. `true` if it did. Messages queued on the old instance
    /// fail and are sent again by their caller (the outbox keeps them unsent).
    pub fn renew_if_broken(&self, error: &KafkaError) -> bool {
        let broken_id = matches!(
            error.rdkafka_error_code(),
            Some(
                RDKafkaErrorCode::ProducerFenced
                    | RDKafkaErrorCode::InvalidProducerEpoch
                    | RDKafkaErrorCode::InvalidProducerIdMapping
                    | RDKafkaErrorCode::UnknownProducerId
                    | RDKafkaErrorCode::OutOfOrderSequenceNumber
                    | RDKafkaErrorCode::Fatal
            )
        );
        let fatal = self.current().client().fatal_error();
        if !broken_id && fatal.is_none() {
            return false;
        }
        let (code, reason) = fatal.unwrap_or((RDKafkaErrorCode::Fatal, error.to_string()));
        match self.config.create::<FutureProducer>() {
            Ok(fresh) => {
                tracing::warn!(?code, %reason, "Kafka producer hit a fatal error; replaced it with a new instance");
                self.inner.store(Arc::new(fresh));
                true
            }
            Err(error) => {
                tracing::error!(%error, "cannot create a replacement Kafka producer");
                false
            }
        }
    }

    /// Waits for every message in flight to be acknowledged (shutdown).
    pub async fn flush(&self, timeout: Duration) -> Result<(), String> {
        let producer = self.current();
        tokio::task::spawn_blocking(move || producer.flush(timeout))
            .await
            .map_err(|e| format!("flush task failed: {e}"))?
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(brokers: &str) -> KafkaSettings {
        KafkaSettings {
            brokers: brokers.into(),
            partitions: 3,
            connect_timeout_ms: 500,
            message_timeout_ms: 5000,
            topic_prefix: String::new(),
        }
    }

    #[test]
    fn a_broker_list_without_ports_is_rejected() {
        let error = settings("localhost").check().unwrap_err();
        assert!(error.starts_with("kafka.brokers:"), "{error}");
        assert!(settings("a:1, b:2").check().is_ok());
    }

    #[tokio::test]
    async fn an_unreachable_broker_fails_with_its_address() {
        // Port 1 on loopback: nothing listens there.
        let error = Producer::connect(&settings("127.0.0.1:1"), "test")
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("127.0.0.1:1"), "{error}");
        assert!(error.contains("xtask up"), "{error}");
    }
}
