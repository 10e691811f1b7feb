//! `cargo xtask bench …`: benchmarks that print their figures and write
//! `target/reports/bench-*.json` — the event backbone ([`events`]) and a
//! cell's catalog reads ([`bench_catalog`]).

use crate::{bench_catalog, bench_search, events};

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
    /// A cell's catalog reads under load (half product lists with varied
    /// filters, sorts and pages, half product pages): p50/p90/p99 against the
    /// 20 ms p99 target. Needs the local stack running (`cargo xtask up
    /// --cells 1 --detach`); seeds the catalog and waits for the cell to hold
    /// it first, then measures after a 3 s warm-up.
    Catalog {
        /// Products in the catalog (seeded if missing; re-seeding updates).
        #[arg(long, default_value_t = 100_000)]
        products: usize,
        /// Concurrent clients, each a thread with its own connection.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Seconds to measure, after the warm-up.
        #[arg(long, default_value_t = 20)]
        duration_s: u64,
        /// The cell's base URL (default: the first cell in cells.yaml).
        #[arg(long)]
        cell: Option<String>,
        /// Every product and price range equally likely (the cold-cache worst
        /// case) instead of a shop's skew: product views by Zipf popularity
        /// (s = 1) and price filters from the facet buckets a page offers.
        #[arg(long)]
        uniform: bool,
    },
    /// A cell's search: faceted text, semantic (query embedding included)
    /// and similar products, and the same faceted search in MariaDB
    /// (FULLTEXT + GROUP BY) side by side. Needs the local stack running
    /// (`cargo xtask up --cells 1 --detach`); seeds the catalog first.
    Search {
        /// Products in the catalog (seeded if missing).
        #[arg(long, default_value_t = 100_000)]
        products: usize,
        /// Clients for faceted, similar and MariaDB.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Clients for semantic search (each query runs the model).
        #[arg(long, default_value_t = 2)]
        semantic_concurrency: usize,
        /// Seconds each workload is measured, after a 2 s warm-up.
        #[arg(long, default_value_t = 15)]
        duration_s: u64,
        /// The cell's base URL (default: the first cell in cells.yaml).
        #[arg(long)]
        cell: Option<String>,
    },
}

pub fn run(target: BenchTarget) -> anyhow::Result<()> {
    match target {
        BenchTarget::Search {
            products,
            concurrency,
            semantic_concurrency,
            duration_s,
            cell,
        } => bench_search::run(&bench_search::SearchBench {
            products,
            concurrency,
            semantic_concurrency,
            duration_s,
            cell,
        }),
        BenchTarget::Events { rate, seconds } => events::bench(rate, seconds),
        BenchTarget::Catalog {
            products,
            concurrency,
            duration_s,
            cell,
            uniform,
        } => bench_catalog::run(&bench_catalog::CatalogBench {
            products,
            concurrency,
            duration_s,
            cell,
            uniform,
        }),
    }
}
