//! `cargo xtask up` and `down`: the whole platform on one machine — one
//! broker, per cell its own `mariadbd` and `redis-server`, the control plane
//! with its own pair, N cells and the edge — with data, logs and pid files
//! under `.cellwear/`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use topology::{Topology, endpoint_port};

use crate::procs::{self, Managed};
use crate::tools::{self, run, step};
use crate::{root, state_dir};

#[derive(Debug)]
pub struct UpOptions {
    pub cells: Option<usize>,
    pub detach: bool,
    pub fresh: bool,
    /// Demo products seeded once everything runs.
    pub products: usize,
}

const STOP_TIMEOUT: Duration = Duration::from_secs(15);
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// `up` waits for the vectors of a catalog this size or smaller (2,000
/// products take well under a minute).
const WAIT_FOR_VECTORS_UP_TO: usize = 10_000;

/// The processes started so far, in start order.
#[derive(Debug, Default)]
struct Stack {
    processes: Vec<Managed>,
    table: Vec<[String; 3]>,
}

impl Stack {
    fn start(&mut self, name: &str, command: &mut Command) -> anyhow::Result<&mut Managed> {
        let dirs = Dirs::get();
        let order = self.processes.len();
        let log = dirs.logs.join(format!("{name}.log"));
        let pid_file = dirs.run.join(format!("{order:02}-{name}.pid"));
        let managed = Managed::spawn(name, command, &log, &pid_file)?;
        self.processes.push(managed);
        let last = self.processes.len() - 1;
        Ok(&mut self.processes[last])
    }

    fn note(&mut self, what: &str, address: String, log: &Path) {
        self.table
            .push([what.to_owned(), address, log.display().to_string()]);
    }

    /// Stops everything, last started first.
    fn stop_all(&mut self) {
        while let Some(process) = self.processes.pop() {
            eprintln!("    stopping {}", process.name);
            process.stop(STOP_TIMEOUT);
        }
    }
}

struct Dirs {
    data: PathBuf,
    logs: PathBuf,
    run: PathBuf,
}

impl Dirs {
    fn get() -> Self {
        let state = state_dir();
        Self {
            data: state.join("data"),
            logs: state.join("logs"),
            run: state.join("run"),
        }
    }
}

