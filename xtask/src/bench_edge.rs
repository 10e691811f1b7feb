//! `cargo xtask bench edge`: what the edge costs. The same bounded loopback
//! load — wrk with fixed threads, connections and duration, one shopper's
//! `sk` cookie — goes straight to a cell, through nginx (`hash $cookie_sk
//! consistent` over the same cells, upstream keep-alive, an access log like
//! the edge's) and through the edge, one after the other. Two loads: many
//! connections for throughput, few for latency (a saturated machine measures
//! its queue, not the proxy). Needs the local stack (`cargo xtask up
//! --detach`): its cells answer, and the edge measured is a release build
//! (`cargo build --release -p edge-router`, as production runs it) started
//! beside the stack over the same cells with the rate limits off (as nginx
//! has none; every request comes from one address). Installs wrk and
//! nginx from Debian when missing. Prints the figures and ratios and writes
//! target/reports/bench-edge.json.
//!
//! The CPU time each proxy spends per request (user and system, from
//! `/proc`) is reported beside its throughput: on two cores the proxy and
//! the cells share the machine, so requests per second alone mixes the
//! proxy's cost with the cells'.
//!
//! `--stand-in` puts both proxies in front of three stand-in cells instead
//! of the stack's: one nginx process that answers every path with the same
//! fixed JSON document, so what is measured is the proxy alone and no stack
//! is needed. The proxies are then pinned to the last core and wrk and the
//! stand-in to the others (`taskset`), and the report goes to
//! target/reports/bench-edge-stand-in.json.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;
use topology::Topology;

use crate::http::{self, START_HINT};
use crate::procs;
use crate::root;
use crate::tools::{self, step};

#[derive(Debug)]
pub struct EdgeBench {
    /// Connections of the throughput load.
    pub connections: u32,
    /// Connections of the latency load.
    pub latency_connections: u32,
    /// wrk's threads.
    pub threads: u32,
    /// The edge's worker threads and nginx's worker processes.
    pub workers: u32,
    /// Seconds each load runs against each target, after a 2 s warm-up.
    pub duration_s: u64,
    /// Rounds over the three targets in turn; each figure is the median
    /// round's, so a burst of other work on the machine hits one round of
    /// each target rather than all of one.
    pub rounds: u32,
    /// What every request asks for (a cell answers it from memory).
    pub path: String,
    /// In front of stand-in cells (a fixed document from nginx) rather than
    /// the stack's: the proxies' own cost, without a stack.
    pub stand_in: bool,
}

/// The targets: edge throughput at least nginx's; edge p99 within 1 ms of
/// going straight to the cell.
const P99_ALLOWANCE_MS: f64 = 1.0;
const WARM_UP_S: u64 = 2;

#[derive(Debug, Clone, Copy, Serialize)]
struct Run {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Non-2xx/3xx answers and socket errors.
    errors: u64,
    /// Requests answered in the run.
    requests: u64,
    /// CPU time (user and system) the target's server spent per request,
    /// when the benchmark started that server itself.
    cpu_us_per_request: Option<f64>,
}

impl Run {
    const UNMEASURED: Self = Self {
        requests_per_second: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        errors: 0,
        requests: 0,
        cpu_us_per_request: None,
    };
}

#[derive(Debug, Serialize)]
struct Target {
    name: &'static str,
    url: String,
    /// The median round's figures.
    throughput: Run,
    latency: Run,
    /// Every round's, in order.
    throughput_rounds: Vec<Run>,
    latency_rounds: Vec<Run>,
}

#[derive(Debug, Serialize)]
struct Report {
    /// `stack` (the running stack's cells) or `stand-in`.
    upstream: &'static str,
    path: String,
    threads: u32,
    workers: u32,
    connections: u32,
    latency_connections: u32,
    duration_s: u64,
    rounds: u32,
    cell: String,
    edge_rps: f64,
    nginx_rps: f64,
    direct_rps: f64,
    edge_p99_ms: f64,
    nginx_p99_ms: f64,
    direct_p99_ms: f64,
    edge_vs_nginx_rps: f64,
    edge_minus_direct_p99_ms: f64,
    edge_cpu_us_per_request: Option<f64>,
    nginx_cpu_us_per_request: Option<f64>,
    /// The edge's CPU per request over nginx's (1.00: as cheap).
    edge_vs_nginx_cpu: Option<f64>,
    throughput_target_met: bool,
    latency_target_met: bool,
    targets: Vec<Target>,
}

