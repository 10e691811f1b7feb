//! `cargo xtask drill order-journey`: one shopper's whole order life against
//! the local stack (`cargo xtask up --detach`), through the edge. The
//! shopper pays for an in-stock item; the order is confirmed; its invoice
//! PDF downloads and its text (pdftotext) holds the order's line and total;
//! the simulated carrier packs, ships and delivers it; a second order is
//! cancelled and refunded; and every e-mail of both arrives in the stack's
//! SMTP sink. Writes target/reports/drill-order-journey.json with `passed`,
//! `emails` (received) and `invoice_pdf` (the PDF parsed and held the
//! order's lines).

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::{Value, json};

use crate::http::{self, Refusal};
use crate::shopper::{self, Shopper};
use crate::tools::{self, step};
use crate::{root, services};

/// How long the simulated carrier may take to deliver (xtask up: about a
/// minute).
const DELIVERY_WAIT: Duration = Duration::from_secs(180);
const MAIL_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Default, Serialize)]
struct Report {
    passed: bool,
    shopper: String,
    cell: String,
    order: String,
    invoice_number: Option<String>,
    invoice_pdf: bool,
    delivered: bool,
    cancelled_order: String,
    refunded: bool,
    emails: usize,
    email_subjects: Vec<String>,
    failures: Vec<String>,
    seconds: f64,
}

fn refusal(what: &str) -> impl Fn(Refusal) -> anyhow::Error + '_ {
    move |r| anyhow::anyhow!("{what}: {r}")
}

pub fn order_journey() -> anyhow::Result<()> {
    let began = Instant::now();
    let topology = topology::Topology::load(&root().join("cells.yaml"))
        .context("reading the edge's address from cells.yaml")?;
    let edge = format!("http://{}", topology.edge.listen);
    http::require_live(&http::control_url()?, "the control plane")?;
    tools::ensure_command("pdftotext", "poppler-utils")?;
    let agent = http::agent(Duration::from_secs(30));
    let mut report = Report::default();

    step("finding an item in stock");
    let sku = in_stock_sku(&agent, &edge)?;
    let email = format!(
        "journey-{}-{}@example.com",
        std::process::id(),
        began.elapsed().as_nanos() % 1_000_000
    );
    step(&format!("{email} buys {sku}"));
    let shopper = Shopper::sign_up(&agent, &edge, &email, None).map_err(refusal("signing up"))?;
    report.shopper = email.clone();
    report.cell = shopper.cell.clone();
    let order = buy(&agent, &shopper, &sku)?;
    report.order = order.clone();

    let detail = order_detail(&agent, &shopper, &order)?;
    if !matches!(
        detail["status"].as_str(),
        Some("confirmed" | "processing" | "shipped" | "delivered")
    ) {
        report
            .failures
            .push(format!("the paid order is {}", detail["status"]));
    }
    report.invoice_number = detail["invoice_number"].as_str().map(str::to_owned);

    step("downloading the invoice");
    match invoice_text(&agent, &shopper, &order) {
        Ok(text) => {
            let total = money(
                detail["total_minor"].as_i64().unwrap_or(0),
                detail["currency"].as_str().unwrap_or("GBP"),
            );
            report.invoice_pdf = text.contains(&sku)
                && text.contains(&total)
                && report
                    .invoice_number
                    .as_ref()
                    .is_some_and(|n| text.contains(n.as_str()));
            if !report.invoice_pdf {
                report.failures.push(format!(
                    "the invoice's text lacks {sku}, {total} or its number"
                ));
            }
        }
        Err(error) => report.failures.push(format!("invoice: {error:#}")),
    }

    step("a second order, cancelled and refunded");
    let second = buy(&agent, &shopper, &sku)?;
    report.cancelled_order = second.clone();
    let (cancelled, _) = shopper::call(
        &agent,
        "POST",
        &format!("{edge}/api/orders/{second}/cancel"),
        Some(&shopper.token),
        Some(&json!({"reason": "order-journey drill"})),
    )
    .map_err(refusal("cancelling"))?;
    report.refunded = cancelled["status"] == "cancelled" && cancelled["refunded"] == true;
    if !report.refunded {
        report.failures.push(format!(
            "the second order is {} (refunded: {})",
            cancelled["status"], cancelled["refunded"]
        ));
    }

    step("waiting for the simulated carrier to deliver the first (about a minute)");
    let waited = Instant::now();
    loop {
        let detail = order_detail(&agent, &shopper, &order)?;
        if detail["status"] == "delivered" {
            report.delivered = true;
            break;
        }
        if waited.elapsed() > DELIVERY_WAIT {
            report.failures.push(format!(
                "not delivered within {} s (still {}); is the simulated carrier on (carrier.simulated.enabled)?",
                DELIVERY_WAIT.as_secs(),
                detail["status"]
            ));
            break;
        }
        thread::sleep(Duration::from_secs(1));
    }

    step("reading the e-mails in the SMTP sink");
    let reference = |id: &str| id.get(..8).unwrap_or(id).to_ascii_uppercase();
    let expected = [
        format!("order {} is confirmed", reference(&order)),
        format!("packing your order {}", reference(&order)),
        format!("order {} is on its way", reference(&order)),
        format!("order {} was delivered", reference(&order)),
        format!("order {} is confirmed", reference(&second)),
        format!("order {} is cancelled", reference(&second)),
    ];
    let waited = Instant::now();
    loop {
        let subjects = inbox(&agent, &email)?;
        let missing: Vec<&String> = expected
            .iter()
            .filter(|e| !subjects.iter().any(|s| s.contains(e.as_str())))
            .collect();
        report.emails = subjects.len();
        report.email_subjects = subjects.clone();
        if missing.is_empty() {
            break;
        }
        if waited.elapsed() > MAIL_WAIT {
            report.failures.push(format!(
                "e-mails missing after {} s: {missing:?}",
                MAIL_WAIT.as_secs()
            ));
            break;
        }
        thread::sleep(Duration::from_millis(500));
    }

    report.seconds = began.elapsed().as_secs_f64();
    report.passed = report.failures.is_empty();
    let path = write_report(&report)?;
    eprintln!(
        "order {} ({}): invoice {} ({}), delivered: {}, second order refunded: {}, e-mails: {}",
        report.order,
        report.cell,
        report.invoice_number.as_deref().unwrap_or("none"),
        if report.invoice_pdf {
            "PDF checked"
        } else {
            "PDF not right"
        },
        report.delivered,
        report.refunded,
        report.emails
    );
    eprintln!("report: {}", path.display());
    if !report.passed {
        bail!("the order journey failed: {}", report.failures.join("; "));
    }
    Ok(())
}

