//! `cargo xtask drill drain`: drain one of three cells while its shoppers
//! keep writing, and count what was lost. Against `cargo xtask up --cells 3
//! --detach`: shoppers are signed up on their home cells (chosen with the
//! routing table's own placement, so most live on the cell to drain), then
//! load threads have them add items to their carts and place paid orders
//! through the edge, retrying the retryable 503s a move answers with
//! (`shopper_migrating`, `shopper_moved`, `cell_draining`). After a warm-up
//! the last cell is drained through the control plane's SRE API and the
//! drill follows the drain's progress to the end. Then every shopper's cart
//! and orders are read back through the edge: an item or order that was
//! acknowledged and is gone is lost. Writes target/reports/drill-drain.json
//! with `shoppers_migrated`, `seconds`, `lost_carts`, `lost_orders` and
//! `failed_requests`; it passes with nothing lost and no request failed.
//! The drained cell stays drained: `cargo xtask down` and start afresh.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use placement::{Placer, ShopperKey};
use serde::Serialize;
use serde_json::{Value, json};
use wire::PublishedRoutingTable;

use crate::http::{self, Refusal};
use crate::seed::{Admin, default_key_file};
use crate::shopper::{self, Shopper};
use crate::tools::step;
use crate::{root, stack};

/// Shoppers of the cell to drain who fill their carts, and who buy.
const CARTS_ON_VICTIM: usize = 24;
const BUYERS_ON_VICTIM: usize = 6;
/// Shoppers of the other cells (they must not notice).
const OTHERS: usize = 10;
const WORKERS: usize = 4;
/// Each worker's pause between actions: the load stays under the edge's
/// per-address limit (it all comes from this machine).
const PACE: Duration = Duration::from_millis(150);
const WARM_UP: Duration = Duration::from_secs(5);
const AFTER_DRAIN: Duration = Duration::from_secs(3);
const DRAIN_WAIT: Duration = Duration::from_secs(600);
/// How long one request is retried while its shopper moves.
const RETRY_FOR: Duration = Duration::from_secs(60);
const RETRYABLE: [&str; 3] = ["shopper_migrating", "shopper_moved", "cell_draining"];

#[derive(Debug, Default, Serialize)]
struct Report {
    passed: bool,
    drained_cell: String,
    shoppers: usize,
    shoppers_on_drained_cell: usize,
    shoppers_migrated: u64,
    /// Shoppers whose old copy changed after their switch (left on the
    /// drained cell for an operator): should be none.
    shoppers_in_conflict: u64,
    /// From the drain request to the drain's end.
    seconds: f64,
    drain_passes: u64,
    requests: u64,
    /// Answers a move made the client wait and try again (not failures).
    retried_requests: u64,
    /// Requests that failed for good: no answer, a 5xx, or a retryable 503
    /// for longer than the client waits.
    failed_requests: u64,
    /// Domain refusals (an item ran out): not the drain's doing.
    refused_requests: u64,
    refusals: BTreeMap<String, u64>,
    items_added: u64,
    orders_placed: u64,
    /// Shoppers whose cart lacks an item they were told was added.
    lost_carts: u64,
    /// Confirmed orders their shopper can no longer find.
    lost_orders: u64,
    /// Shoppers of the drained cell still answered by it afterwards.
    still_on_drained_cell: u64,
    failures: Vec<String>,
    total_seconds: f64,
}

/// What a shopper was told happened.
#[derive(Debug, Default)]
struct Told {
    cart: BTreeSet<String>,
    orders: Vec<String>,
}

struct Actor {
    shopper: Shopper,
    home: String,
    buys: bool,
    told: Mutex<Told>,
}

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    refused: AtomicU64,
    refusals: Mutex<BTreeMap<String, u64>>,
    failures: Mutex<Vec<String>>,
}

impl Counts {
    fn fail(&self, what: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut failures) = self.failures.lock()
            && failures.len() < 20
        {
            failures.push(what);
        }
    }
}