pub fn run(bench: &EdgeBench) -> anyhow::Result<()> {
    if bench.connections == 0
        || bench.latency_connections == 0
        || bench.threads == 0
        || bench.workers == 0
        || bench.rounds == 0
    {
        bail!(
            "--connections, --latency-connections, --threads, --workers and --rounds must be at least 1"
        );
    }
    if bench.duration_s == 0 {
        bail!("--duration-s must be at least 1");
    }
    if !bench.path.starts_with("/api/") {
        bail!(
            "--path must be a cell's path under /api/ (got {})",
            bench.path
        );
    }
    tools::ensure_command("wrk", "wrk")?;
    tools::ensure_command("nginx", "nginx")?;
    let cores = Cores::split(bench.stand_in);
    let upstream = if bench.stand_in {
        Upstream::stand_in(&cores)?
    } else {
        Upstream::stack()?
    };
    let bench_edge = start_edge(&upstream, bench.workers, &cores)?;
    let edge = format!("http://{}", bench_edge.listen);

    // One shopper: the edge gives a key and names the cell it lives on.
    let (cookie, cell_id) = shopper(&edge, &bench.path)?;
    let cell = upstream
        .cells
        .iter()
        .find(|(id, _)| *id == cell_id)
        .map(|(_, address)| *address)
        .with_context(|| {
            format!("the edge routed to {cell_id}, which the topology does not list")
        })?;
    let addresses: Vec<SocketAddr> = upstream.cells.iter().map(|(_, address)| *address).collect();
    let nginx = start_nginx(&addresses, bench.workers, &cores)?;
    // What each target is, and whose CPU time is its cost (a stack's cell
    // is not the benchmark's to measure).
    let targets = [
        (
            "direct",
            format!("http://{cell}{}", bench.path),
            upstream.stand_in.as_ref().and_then(Listening::pid),
        ),
        (
            "nginx",
            format!("http://{}{}", nginx.listen, bench.path),
            nginx.pid(),
        ),
        ("edge", format!("{edge}{}", bench.path), bench_edge.pid()),
    ];
    let load = |url: &str, connections: u32, seconds: u64, server: Option<u32>| {
        wrk(
            &Load {
                url,
                cookie: &cookie,
                threads: bench.threads.min(connections),
                connections,
                seconds,
                cpus: cores.others.as_deref(),
            },
            server,
        )
    };
    for (name, url, _) in &targets {
        step(&format!("{name}: {url} — {WARM_UP_S} s warm-up"));
        load(url, bench.connections, WARM_UP_S, None)?;
    }
    let mut rounds: Vec<(Vec<Run>, Vec<Run>)> = vec![(Vec::new(), Vec::new()); targets.len()];
    for round in 1..=bench.rounds {
        for ((name, url, server), (throughputs, latencies)) in targets.iter().zip(&mut rounds) {
            step(&format!(
                "round {round}/{}: {name} — {} s throughput ({} connections), {} s latency ({} connections)",
                bench.rounds,
                bench.duration_s,
                bench.connections,
                bench.duration_s,
                bench.latency_connections
            ));
            throughputs.push(load(url, bench.connections, bench.duration_s, *server)?);
            latencies.push(load(
                url,
                bench.latency_connections,
                bench.duration_s,
                *server,
            )?);
        }
    }
    let measured: Vec<Target> = targets
        .into_iter()
        .zip(rounds)
        .map(
            |((name, url, _), (throughput_rounds, latency_rounds))| Target {
                name,
                url,
                throughput: median_by(&throughput_rounds, |run| run.requests_per_second),
                latency: median_by(&latency_rounds, |run| run.p99_ms),
                throughput_rounds,
                latency_rounds,
            },
        )
        .collect();
    drop(nginx);
    drop(bench_edge);
    drop(upstream);

    let of = |name: &str| {
        measured
            .iter()
            .find(|target| target.name == name)
            .map(|target| (target.throughput, target.latency))
    };
    let (Some(direct), Some(nginx), Some(edge)) = (of("direct"), of("nginx"), of("edge")) else {
        bail!("a target was not measured");
    };
    let edge_cpu = edge.0.cpu_us_per_request;
    let nginx_cpu = nginx.0.cpu_us_per_request;
    let report = Report {
        upstream: if bench.stand_in { "stand-in" } else { "stack" },
        path: bench.path.clone(),
        threads: bench.threads,
        workers: bench.workers,
        connections: bench.connections,
        latency_connections: bench.latency_connections,
        duration_s: bench.duration_s,
        rounds: bench.rounds,
        cell: cell_id,
        edge_rps: edge.0.requests_per_second,
        nginx_rps: nginx.0.requests_per_second,
        direct_rps: direct.0.requests_per_second,
        edge_p99_ms: edge.1.p99_ms,
        nginx_p99_ms: nginx.1.p99_ms,
        direct_p99_ms: direct.1.p99_ms,
        edge_vs_nginx_rps: ratio(edge.0.requests_per_second, nginx.0.requests_per_second),
        edge_minus_direct_p99_ms: edge.1.p99_ms - direct.1.p99_ms,
        edge_cpu_us_per_request: edge_cpu,
        nginx_cpu_us_per_request: nginx_cpu,
        edge_vs_nginx_cpu: edge_cpu
            .zip(nginx_cpu)
            .map(|(edge, nginx)| ratio(edge, nginx)),
        throughput_target_met: edge.0.requests_per_second >= nginx.0.requests_per_second,
        latency_target_met: edge.1.p99_ms <= direct.1.p99_ms + P99_ALLOWANCE_MS,
        targets: measured,
    };
    print(&report);
    let path = root().join(if bench.stand_in {
        "target/reports/bench-edge-stand-in.json"
    } else {
        "target/reports/bench-edge.json"
    });
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("report: {}", path.display());
    let errors: u64 = report
        .targets
        .iter()
        .flat_map(|target| {
            target
                .throughput_rounds
                .iter()
                .chain(&target.latency_rounds)
        })
        .map(|run| run.errors)
        .sum();
    if errors > 0 {
        bail!("{errors} requests failed (see the report); the figures are not comparable");
    }
    Ok(())
}

