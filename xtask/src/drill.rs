//! `cargo xtask drill oversell`: many shoppers, spread over the cells, race
//! to buy a SKU of which only a few units exist. Against the local stack
//! (`cargo xtask up --cells 2 --detach`): makes a product with `units` units
//! through the control plane's admin API, waits for it in every cell, signs
//! each shopper up at a cell (round robin, each from an address of its own
//! as the edge would forward it, so the per-IP sign-up limits see many
//! shoppers rather than this one machine) and walks them to the payment step,
//! then lets all of them pay at once with a test card. Shoppers refused
//! because their cell ran dry try again while the control plane still has
//! units to hand out (top-ups take a moment). Passes when exactly `units`
//! orders are confirmed, the others were refused cleanly, and the control
//! plane's ledger shows every unit sold and none twice. Writes
//! target/reports/drill-oversell.json.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;
use wire::catalog::{ProductInput, StockLedger, VariantInput};

use crate::http::{self, Refusal};
use crate::seed::{Admin, default_key_file};
use crate::shopper::{self, Shopper};
use crate::tools::step;
use crate::{root, stack};

#[derive(Debug, clap::Subcommand)]
pub enum Drill {
    /// Shoppers across the cells race for a SKU with a few units: exactly
    /// that many orders, the rest refused cleanly, nothing oversold.
    Oversell {
        #[arg(long, default_value_t = 500)]
        shoppers: usize,
        #[arg(long, default_value_t = 10)]
        units: u64,
    },
    /// One shopper's order from payment to delivery through the edge:
    /// confirmed, invoice PDF checked, shipped and delivered by the
    /// simulated carrier, a second order cancelled and refunded, every
    /// e-mail in the SMTP sink.
    OrderJourney,
    /// Kill one of three cells under load: the other cells' shoppers see no
    /// error, the killed cell's get clean 503s and degraded browsing once the
    /// edge notices; how long that took.
    CellDown,
    /// Drain one of three cells while its shoppers fill carts and buy: every
    /// shopper moved, no cart item or order lost, no request failed.
    Drain,
}

pub fn run(drill: Drill) -> anyhow::Result<()> {
    match drill {
        Drill::Oversell { shoppers, units } => oversell(shoppers, units),
        Drill::OrderJourney => crate::journey::order_journey(),
        Drill::CellDown => crate::cell_down::cell_down(),
        Drill::Drain => crate::drain_drill::drain(),
    }
}

#[derive(Debug, Serialize)]
struct Report {
    attempts: usize,
    units: u64,
    confirmed_orders: u64,
    oversold: u64,
    rejections: BTreeMap<String, u64>,
    errors: Vec<String>,
    orders_per_cell: BTreeMap<String, u64>,
    ledger: StockLedger,
    seconds: f64,
}

/// One racing shopper: signed up, at the payment step of `checkout`.
#[derive(Debug, Default, Clone)]
struct Racer {
    shopper: Shopper,
    checkout: String,
    outcome: Option<Result<(), String>>,
}

const SIGN_UP_WORKERS: usize = 8;

/// Signs shopper `index` up at `cell`, from an address of its own.
fn sign_up(
    agent: &ureq::Agent,
    (cell, base): (&str, &str),
    index: usize,
) -> Result<Shopper, Refusal> {
    let email = format!("drill-{}-{index}@example.com", std::process::id());
    let mut shopper = Shopper::sign_up(agent, base, &email, Some(shopper::client_ip(index)))?;
    shopper.cell = cell.to_owned();
    Ok(shopper)
}

/// Fills the cart and walks to the payment step.
fn to_payment(agent: &ureq::Agent, shopper: Shopper, sku: &str) -> Result<Racer, Refusal> {
    shopper.add_to_cart(agent, sku)?;
    let checkout = shopper.start_checkout(agent)?;
    shopper.set_address(agent, &checkout)?;
    shopper.set_shipping(agent, &checkout)?;
    Ok(Racer {
        shopper,
        checkout,
        outcome: None,
    })
}

