//! `cargo xtask drill oversell`: many shoppers, spread over the cells by the
//! edge, race to buy a SKU of which only a few units exist. Against the
//! local stack (`cargo xtask up --cells 2 --detach`): makes a product with
//! `units` units through the control plane's admin API, waits for it in
//! every cell, signs each shopper up and walks them to the payment step,
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
use serde_json::{Value, json};
use wire::catalog::{ProductInput, StockLedger, VariantInput};

use crate::http::{self, Refusal};
use crate::seed::{Admin, default_key_file};
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
        /// The edge (default: cells.yaml's).
        #[arg(long)]
        edge: Option<String>,
    },
}

pub fn run(drill: Drill) -> anyhow::Result<()> {
    match drill {
        Drill::Oversell {
            shoppers,
            units,
            edge,
        } => oversell(shoppers, units, edge),
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

/// One shopper's state.
#[derive(Debug, Default, Clone)]
struct Shopper {
    token: String,
    checkout: String,
    cell: String,
    outcome: Option<Result<(), String>>,
}

const PASSWORD: &str = "drill password not in any list";

fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(Value, Option<String>), Refusal> {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json");
    let request = match token {
        Some(token) => request.header("authorization", format!("Bearer {token}")),
        None => request,
    };
    let body = body.map(Value::to_string).unwrap_or_default();
    let outcome = request
        .body(body)
        .map_err(|e| Refusal {
            status: 0,
            code: String::new(),
            message: e.to_string(),
        })
        .and_then(|request| {
            agent.run(request).map_err(|e| Refusal {
                status: 0,
                code: String::new(),
                message: e.to_string(),
            })
        });
    let mut response = outcome?;
    if !response.status().is_success() {
        return Err(Refusal::read(&mut response));
    }
    let cell = response
        .headers()
        .get("x-cellwear-cell")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let value = response.body_mut().read_json().unwrap_or(Value::Null);
    Ok((value, cell))
}

/// Signs up, fills the cart and walks to the payment step.
fn prepare(agent: &ureq::Agent, edge: &str, email: &str, sku: &str) -> Result<Shopper, Refusal> {
    call(
        agent,
        "POST",
        &format!("{edge}/api/auth/register"),
        None,
        Some(&json!({"email": email, "password": PASSWORD, "name": "Drill Shopper"})),
    )?;
    let (login, _) = call(
        agent,
        "POST",
        &format!("{edge}/api/auth/login"),
        None,
        Some(&json!({"email": email, "password": PASSWORD})),
    )?;
    let token = login["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let bearer = Some(token.as_str());
    let (_, cell) = call(
        agent,
        "POST",
        &format!("{edge}/api/cart/items"),
        bearer,
        Some(&json!({"sku": sku, "quantity": 1})),
    )?;
    let (checkout, _) = call(
        agent,
        "POST",
        &format!("{edge}/api/checkout"),
        bearer,
        Some(&json!({})),
    )?;
    let id = checkout["id"].as_str().unwrap_or_default().to_owned();
    let address = json!({"address": {"full_name": "Drill Shopper", "line1": "1 Test Street",
        "city": "London", "postcode": "SW1A 1AA", "country": "GB"}});
    call(
        agent,
        "POST",
        &format!("{edge}/api/checkout/{id}/address"),
        bearer,
        Some(&address),
    )?;
    call(
        agent,
        "POST",
        &format!("{edge}/api/checkout/{id}/shipping"),
        bearer,
        Some(&json!({"method": "standard"})),
    )?;
    Ok(Shopper {
        token,
        checkout: id,
        cell: cell.unwrap_or_default(),
        outcome: None,
    })
}

fn pay(agent: &ureq::Agent, edge: &str, shopper: &Shopper) -> Result<(), Refusal> {
    let (view, _) = call(
        agent,
        "POST",
        &format!("{edge}/api/checkout/{}/payment", shopper.checkout),
        Some(&shopper.token),
        Some(&json!({"payment_method": "pm_card_visa"})),
    )?;
    if view["step"] == "completed" {
        Ok(())
    } else {
        Err(Refusal {
            status: 200,
            code: format!("step_{}", view["step"].as_str().unwrap_or("?")),
            message: view.to_string(),
        })
    }
}

fn oversell(shoppers: usize, units: u64, edge: Option<String>) -> anyhow::Result<()> {
    let began = Instant::now();
    let edge = match edge {
        Some(edge) => edge.trim_end_matches('/').to_owned(),
        None => http::edge_url()?,
    };
    let control = http::control_url()?;
    http::require_live(&control, "the control plane")?;
    http::require_live(&edge, "the edge")?;
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

    step("waiting for every cell to sell it");
    let cells = stack::running_cells()?;
    if cells.len() < 2 {
        bail!("the drill needs at least two cells: `cargo xtask up --cells 2 --detach`");
    }
    let agent = http::agent(Duration::from_secs(30));
    let waited = Instant::now();
    for cell in &cells {
        loop {
            let page = call(
                &agent,
                "GET",
                &format!("{cell}/api/products/{slug}"),
                None,
                None,
            );
            if let Ok((page, _)) = page
                && page["variants"][0]["availability"]["quantity"]
                    .as_u64()
                    .unwrap_or(0)
                    > 0
            {
                break;
            }
            if waited.elapsed() > Duration::from_secs(60) {
                bail!("{cell} did not get {slug} and its stock within 60 s");
            }
            thread::sleep(Duration::from_millis(250));
        }
    }

    step(&format!(
        "signing up {shoppers} shoppers and walking them to payment"
    ));
    let state: Arc<Mutex<Vec<Shopper>>> = Arc::new(Mutex::new(vec![Shopper::default(); shoppers]));
    let prepared = Arc::new(Barrier::new(shoppers));
    let mut handles = Vec::with_capacity(shoppers);
    for index in 0..shoppers {
        let (state, prepared, edge, sku) =
            (state.clone(), prepared.clone(), edge.clone(), sku.clone());
        handles.push(thread::spawn(move || {
            let agent = http::agent(Duration::from_secs(120));
            let email = format!("drill-{run}-{index}@example.com");
            let mut shopper = match prepare(&agent, &edge, &email, &sku) {
                Ok(shopper) => shopper,
                Err(refusal) => Shopper {
                    outcome: Some(Err(refusal_code(&refusal))),
                    ..Shopper::default()
                },
            };
            prepared.wait();
            if shopper.outcome.is_none() {
                shopper.outcome = Some(pay(&agent, &edge, &shopper).map_err(|r| refusal_code(&r)));
            }
            if let Ok(mut all) = state.lock() {
                all[index] = shopper;
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
        let snapshot: Vec<Shopper> = retry.iter().map(|i| all[*i].clone()).collect();
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
                .map(|(index, shopper)| {
                    let edge = &edge;
                    scope.spawn(move || {
                        let agent = http::agent(Duration::from_secs(120));
                        (
                            *index,
                            pay(&agent, edge, shopper).map_err(|r| refusal_code(&r)),
                        )
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
    for shopper in &all {
        match &shopper.outcome {
            Some(Ok(())) => *orders_per_cell.entry(shopper.cell.clone()).or_insert(0) += 1,
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

fn refusal_code(refusal: &Refusal) -> String {
    if refusal.code.is_empty() {
        format!("{} {}", refusal.status, refusal.message)
    } else {
        refusal.code.clone()
    }
}

fn write_report(report: &Report) -> anyhow::Result<PathBuf> {
    let dir = root().join("target/reports");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("drill-oversell.json");
    std::fs::write(&path, serde_json::to_vec_pretty(report)?)?;
    Ok(path)
}
