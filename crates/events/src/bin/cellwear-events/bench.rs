//! The backbone benchmark: writers commit a state change and its event at a
//! fixed rate; the relay publishes; a consumer group applies each event
//! idempotently and records how long it took from the event's creation.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use events::consumer::{Consumer, ConsumerSettings, Handler, HandlerError};
use events::outbox::{Relay, RelaySettings, enqueue};
use events::topics::{TopicSpec, ensure_topics};
use events::{Envelope, EventMetrics, KafkaSettings, Producer, Schemas};
use sqlx::mysql::{MySqlConnection, MySqlPoolOptions};
use sqlx::{Connection, MySqlPool};
use tokio::sync::watch;
use wire::events::ProbePublished;

#[derive(Debug, clap::Args)]
pub struct Options {
    /// MySQL server (no database: the bench makes and drops its own).
    #[arg(long, default_value = "mysql://root@127.0.0.1:3306")]
    mysql: String,
    /// Events per second the writers commit.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// How long the writers write.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long, default_value_t = 3)]
    partitions: u16,
    /// Concurrent writer tasks.
    #[arg(long, default_value_t = 16)]
    writers: u64,
    /// Where the JSON report goes.
    #[arg(long, default_value = "target/reports/bench-events.json")]
    report: PathBuf,
}

#[derive(Debug, Default)]
struct Observed {
    latencies_ms: Vec<f64>,
    last: Option<Instant>,
}

#[derive(Debug, Clone)]
struct Record(Arc<Mutex<Observed>>);

#[async_trait]
impl Handler for Record {
    async fn handle(
        &self,
        _conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let age = time::OffsetDateTime::now_utc() - event.occurred_at;
        if let Ok(mut observed) = self.0.lock() {
            observed.latencies_ms.push(age.as_seconds_f64() * 1000.0);
            observed.last = Some(Instant::now());
        }
        Ok(())
    }
}

