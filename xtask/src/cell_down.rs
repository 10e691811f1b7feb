//! `cargo xtask drill cell-down`: kill one of three cells under load and
//! measure the blast radius. Against `cargo xtask up --cells 3 --detach`:
//! shoppers (one per key, spread by the edge's placement) read their cart and
//! browse the catalog through the edge from several threads, paced under the
//! edge's per-address rate limit; after a warm-up
//! the last cell is killed (SIGKILL, as a crash). The drill then tells apart
//! the killed cell's shoppers and everyone else: the others should see no
//! error at all; the killed cell's shoppers should get clean 503s for their
//! cart and keep browsing (answered by another cell, marked degraded) once
//! the edge's health checks notice. Writes target/reports/drill-cell-down.json
//! with the error rates, how long detection took, and `passed` (others 0%).
//! The stack is left with the cell dead: `cargo xtask down` and `up` again.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::http;
use crate::tools::step;
use crate::{root, stack};

const WORKERS: usize = 8;
/// Each worker's pause between requests: 8 workers make about 40 requests a
/// second, under the edge's per-address limit (3,000 a minute; the drill's
/// load all comes from this one address), so every refusal counted is the
/// failure's, not the limiter's.
const PACE: Duration = Duration::from_millis(200);
const SHOPPERS: usize = 300;
const WARM_UP: Duration = Duration::from_secs(5);
const AFTER_KILL: Duration = Duration::from_secs(15);

#[derive(Debug, Default, Serialize)]
struct Side {
    requests: u64,
    errors: u64,
    error_rate: f64,
    statuses: BTreeMap<String, u64>,
}

#[derive(Debug, Default, Serialize)]
struct Report {
    passed: bool,
    victim: String,
    shoppers: usize,
    victim_shoppers: usize,
    /// Every request by a shopper of another cell, before and after the kill.
    others: Side,
    /// Requests by the killed cell's shoppers after the kill.
    victim_after_kill: Side,
    /// From the kill to the first clean 503 for a victim's shopper.
    detection_ms: Option<u64>,
    /// Catalog reads of the victim's shoppers answered (by another cell)
    /// after detection.
    degraded_reads_ok: u64,
    seconds: f64,
}

/// One answer: who asked (their home cell), what, when, and the status.
struct Answer {
    home: String,
    browsing: bool,
    at: Instant,
    status: u16,
    code: String,
}

