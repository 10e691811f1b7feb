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

/// Runs `cellwear-events` with `args` (`tail <topic>`, `replay-dlq <topic>`,
/// `--help`), against the broker in cells.yaml unless `--brokers` is given.
pub fn tool(args: Vec<String>) -> anyhow::Result<()> {
    let tool = build_tool(false)?;
    let mut invocation = Command::new(tool);
    if !args
        .iter()
        .any(|arg| arg == "--brokers" || arg.starts_with("--brokers="))
    {
        let broker = Topology::load(&root().join("cells.yaml"))
            .context("reading the broker's address from cells.yaml (or pass --brokers)")?
            .broker;
        invocation.args(["--brokers", &broker]);
    }
    run(invocation.args(&args))
}

/// Writes `rate` events a second for `seconds` with the release build of
/// `cellwear-events`, which reports latency and throughput.
pub fn bench(rate: u64, seconds: u64) -> anyhow::Result<()> {
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
