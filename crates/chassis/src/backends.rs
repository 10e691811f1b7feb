//! The three back ends every service of a cell-based shop talks to: its own
//! MySQL, its own Redis and the Kafka broker. Connected in that order at
//! start-up, each failing with a [`DependencyError`](crate::deps::DependencyError)
//! or [`BrokerUnreachable`](events::BrokerUnreachable) that says what to do.

use std::time::Duration;

use anyhow::Context;
use redis::aio::ConnectionManager;
use secrecy::ExposeSecret;
use sqlx::MySqlPool;
use sqlx::migrate::Migrator;

use crate::config::{MySqlSettings, RedisSettings, redact};
use crate::deps::{connect_mysql, connect_redis};
use crate::health::Dependency;
use events::{KafkaSettings, Producer};

#[derive(Debug, Clone)]
pub struct Backends {
    pub mysql: MySqlPool,
    pub redis: ConnectionManager,
    pub kafka: Producer,
    mysql_target: String,
    redis_target: String,
}

impl Backends {
    /// Connects MySQL (applying `migrations` and the event backbone's
    /// outbox tables), Redis and Kafka.
    pub async fn connect(
        mysql: &MySqlSettings,
        migrations: &Migrator,
        redis: &RedisSettings,
        kafka: &KafkaSettings,
        client_id: &str,
    ) -> anyhow::Result<Self> {
        let mysql_target = redact(mysql.url.expose_secret());
        let pool = connect_mysql(mysql).await?;
        migrations
            .run(&pool)
            .await
            .with_context(|| format!("applying the migrations to MySQL at {mysql_target}"))?;
        events::MIGRATIONS.run(&pool).await.with_context(|| {
            format!("applying the event tables' migrations to MySQL at {mysql_target}")
        })?;
        tracing::info!(mysql = %mysql_target, "MySQL connected, migrations applied");
        let redis_target = redact(redis.url.expose_secret());
        let connection = connect_redis(redis).await?;
        tracing::info!(redis = %redis_target, "Redis connected");
        let producer = Producer::connect(kafka, client_id).await?;
        tracing::info!(kafka = %kafka.brokers, "Kafka broker connected");
        Ok(Self {
            mysql: pool,
            redis: connection,
            kafka: producer,
            mysql_target,
            redis_target,
        })
    }

    /// What `/readyz` probes.
    pub fn dependencies(&self) -> Vec<Dependency> {
        vec![
            Dependency::MySql {
                pool: self.mysql.clone(),
                target: self.mysql_target.clone(),
            },
            Dependency::Redis {
                connection: self.redis.clone(),
                target: self.redis_target.clone(),
            },
            Dependency::Kafka {
                producer: self.kafka.clone(),
            },
        ]
    }

    /// Flushes the producer and closes the pool, after the server drained.
    pub async fn close(&self, timeout: Duration) {
        if let Err(error) = self.kafka.flush(timeout).await {
            tracing::warn!(%error, "Kafka messages still unsent at shutdown");
        }
        self.mysql.close().await;
    }
}
