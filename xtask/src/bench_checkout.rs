//! `cargo xtask bench checkout`: orders per second through one cell, and
//! p50/p99 of each checkout step. Needs the local stack (`cargo xtask up
//! --cells 1 --detach`, which seeds a catalog with stock). Signs up one
//! shopper per client at the cell, then each client buys one in-stock item
//! after another — add to cart, start checkout, address, shipping, pay with
//! the test card through the Stripe emulator — for the measured window
//! after a warm-up. Writes target/reports/bench-checkout.json.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::bench::{Latencies, Summary};
use crate::http::{self, Refusal};
use crate::root;
use crate::seed::catalog::Rng;
use crate::shopper::{self, Shopper};
use crate::tools::step;

#[derive(Debug)]
pub struct CheckoutBench {
    pub concurrency: usize,
    pub duration_s: u64,
    /// The cell's base URL (default: the first cell in cells.yaml).
    pub cell: Option<String>,
}

const WARM_UP: Duration = Duration::from_secs(3);
const STEPS: [&str; 5] = ["add_to_cart", "start", "address", "shipping", "payment"];

#[derive(Debug, Serialize)]
struct Report {
    bench: &'static str,
    cell: String,
    concurrency: usize,
    duration_s: u64,
    warm_up_s: u64,
    skus: usize,
    orders: u64,
    orders_per_second: f64,
    /// Journeys refused on the way (mostly stock running out), by code.
    refused: BTreeMap<String, u64>,
    steps: BTreeMap<&'static str, Summary>,
}

#[derive(Debug, Default)]
struct Tally {
    steps: [Latencies; 5],
    orders: u64,
    refused: BTreeMap<String, u64>,
}

/// SKUs the cell can sell now, from its first product pages.
fn in_stock(cell: &str) -> anyhow::Result<Vec<String>> {
    let agent = http::agent(Duration::from_secs(10));
    let mut skus = Vec::new();
    let (page, _) = shopper::call(
        &agent,
        "GET",
        &format!("{cell}/api/products?limit=100"),
        None,
        None,
    )
    .map_err(|r| anyhow::anyhow!("listing products: {r}"))?;
    for item in page["items"].as_array().into_iter().flatten() {
        let Some(slug) = item["slug"].as_str() else {
            continue;
        };
        let (detail, _) = shopper::call(
            &agent,
            "GET",
            &format!("{cell}/api/products/{slug}"),
            None,
            None,
        )
        .map_err(|r| anyhow::anyhow!("reading {slug}: {r}"))?;
        for variant in detail["variants"].as_array().into_iter().flatten() {
            if variant["availability"]["quantity"].as_u64().unwrap_or(0) > 0
                && let Some(sku) = variant["sku"].as_str()
            {
                skus.push(sku.to_owned());
            }
        }
    }
    Ok(skus)
}

/// Runs one step, recording its latency (or its refusal) in `latencies`.
fn timed<T>(
    latencies: &mut Latencies,
    measure_from: Instant,
    step: impl FnOnce() -> Result<T, Refusal>,
) -> Result<T, Refusal> {
    let began = Instant::now();
    let outcome = step();
    let recorded = outcome.as_ref().map(|_| ()).map_err(shopper::code);
    latencies.record(began, measure_from, recorded);
    outcome
}

/// One purchase, step by step.
fn journey(
    client: &Shopper,
    agent: &ureq::Agent,
    sku: &str,
    tally: &mut Tally,
    measure_from: Instant,
) -> Result<(), Refusal> {
    let [add, start, address, shipping, payment] = &mut tally.steps;
    timed(add, measure_from, || client.add_to_cart(agent, sku))?;
    let checkout = timed(start, measure_from, || client.start_checkout(agent))?;
    timed(address, measure_from, || {
        client.set_address(agent, &checkout)
    })?;
    timed(shipping, measure_from, || {
        client.set_shipping(agent, &checkout)
    })?;
    timed(payment, measure_from, || client.pay(agent, &checkout))
}

