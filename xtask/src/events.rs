//! `cargo xtask events …` and `cargo xtask bench events`: thin front ends to
//! the `cellwear-events` binary (crates/events), built from the workspace so
//! xtask itself stays free of Kafka and MySQL clients.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;
use topology::Topology;

use crate::root;
use crate::services::{self, BROKER, MYSQL};
use crate::stack::{cargo, target_dir};
use crate::tools::{self, run, step};

#[derive(Debug, clap::Subcommand)]
pub enum EventsCommand {
    /// Print a topic's messages as JSON lines.
    Tail {
        topic: String,
        /// Start at the oldest message instead of the next new one.
        #[arg(long)]
        from_beginning: bool,
        /// Stop after this many messages.
        #[arg(long)]
        limit: Option<usize>,
        /// Stop after this many milliseconds without a message.
        #[arg(long, default_value_t = 10_000)]
        idle_ms: u64,
        /// Kafka bootstrap servers (default: the broker in cells.yaml).
        #[arg(long)]
        brokers: Option<String>,
    },
    /// Re-drive the dead letters of <topic> (from <topic>.dlq) after a fix.
    ReplayDlq {
        topic: String,
        /// Kafka bootstrap servers (default: the broker in cells.yaml).
        #[arg(long)]
        brokers: Option<String>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchTarget {
    /// Outbox → broker → consumer: end-to-end latency and throughput.
    Events {
        /// Events per second to write.
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        /// How long to write.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

pub fn tool(command: EventsCommand) -> anyhow::Result<()> {
    let tool = build_tool(false)?;
    let mut invocation = Command::new(tool);
    match command {
        EventsCommand::Tail {
            topic,
            from_beginning,
            limit,
            idle_ms,
            brokers,
        } => {
            invocation.args([
                "--brokers",
                &local_broker(brokers)?,
                "tail",
                &topic,
                "--idle-ms",
                &idle_ms.to_string(),
            ]);
            if from_beginning {
                invocation.arg("--from-beginning");
            }
            if let Some(limit) = limit {
                invocation.args(["--limit", &limit.to_string()]);
            }
        }
        EventsCommand::ReplayDlq { topic, brokers } => {
            invocation.args(["--brokers", &local_broker(brokers)?, "replay-dlq", &topic]);
        }
    }
    run(&mut invocation)
}

pub fn bench(target: BenchTarget) -> anyhow::Result<()> {
    let BenchTarget::Events { rate, seconds } = target;
    step("checking tools and services");
    tools::ensure_build_tools()?;
    services::ensure_mysql()?;
    let tansu = tools::ensure_tansu()?;
    let broker = services::ensure_broker(&tansu)?;
    let report = root().join("target/reports/bench-events.json");
    let outcome = build_tool(true).and_then(|tool| {
        step(&format!(
            "benchmarking the event backbone: {rate} events/s for {seconds} s"
        ));
        run(Command::new(tool)
            .args([
                "--brokers",
                BROKER,
                "bench",
                "--mysql",
                &format!("mysql://root@{MYSQL}"),
            ])
            .args([
                "--rate",
                &rate.to_string(),
                "--seconds",
                &seconds.to_string(),
            ])
            .arg("--report")
            .arg(&report))
    });
    if let Some(broker) = broker {
        broker.stop(std::time::Duration::from_secs(5));
    }
    outcome
}

/// Builds `cellwear-events` (release for benchmarks) and returns its path.
fn build_tool(release: bool) -> anyhow::Result<PathBuf> {
    let root = root();
    let mut build = Command::new(cargo());
    if release {
        // A benchmark measures optimised code; this builds only the tool.
        step("building cellwear-events (release)");
        build.args([
            "build",
            "--release",
            "-p",
            "events",
            "--bin",
            "cellwear-events",
        ]);
    } else {
        step("building the workspace's tools");
        build.args(["build", "--workspace", "--bins"]);
    }
    run(build.current_dir(&root))?;
    let profile = if release { "release" } else { "debug" };
    Ok(target_dir(&root)?.join(profile).join("cellwear-events"))
}

fn local_broker(explicit: Option<String>) -> anyhow::Result<String> {
    match explicit {
        Some(brokers) => Ok(brokers),
        None => Ok(Topology::load(&root().join("cells.yaml"))
            .context("reading the broker's address from cells.yaml (or pass --brokers)")?
            .broker),
    }
}