/// The run in the middle when ordered by `key` (the lower middle of an even
/// number). `runs` is never empty: there is at least one round.
fn median_by(runs: &[Run], key: impl Fn(&Run) -> f64) -> Run {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| key(a).total_cmp(&key(b)));
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(Run::UNMEASURED)
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn print(report: &Report) {
    eprintln!();
    eprintln!(
        "  {} cells; {} edge worker thread(s) and nginx worker process(es); wrk: {} thread(s); median of {} round(s)",
        report.upstream, report.workers, report.threads, report.rounds
    );
    eprintln!(
        "  {:<8} {:>12} {:>10} {:>10} {:>11}   {:>10} {:>10}",
        "target", "req/s", "p50 ms", "p99 ms", "CPU µs/req", "p50 ms", "p99 ms"
    );
    eprintln!(
        "  {:<8} {:>46}   {:>21}",
        "",
        format!("throughput ({} conns)", report.connections),
        format!("latency ({} conns)", report.latency_connections)
    );
    for target in &report.targets {
        eprintln!(
            "  {:<8} {:>12.0} {:>10.2} {:>10.2} {:>11}   {:>10.2} {:>10.2}",
            target.name,
            target.throughput.requests_per_second,
            target.throughput.p50_ms,
            target.throughput.p99_ms,
            target
                .throughput
                .cpu_us_per_request
                .map_or_else(|| "-".to_owned(), |cpu| format!("{cpu:.1}")),
            target.latency.p50_ms,
            target.latency.p99_ms
        );
    }
    eprintln!();
    eprintln!(
        "  edge throughput / nginx: {:.2} (target ≥ 1.00) {}",
        report.edge_vs_nginx_rps,
        verdict(report.throughput_target_met)
    );
    if let Some(cpu) = report.edge_vs_nginx_cpu {
        eprintln!("  edge CPU per request / nginx: {cpu:.2}");
    }
    eprintln!(
        "  edge p99 − direct p99:   {:+.2} ms (target ≤ +{P99_ALLOWANCE_MS:.2} ms) {}",
        report.edge_minus_direct_p99_ms,
        verdict(report.latency_target_met)
    );
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// A new guest's `sk` cookie and the cell the edge pins it to.
fn shopper(edge: &str, path: &str) -> anyhow::Result<(String, String)> {
    let url = format!("{edge}{path}");
    let mut response = http::agent(Duration::from_secs(5))
        .get(url.as_str())
        .call()
        .with_context(|| format!("GET {url}"))?;
    let _ = response.body_mut().read_to_vec();
    if !response.status().is_success() {
        bail!(
            "GET {url} answered {}; the benchmark needs a 2xx path",
            response.status()
        );
    }
    let header = |name: &str| {
        response
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let cookie = header("set-cookie")
        .into_iter()
        .find_map(|cookie| {
            cookie
                .split(';')
                .next()
                .filter(|pair| pair.starts_with("sk="))
                .map(str::to_owned)
        })
        .context("the edge set no sk cookie for a new guest")?;
    let cell = header("x-cellwear-cell")
        .into_iter()
        .next()
        .context("the edge's answer names no cell (x-cellwear-cell)")?;
    Ok((cookie, cell))
}

/// One load wrk puts on a target.
struct Load<'a> {
    url: &'a str,
    cookie: &'a str,
    threads: u32,
    connections: u32,
    seconds: u64,
    /// The cores wrk runs on (`taskset -c`), when pinned.
    cpus: Option<&'a str>,
}

/// One wrk run; its figures parsed from `--latency` output, and the CPU
/// time `server` (with its children) spent meanwhile per request.
fn wrk(load: &Load<'_>, server: Option<u32>) -> anyhow::Result<Run> {
    let mut command = pinned("wrk", load.cpus);
    command.args([
        "--latency",
        "-t",
        &load.threads.to_string(),
        "-c",
        &load.connections.to_string(),
        "-d",
        &format!("{}s", load.seconds),
        "-H",
        &format!("Cookie: {}", load.cookie),
        load.url,
    ]);
    let before = server.map(cpu::seconds);
    let output = command.output().context("running wrk")?;
    let spent = server
        .zip(before)
        .map(|(pid, before)| cpu::seconds(pid) - before);
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed on {}: {}{}",
            load.url,
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut run = parse_wrk(&text)
        .with_context(|| format!("reading wrk's output for {}:\n{text}", load.url))?;
    run.cpu_us_per_request = spent
        .filter(|_| run.requests > 0)
        .map(|seconds| seconds * 1e6 / run.requests as f64);
    Ok(run)
}

/// `program`, run on `cpus` when given.
fn pinned(program: impl AsRef<OsStr>, cpus: Option<&str>) -> Command {
    match cpus {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command.args(["-c", cpus]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Which cores the proxies and everything else run on. Only the stand-in
/// benchmark pins (the stack's cells are not its to place), and only with
/// two cores or more and `taskset` at hand.
struct Cores {
    proxies: Option<String>,
    others: Option<String>,
}

impl Cores {
    fn split(pin: bool) -> Self {
        let unpinned = Self {
            proxies: None,
            others: None,
        };
        if !pin || !tools::has_command("taskset") {
            return unpinned;
        }
        let allowed = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                status.lines().find_map(|line| {
                    line.strip_prefix("Cpus_allowed_list:")
                        .map(|list| cpu_list(list.trim()))
                })
            })
            .unwrap_or_default();
        match allowed.split_last() {
            Some((last, rest)) if !rest.is_empty() => Self {
                proxies: Some(last.to_string()),
                others: Some(
                    rest.iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
            },
            _ => unpinned,
        }
    }
}

/// The cores of a kernel CPU list such as `0-3,6` (an unreadable part
/// counts as none).
fn cpu_list(text: &str) -> Vec<u32> {
    text.split(',')
        .filter_map(|part| match part.split_once('-') {
            Some((first, last)) => Some((first.trim().parse().ok()?, last.trim().parse().ok()?)),
            None => part.trim().parse().ok().map(|core| (core, core)),
        })
        .flat_map(|(first, last)| first..=last)
        .collect()
}

/// Requests/sec, the 50% and 99% latencies, and the failures of a wrk run.
fn parse_wrk(text: &str) -> anyhow::Result<Run> {
    let mut run = Run::UNMEASURED;
    for line in text.lines().map(str::trim) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["Requests/sec:", value] => run.requests_per_second = value.parse()?,
            [count, "requests", "in", ..] => run.requests = count.parse()?,
            ["50%", value] => run.p50_ms = duration_ms(value)?,
            ["99%", value] => run.p99_ms = duration_ms(value)?,
            ["Non-2xx", "or", "3xx", "responses:", count] => run.errors += count.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 0, write 0, timeout 0"
                for pair in rest.join(" ").split(',') {
                    if let Some(count) = pair.split_whitespace().nth(1) {
                        run.errors += count.parse::<u64>()?;
                    }
                }
            }
            _ => {}
        }
    }
    if run.requests_per_second.is_nan() || run.p50_ms.is_nan() || run.p99_ms.is_nan() {
        bail!("no Requests/sec, 50% or 99% line");
    }
    Ok(run)
}

