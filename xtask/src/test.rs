//! `cargo xtask test`: what CI runs. Makes sure MariaDB, Redis, a broker and
//! the Stripe emulator answer (installing and starting them when they do
//! not), then runs the format check, clippy with warnings as errors, every
//! Rust test (whose run also writes `wire`'s TypeScript bindings: they must
//! come out as committed), and the frontend's type check, lint, tests and
//! build.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::root;
use crate::services::{self, BROKER, INBOX, MYSQL, REDIS, SMTP, STRIPE};
use crate::stack::cargo;
use crate::tools::{self, run, step};

pub fn all() -> anyhow::Result<()> {
    let started = Instant::now();
    let root = root();
    step("checking tools and services");
    tools::ensure_build_tools()?;
    services::ensure_mysql()?;
    services::ensure_redis()?;
    // The backbone's outage tests start brokers of their own.
    let tansu = tools::ensure_tansu()?;
    tools::ensure_model()?;
    let localstripe = tools::ensure_localstripe()?;
    let maildev = tools::ensure_maildev()?;
    // Invoices are checked by their extracted text.
    tools::ensure_command("pdftotext", "poppler-utils")?;
    let broker = services::ensure_broker(&tansu)?;
    let stripe = services::ensure_stripe(&localstripe)?;
    let mail = services::ensure_mail_sink(&maildev)?;
    drop_test_databases()?;

    let outcome = checks(&root, &tansu);
    for service in [broker, stripe, mail].into_iter().flatten() {
        service.stop(Duration::from_secs(5));
    }
    outcome?;
    eprintln!(
        "==> all checks passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn checks(root: &std::path::Path, tansu: &std::path::Path) -> anyhow::Result<()> {
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
        .env("CELLWEAR_TEST_KAFKA", BROKER)
        .env("CELLWEAR_TEST_STRIPE", format!("http://{STRIPE}"))
        .env("CELLWEAR_TEST_SMTP", format!("smtp://{SMTP}"))
        .env("CELLWEAR_TEST_INBOX", format!("http://{INBOX}"))
        .env("CELLWEAR_TANSU", tansu);
    // `wire`'s tests write every binding again; a type that was removed must
    // not survive as a stale file.
    clear_bindings(root)?;
    timed("Rust tests", &mut tests)?;
    bindings_committed(root)?;
    frontend(root)
}

/// Where `wire`'s tests write its TypeScript bindings (.cargo/config.toml).
const BINDINGS: &str = "frontend/src/api/wire";

fn clear_bindings(root: &std::path::Path) -> anyhow::Result<()> {
    let dir = root.join(BINDINGS);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "ts") {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

/// Fails when the bindings the tests wrote differ from the committed ones.
fn bindings_committed(root: &std::path::Path) -> anyhow::Result<()> {
    step("TypeScript bindings of crates/wire match the committed ones");
    let output = Command::new("git")
        .args(["status", "--porcelain", "--", BINDINGS])
        .current_dir(root)
        .output()
        .context("running git status")?;
    if !output.status.success() {
        bail!(
            "git status failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let changed = String::from_utf8_lossy(&output.stdout);
    if !changed.trim().is_empty() {
        bail!(
            "the TypeScript bindings generated from crates/wire changed; review and commit {BINDINGS}:\n{changed}"
        );
    }
    Ok(())
}

/// The frontend's own checks, each when package.json defines it.
fn frontend(root: &std::path::Path) -> anyhow::Result<()> {
    let dir = root.join("frontend");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("package.json")).context("reading frontend/package.json")?,
    )
    .context("frontend/package.json is not JSON")?;
    tools::ensure_command("npm", "npm")?;
    step("frontend: npm ci");
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir))?;
    for script in ["typecheck", "lint", "test", "build"] {
        if manifest["scripts"][script].is_string() {
            let name = format!("frontend: npm run {script}");
            step(&name);
            let began = Instant::now();
            run(Command::new("npm").args(["run", script]).current_dir(&dir))?;
            eprintln!("    {name}: ok in {:.0} s", began.elapsed().as_secs_f64());
        }
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