pub async fn run(brokers: &str, options: Options) -> anyhow::Result<()> {
    let id = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
    let database = format!("bench_events_{id}");
    let mut admin = MySqlConnection::connect(&options.mysql)
        .await
        .context("connecting to MySQL")?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{database}`")))
        .execute(&mut admin)
        .await?;
    let outcome = measure(brokers, &options, &id, &database).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE `{database}`")))
        .execute(&mut admin)
        .await?;
    outcome
}

async fn measure(brokers: &str, options: &Options, id: &str, database: &str) -> anyhow::Result<()> {
    let pool = MySqlPoolOptions::new()
        .max_connections(options.writers as u32 + 4)
        .connect(&format!("{}/{database}", options.mysql))
        .await?;
    events::MIGRATIONS.run(&pool).await?;
    sqlx::raw_sql(
        "CREATE TABLE bench_ledger (sequence BIGINT UNSIGNED PRIMARY KEY) ENGINE = InnoDB",
    )
    .execute(&pool)
    .await?;
    let topic = format!("bench.{id}");
    let spec = TopicSpec {
        name: topic.clone(),
        partitions: options.partitions,
        compacted: false,
        retention_ms: 3_600_000,
    };
    ensure_topics(
        brokers,
        &[spec.clone(), spec.dead_letters()],
        Duration::from_secs(10),
    )
    .await?;
    let settings = KafkaSettings {
        brokers: brokers.to_owned(),
        partitions: options.partitions,
        connect_timeout_ms: 3000,
        message_timeout_ms: 10_000,
        topic_prefix: String::new(),
    };
    let producer = Producer::connect(&settings, "cellwear-bench").await?;
    let metrics = EventMetrics::unregistered();
    let (stop, shutdown) = watch::channel(false);
    let relay = Relay::new(
        pool.clone(),
        producer.clone(),
        metrics.clone(),
        RelaySettings::default(),
    );
    let relay_task = tokio::spawn(relay.clone().run(shutdown.clone()));
    let observed = Record(Arc::new(Mutex::new(Observed::default())));
    let mut consumer_settings =
        ConsumerSettings::new(brokers, &format!("bench.{id}"), &[topic.as_str()]);
    consumer_settings.session_timeout = Duration::from_secs(6);
    consumer_settings.heartbeat_interval = Duration::from_millis(500);
    let consumer = Consumer::new(consumer_settings, pool.clone(), producer.clone(), metrics)
        .on::<ProbePublished>(observed.clone());
    let consumer_task = tokio::spawn(consumer.run(shutdown.clone()));

    eprintln!("==> waiting for the consumer group to form");
    write_probe(&pool, &relay, &topic, "warm-up", 0).await?;
    wait_for(&observed, 1, Duration::from_secs(30))
        .await
        .context("the warm-up event never arrived")?;
    observed
        .0
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .latencies_ms
        .clear();

    let total = options.rate * options.seconds;
    eprintln!(
        "==> writing {total} events at {} per second with {} writers",
        options.rate, options.writers
    );
    let started = Instant::now();
    let writers: Vec<_> = (0..options.writers)
        .map(|writer| {
            let (pool, relay, topic, run) =
                (pool.clone(), relay.clone(), topic.clone(), id.to_owned());
            let (rate, step) = (options.rate, options.writers);
            tokio::spawn(async move {
                let mut sequence = writer;
                while sequence < total {
                    let due = started + Duration::from_secs_f64(sequence as f64 / rate as f64);
                    tokio::time::sleep_until(due.into()).await;
                    write_probe(&pool, &relay, &topic, &run, sequence).await?;
                    sequence += step;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for writer in writers {
        writer.await??;
    }
    let written_in = started.elapsed();
    wait_for(&observed, total as usize, Duration::from_secs(120)).await?;
    let _ = stop.send(true);
    consumer_task.await??;
    relay_task.await?;

    let observed = observed.0.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let mut latencies = observed.latencies_ms.clone();
    latencies.sort_by(f64::total_cmp);
    let quantile = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    let finished_in = observed
        .last
        .map(|last| last - started)
        .unwrap_or(written_in);
    let report = serde_json::json!({
        "events": total,
        "target_rate_per_s": options.rate,
        "partitions": options.partitions,
        "writers": options.writers,
        "events_per_s": (total as f64 / finished_in.as_secs_f64()).round(),
        "e2e_p50_ms": round2(quantile(0.50)),
        "e2e_p90_ms": round2(quantile(0.90)),
        "e2e_p99_ms": round2(quantile(0.99)),
        "e2e_max_ms": round2(quantile(1.0)),
        "target": "p99 < 50 ms at >= 1000 events/s",
    });
    if let Some(folder) = options.report.parent() {
        std::fs::create_dir_all(folder)?;
    }
    std::fs::write(&options.report, serde_json::to_string_pretty(&report)?)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!("report written to {}", options.report.display());
    Ok(())
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

async fn write_probe(
    pool: &MySqlPool,
    relay: &Relay,
    topic: &str,
    run: &str,
    sequence: u64,
) -> anyhow::Result<()> {
    let envelope = Envelope::new(
        &ProbePublished {
            run: run.to_owned(),
            sequence,
        },
        None,
        None,
    )?;
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO bench_ledger (sequence) VALUES (?) ON DUPLICATE KEY UPDATE sequence = sequence")
        .bind(sequence)
        .execute(&mut *tx)
        .await?;
    enqueue(&mut tx, &Schemas::builtin(), topic, &envelope).await?;
    tx.commit().await?;
    relay.poke();
    Ok(())
}

async fn wait_for(observed: &Record, count: usize, limit: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let seen = observed.0.lock().map(|o| o.latencies_ms.len()).unwrap_or(0);
        if seen >= count {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < limit,
            "only {seen} of {count} events arrived within {} s",
            limit.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