/// wrk's `123.45us`, `1.20ms`, `2.00s` or `1.5m` in milliseconds.
fn duration_ms(text: &str) -> anyhow::Result<f64> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .with_context(|| format!("{text} has no unit"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .with_context(|| format!("{text} is not a number of {unit}"))?;
    let scale = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        other => bail!("unknown unit {other} in {text}"),
    };
    Ok(number * scale)
}

/// A server the benchmark started for itself, listening on `listen`;
/// stopped when dropped.
struct Listening {
    process: Option<procs::Managed>,
    listen: SocketAddr,
}

impl Listening {
    /// Starts `command` as `name`, logging to target/bench-edge/`name`.log,
    /// and waits until it listens on `listen`.
    fn start(name: &str, command: &mut Command, listen: SocketAddr) -> anyhow::Result<Self> {
        let dir = root().join("target/bench-edge");
        std::fs::create_dir_all(&dir)?;
        let mut process = procs::Managed::spawn(
            name,
            command,
            &dir.join(format!("{name}.log")),
            &dir.join(format!("{name}.pid")),
        )?;
        let started = process.wait_until(
            &format!("listening on {listen}"),
            Duration::from_secs(10),
            || procs::port_open(listen),
        );
        let server = Self {
            process: Some(process),
            listen,
        };
        started?;
        Ok(server)
    }

    fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(procs::Managed::pid)
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(process) = self.process.take() {
            process.stop(Duration::from_secs(5));
        }
    }
}

/// The edge, built optimised, on a port of its own over the stack's cells and
/// control plane, with `workers` threads and without rate limits, logging to
/// target/bench-edge/edge.log.
fn start_edge(upstream: &Upstream, workers: u32, cores: &Cores) -> anyhow::Result<Listening> {
    let root = root();
    // Measured as it would run in production: an optimised build (the
    // stack's own edge is a debug build, several times slower).
    step("building the edge optimised (cargo build --release -p edge-router)");
    tools::run(
        Command::new(crate::stack::cargo())
            .args([
                "build",
                "--release",
                "-p",
                "edge-router",
                "--bin",
                "edge-router",
            ])
            .current_dir(&root),
    )?;
    let binary = crate::stack::target_dir(&root)?.join("release/edge-router");
    let listen = free_address()?;
    step(&format!(
        "starting the edge on {listen} ({workers} worker threads, rate limits off)"
    ));
    let edge = Listening::start(
        "edge",
        pinned(&binary, cores.proxies.as_deref())
            .current_dir(&root)
            .env("EDGE__EDGE__LISTEN", listen.to_string())
            .env("EDGE__EDGE__TOPOLOGY", &upstream.topology)
            .env("EDGE__EDGE__STATIC_DIR", root.join("frontend/dist"))
            .env("EDGE__EDGE__ROUTING_CACHE", &upstream.routing_cache)
            .env("EDGE__EDGE__THREADS", workers.to_string())
            .env("EDGE__EDGE__RATE_LIMIT_PER_IP", "0")
            .env("EDGE__EDGE__RATE_LIMIT_PER_SHOPPER", "0"),
        listen,
    )?;
    http::require_live(&format!("http://{listen}"), "the benchmark's edge")?;
    Ok(edge)
}