/// `call` until it is answered with something other than a move's
/// retryable 503 (or `RETRY_FOR` passes).
fn patiently<T>(
    counts: &Counts,
    mut call: impl FnMut() -> Result<T, Refusal>,
) -> Result<T, Refusal> {
    let began = Instant::now();
    loop {
        counts.requests.fetch_add(1, Ordering::Relaxed);
        match call() {
            Err(refusal)
                if refusal.status == 503
                    && RETRYABLE.contains(&refusal.code.as_str())
                    && began.elapsed() < RETRY_FOR =>
            {
                counts.retried.fetch_add(1, Ordering::Relaxed);
                thread::sleep(Duration::from_millis(500));
            }
            answer => return answer,
        }
    }
}

/// Sorts an answer into the counts: `Some` when it succeeded.
fn tally<T>(counts: &Counts, what: &str, answer: Result<T, Refusal>) -> Option<T> {
    match answer {
        Ok(value) => Some(value),
        Err(refusal) if refusal.status == 0 || refusal.status >= 500 => {
            counts.fail(format!("{what}: {refusal}"));
            None
        }
        Err(refusal) => {
            counts.refused.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut refusals) = counts.refusals.lock() {
                *refusals.entry(shopper::code(&refusal)).or_default() += 1;
            }
            None
        }
    }
}

