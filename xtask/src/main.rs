//! `cargo xtask …`: the project's own tooling, in Rust so it runs wherever
//! cargo does.
//!
//! * `up` / `down` — the whole platform on this machine ([`stack`]);
//! * `test` — every check CI runs ([`test`]);
//! * `events …`, `bench events` — the event backbone's tools ([`events`]);
//!
//! [`tools`] installs what is missing (Debian packages, the pinned broker),
//! [`services`] finds or starts MariaDB, Redis and a broker for tests, and
//! [`procs`] starts, watches and stops the processes.

mod events;
mod procs;
mod services;
mod sqlx_prepare;
mod stack;
mod test;
mod tools;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Run, test and operate Cellwear locally")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build and start the broker, per-cell MySQL and Redis, the control
    /// plane, the cells and the edge.
    Up {
        /// How many of the cells in cells.yaml to run (default: all).
        #[arg(long)]
        cells: Option<usize>,
        /// Return once everything is ready; `cargo xtask down` stops it.
        #[arg(long)]
        detach: bool,
        /// Wipe local data (databases, logs) first.
        #[arg(long)]
        fresh: bool,
    },
    /// Stop everything `up` started.
    Down,
    /// Format check, clippy, every Rust test (and the frontend's).
    Test,
    /// Operate the event backbone: `events tail <topic> [--from-beginning]
    /// [--limit N]`, `events replay-dlq <topic>`; `events --help` for all.
    #[command(disable_help_flag = true)]
    Events {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        args: Vec<String>,
    },
    /// Refresh `.sqlx/` after adding or changing a `sqlx::query!`.
    SqlxPrepare,
    /// Benchmarks that print figures and write target/reports/bench-*.json.
    Bench {
        #[command(subcommand)]
        target: events::BenchTarget,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Up {
            cells,
            detach,
            fresh,
        } => stack::up(&stack::UpOptions {
            cells,
            detach,
            fresh,
        }),
        Command::Down => stack::down(),
        Command::Test => test::all(),
        Command::Events { args } => events::tool(args),
        Command::SqlxPrepare => sqlx_prepare::prepare(),
        Command::Bench { target } => events::bench(target),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one folder below it).
///
/// Read at run time — `cargo run` tells the program its manifest folder — so
/// that clones sharing one `CARGO_TARGET_DIR` never act on each other's tree
/// through a binary built for another clone; the compile-time path is the
/// fallback for running the binary directly.
pub fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Where `up` keeps data, logs and pid files (gitignored).
pub fn state_dir() -> PathBuf {
    root().join(".cellwear")
}

/// Where installed tools are cached, outside the clone so fresh clones on the
/// same machine reuse them.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("CELLWEAR_TOOLS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/cellwear/tools"))
        })
        .unwrap_or_else(|| state_dir().join("tools"))
}