fn free_address() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// nginx in front of the same cells, as the edge's peer: consistent hashing
/// on the `sk` cookie, HTTP/1.1 keep-alive to the cells, as many worker
/// processes as the edge has threads, an access log per request (the edge
/// logs each one too).
fn start_nginx(cells: &[SocketAddr], workers: u32, cores: &Cores) -> anyhow::Result<Listening> {
    let prefix = root().join("target/bench-edge/nginx");
    std::fs::create_dir_all(prefix.join("logs"))?;
    let listen = free_address()?;
    let servers: String = cells
        .iter()
        .map(|cell| format!("        server {cell};\n"))
        .collect();
    let conf = format!(
        "worker_processes {workers};\n\
         pid {pid};\n\
         error_log {logs}/error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n\
         \x20   access_log {logs}/access.log;\n\
         \x20   upstream cells {{\n\
         \x20       hash $cookie_sk consistent;\n\
         {servers}\
         \x20       keepalive 128;\n\
         \x20   }}\n\
         \x20   server {{\n\
         \x20       listen {listen};\n\
         \x20       location / {{\n\
         \x20           proxy_pass http://cells;\n\
         \x20           proxy_http_version 1.1;\n\
         \x20           proxy_set_header Connection \"\";\n\
         \x20           proxy_set_header X-Forwarded-For $remote_addr;\n\
         \x20       }}\n\
         \x20   }}\n\
         }}\n",
        pid = prefix.join("nginx.pid").display(),
        logs = prefix.join("logs").display(),
    );
    let conf_path = prefix.join("nginx.conf");
    std::fs::write(&conf_path, conf)?;
    step(&format!(
        "starting nginx on {listen} ({})",
        conf_path.display()
    ));
    Listening::start(
        "nginx",
        pinned("nginx", cores.proxies.as_deref())
            .args(["-p"])
            .arg(&prefix)
            .arg("-c")
            .arg(&conf_path)
            .args(["-g", "daemon off;"]),
        listen,
    )
}

/// The cells both proxies are put in front of.
struct Upstream {
    /// The topology the edge routes by.
    topology: PathBuf,
    /// Where the edge keeps its last routing table: one per kind of
    /// upstream, since a newer saved table wins over the topology's.
    routing_cache: PathBuf,
    /// Each cell's id and HTTP address.
    cells: Vec<(String, SocketAddr)>,
    /// The stand-in cells' nginx (stopped when dropped); `None` for the
    /// stack's cells.
    stand_in: Option<Listening>,
}

impl Upstream {
    /// The cells the running stack started (it writes their topology), all
    /// of them answering.
    fn stack() -> anyhow::Result<Self> {
        let routed = crate::state_dir().join("run/cells.yaml");
        let topology = Topology::load(&routed)
            .with_context(|| format!("reading {} — {START_HINT}", routed.display()))?;
        let cells: Vec<(String, SocketAddr)> = topology
            .cells
            .iter()
            .map(|cell| (cell.id.clone(), cell.http))
            .collect();
        let answering = cells
            .iter()
            .filter(|(_, address)| procs::http_status(*address, "/livez") == Some(200))
            .count();
        if answering != cells.len() {
            bail!(
                "{answering} of the stack's {} cells answer /livez; {START_HINT}",
                cells.len()
            );
        }
        Ok(Self {
            topology: routed,
            routing_cache: root().join("target/bench-edge/routing-table.json"),
            cells,
            stand_in: None,
        })
    }