pub fn run(options: &CheckoutBench) -> anyhow::Result<()> {
    if options.concurrency == 0 || options.duration_s == 0 {
        bail!("--concurrency and --duration-s must be at least 1");
    }
    let cell = match &options.cell {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => http::first_cell_url().context("pass --cell URL to name the cell")?,
    };
    http::require_live(&cell, "the cell")?;
    let skus = in_stock(&cell)?;
    if skus.is_empty() {
        bail!("{cell} has nothing in stock: seed a catalog first (`cargo xtask up` does)");
    }
    step(&format!(
        "signing up {} shoppers at {cell}",
        options.concurrency
    ));
    let run_id = std::process::id();
    let shoppers: Vec<Shopper> = std::thread::scope(|scope| {
        let spawned: Vec<_> = (0..options.concurrency)
            .map(|i| {
                let cell = &cell;
                scope.spawn(move || {
                    let agent = http::agent(Duration::from_secs(60));
                    Shopper::sign_up(
                        &agent,
                        cell,
                        &format!("bench-{run_id}-{i}@example.com"),
                        Some(shopper::client_ip(i)),
                    )
                })
            })
            .collect();
        spawned
            .into_iter()
            .filter_map(|h| h.join().ok())
            .collect::<Result<_, _>>()
    })
    .map_err(|r| anyhow::anyhow!("signing a shopper up: {r}"))?;

    step(&format!(
        "benchmarking checkout at {cell}: {} clients for {} s after a {} s warm-up, {} SKUs",
        options.concurrency,
        options.duration_s,
        WARM_UP.as_secs(),
        skus.len()
    ));
    let measure_from = Instant::now() + WARM_UP;
    let until = measure_from + Duration::from_secs(options.duration_s);
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let spawned: Vec<_> = shoppers
            .iter()
            .enumerate()
            .map(|(id, client)| {
                let skus = &skus;
                scope.spawn(move || {
                    let agent = http::agent(Duration::from_secs(30));
                    let mut rng = Rng::for_item(0x0C4E_C0C7, id as u64);
                    let mut tally = Tally::default();
                    while Instant::now() < until {
                        let sku = &skus[rng.below(skus.len())];
                        let began = Instant::now();
                        match journey(client, &agent, sku, &mut tally, measure_from) {
                            Ok(()) if began >= measure_from => tally.orders += 1,
                            Ok(()) => {}
                            Err(refusal) => {
                                *tally.refused.entry(shopper::code(&refusal)).or_insert(0) += 1;
                                // A refused journey leaves its line behind.
                                let _ = shopper::call(
                                    &agent,
                                    "DELETE",
                                    &format!("{}/api/cart", client.base),
                                    Some(&client.token),
                                    None,
                                );
                            }
                        }
                    }
                    tally
                })
            })
            .collect();
        spawned.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let seconds = options.duration_s as f64;
    let mut total = Tally::default();
    for tally in tallies {
        total.orders += tally.orders;
        for (code, n) in tally.refused {
            *total.refused.entry(code).or_insert(0) += n;
        }
        for (mine, theirs) in total.steps.iter_mut().zip(tally.steps) {
            mine.merge(theirs);
        }
    }
    let steps: BTreeMap<&'static str, Summary> = STEPS
        .iter()
        .zip(total.steps)
        .map(|(name, latencies)| (*name, Summary::of(latencies, options.concurrency, seconds)))
        .collect();
    let report = Report {
        bench: "checkout",
        cell,
        concurrency: options.concurrency,
        duration_s: options.duration_s,
        warm_up_s: WARM_UP.as_secs(),
        skus: skus.len(),
        orders: total.orders,
        orders_per_second: total.orders as f64 / seconds,
        refused: total.refused,
        steps,
    };
    println!(
        "checkout: {} orders in {} s = {:.1} orders/s at concurrency {}; refused {:?}",
        report.orders,
        report.duration_s,
        report.orders_per_second,
        report.concurrency,
        report.refused
    );
    println!(
        "{:<12} {:>8} {:>9} {:>9} {:>9} {:>7}",
        "step", "requests", "p50 ms", "p99 ms", "max ms", "errors"
    );
    for (name, summary) in &report.steps {
        println!(
            "{name:<12} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>7}",
            summary.requests, summary.p50_ms, summary.p99_ms, summary.max_ms, summary.errors
        );
    }
    let path = root().join("target/reports/bench-checkout.json");
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
    eprintln!("bench: report written to {}", path.display());
    if report.orders == 0 {
        bail!("no order was confirmed in the measured window");
    }
    Ok(())
}