pub fn cell_down() -> anyhow::Result<()> {
    let began = Instant::now();
    let topology = topology::Topology::load(&root().join("cells.yaml"))
        .context("reading the edge's address from cells.yaml")?;
    let edge = format!("http://{}", topology.edge.listen);
    let cells = stack::running_cells()?;
    if cells.len() < 3 {
        bail!("the drill needs three cells: `cargo xtask up --cells 3 --detach`");
    }
    for (cell, base) in &cells {
        http::require_live(base, cell)?;
    }
    let victim = cells.last().map(|(id, _)| id.clone()).context("no cells")?;
    let pid = stack::pid_of(&victim).with_context(|| {
        format!("no running process for {victim} (is `cargo xtask up` running?)")
    })?;

    step(&format!("placing {SHOPPERS} shoppers through the edge"));
    let agent = http::agent(Duration::from_secs(10));
    let mut shoppers = Vec::with_capacity(SHOPPERS);
    for n in 0..SHOPPERS {
        let key = format!("{:016x}", 0x5eed_0000_0000_0000u64 + n as u64 * 0x9E37_79B9);
        let mut response = agent
            .get(format!("{edge}/api/cart").as_str())
            .header("cookie", format!("sk={key}").as_str())
            .call()
            .context("asking the edge")?;
        let home = response
            .headers()
            .get("x-cellwear-cell")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let _ = response.body_mut().read_to_vec();
        if home.is_empty() {
            bail!(
                "the edge did not say which cell answered ({})",
                response.status()
            );
        }
        shoppers.push((key, home));
    }
    let victim_shoppers = shoppers.iter().filter(|(_, home)| *home == victim).count();
    if victim_shoppers == 0 {
        bail!("no shopper landed on {victim}; is it active in the routing table?");
    }

    step(&format!(
        "load from {WORKERS} threads; {victim} (pid {pid}) is killed after {} s",
        WARM_UP.as_secs()
    ));
    let shoppers = Arc::new(shoppers);
    let answers: Arc<Mutex<Vec<Answer>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let (shoppers, answers, stop, edge) = (
                shoppers.clone(),
                answers.clone(),
                stop.clone(),
                edge.clone(),
            );
            thread::spawn(move || {
                let agent = http::agent(Duration::from_secs(10));
                let mut n = worker;
                while !stop.load(Ordering::Relaxed) {
                    let (key, home) = &shoppers[n % shoppers.len()];
                    let browsing = n % 2 == 0;
                    let path = if browsing {
                        "/api/products?limit=1"
                    } else {
                        "/api/cart"
                    };
                    let (status, code) = match agent
                        .get(format!("{edge}{path}").as_str())
                        .header("cookie", format!("sk={key}").as_str())
                        .call()
                    {
                        Ok(mut response) => {
                            let status = response.status().as_u16();
                            let body = response.body_mut().read_to_vec().unwrap_or_default();
                            let code = serde_json::from_slice::<serde_json::Value>(&body)
                                .ok()
                                .and_then(|v| v["code"].as_str().map(str::to_owned))
                                .unwrap_or_default();
                            (status, code)
                        }
                        Err(_) => (0, "no_answer".to_owned()),
                    };
                    if let Ok(mut all) = answers.lock() {
                        all.push(Answer {
                            home: home.clone(),
                            browsing,
                            at: Instant::now(),
                            status,
                            code,
                        });
                    }
                    n += WORKERS;
                    thread::sleep(PACE);
                }
            })
        })
        .collect();
    thread::sleep(WARM_UP);
    let killed_at = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .context("running kill")?;
    if !killed.success() {
        stop.store(true, Ordering::Relaxed);
        bail!("could not kill {victim} (pid {pid})");
    }
    thread::sleep(AFTER_KILL);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let _ = worker.join();
    }

    let answers = answers
        .lock()
        .map_err(|_| anyhow::anyhow!("a load thread panicked"))?;
    let mut report = Report {
        victim: victim.clone(),
        shoppers: SHOPPERS,
        victim_shoppers,
        ..Report::default()
    };
    let detected = answers
        .iter()
        .filter(|a| a.home == victim && a.at > killed_at && a.code == "cell_unavailable")
        .map(|a| a.at)
        .min();
    report.detection_ms = detected.map(|at| (at - killed_at).as_millis() as u64);
    for answer in answers.iter() {
        let side = if answer.home != victim {
            &mut report.others
        } else if answer.at > killed_at {
            &mut report.victim_after_kill
        } else {
            continue;
        };
        side.requests += 1;
        *side.statuses.entry(answer.status.to_string()).or_insert(0) += 1;
        if !(200..300).contains(&answer.status) {
            side.errors += 1;
        }
        if answer.home == victim
            && answer.browsing
            && answer.status == 200
            && detected.is_some_and(|d| answer.at > d)
        {
            report.degraded_reads_ok += 1;
        }
    }
    for side in [&mut report.others, &mut report.victim_after_kill] {
        side.error_rate = if side.requests == 0 {
            0.0
        } else {
            side.errors as f64 / side.requests as f64
        };
    }
    report.seconds = began.elapsed().as_secs_f64();
    report.passed = report.others.errors == 0 && report.detection_ms.is_some();
    let dir = root().join("target/reports");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("drill-cell-down.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
    eprintln!(
        "{victim} killed: others {} requests, {} errors ({:.2}%); {victim}'s {} shoppers: {} requests after the kill, {} errors, detected after {} ms, {} degraded reads answered",
        report.others.requests,
        report.others.errors,
        report.others.error_rate * 100.0,
        report.victim_shoppers,
        report.victim_after_kill.requests,
        report.victim_after_kill.errors,
        report
            .detection_ms
            .map_or("never".to_owned(), |ms| ms.to_string()),
        report.degraded_reads_ok
    );
    eprintln!("report: {}", path.display());
    eprintln!(
        "the stack runs on without {victim}: `cargo xtask down`, then `cargo xtask up` again"
    );
    if !report.passed {
        bail!("the other cells' shoppers saw errors, or the failure was never detected");
    }
    Ok(())
}