    /// Three stand-in cells: one nginx worker answering `/livez` and every
    /// other path with the same JSON document (about the size of a cell's
    /// category list), on three ports, with the repository's first three
    /// cells' ids. The control plane named in their topology is a port
    /// nobody listens on: the edge keeps the table it was seeded with.
    fn stand_in(cores: &Cores) -> anyhow::Result<Self> {
        let dir = root().join("target/bench-edge/stand-in");
        std::fs::create_dir_all(dir.join("logs"))?;
        // A table saved by an earlier run (the stack's control plane numbers
        // its tables above the topology's) would send the edge elsewhere.
        let routing_cache = dir.join("routing-table.json");
        if routing_cache.exists() {
            std::fs::remove_file(&routing_cache)?;
        }
        // Inline in the configuration, so nginx's worker needs no access
        // to the clone's folders; the document holds no quote or `$`.
        let body = String::from_utf8(stand_in_body()?)?;
        let mut topology = Topology::load(&root().join("cells.yaml"))?;
        topology.cells.truncate(3);
        topology.control_plane.http = free_address()?;
        for cell in &mut topology.cells {
            cell.http = free_address()?;
        }
        let cells: Vec<(String, SocketAddr)> = topology
            .cells
            .iter()
            .map(|cell| (cell.id.clone(), cell.http))
            .collect();
        let addresses: Vec<String> = cells
            .iter()
            .map(|(_, address)| address.to_string())
            .collect();
        let listens: String = addresses
            .iter()
            .map(|address| format!("        listen {address};\n"))
            .collect();
        let conf = format!(
            "worker_processes 1;\n\
             pid {dir}/nginx.pid;\n\
             error_log {dir}/logs/error.log warn;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n\
             \x20   access_log off;\n\
             \x20   keepalive_requests 1000000;\n\
             \x20   default_type application/json;\n\
             \x20   server {{\n\
             {listens}\
             \x20       location = /.well-known/jwks.json {{ return 404; }}\n\
             \x20       location / {{ return 200 '{body}'; }}\n\
             \x20   }}\n\
             }}\n",
            dir = dir.display(),
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf)?;
        let first = cells
            .first()
            .map(|(_, address)| *address)
            .context("cells.yaml lists no cells")?;
        step(&format!(
            "starting the stand-in cells on {} ({})",
            addresses.join(", "),
            conf_path.display()
        ));
        let stand_in = Listening::start(
            "stand-in",
            pinned("nginx", cores.others.as_deref())
                .arg("-p")
                .arg(&dir)
                .arg("-c")
                .arg(&conf_path)
                .args(["-g", "daemon off;"]),
            first,
        )?;
        let path = dir.join("cells.yaml");
        std::fs::write(&path, topology.to_yaml()?)?;
        Ok(Self {
            topology: path,
            routing_cache,
            cells,
            stand_in: Some(stand_in),
        })
    }
}

/// The stand-in cells' answer: a category list like a cell's (about 1.4 KB).
fn stand_in_body() -> anyhow::Result<Vec<u8>> {
    let names = [
        "Shirts",
        "Trousers",
        "Jeans",
        "Jackets",
        "Suits",
        "Knitwear",
        "Shoes",
        "Accessories",
    ];
    let items: Vec<serde_json::Value> = names
        .iter()
        .enumerate()
        .map(|(position, name)| {
            let slug = name.to_lowercase();
            serde_json::json!({
                "id": position + 1,
                "slug": slug,
                "name": name,
                "path": [slug],
                "parent": null,
                "position": position,
                "product_count": 12_500,
                "description": format!("{name} for every day and for the occasions that ask for more."),
            })
        })
        .collect();
    Ok(serde_json::to_vec(&serde_json::json!({ "items": items }))?)
}

