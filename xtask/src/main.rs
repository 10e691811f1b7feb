//! `cargo xtask …`: the project's own tooling, in Rust so it runs wherever
//! cargo does.
//!
//! * `up` / `down` — the whole platform on this machine ([`stack`]);
//! * `test` — every check CI runs ([`test`]);
//! * `seed` — a generated men's fashion catalog, loaded through the control
//!   plane's admin API ([`seed`]);
//! * `events …` — the event backbone's tools ([`events`]);
//! * `bench events`, `bench catalog`, `bench search` — benchmarks ([`bench`]);
//! * `drill oversell`, `drill order-journey`, `drill cell-down`, `drill
//!   drain` — drills against the stack ([`drill`], [`journey`],
//!   [`cell_down`], [`drain_drill`]);
//! * `e2e` — the frontend's journey in a real browser ([`e2e`]);
//!
//! [`tools`] installs what is missing (Debian packages, the pinned broker),
//! [`services`] finds or starts MariaDB, Redis and a broker for tests,
//! [`procs`] starts, watches and stops the processes, and [`http`] talks to
//! them once they run.

mod bench;
mod bench_catalog;
mod bench_checkout;
mod bench_edge;
mod bench_search;
mod cell_down;
mod drain_drill;
mod drill;
mod e2e;
mod events;
mod http;
mod journey;
mod procs;
mod seed;
mod services;
mod shopper;
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
        /// Demo products to seed once the stack is up (0: none; re-seeding
        /// an existing catalog only updates it).
        #[arg(long, default_value_t = 2000)]
        products: usize,
    },
    /// Stop everything `up` started.
    Down,
    /// Format check, clippy, every Rust test (and the frontend's).
    Test,
    /// Load a generated men's fashion catalog (brands, categories, products)
    /// into the running control plane; running it again updates it.
    Seed {
        /// How many products (the first N of the seed's catalog).
        #[arg(long, default_value_t = 2000)]
        products: usize,
        /// Which catalog to make; the same seed makes the same products.
        #[arg(long, default_value_t = seed::catalog::DEFAULT_SEED)]
        seed: u64,
        /// The control plane's base URL (default: from cells.yaml).
        #[arg(long)]
        control: Option<String>,
        /// The PEM key to sign the admin token with (default: the one
        /// `cargo xtask up` made, .cellwear/data/keys/signing.pem).
        #[arg(long)]
        keys: Option<PathBuf>,
    },
    /// Operate the event backbone: `events tail <topic> [--from-beginning]
    /// [--limit N]`, `events replay-dlq <topic>`; `events --help` for all.
    #[command(disable_help_flag = true)]
    Events {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        args: Vec<String>,
    },
    /// Refresh `.sqlx/` after adding or changing a `sqlx::query!`.
    SqlxPrepare,
    /// Download (once per machine) and unpack the embedding model,
    /// all-MiniLM-L6-v2, into models/ (`up` and `test` do it themselves).
    Models,
    /// Drills against the running stack that write target/reports/drill-*.json.
    Drill {
        #[command(subcommand)]
        drill: drill::Drill,
    },
    /// The frontend's end-to-end journey in Debian's Chromium against the
    /// running stack: shopper, admin and (with --drain) SRE.
    E2e {
        /// Also drain the shopper's cell and check the shopper keeps cart
        /// and orders (the cell stays drained).
        #[arg(long)]
        drain: bool,
    },
    /// Benchmarks that print figures and write target/reports/bench-*.json.
    Bench {
        #[command(subcommand)]
        target: bench::BenchTarget,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Up {
            cells,
            detach,
            fresh,
            products,
        } => stack::up(&stack::UpOptions {
            cells,
            detach,
            fresh,
            products,
        }),
        Command::Down => stack::down(),
        Command::Test => test::all(),
        Command::Seed {
            products,
            seed,
            control,
            keys,
        } => seed::seed(&seed::SeedOptions {
            products,
            seed,
            control,
            keys,
        }),
        Command::Events { args } => events::tool(args),
        Command::SqlxPrepare => sqlx_prepare::prepare(),
        Command::Models => tools::ensure_model().map(|dir| {
            println!("{}", dir.display());
        }),
        Command::Bench { target } => bench::run(target),
        Command::E2e { drain } => e2e::run(drain),
        Command::Drill { drill } => drill::run(drill),
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
