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

/// Each crate holding `sqlx::query!`, the scratch database its queries are
/// described against, and the migration folders that database gets, in order
/// (the services share the event outbox's tables and nothing else; the cell
/// and the control plane both have a `promotions` table, so each needs its
/// own database).
const CRATES: &[(&str, &str, &[&str])] = &[
    (
        "events",
        "cellwear_sqlx_prepare_events",
        &["crates/events/migrations"],
    ),
    (
        "cell",
        "cellwear_sqlx_prepare_cell",
        &["crates/events/migrations", "cell/migrations"],
    ),
    (
        "control-plane",
        "cellwear_sqlx_prepare_control",
        &["crates/events/migrations", "control-plane/migrations"],
    ),
];

pub fn prepare() -> anyhow::Result<()> {
    let root = root();
    services::ensure_mysql()?;
    let offline_dir = root.join(".sqlx");
    if offline_dir.exists() {
        std::fs::remove_dir_all(&offline_dir)?;
    }
    std::fs::create_dir_all(&offline_dir)?;
    for (krate, database, folders) in CRATES {
        step(&format!(
            "{krate}: applying its migrations to a scratch database ({database})"
        ));
        mysql(&format!(
            "DROP DATABASE IF EXISTS `{database}`; CREATE DATABASE `{database}`"
        ))?;
        for folder in *folders {
            for file in sql_files(&root.join(folder))? {
                let sql = std::fs::read_to_string(&file)?;
                // One file goes to the server whole (the client sends multiple
                // statements at once), so a trigger's `BEGIN … END;` body is
                // not cut at its first `;` by the client.
                mysql(&format!(
                    "USE `{database}`;\nDELIMITER $$\n{sql}\n$$\nDELIMITER ;\n"
                ))
                .with_context(|| format!("applying {}", file.display()))?;
            }
        }
        step(&format!(
            "{krate}: describing its queries (cargo check with the database reachable)"
        ));
        // A touched source makes cargo rebuild the crate, so its macros run again.
        let lib = root.join(krate_dir(krate)).join("src/lib.rs");
        let file = std::fs::OpenOptions::new().append(true).open(&lib)?;
        file.set_modified(std::time::SystemTime::now())?;
        run(Command::new(cargo())
            .args(["check", "-p", krate, "--all-targets"])
            .current_dir(&root)
            .env("SQLX_OFFLINE", "false")
            .env("DATABASE_URL", format!("mysql://root@{MYSQL}/{database}"))
            .env("SQLX_OFFLINE_DIR", &offline_dir))?;
        mysql(&format!("DROP DATABASE `{database}`"))?;
    }
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
