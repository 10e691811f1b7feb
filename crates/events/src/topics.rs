//! Topic names and settings, kept in code so they apply unchanged on Apache
//! Kafka or Event Hubs in production (tansu, used locally, ignores
//! compaction and retention).

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

/// What a cell publishes, one topic each: `<cell id>.<domain>`.
pub const CELL_DOMAINS: &[&str] = &["orders", "inventory", "notifications", "analytics"];

/// The global topics the control plane publishes and every cell reads.
pub const CATALOG: &str = "catalog";
pub const ALLOCATIONS: &str = "allocations";
pub const CELLS: &str = "cells";
/// The trending list the control plane computes from every cell's
/// `analytics`.
pub const TRENDING: &str = "trending";

const WEEK_MS: u64 = 7 * 24 * 3600 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: u16,
    /// Keep the last event per key forever (the catalog: a new cell rebuilds
    /// from it) instead of deleting by age.
    pub compacted: bool,
    pub retention_ms: u64,
}

impl TopicSpec {
    fn deleted_after(name: String, partitions: u16, retention_ms: u64) -> Self {
        Self {
            name,
            partitions,
            compacted: false,
            retention_ms,
        }
    }

    /// The dead-letter topic of this one: a month of retention to find and fix
    /// what failed.
    pub fn dead_letters(&self) -> Self {
        Self::deleted_after(dlq(&self.name), 1, 4 * WEEK_MS)
    }
}

/// `<topic>.dlq`.
pub fn dlq(topic: &str) -> String {
    format!("{topic}.dlq")
}

/// `<cell id>.<domain>`.
pub fn cell_topic(cell: &str, domain: &str) -> String {
    format!("{cell}.{domain}")
}

/// A cell's own topics and their dead letters.
pub fn cell_topics(cell: &str, partitions: u16) -> Vec<TopicSpec> {
    with_dead_letters(
        CELL_DOMAINS
            .iter()
            .map(|domain| TopicSpec::deleted_after(cell_topic(cell, domain), partitions, WEEK_MS))
            .collect(),
    )
}

/// The global topics and their dead letters.
pub fn global_topics(partitions: u16) -> Vec<TopicSpec> {
    with_dead_letters(vec![
        TopicSpec {
            name: CATALOG.into(),
            partitions,
            compacted: true,
            retention_ms: 0,
        },
        TopicSpec::deleted_after(ALLOCATIONS.into(), partitions, WEEK_MS),
        TopicSpec::deleted_after(CELLS.into(), 1, WEEK_MS),
        TopicSpec::deleted_after(TRENDING.into(), 1, WEEK_MS),
    ])
}

fn with_dead_letters(topics: Vec<TopicSpec>) -> Vec<TopicSpec> {
    let dead: Vec<TopicSpec> = topics.iter().map(TopicSpec::dead_letters).collect();
    topics.into_iter().chain(dead).collect()
}

/// Creates the topics that do not exist yet; existing ones are left as they are.
pub async fn ensure_topics(
    brokers: &str,
    topics: &[TopicSpec],
    timeout: Duration,
) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let settings: Vec<(String, String)> = topics
        .iter()
        .map(|topic| {
            if topic.compacted {
                ("cleanup.policy".to_owned(), "compact".to_owned())
            } else {
                ("retention.ms".to_owned(), topic.retention_ms.to_string())
            }
        })
        .collect();
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .zip(&settings)
        .map(|(topic, (name, value))| {
            NewTopic::new(
                &topic.name,
                i32::from(topic.partitions),
                TopicReplication::Fixed(-1),
            )
            .set(name, value)
        })
        .collect();
    let results = admin
        .create_topics(
            &new_topics,
            &AdminOptions::new().operation_timeout(Some(timeout)),
        )
        .await?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => anyhow::bail!("creating topic {topic}: {code}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_owns_one_topic_per_domain_and_their_dead_letters() {
        let names: Vec<String> = cell_topics("cell-0", 3)
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(
            names,
            [
                "cell-0.orders",
                "cell-0.inventory",
                "cell-0.notifications",
                "cell-0.analytics",
                "cell-0.orders.dlq",
                "cell-0.inventory.dlq",
                "cell-0.notifications.dlq",
                "cell-0.analytics.dlq"
            ]
        );
    }

    #[test]
    fn only_the_catalog_is_compacted() {
        let topics = global_topics(6);
        let compacted: Vec<&str> = topics
            .iter()
            .filter(|t| t.compacted)
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(compacted, ["catalog"]);
        assert!(
            topics
                .iter()
                .any(|t| t.name == "catalog.dlq" && !t.compacted)
        );
    }
}
