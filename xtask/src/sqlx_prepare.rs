//! `cargo xtask sqlx-prepare`: refreshes `.sqlx/`, the query data that lets
//! `sqlx::query!` check every statement at compile time without a database.
//!
//! It applies every migration of the workspace to a scratch database on the
//! machine's MariaDB, then rebuilds the crates that hold queries with the
//! database reachable: sqlx's macros describe each query there and write what
//! they learn to `.sqlx/`. Builds (and CI) then read `.sqlx/` offline
//! (`SQLX_OFFLINE=true` in `.cargo/config.toml`); a query without data there
//! fails to compile, so stale data cannot slip through.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::root;
use crate::services::{self, MYSQL};
use crate::stack::cargo;
use crate::tools::{run, step};

const DATABASE: &str = "cellwear_sqlx_prepare";
/// Crates whose code holds `sqlx::query!`.
const QUERY_CRATES: &[&str] = &["cell", "control-plane", "events"];
/// Every folder of migrations, in the order they may depend on each other.
const MIGRATIONS: &[&str] = &[
    "crates/events/migrations",
    "cell/migrations",
    "control-plane/migrations",
];

pub fn prepare() -> anyhow::Result<()> {
    let root = root();
    services::ensure_mysql()?;
    step(&format!(
        "applying every migration to a scratch database ({DATABASE})"
    ));
    mysql(&format!(
        "DROP DATABASE IF EXISTS `{DATABASE}`; CREATE DATABASE `{DATABASE}`"
    ))?;
    for folder in MIGRATIONS {
        for file in sql_files(&root.join(folder))? {
            let sql = std::fs::read_to_string(&file)?;
            mysql(&format!("USE `{DATABASE}`;\n{sql}"))
                .with_context(|| format!("applying {}", file.display()))?;
        }
    }
    let offline_dir = root.join(".sqlx");
    if offline_dir.exists() {
        std::fs::remove_dir_all(&offline_dir)?;
    }
    std::fs::create_dir_all(&offline_dir)?;
    step("describing every query (cargo check with the database reachable)");
    // A touched source makes cargo rebuild the crate, so its macros run again.
    for krate in QUERY_CRATES {
        let lib = root.join(krate_dir(krate)).join("src/lib.rs");
        let file = std::fs::OpenOptions::new().append(true).open(&lib)?;
        file.set_modified(std::time::SystemTime::now())?;
    }
    run(Command::new(cargo())
        .args(["check", "--workspace", "--all-targets"])
        .current_dir(&root)
        .env("SQLX_OFFLINE", "false")
        .env("DATABASE_URL", format!("mysql://root@{MYSQL}/{DATABASE}"))
        .env("SQLX_OFFLINE_DIR", &offline_dir))?;
    mysql(&format!("DROP DATABASE `{DATABASE}`"))?;
    let written = std::fs::read_dir(&offline_dir)?.count();
    eprintln!(
        "==> {written} queries described in {}; commit them",
        offline_dir.display()
    );
    Ok(())
}

fn krate_dir(krate: &str) -> String {
    match krate {
        "events" => "crates/events".into(),
        other => other.into(),
    }
}

fn sql_files(folder: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .with_context(|| format!("reading {}", folder.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .collect();
    // Migration files start with their version; sqlx applies them in version
    // order, which for these names is their numeric order.
    files.sort_by_key(|path| {
        path.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('_').next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(u64::MAX)
    });
    Ok(files)
}

fn mysql(sql: &str) -> anyhow::Result<()> {
    let (host, port) = MYSQL.split_once(':').unwrap_or((MYSQL, "3306"));
    run(Command::new("mariadb").args([
        "--no-defaults",
        "-uroot",
        "-h",
        host,
        "-P",
        port,
        "-e",
        sql,
    ]))
}