/// A SKU the shop has in stock.
fn in_stock_sku(agent: &ureq::Agent, edge: &str) -> anyhow::Result<String> {
    shopper::in_stock_skus(agent, edge, 1, 2)?
        .pop()
        .context("no product with two units in stock")
}

/// Fills the cart with `sku`, walks the checkout and pays: the order id.
fn buy(agent: &ureq::Agent, shopper: &Shopper, sku: &str) -> anyhow::Result<String> {
    shopper
        .add_to_cart(agent, sku)
        .map_err(refusal("adding to the cart"))?;
    let checkout = shopper
        .start_checkout(agent)
        .map_err(refusal("starting the checkout"))?;
    shopper
        .set_address(agent, &checkout)
        .map_err(refusal("the address step"))?;
    shopper
        .set_shipping(agent, &checkout)
        .map_err(refusal("the shipping step"))?;
    shopper.pay(agent, &checkout).map_err(refusal("paying"))?;
    let (view, _) = shopper::call(
        agent,
        "GET",
        &format!("{}/api/checkout/{checkout}", shopper.base),
        Some(&shopper.token),
        None,
    )
    .map_err(refusal("reading the checkout"))?;
    view["order"]["id"]
        .as_str()
        .map(str::to_owned)
        .context("the paid checkout has no order")
}

fn order_detail(agent: &ureq::Agent, shopper: &Shopper, order: &str) -> anyhow::Result<Value> {
    shopper::call(
        agent,
        "GET",
        &format!("{}/api/orders/{order}", shopper.base),
        Some(&shopper.token),
        None,
    )
    .map(|(value, _)| value)
    .map_err(refusal("reading the order"))
}

/// The invoice's PDF, kept next to the report, as text.
fn invoice_text(agent: &ureq::Agent, shopper: &Shopper, order: &str) -> anyhow::Result<String> {
    let mut response = agent
        .get(format!("{}/api/orders/{order}/invoice", shopper.base).as_str())
        .header(
            "authorization",
            format!("Bearer {}", shopper.token).as_str(),
        )
        .call()
        .context("downloading the invoice")?;
    if !response.status().is_success() {
        bail!("the invoice: {}", Refusal::read(&mut response));
    }
    let pdf = response.body_mut().read_to_vec()?;
    if !pdf.starts_with(b"%PDF-") {
        bail!("the invoice is not a PDF");
    }
    let file = reports_dir()?.join("drill-order-journey-invoice.pdf");
    std::fs::write(&file, &pdf)?;
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .context("running pdftotext")?;
    if !out.status.success() {
        bail!(
            "pdftotext could not read the invoice: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Subjects of the e-mails the stack's sink holds for `to`.
fn inbox(agent: &ureq::Agent, to: &str) -> anyhow::Result<Vec<String>> {
    let (all, _) = shopper::call(
        agent,
        "GET",
        &format!("http://{}/email", services::INBOX_UP),
        None,
        None,
    )
    .map_err(refusal("reading the SMTP sink (maildev)"))?;
    Ok(all
        .as_array()
        .into_iter()
        .flatten()
        .filter(|mail| {
            mail["to"]
                .as_array()
                .is_some_and(|list| list.iter().any(|t| t["address"] == to))
        })
        .filter_map(|mail| mail["subject"].as_str().map(str::to_owned))
        .collect())
}

fn money(minor: i64, currency: &str) -> String {
    format!("{currency} {}.{:02}", minor / 100, minor % 100)
}

fn reports_dir() -> anyhow::Result<PathBuf> {
    let dir = root().join("target/reports");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn write_report(report: &Report) -> anyhow::Result<PathBuf> {
    let path = reports_dir()?.join("drill-order-journey.json");
    std::fs::write(&path, serde_json::to_vec_pretty(report)?)?;
    Ok(path)
}
