//! `cargo xtask test`: what CI runs. Makes sure MariaDB, Redis and a broker
//! answer (installing and starting them when they do not), then runs the
//! format check, clippy with warnings as errors, and every test.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::procs::{self, Managed};
use crate::stack::cargo;
use crate::tools::{self, run, step};
use crate::{root, state_dir};

const MYSQL: &str = "127.0.0.1:3306";
const REDIS: &str = "127.0.0.1:6379";
/// The tests' broker; `xtask up` uses its own port (cells.yaml), so both can run.
const BROKER: &str = "127.0.0.1:9092";

pub fn all() -> anyhow::Result<()> {
    let started = Instant::now();
    let root = root();
    step("checking tools and services");
    tools::ensure_build_tools()?;
    ensure_mysql()?;
    ensure_redis()?;
    let broker = ensure_broker()?;
    drop_test_databases()?;

    let outcome = checks(&root);
    if let Some(broker) = broker {
        broker.stop(Duration::from_secs(5));
    }
    outcome?;
    eprintln!(
        "==> all checks passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn checks(root: &std::path::Path) -> anyhow::Result<()> {
    let timed = |name: &str, command: &mut Command| -> anyhow::Result<()> {
        step(name);
        let began = Instant::now();
        run(command.current_dir(root))?;
        eprintln!("    {name}: ok in {:.0} s", began.elapsed().as_secs_f64());
        Ok(())
    };
    timed(
        "cargo fmt --check",
        Command::new(cargo()).args(["fmt", "--all", "--check"]),
    )?;
    timed(
        "cargo clippy -D warnings",
        Command::new(cargo()).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    let mut tests = if tools::has_command("cargo-nextest") {
        let mut command = Command::new(cargo());
        command.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
        command
    } else {
        let mut command = Command::new(cargo());
        command.args(["test", "--workspace", "--no-fail-fast"]);
        command
    };
    tests
        .env("CELLWEAR_TEST_MYSQL", format!("mysql://root@{MYSQL}"))
        .env("CELLWEAR_TEST_REDIS", format!("redis://{REDIS}"))
        .env("CELLWEAR_TEST_KAFKA", BROKER);
    timed("Rust tests", &mut tests)
}

fn ensure_mysql() -> anyhow::Result<()> {
    let address: SocketAddr = MYSQL.parse()?;
    if procs::port_open(address) {
        return Ok(());
    }
    tools::ensure_data_stores()?;
    step("starting the machine's MariaDB");
    run(Command::new("start-stop-daemon").args([
        "--start",
        "--oknodo",
        "--background",
        "--exec",
        "/usr/sbin/mariadbd",
        "--",
        "--user=root",
    ]))?;
    wait_for("MariaDB", || procs::port_open(address))
}

fn ensure_redis() -> anyhow::Result<()> {
    let address: SocketAddr = REDIS.parse()?;
    if procs::port_open(address) {
        return Ok(());
    }
    tools::ensure_data_stores()?;
    step("starting the machine's Redis");
    run(Command::new("redis-server").args([
        "--daemonize",
        "yes",
        "--bind",
        "127.0.0.1",
        "--port",
        "6379",
        "--save",
        "",
        "--appendonly",
        "no",
    ]))?;
    wait_for("Redis", || procs::port_open(address))
}

/// Starts a broker for the tests unless one already answers; returns it so
/// it is stopped afterwards.
fn ensure_broker() -> anyhow::Result<Option<Managed>> {
    let address: SocketAddr = BROKER.parse()?;
    if procs::port_open(address) {
        return Ok(None);
    }
    let tansu = tools::ensure_tansu()?;
    let dir = state_dir().join("test");
    std::fs::create_dir_all(&dir)?;
    let listener = format!("tcp://{BROKER}");
    let mut broker = Managed::spawn(
        "test broker",
        Command::new(tansu).args([
            "broker",
            "--listener-url",
            &listener,
            "--advertised-listener-url",
            &listener,
            "--storage-engine",
            "memory://tansu/",
        ]),
        &dir.join("broker.log"),
        &dir.join("broker.pid"),
    )?;
    broker.wait_until("listening", Duration::from_secs(30), || {
        procs::port_open(address)
    })?;
    Ok(Some(broker))
}

fn wait_for(what: &str, ready: impl Fn() -> bool) -> anyhow::Result<()> {
    let started = Instant::now();
    while !ready() {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("{what} did not start within 30 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// Test databases are named `test_…`; drop those earlier runs left behind.
fn drop_test_databases() -> anyhow::Result<()> {
    let host = MYSQL.split(':').collect::<Vec<_>>();
    let client = |sql: &str| {
        Command::new("mariadb")
            .args([
                "--no-defaults",
                "-uroot",
                "-h",
                host[0],
                "-P",
                host[1],
                "-N",
                "-B",
                "-e",
                sql,
            ])
            .stderr(Stdio::inherit())
            .output()
            .context("running the mariadb client")
    };
    let listed = client(
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'test\\_%'",
    )?;
    if !listed.status.success() {
        bail!("cannot list test databases on {MYSQL}");
    }
    let names: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let drops: String = names
        .iter()
        .map(|name| format!("DROP DATABASE IF EXISTS `{name}`;"))
        .collect();
    let dropped = client(&drops)?;
    if !dropped.status.success() {
        bail!("cannot drop old test databases on {MYSQL}");
    }
    eprintln!(
        "    dropped {} test databases left by earlier runs",
        names.len()
    );
    Ok(())
}
