//! The machine's own MariaDB and Redis and a broker for tests and benchmarks:
//! found when they answer, else installed and started.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::procs::{self, Managed};
use crate::state_dir;
use crate::tools::{self, run, step};

pub const MYSQL: &str = "127.0.0.1:3306";
pub const REDIS: &str = "127.0.0.1:6379";
/// The tests' broker; `xtask up` uses its own port (cells.yaml), so both can run.
pub const BROKER: &str = "127.0.0.1:9092";
/// The tests' Stripe emulator (`xtask up` runs its own on [`STRIPE_UP`]).
pub const STRIPE: &str = "127.0.0.1:8420";
pub const STRIPE_UP: &str = "127.0.0.1:8421";
/// The tests' SMTP sink and its web inbox/API (`xtask up` runs its own on
/// [`SMTP_UP`] and [`INBOX_UP`]).
pub const SMTP: &str = "127.0.0.1:1025";
pub const INBOX: &str = "127.0.0.1:1080";
pub const SMTP_UP: &str = "127.0.0.1:1026";
pub const INBOX_UP: &str = "127.0.0.1:1081";

pub fn ensure_mysql() -> anyhow::Result<()> {
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

pub fn ensure_redis() -> anyhow::Result<()> {
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
pub fn ensure_broker(tansu: &Path) -> anyhow::Result<Option<Managed>> {
    let address: SocketAddr = BROKER.parse()?;
    if procs::port_open(address) {
        return Ok(None);
    }
    let dir = state_dir().join("test");
    std::fs::create_dir_all(&dir)?;
    let mut broker = Managed::spawn(
        "test broker",
        &mut tools::broker_command(tansu, address),
        &dir.join("broker.log"),
        &dir.join("broker.pid"),
    )?;
    broker.wait_until("listening", Duration::from_secs(30), || {
        procs::port_open(address)
    })?;
    Ok(Some(broker))
}

/// Starts the Stripe emulator for the tests unless one already answers on
/// [`STRIPE`]; returns it so it is stopped afterwards.
pub fn ensure_stripe(localstripe: &Path) -> anyhow::Result<Option<Managed>> {
    let address: SocketAddr = STRIPE.parse()?;
    if procs::port_open(address) {
        return Ok(None);
    }
    let dir = state_dir().join("test");
    std::fs::create_dir_all(&dir)?;
    let mut stripe = Managed::spawn(
        "test Stripe emulator",
        tools::stripe_command(localstripe, address.port()).current_dir(&dir),
        &dir.join("localstripe.log"),
        &dir.join("localstripe.pid"),
    )?;
    stripe.wait_until("listening", Duration::from_secs(30), || {
        procs::port_open(address)
    })?;
    Ok(Some(stripe))
}

/// Starts the SMTP sink for the tests unless one already answers on
/// [`SMTP`]; returns it so it is stopped afterwards.
pub fn ensure_mail_sink(maildev: &Path) -> anyhow::Result<Option<Managed>> {
    let smtp: SocketAddr = SMTP.parse()?;
    let inbox: SocketAddr = INBOX.parse()?;
    if procs::port_open(smtp) && procs::port_open(inbox) {
        return Ok(None);
    }
    let dir = state_dir().join("test");
    std::fs::create_dir_all(&dir)?;
    let mut sink = Managed::spawn(
        "test SMTP sink",
        &mut tools::mail_sink_command(maildev, smtp.port(), inbox.port()),
        &dir.join("maildev.log"),
        &dir.join("maildev.pid"),
    )?;
    sink.wait_until("listening", Duration::from_secs(30), || {
        procs::port_open(smtp) && procs::port_open(inbox)
    })?;
    Ok(Some(sink))
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