pub fn drain() -> anyhow::Result<()> {
    let began = Instant::now();
    let topology = topology::Topology::load(&root().join("cells.yaml"))
        .context("reading the edge's address from cells.yaml")?;
    let edge = format!("http://{}", topology.edge.listen);
    let control = http::control_url()?;
    http::require_live(&control, "the control plane")?;
    let cells: BTreeMap<String, String> = stack::running_cells()?.into_iter().collect();
    if cells.len() < 3 {
        bail!("the drill needs three cells: `cargo xtask up --cells 3 --detach`");
    }
    let agent = http::agent(Duration::from_secs(30));
    let mut staff = Admin::sre(&control, &default_key_file())?;
    let table: PublishedRoutingTable = staff.get_json("/control/api/routing-table")?;
    let victim = table
        .table
        .cells
        .iter()
        .rev()
        .find(|cell| cell.state == wire::CellState::Active)
        .map(|cell| cell.id.clone())
        .context("no active cell to drain")?;
    let placer =
        Placer::new(&table.table).map_err(|e| anyhow::anyhow!("the routing table: {e}"))?;
    let skus = shopper::in_stock_skus(&agent, &edge, 8, 3)?;

    let wanted = CARTS_ON_VICTIM + BUYERS_ON_VICTIM + OTHERS;
    step(&format!(
        "signing up {wanted} shoppers, {} of them on {victim}",
        wanted - OTHERS
    ));
    let mut actors = Vec::with_capacity(wanted);
    let (mut on_victim, mut elsewhere) = (0, 0);
    for n in 0..20_000 {
        if actors.len() == wanted {
            break;
        }
        let email = format!("drain-{}-{n}@example.com", std::process::id());
        let home = placer
            .place(ShopperKey::for_email(&email))
            .map_err(|e| anyhow::anyhow!("placing {email}: {e}"))?
            .id
            .clone();
        let mine = home == victim;
        if (mine && on_victim == CARTS_ON_VICTIM + BUYERS_ON_VICTIM)
            || (!mine && elsewhere == OTHERS)
        {
            continue;
        }
        let base = cells
            .get(&home)
            .with_context(|| format!("no address for {home}"))?;
        let mut shopper = Shopper::sign_up(&agent, base, &email, Some(shopper::client_ip(n)))
            .map_err(|r| anyhow::anyhow!("signing up {email} at {home}: {r}"))?;
        shopper.base = edge.clone();
        shopper.ip = None;
        let buys = mine && on_victim >= CARTS_ON_VICTIM;
        if mine {
            on_victim += 1;
        } else {
            elsewhere += 1;
        }
        actors.push(Actor {
            shopper,
            home,
            buys,
            told: Mutex::new(Told::default()),
        });
    }
    if actors.len() < wanted {
        bail!("could not place {wanted} shoppers");
    }

    step(&format!(
        "load from {WORKERS} threads; {victim} drains after {} s",
        WARM_UP.as_secs()
    ));
    let actors = Arc::new(actors);
    let skus = Arc::new(skus);
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let (actors, skus, counts, stop) =
                (actors.clone(), skus.clone(), counts.clone(), stop.clone());
            thread::spawn(move || {
                let agent = http::agent(Duration::from_secs(30));
                let mut n = worker;
                while !stop.load(Ordering::Relaxed) {
                    let actor = &actors[n % actors.len()];
                    if actor.buys {
                        buy(&agent, actor, &skus[n % skus.len()], &counts);
                    } else {
                        fill(&agent, actor, &skus, &counts);
                    }
                    n += WORKERS;
                    thread::sleep(PACE);
                }
            })
        })
        .collect();
    thread::sleep(WARM_UP);

    step(&format!("draining {victim}"));
    let drain_path = format!("/control/api/cells/{victim}/drain");
    let started = Instant::now();
    let mut answer = staff.post(
        &drain_path,
        json!({"reason": "drill drain"}).to_string().as_bytes(),
    )?;
    if !answer.status().is_success() {
        stop.store(true, Ordering::Relaxed);
        bail!(
            "the control plane refused the drain: {}",
            Refusal::read(&mut answer)
        );
    }
    let _ = answer.body_mut().read_to_vec();
    let mut last_moved = u64::MAX;
    let progress = loop {
        let progress: Value = staff.get_json(&drain_path)?;
        let moved = progress["shoppers_moved"].as_u64().unwrap_or(0);
        if moved != last_moved {
            step(&format!(
                "  {} — {moved} moved, {} in progress, pass {}",
                progress["state"].as_str().unwrap_or("?"),
                progress["shoppers_in_progress"],
                progress["passes"]
            ));
            last_moved = moved;
        }
        if progress["state"] == "done" || progress["state"] == "failed" {
            break progress;
        }
        if started.elapsed() > DRAIN_WAIT {
            stop.store(true, Ordering::Relaxed);
            bail!(
                "the drain did not finish in {} s: {progress}",
                DRAIN_WAIT.as_secs()
            );
        }
        thread::sleep(Duration::from_millis(500));
    };
    let seconds = started.elapsed().as_secs_f64();
    thread::sleep(AFTER_DRAIN);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let _ = worker.join();
    }

    step("reading every shopper's cart and orders back");
    let mut report = Report {
        drained_cell: victim.clone(),
        shoppers: actors.len(),
        shoppers_on_drained_cell: on_victim,
        shoppers_migrated: progress["shoppers_moved"].as_u64().unwrap_or(0),
        shoppers_in_conflict: progress["shoppers_in_conflict"].as_u64().unwrap_or(0),
        seconds,
        drain_passes: progress["passes"].as_u64().unwrap_or(0),
        ..Report::default()
    };
    for actor in actors.iter() {
        let told = actor
            .told
            .lock()
            .map_err(|_| anyhow::anyhow!("a load thread panicked"))?;
        report.items_added += told.cart.len() as u64;
        report.orders_placed += told.orders.len() as u64;
        let (cart, cell) = patiently(&counts, || {
            shopper::call(
                &agent,
                "GET",
                &format!("{edge}/api/cart"),
                Some(&actor.shopper.token),
                None,
            )
        })
        .map_err(|r| anyhow::anyhow!("reading a cart back: {r}"))?;
        if actor.home == victim && cell.as_deref() == Some(victim.as_str()) {
            report.still_on_drained_cell += 1;
        }
        let held: BTreeSet<String> = cart["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|line| line["sku"].as_str().map(str::to_owned))
            .collect();
        if !told.cart.is_subset(&held) {
            report.lost_carts += 1;
            report.failures.push(format!(
                "{}: cart holds {held:?}, was told {:?}",
                actor.shopper.cell, told.cart
            ));
        }
        if !told.orders.is_empty() {
            let (orders, _) = patiently(&counts, || {
                shopper::call(
                    &agent,
                    "GET",
                    &format!("{edge}/api/orders?limit=100"),
                    Some(&actor.shopper.token),
                    None,
                )
            })
            .map_err(|r| anyhow::anyhow!("reading orders back: {r}"))?;
            let found: BTreeSet<&str> = orders["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|order| order["id"].as_str())
                .collect();
            report.lost_orders += told
                .orders
                .iter()
                .filter(|id| !found.contains(id.as_str()))
                .count() as u64;
        }
    }
    report.requests = counts.requests.load(Ordering::Relaxed);
    report.retried_requests = counts.retried.load(Ordering::Relaxed);
    report.failed_requests = counts.failed.load(Ordering::Relaxed);
    report.refused_requests = counts.refused.load(Ordering::Relaxed);
    if let Ok(refusals) = counts.refusals.lock() {
        report.refusals = refusals.clone();
    }
    if let Ok(failures) = counts.failures.lock() {
        report.failures.extend(failures.iter().cloned());
    }
    report.passed = progress["state"] == "done"
        && report.shoppers_in_conflict == 0
        && report.lost_carts == 0
        && report.lost_orders == 0
        && report.failed_requests == 0
        && report.still_on_drained_cell == 0;
    report.total_seconds = began.elapsed().as_secs_f64();

    let path = root().join("target/reports/drill-drain.json");
    std::fs::create_dir_all(path.parent().context("the reports folder")?)?;
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
    println!(
        "drain of {victim}: {} shoppers moved ({} in conflict) in {:.1} s ({} passes); {} items and {} orders written under load, {} lost carts, {} lost orders; {} requests, {} retried, {} failed, {} refused",
        report.shoppers_migrated,
        report.shoppers_in_conflict,
        report.seconds,
        report.drain_passes,
        report.items_added,
        report.orders_placed,
        report.lost_carts,
        report.lost_orders,
        report.requests,
        report.retried_requests,
        report.failed_requests,
        report.refused_requests
    );
    println!("report: {}", path.display());
    if !report.passed {
        bail!("the drill failed: {:?}", report.failures);
    }
    Ok(())
}

/// Adds an item the shopper's cart does not hold yet.
fn fill(agent: &ureq::Agent, actor: &Actor, skus: &[String], counts: &Counts) {
    let Some(sku) = actor
        .told
        .lock()
        .ok()
        .and_then(|told| skus.iter().find(|sku| !told.cart.contains(*sku)).cloned())
    else {
        return;
    };
    let added = patiently(counts, || actor.shopper.add_to_cart(agent, &sku));
    if tally(counts, "adding to a cart", added).is_some()
        && let Ok(mut told) = actor.told.lock()
    {
        told.cart.insert(sku);
    }
}

/// Buys one item: cart, checkout, address, shipping, payment.
fn buy(agent: &ureq::Agent, actor: &Actor, sku: &str, counts: &Counts) {
    let shopper = &actor.shopper;
    let Some(_) = tally(
        counts,
        "adding to a cart",
        patiently(counts, || shopper.add_to_cart(agent, sku)),
    ) else {
        return;
    };
    let Some(checkout) = tally(
        counts,
        "starting a checkout",
        patiently(counts, || shopper.start_checkout(agent)),
    ) else {
        return;
    };
    let steps = tally(
        counts,
        "the address step",
        patiently(counts, || shopper.set_address(agent, &checkout)),
    )
    .and_then(|_| {
        tally(
            counts,
            "the shipping step",
            patiently(counts, || shopper.set_shipping(agent, &checkout)),
        )
    })
    .and_then(|_| {
        tally(
            counts,
            "paying",
            patiently(counts, || shopper.pay(agent, &checkout)),
        )
    });
    if steps.is_none() {
        return;
    }
    let view = patiently(counts, || {
        shopper::call(
            agent,
            "GET",
            &format!("{}/api/checkout/{checkout}", shopper.base),
            Some(&shopper.token),
            None,
        )
    });
    if let Some((view, _)) = tally(counts, "reading a paid checkout", view)
        && let Some(order) = view["order"]["id"].as_str()
        && let Ok(mut told) = actor.told.lock()
    {
        told.orders.push(order.to_owned());
    }
}
