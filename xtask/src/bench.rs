//! `cargo xtask bench …`: benchmarks that print their figures and write
//! `target/reports/bench-*.json` — the event backbone ([`events`]), a cell's
//! catalog reads ([`bench_catalog`]), search ([`bench_search`]), checkout
//! ([`bench_checkout`]) and the edge against nginx ([`bench_edge`]).

use std::time::Instant;

use serde::Serialize;

use crate::bench_catalog::percentile_ms;
use crate::{bench_catalog, bench_checkout, bench_edge, bench_search, events};

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
    /// Orders per second through one cell and p50/p99 of each checkout step
    /// (cart, start, address, shipping, payment via the Stripe emulator).
    /// Needs the local stack running (`cargo xtask up --cells 1 --detach`).
    Checkout {
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seconds measured, after a 3 s warm-up.
        #[arg(long, default_value_t = 20)]
        duration_s: u64,
        /// The cell's base URL (default: the first cell in cells.yaml).
        #[arg(long)]
        cell: Option<String>,
    },
    /// The edge against nginx (`hash $cookie_sk consistent` over the same
    /// cells) and straight to a cell: the same wrk load through each, for
    /// throughput and for latency, with each proxy's CPU time per request.
    /// Needs the local stack running (`cargo xtask up --detach`), or
    /// `--stand-in`; installs wrk and nginx from Debian if missing.
    Edge {
        /// Connections of the throughput load.
        #[arg(long, default_value_t = 64)]
        connections: u32,
        /// Connections of the latency load (few: an unsaturated machine).
        #[arg(long, default_value_t = 4)]
        latency_connections: u32,
        /// wrk's threads.
        #[arg(long, default_value_t = 2)]
        threads: u32,
        /// Worker threads of the edge and worker processes of nginx (the
        /// same for both; on 2 cores wrk needs the other one).
        #[arg(long, default_value_t = 1)]
        workers: u32,
        /// Seconds of each load on each target, after a 2 s warm-up.
        #[arg(long, default_value_t = 10)]
        duration_s: u64,
        /// Rounds over the targets in turn; the median round is reported.
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// The cell path asked for.
        #[arg(long, default_value = "/api/categories")]
        path: String,
        /// In front of three stand-in cells (nginx answering a fixed JSON
        /// document) instead of the stack's: the proxies' own cost, with the
        /// proxies pinned to one core; needs no stack. Writes
        /// target/reports/bench-edge-stand-in.json.
        #[arg(long)]
        stand_in: bool,
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
        BenchTarget::Edge {
            connections,
            latency_connections,
            threads,
            workers,
            duration_s,
            rounds,
            path,
            stand_in,
        } => bench_edge::run(&bench_edge::EdgeBench {
            connections,
            latency_connections,
            threads,
            workers,
            duration_s,
            rounds,
            path,
            stand_in,
        }),
        BenchTarget::Checkout {
            concurrency,
            duration_s,
            cell,
        } => bench_checkout::run(&bench_checkout::CheckoutBench {
            concurrency,
            duration_s,
            cell,
        }),
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

/// Latencies of one kind of request, in the measured window only.
#[derive(Debug, Default)]
pub(crate) struct Latencies {
    pub(crate) nanos: Vec<u64>,
    pub(crate) errors: u64,
    pub(crate) sample: Option<String>,
}

impl Latencies {
    /// Counts one request that began at `started`, unless in the warm-up.
    pub(crate) fn record(
        &mut self,
        started: Instant,
        measure_from: Instant,
        outcome: Result<(), String>,
    ) {
        if started < measure_from {
            return;
        }
        match outcome {
            Ok(()) => self.nanos.push(started.elapsed().as_nanos() as u64),
            Err(e) => {
                self.errors += 1;
                self.sample.get_or_insert(e);
            }
        }
    }

    pub(crate) fn merge(&mut self, other: Latencies) {
        self.nanos.extend(other.nanos);
        self.errors += other.errors;
        if self.sample.is_none() {
            self.sample = other.sample;
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    pub(crate) concurrency: usize,
    pub(crate) requests: u64,
    pub(crate) per_second: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
    pub(crate) errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error_sample: Option<String>,
}

impl Summary {
    pub(crate) fn of(mut l: Latencies, concurrency: usize, seconds: f64) -> Self {
        l.nanos.sort_unstable();
        let requests = l.nanos.len() as u64 + l.errors;
        Self {
            concurrency,
            requests,
            per_second: requests as f64 / seconds,
            p50_ms: percentile_ms(&l.nanos, 50.0),
            p95_ms: percentile_ms(&l.nanos, 95.0),
            p99_ms: percentile_ms(&l.nanos, 99.0),
            max_ms: l.nanos.last().map_or(0.0, |n| *n as f64 / 1e6),
            errors: l.errors,
            error_sample: l.sample,
        }
    }
}