pub fn up(options: &UpOptions) -> anyhow::Result<()> {
    let root = root();
    let mut topology = Topology::load(&root.join("cells.yaml"))?;
    let listed = topology.cells.len();
    let count = options.cells.unwrap_or(listed);
    if count == 0 || count > listed {
        bail!(
            "--cells {count}: cells.yaml lists {listed} cells; run 1 to {listed}, or add cells to cells.yaml"
        );
    }
    topology.cells.truncate(count);

    let running = running_pids();
    if !running.is_empty() {
        bail!(
            "an earlier `cargo xtask up` is still running ({}); `cargo xtask down` stops it",
            running
                .iter()
                .map(|(_, name, _)| name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let dirs = Dirs::get();
    if options.fresh {
        step("--fresh: wiping local data and logs");
        for dir in [&dirs.data, &dirs.logs, &dirs.run] {
            if dir.exists() {
                std::fs::remove_dir_all(dir)
                    .with_context(|| format!("removing {}", dir.display()))?;
            }
        }
    }
    for dir in [&dirs.data, &dirs.logs, &dirs.run] {
        std::fs::create_dir_all(dir)?;
    }

    step("checking tools");
    tools::ensure_build_tools()?;
    tools::ensure_data_stores()?;
    let tansu = tools::ensure_tansu()?;
    let localstripe = tools::ensure_localstripe()?;
    let maildev = tools::ensure_maildev()?;
    tools::ensure_model()?;
    build_frontend(&root)?;
    step("building the workspace (cargo build --workspace --bins)");
    run(Command::new(cargo())
        .args(["build", "--workspace", "--bins"])
        .current_dir(&root))?;
    let bin = target_dir(&root)?.join("debug");
    check_ports_free(&topology)?;

    let mut stack = Stack::default();
    let started = Instant::now();
    let programs = Programs {
        tansu: &tansu,
        localstripe: &localstripe,
        maildev: &maildev,
    };
    if let Err(error) = start_all(&mut stack, &topology, &programs, &bin, &root) {
        eprintln!("xtask: start-up failed; stopping what was started");
        stack.stop_all();
        return Err(error);
    }
    print_table(&stack, started.elapsed(), topology.edge.tls_listen);
    if options.products > 0 {
        step(&format!(
            "seeding the demo catalog ({} products; `--products 0` skips this)",
            options.products
        ));
        let control = format!("http://{}", topology.control_plane.http);
        let seeded = crate::seed::seed_products(
            &control,
            &dirs.data.join("keys/signing.pem"),
            options.products,
            crate::seed::catalog::DEFAULT_SEED,
        );
        // A demo-sized catalog gets its vectors before `up` returns, so the
        // shop is whole (similar products, semantic search) and nothing
        // embeds behind a benchmark or drill started next; a large one is
        // left to embed in the background.
        let seeded = seeded.and_then(|()| {
            if options.products <= WAIT_FOR_VECTORS_UP_TO {
                step("waiting for the control plane to embed the demo catalog");
                crate::seed::wait_for_vectors(&control)
            } else {
                Ok(())
            }
        });
        if let Err(error) = seeded {
            eprintln!("xtask: seeding failed; stopping everything");
            stack.stop_all();
            return Err(error);
        }
    }

    if options.detach {
        eprintln!("Running in the background. Stop it with: cargo xtask down");
        return Ok(());
    }
    eprintln!("Press Ctrl-C to stop everything.");
    supervise(&mut stack)
}

/// Waits for Ctrl-C or for a process to die, then stops everything.
fn supervise(stack: &mut Stack) -> anyhow::Result<()> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    loop {
        if interrupted.load(Ordering::SeqCst) {
            step("stopping (Ctrl-C)");
            stack.stop_all();
            return Ok(());
        }
        let dead = stack
            .processes
            .iter_mut()
            .find_map(|process| process.exited().map(|status| process.died(&status)));
        if let Some(error) = dead {
            eprintln!("xtask: {error:#}");
            step("stopping the rest");
            stack.stop_all();
            bail!("a process of the stack died");
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The prebuilt programs the stack runs besides our own.
struct Programs<'a> {
    tansu: &'a Path,
    localstripe: &'a Path,
    maildev: &'a Path,
}

/// The keys every local cell pays with: the emulator takes any `sk_…`.
const STRIPE_SECRET_KEY: &str = "sk_test_cellwear_local";
const STRIPE_PUBLISHABLE_KEY: &str = "pk_test_cellwear_local";

fn webhook_secret(cell: &str) -> String {
    format!("whsec_cellwear_local_{cell}")
}

fn start_all(
    stack: &mut Stack,
    topology: &Topology,
    programs: &Programs<'_>,
    bin: &Path,
    root: &Path,
) -> anyhow::Result<()> {
    let dirs = Dirs::get();
    step("starting the broker (tansu)");
    let broker: SocketAddr = topology
        .broker
        .parse()
        .context("cells.yaml: broker must be ip:port")?;
    let process = stack.start("broker", &mut tools::broker_command(programs.tansu, broker))?;
    process.wait_until("listening", START_TIMEOUT, || procs::port_open(broker))?;
    let log = process.log.clone();
    stack.note("broker (Kafka protocol)", broker.to_string(), &log);

    step("starting the Stripe emulator (localstripe)");
    let stripe: SocketAddr = crate::services::STRIPE_UP.parse()?;
    let process = stack.start(
        "stripe",
        tools::stripe_command(programs.localstripe, stripe.port()).current_dir(&dirs.run),
    )?;
    process.wait_until("listening", START_TIMEOUT, || procs::port_open(stripe))?;
    let log = process.log.clone();
    stack.note("Stripe emulator", format!("http://{stripe}"), &log);

    step("starting the SMTP sink with its web inbox (maildev)");
    let smtp: SocketAddr = crate::services::SMTP_UP.parse()?;
    let inbox: SocketAddr = crate::services::INBOX_UP.parse()?;
    let process = stack.start(
        "mail",
        &mut tools::mail_sink_command(programs.maildev, smtp.port(), inbox.port()),
    )?;
    process.wait_until("listening", START_TIMEOUT, || {
        procs::port_open(smtp) && procs::port_open(inbox)
    })?;
    let log = process.log.clone();
    stack.note("mail inbox (maildev)", format!("http://{inbox}"), &log);

    step("starting MySQL and Redis for the control plane and each cell");
    let control = &topology.control_plane;
    start_mysql(stack, "control-plane", &control.mysql, &dirs)?;
    start_redis(stack, "control-plane", &control.redis, &dirs)?;
    for cell in &topology.cells {
        start_mysql(stack, &cell.id, &cell.mysql, &dirs)?;
        start_redis(stack, &cell.id, &cell.redis, &dirs)?;
    }

    // The topology trimmed to the cells that run: it seeds the control
    // plane's cell map and the edge's first routing table.
    let routed = dirs.run.join("cells.yaml");
    std::fs::write(&routed, topology.to_yaml()?)?;
    let signing_key = ensure_signing_key(&dirs)?;
    step("starting the control plane");
    let mut command = Command::new(bin.join("control-plane"));
    command
        .current_dir(root)
        .env("CONTROL__HTTP__HOST", control.http.ip().to_string())
        .env("CONTROL__HTTP__PORT", control.http.port().to_string())
        .env("CONTROL__MYSQL__URL", &control.mysql)
        .env("CONTROL__REDIS__URL", &control.redis)
        .env("CONTROL__KAFKA__BROKERS", &topology.broker)
        .env("CONTROL__CONTROL__TOPOLOGY", &routed)
        .env(
            "CONTROL__AUTH__KEY_FILES",
            format!("[\"{}\"]", signing_key.display()),
        );
    start_service(stack, "control-plane", &mut command, control.http)?;

    step(&format!("starting {} cells", topology.cells.len()));
    for cell in &topology.cells {
        let mut command = Command::new(bin.join("cell"));
        command
            .current_dir(root)
            .env("CELL__CELL__ID", &cell.id)
            .env("CELL__HTTP__HOST", cell.http.ip().to_string())
            .env("CELL__HTTP__PORT", cell.http.port().to_string())
            .env("CELL__MYSQL__URL", &cell.mysql)
            .env("CELL__REDIS__URL", &cell.redis)
            .env("CELL__REDIS__KEY_PREFIX", format!("{}:", cell.id))
            .env("CELL__KAFKA__BROKERS", &topology.broker)
            .env("CELL__KAFKA__PARTITIONS", cell.kafka.partitions.to_string())
            .env(
                "CELL__AUTH__SIGNING_KEY_FILES",
                format!("[\"{}\"]", signing_key.display()),
            )
            .env("CELL__PAYMENTS__API_BASE", format!("http://{stripe}"))
            .env("CELL__PAYMENTS__SECRET_KEY", STRIPE_SECRET_KEY)
            .env("CELL__PAYMENTS__PUBLISHABLE_KEY", STRIPE_PUBLISHABLE_KEY)
            .env("CELL__PAYMENTS__WEBHOOK_SECRET", webhook_secret(&cell.id))
            .env("CELL__MAIL__SMTP_URL", format!("smtp://{smtp}"))
            .env(
                "CELL__MAIL__SHOP_URL",
                format!("http://{}", topology.edge.listen),
            )
            .env("CELL__CARRIER__SIMULATED__ENABLED", "true")
            // Registering this address makes an admin and SRE (README).
            .env(
                "CELL__AUTH__BOOTSTRAP_ADMINS",
                format!("[\"{DEMO_STAFF}\"]"),
            )
            .env(
                "CELL__ROUTING__TABLE_URL",
                format!("http://{}/control/api/routing-table", control.http),
            );
        start_service(stack, &cell.id, &mut command, cell.http)?;
        register_webhook(stripe, &cell.id, cell.http)?;
    }

    step("starting the edge");
    let mut command = Command::new(bin.join("edge-router"));
    if let Some(tls) = topology.edge.tls_listen {
        let (cert, key) = local_certificate(&dirs.run)?;
        command
            .env("EDGE__EDGE__TLS__LISTEN", tls.to_string())
            .env("EDGE__EDGE__TLS__CERT", cert)
            .env("EDGE__EDGE__TLS__KEY", key);
    }
    command
        .current_dir(root)
        .env("EDGE__EDGE__LISTEN", topology.edge.listen.to_string())
        .env("EDGE__EDGE__TOPOLOGY", &routed)
        .env("EDGE__EDGE__STATIC_DIR", root.join("frontend/dist"))
        .env(
            "EDGE__EDGE__ROUTING_CACHE",
            dirs.run.join("edge-routing-table.json"),
        );
    start_service(stack, "edge", &mut command, topology.edge.listen)
}

/// A self-signed certificate for `localhost` and 127.0.0.1, made once and
/// kept under `.cellwear/` (browsers warn about it; `curl -k` takes it).
fn local_certificate(run: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = run.parent().unwrap_or(run).join("tls");
    let (cert, key) = (dir.join("edge.crt"), dir.join("edge.key"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    step("making a local TLS certificate for the edge (localhost, 127.0.0.1)");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .context("making a self-signed certificate")?;
    std::fs::write(&cert, made.cert.pem())
        .with_context(|| format!("writing {}", cert.display()))?;
    std::fs::write(&key, made.signing_key.serialize_pem())
        .with_context(|| format!("writing {}", key.display()))?;
    Ok((cert, key))
}

/// Points the emulator's webhooks for `cell` at the cell itself, signed
/// with the cell's secret (the emulator sends every event to every cell;
/// each acts on its own orders).
fn register_webhook(stripe: SocketAddr, cell: &str, address: SocketAddr) -> anyhow::Result<()> {
    let url = format!("http://{address}/api/payments/stripe/webhook");
    crate::http::agent(Duration::from_secs(5))
        .post(format!("http://{stripe}/_config/webhooks/{cell}"))
        .send_form([
            ("url", url.as_str()),
            ("secret", webhook_secret(cell).as_str()),
        ])
        .with_context(|| format!("registering {cell}'s webhook with the Stripe emulator"))?;
    Ok(())
}

/// `(id, base URL)` of the cells the running stack started (from the
/// topology `up` wrote).
pub fn running_cells() -> anyhow::Result<Vec<(String, String)>> {
    let routed = Dirs::get().run.join("cells.yaml");
    let topology = Topology::load(&routed).with_context(|| {
        format!(
            "reading {} (is `cargo xtask up` running?)",
            routed.display()
        )
    })?;
    Ok(topology
        .cells
        .iter()
        .map(|cell| (cell.id.clone(), format!("http://{}", cell.http)))
        .collect())
}

/// The Ed25519 key every local cell signs access tokens with, made once.
fn ensure_signing_key(dirs: &Dirs) -> anyhow::Result<PathBuf> {
    let key = dirs.data.join("keys/signing.pem");
    if !key.exists() {
        tools::ensure_command("openssl", "openssl")?;
        if let Some(folder) = key.parent() {
            std::fs::create_dir_all(folder)?;
        }
        run(Command::new("openssl")
            .args(["genpkey", "-algorithm", "ed25519", "-out"])
            .arg(&key))
        .context("making the cells' token signing key")?;
    }
    Ok(key)
}

fn start_service(
    stack: &mut Stack,
    name: &str,
    command: &mut Command,
    address: SocketAddr,
) -> anyhow::Result<()> {
    let process = stack.start(name, command)?;
    process.wait_until("ready (/readyz)", START_TIMEOUT, || {
        procs::http_status(address, "/readyz") == Some(200)
    })?;
    let log = process.log.clone();
    stack.note(name, format!("http://{address}"), &log);
    Ok(())
}

fn start_mysql(stack: &mut Stack, owner: &str, url: &str, dirs: &Dirs) -> anyhow::Result<()> {
    let port = endpoint_port(url, "mysql").map_err(anyhow::Error::msg)?;
    let datadir = dirs.data.join(format!("mysql-{owner}"));
    let socket = dirs.run.join(format!("mysql-{owner}.sock"));
    if !datadir.join("mysql").exists() {
        std::fs::create_dir_all(&datadir)?;
        let log = dirs.logs.join(format!("mysql-{owner}-install.log"));
        let out = std::fs::File::create(&log)?;
        run(Command::new("mariadb-install-db")
            .arg("--no-defaults")
            .arg("--user=root")
            .arg(format!("--datadir={}", datadir.display()))
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db")
            .stdout(out.try_clone()?)
            .stderr(out))
        .with_context(|| {
            format!(
                "initialising MySQL data for {owner} (see {})",
                log.display()
            )
        })?;
    }
    let name = format!("mysql-{owner}");
    let process = stack.start(
        &name,
        Command::new("mariadbd")
            .arg("--no-defaults")
            .arg("--user=root")
            .arg(format!("--datadir={}", datadir.display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", socket.display()))
            .arg(format!(
                "--pid-file={}",
                dirs.run.join(format!("{name}.mariadb.pid")).display()
            ))
            .arg("--skip-log-bin")
            // Room for a cell's catalog read model (100,000 products with
            // their variants and stock shares come to about 1 GB); with less,
            // browsing reads pages from disk. Local data: a crash may lose
            // the last second of commits.
            .arg("--innodb-buffer-pool-size=768M")
            .arg("--innodb-flush-log-at-trx-commit=2"),
    )?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    process.wait_until("accepting connections", START_TIMEOUT, || {
        procs::port_open(address) && socket.exists()
    })?;
    // root@localhost exists after install; TCP clients come from 127.0.0.1.
    run(Command::new("mariadb")
        .arg("--no-defaults")
        .arg("-uroot")
        .arg(format!("--socket={}", socket.display()))
        .arg("-e")
        .arg("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"))
    .with_context(|| format!("letting root connect over TCP to {name}"))?;
    let log = process.log.clone();
    stack.note(&name, format!("{}", address), &log);
    Ok(())
}

fn start_redis(stack: &mut Stack, owner: &str, url: &str, dirs: &Dirs) -> anyhow::Result<()> {
    let port = endpoint_port(url, "redis").map_err(anyhow::Error::msg)?;
    let dir = dirs.data.join(format!("redis-{owner}"));
    std::fs::create_dir_all(&dir)?;
    let name = format!("redis-{owner}");
    let process = stack.start(
        &name,
        Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ])
            .arg("--dir")
            .arg(&dir),
    )?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    process.wait_until("accepting connections", START_TIMEOUT, || {
        procs::port_open(address)
    })?;
    let log = process.log.clone();
    stack.note(&name, address.to_string(), &log);
    Ok(())
}

fn check_ports_free(topology: &Topology) -> anyhow::Result<()> {
    let mut wanted: Vec<(String, u16)> = vec![
        (
            "broker".into(),
            topology
                .broker
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0),
        ),
        ("edge".into(), topology.edge.listen.port()),
        (
            "edge (TLS)".into(),
            topology.edge.tls_listen.map_or(0, |tls| tls.port()),
        ),
        (
            "stripe emulator".into(),
            port_of(crate::services::STRIPE_UP),
        ),
        ("SMTP sink".into(), port_of(crate::services::SMTP_UP)),
        ("mail inbox".into(), port_of(crate::services::INBOX_UP)),
        ("control-plane".into(), topology.control_plane.http.port()),
    ];
    let control = &topology.control_plane;
    wanted.push((
        "control-plane MySQL".into(),
        endpoint_port(&control.mysql, "mysql").map_err(anyhow::Error::msg)?,
    ));
    wanted.push((
        "control-plane Redis".into(),
        endpoint_port(&control.redis, "redis").map_err(anyhow::Error::msg)?,
    ));
    for cell in &topology.cells {
        wanted.push((cell.id.clone(), cell.http.port()));
        wanted.push((
            format!("{} MySQL", cell.id),
            endpoint_port(&cell.mysql, "mysql").map_err(anyhow::Error::msg)?,
        ));
        wanted.push((
            format!("{} Redis", cell.id),
            endpoint_port(&cell.redis, "redis").map_err(anyhow::Error::msg)?,
        ));
    }
    let taken: Vec<String> = wanted
        .iter()
        .filter(|(_, port)| !procs::port_free(SocketAddr::from(([127, 0, 0, 1], *port))))
        .map(|(what, port)| format!("{port} ({what})"))
        .collect();
    if !taken.is_empty() {
        bail!(
            "ports already in use: {}. Stop what holds them (`cargo xtask down` if it is an earlier stack) or change cells.yaml",
            taken.join(", ")
        );
    }
    Ok(())
}

/// The account the local stack makes admin and SRE when it registers.
pub const DEMO_STAFF: &str = "admin@cellwear.local";

fn print_table(stack: &Stack, took: Duration, tls: Option<SocketAddr>) {
    eprintln!();
    eprintln!("Cellwear is up ({:.1} s):", took.as_secs_f64());
    eprintln!("  {:<24} {:<28} log", "process", "address");
    for [what, address, log] in &stack.table {
        eprintln!("  {what:<24} {address:<28} {log}");
    }
    if let Some([_, edge, _]) = stack.table.last() {
        eprintln!();
        eprintln!("  Shop:     {edge}/");
        if let Some(tls) = tls {
            eprintln!(
                "  HTTPS:    https://localhost:{}/ (self-signed)",
                tls.port()
            );
        }
        eprintln!("  API docs: {edge}/docs/");
        eprintln!("  E-mails:  http://{}/", crate::services::INBOX_UP);
        eprintln!("  Staff:    register {DEMO_STAFF} in the shop: it gets the admin and SRE roles");
        eprintln!("  Browser test: cargo xtask e2e [--drain]");
    }
}

pub fn down() -> anyhow::Result<()> {
    let running = running_pids();
    let dirs = Dirs::get();
    if running.is_empty() {
        eprintln!("nothing is running");
    }
    for (pid, name, file) in running.into_iter().rev() {
        eprintln!("    stopping {name} (pid {pid})");
        procs::stop_pid(pid, &name, STOP_TIMEOUT);
        let _ = std::fs::remove_file(file);
    }
    // Pid files of processes that are already gone.
    if let Ok(entries) = std::fs::read_dir(&dirs.run) {
        for entry in entries.flatten() {
            if entry.path().extension().is_some_and(|e| e == "pid") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

/// The pid of the running stack's process `name` (`cell-1`, `edge`, …).
pub fn pid_of(name: &str) -> Option<u32> {
    running_pids()
        .into_iter()
        .find(|(_, process, _)| process == name)
        .map(|(pid, _, _)| pid)
}

/// `(pid, name, pid file)` of every live process an earlier `up` started, in
/// start order.
fn running_pids() -> Vec<(u32, String, PathBuf)> {
    let mut found: Vec<(u32, String, PathBuf)> = std::fs::read_dir(Dirs::get().run)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension().is_some_and(|e| e == "pid")
                && !path.to_string_lossy().ends_with(".mariadb.pid")
        })
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let mut lines = text.lines();
            let pid = lines.next()?.trim().parse().ok()?;
            let name = lines.next().unwrap_or("?").to_owned();
            Some((pid, name, path))
        })
        .filter(|(pid, _, _)| procs::alive(*pid))
        .collect();
    found.sort_by(|a, b| a.2.cmp(&b.2));
    found
}

/// The placeholder frontend and the offline Swagger UI, built into
/// `frontend/dist` (npm `swagger-ui-dist`; nothing is fetched at run time).
/// Node, npm and the frontend's packages, installed when missing.
pub fn frontend_packages(frontend: &Path) -> anyhow::Result<()> {
    tools::ensure_command("node", "nodejs")?;
    tools::ensure_command("npm", "npm")?;
    if !frontend.join("node_modules").exists() {
        step("installing frontend packages (npm ci)");
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(frontend))?;
    }
    Ok(())
}

fn build_frontend(root: &Path) -> anyhow::Result<()> {
    let frontend = root.join("frontend");
    frontend_packages(&frontend)?;
    step("building the frontend");
    run(Command::new("npm")
        .args(["run", "--silent", "build"])
        .current_dir(&frontend))
}

pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The target folder cargo builds into (honours CARGO_TARGET_DIR).
pub fn target_dir(root: &Path) -> anyhow::Result<PathBuf> {
    let output = Command::new(cargo())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("reading cargo metadata")?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata names no target directory")
}

/// The port of a `host:port` constant.
fn port_of(address: &str) -> u16 {
    address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}