fn oversell(shoppers: usize, units: u64) -> anyhow::Result<()> {
    let began = Instant::now();
    let control = http::control_url()?;
    http::require_live(&control, "the control plane")?;
    let mut admin = Admin::new(&control, &default_key_file())?;

    let run = std::process::id();
    let sku = format!("DRILL-{run}-{}", began.elapsed().as_nanos() % 100_000);
    let slug = format!("drill-oversell-{}", sku.to_lowercase());
    let fixed = crate::seed::catalog::generate(0, crate::seed::catalog::DEFAULT_SEED);
    let brand = fixed
        .brands
        .first()
        .context("the seed has brands")?
        .slug
        .clone();
    let category = crate::seed::catalog::leaf_categories()
        .next()
        .context("the seed has categories")?
        .to_owned();
    step(&format!("making {slug} with {units} units of {sku}"));
    let product = ProductInput {
        slug: slug.clone(),
        title: "Drill oversell scarf".into(),
        description: "A scarf made for the oversell drill.".into(),
        brand,
        category,
        tags: vec![],
        images: vec![],
        attributes: BTreeMap::new(),
        published: true,
        variants: vec![VariantInput {
            sku: sku.clone(),
            size: "One size".into(),
            colour: "red".into(),
            price_minor: 1500,
            currency: "GBP".into(),
            compare_at_minor: None,
            stock: Some(units),
        }],
    };
    let mut response = admin.post("/admin/api/products", &serde_json::to_vec(&product)?)?;
    if !response.status().is_success() {
        bail!(
            "creating the drill product: {} (is the catalog seeded? `cargo xtask up` seeds it)",
            Refusal::read(&mut response)
        );
    }
    let _ = response.body_mut().read_to_vec();

    step("waiting for every cell to list it and for the stock to reach the cells");
    // The stack's cells the control plane has active: a drained cell (an
    // earlier `drill drain`) is still running but sells nothing.
    let table: wire::PublishedRoutingTable = admin.get_json("/control/api/routing-table")?;
    let mut cells = stack::running_cells()?;
    cells.retain(|(id, _)| {
        table
            .table
            .cells
            .iter()
            .any(|c| c.id == *id && c.state == wire::CellState::Active)
    });
    if cells.len() < 2 {
        bail!(
            "the drill needs at least two active cells: `cargo xtask up --detach` (after a drain: `cargo xtask down`, then `cargo xtask up --fresh --detach`)"
        );
    }
    let agent = http::agent(Duration::from_secs(30));
    let waited = Instant::now();
    // Shares are sized per cell with a floor, so a few units may all go to
    // some cells (10 over three cells: 5, 5 and 0): the race needs every
    // cell to list the product and at least two to hold some of it.
    loop {
        let mut listed = 0;
        let mut stocked = Vec::new();
        for (cell, base) in &cells {
            let page = shopper::call(
                &agent,
                "GET",
                &format!("{base}/api/products/{slug}"),
                None,
                None,
            );
            if let Ok((page, _)) = page {
                listed += 1;
                let held = page["variants"][0]["availability"]["quantity"]
                    .as_u64()
                    .unwrap_or(0);
                if held > 0 {
                    stocked.push(format!("{cell} {held}"));
                }
            }
        }
        if listed == cells.len() && stocked.len() >= 2 {
            eprintln!("    units per cell: {}", stocked.join(", "));
            break;
        }
        if waited.elapsed() > Duration::from_secs(60) {
            bail!(
                "after 60 s {listed} of {} cells list {slug} and {} hold some of it ({}); the race needs every cell to list it and two to hold it",
                cells.len(),
                stocked.len(),
                stocked.join(", ")
            );
        }
        thread::sleep(Duration::from_millis(250));
    }

    // Signing up costs a bcrypt hash each: done a few at a time, before
    // the race, so that it does not queue the race's requests.
    step(&format!(
        "signing up {shoppers} shoppers across {} cells",
        cells.len()
    ));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let signed: Mutex<Vec<Option<Result<Shopper, String>>>> = Mutex::new(vec![None; shoppers]);
    thread::scope(|scope| {
        for _ in 0..SIGN_UP_WORKERS {
            scope.spawn(|| {
                let agent = http::agent(Duration::from_secs(60));
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if index >= shoppers {
                        return;
                    }
                    let (cell, base) = &cells[index % cells.len()];
                    let outcome =
                        sign_up(&agent, (cell, base), index).map_err(|r| shopper::code(&r));
                    if let Ok(mut all) = signed.lock() {
                        all[index] = Some(outcome);
                    }
                    if (index + 1).is_multiple_of(100) {
                        eprintln!("drill: {} / {shoppers} signed up", index + 1);
                    }
                }
            });
        }
    });
    let signed = signed
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a sign-up thread panicked"))?;

    step(&format!(
        "{shoppers} shoppers fill their carts and check out; then all pay at once"
    ));
    let state: Arc<Mutex<Vec<Racer>>> = Arc::new(Mutex::new(vec![Racer::default(); shoppers]));
    let prepared = Arc::new(Barrier::new(shoppers));
    let mut handles = Vec::with_capacity(shoppers);
    for (index, signed) in signed.into_iter().enumerate() {
        let (state, prepared, sku) = (state.clone(), prepared.clone(), sku.clone());
        handles.push(thread::spawn(move || {
            let agent = http::agent(Duration::from_secs(120));
            let mut racer = match signed {
                Some(Ok(shopper)) => {
                    to_payment(&agent, shopper, &sku).unwrap_or_else(|refusal| Racer {
                        outcome: Some(Err(shopper::code(&refusal))),
                        ..Racer::default()
                    })
                }
                Some(Err(code)) => Racer {
                    outcome: Some(Err(code)),
                    ..Racer::default()
                },
                None => Racer {
                    outcome: Some(Err("never signed up".into())),
                    ..Racer::default()
                },
            };
            prepared.wait();
            if racer.outcome.is_none() {
                racer.outcome = Some(
                    racer
                        .shopper
                        .pay(&agent, &racer.checkout)
                        .map_err(|r| shopper::code(&r)),
                );
            }
            if let Ok(mut all) = state.lock() {
                all[index] = racer;
            }
        }));
    }
    for handle in handles {
        let _ = handle.join();
    }

    // Refused because a cell ran dry while the control plane still holds
    // units: top-ups take a moment; the refused try again.
    let mut ledger: StockLedger = admin.get_json(&format!("/admin/api/stock/{sku}"))?;
    let mut wave = 1;
    while ledger.sold < units && wave < 10 {
        thread::sleep(Duration::from_secs(2));
        let all = state
            .lock()
            .map_err(|_| anyhow::anyhow!("a shopper thread panicked"))?;
        let retry: Vec<usize> = (0..shoppers)
            .filter(|i| {
                matches!(&all[*i].outcome, Some(Err(code)) if code == "out_of_stock")
                    && !all[*i].checkout.is_empty()
            })
            .collect();
        let snapshot: Vec<Racer> = retry.iter().map(|i| all[*i].clone()).collect();
        drop(all);
        step(&format!(
            "wave {}: {} sold of {units}; {} refused shoppers try again",
            wave + 1,
            ledger.sold,
            retry.len()
        ));
        let outcomes: Vec<(usize, Result<(), String>)> = thread::scope(|scope| {
            let spawned: Vec<_> = retry
                .iter()
                .zip(&snapshot)
                .map(|(index, racer)| {
                    scope.spawn(move || {
                        let agent = http::agent(Duration::from_secs(120));
                        let paid = racer.shopper.pay(&agent, &racer.checkout);
                        (*index, paid.map_err(|r| shopper::code(&r)))
                    })
                })
                .collect();
            spawned.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let mut all = state
            .lock()
            .map_err(|_| anyhow::anyhow!("a shopper thread panicked"))?;
        for (index, outcome) in outcomes {
            all[index].outcome = Some(outcome);
        }
        drop(all);
        ledger = admin.get_json(&format!("/admin/api/stock/{sku}"))?;
        wave += 1;
    }
    // Sales reach the ledger through the cells' outboxes: let them land.
    let settle = Instant::now();
    let all = state
        .lock()
        .map_err(|_| anyhow::anyhow!("a shopper thread panicked"))?
        .clone();
    let confirmed = all
        .iter()
        .filter(|s| matches!(s.outcome, Some(Ok(()))))
        .count() as u64;
    while ledger.sold < confirmed.min(units) && settle.elapsed() < Duration::from_secs(20) {
        thread::sleep(Duration::from_millis(500));
        ledger = admin.get_json(&format!("/admin/api/stock/{sku}"))?;
    }

    let mut rejections = BTreeMap::new();
    let mut errors = Vec::new();
    let mut orders_per_cell = BTreeMap::new();
    for racer in &all {
        match &racer.outcome {
            Some(Ok(())) => {
                *orders_per_cell
                    .entry(racer.shopper.cell.clone())
                    .or_insert(0) += 1
            }
            Some(Err(code)) if is_clean(code) => *rejections.entry(code.clone()).or_insert(0) += 1,
            Some(Err(code)) => errors.push(code.clone()),
            None => errors.push("no outcome".into()),
        }
    }
    let report = Report {
        attempts: shoppers,
        units,
        confirmed_orders: confirmed,
        oversold: confirmed.saturating_sub(units),
        rejections,
        errors,
        orders_per_cell,
        ledger,
        seconds: began.elapsed().as_secs_f64(),
    };
    let path = write_report(&report)?;
    println!(
        "oversell drill: {} shoppers, {} units → {} confirmed orders ({:?} per cell), {} refused {:?}, {} errors; ledger: sold {}, unallocated {}, allocated {}; {:.0} s",
        report.attempts,
        report.units,
        report.confirmed_orders,
        report.orders_per_cell,
        report.rejections.values().sum::<u64>(),
        report.rejections,
        report.errors.len(),
        report.ledger.sold,
        report.ledger.unallocated,
        report.ledger.allocated,
        report.seconds
    );
    println!("report: {}", path.display());
    if let Some(first) = report.errors.first() {
        bail!(
            "{} shoppers failed uncleanly (first: {first})",
            report.errors.len()
        );
    }
    if report.confirmed_orders != units || report.ledger.sold != units || report.oversold > 0 {
        bail!(
            "expected exactly {units} confirmed orders and {units} sold, got {} and {}",
            report.confirmed_orders,
            report.ledger.sold
        );
    }
    Ok(())
}

/// A refusal a shopper should see when the stock is gone.
fn is_clean(code: &str) -> bool {
    matches!(code, "out_of_stock" | "not_enough_stock" | "cart_not_ready")
}

fn write_report(report: &Report) -> anyhow::Result<PathBuf> {
    let dir = root().join("target/reports");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("drill-oversell.json");
    std::fs::write(&path, serde_json::to_vec_pretty(report)?)?;
    Ok(path)
}