/// CPU time of processes, from `/proc`.
mod cpu {
    /// Seconds of CPU (user and system) that `pid` and its children (an
    /// nginx master's workers) have spent so far; 0 for what cannot be read.
    pub fn seconds(pid: u32) -> f64 {
        let mut ticks = stat(pid).map_or(0, |(_, ticks)| ticks);
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Some(child) = entry
                    .file_name()
                    .to_str()
                    .and_then(|name| name.parse().ok())
                else {
                    continue;
                };
                if let Some((parent, spent)) = stat(child)
                    && parent == pid
                {
                    ticks += spent;
                }
            }
        }
        ticks as f64 / ticks_per_second()
    }

    /// `(parent pid, user + system ticks)` of a process.
    fn stat(pid: u32) -> Option<(u32, u64)> {
        parse(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// Reads `/proc/<pid>/stat`: the fields after the command's closing
    /// parenthesis (the command may hold spaces and parentheses itself) are
    /// state, ppid, … with utime and stime the 12th and 13th.
    pub(super) fn parse(text: &str) -> Option<(u32, u64)> {
        let (_, rest) = text.rsplit_once(')')?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let parent = fields.get(1)?.parse().ok()?;
        let user: u64 = fields.get(11)?.parse().ok()?;
        let system: u64 = fields.get(12)?.parse().ok()?;
        Some((parent, user + system))
    }

    /// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on
    /// Linux unless told otherwise).
    fn ticks_per_second() -> f64 {
        static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
        *TICKS.get_or_init(|| {
            std::process::Command::new("getconf")
                .arg("CLK_TCK")
                .output()
                .ok()
                .and_then(|output| String::from_utf8(output.stdout).ok())
                .and_then(|text| text.trim().parse().ok())
                .filter(|ticks: &f64| *ticks > 0.0)
                .unwrap_or(100.0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_is_read_in_milliseconds_with_its_failures() {
        let text = "Running 10s test @ http://127.0.0.1:8080/api/categories
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.10ms    1.20ms  40.00ms   90.00%
    Req/Sec    10.00k     1.00k   12.00k    70.00%
  Latency Distribution
     50%  850.00us
     75%    3.00ms
     90%    4.00ms
     99%    1.20s
  200000 requests in 10.00s, 50.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:  19999.50
Transfer/sec:      5.00MB
";
        let run = parse_wrk(text).unwrap();
        assert_eq!(run.requests, 200_000);
        assert!((run.requests_per_second - 19999.5).abs() < 1e-9);
        assert!((run.p50_ms - 0.85).abs() < 1e-9);
        assert!((run.p99_ms - 1200.0).abs() < 1e-9);
        assert_eq!(run.errors, 9);
        assert!(parse_wrk("nothing useful").is_err());
    }

    #[test]
    fn the_median_round_is_taken_whole() {
        let run = |rps: f64, p99: f64| Run {
            requests_per_second: rps,
            p50_ms: p99 / 2.0,
            p99_ms: p99,
            ..Run::UNMEASURED
        };
        let runs = [run(300.0, 9.0), run(100.0, 1.0), run(200.0, 5.0)];
        let middle = median_by(&runs, |run| run.requests_per_second);
        assert!((middle.requests_per_second - 200.0).abs() < 1e-9);
        assert!((middle.p50_ms - 2.5).abs() < 1e-9);
        let even = median_by(&runs[..2], |run| run.p99_ms);
        assert!((even.p99_ms - 1.0).abs() < 1e-9);
        assert!(median_by(&runs[..1], |run| run.p99_ms).p99_ms > 8.0);
    }

    #[test]
    fn a_process_stat_gives_its_parent_and_cpu_ticks() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt
        // cminflt majflt cmajflt utime stime …; the command may hold ") ".
        let text =
            "4242 (nginx: worker) x) S 4240 4240 4240 0 -1 4194560 900 0 0 0 1234 567 0 0 20 0 1 0";
        assert_eq!(cpu::parse(text), Some((4240, 1801)));
        assert_eq!(cpu::parse("4242 (cut short) S 1"), None);
        assert_eq!(cpu::parse("no parenthesis"), None);
        let own = std::fs::read_to_string("/proc/self/stat").unwrap();
        assert!(cpu::parse(&own).is_some(), "{own}");
    }

    #[test]
    fn the_stand_in_answers_like_a_cells_category_list() {
        let body: serde_json::Value = serde_json::from_slice(&stand_in_body().unwrap()).unwrap();
        assert_eq!(body["items"].as_array().map(Vec::len), Some(8));
        let text = String::from_utf8(stand_in_body().unwrap()).unwrap();
        assert!((1000..2000).contains(&text.len()), "{} bytes", text.len());
        // It is quoted inline in nginx's configuration.
        assert!(!text.contains(['\'', '$', '\\']), "{text}");
    }

    #[test]
    fn cpu_lists_name_each_core() {
        assert_eq!(cpu_list("0-1"), [0, 1]);
        assert_eq!(cpu_list("0-2,5,7-8"), [0, 1, 2, 5, 7, 8]);
        assert_eq!(cpu_list("3"), [3]);
        assert!(cpu_list("").is_empty());
    }
}
