//! `cargo xtask e2e [--drain]`: the frontend's end-to-end journey
//! (`frontend/e2e/run.mjs`) in Debian's Chromium against the running stack.
//! A guest browses, filters, searches, fills a cart, registers, checks out
//! with a test card and downloads the invoice; then the demo staff account
//! (registered on first use; `auth.bootstrap_admins` makes it admin and SRE)
//! edits the product bought and sees the change in the shop. With `--drain`
//! an SRE drains the shopper's cell from the control-plane screen and the
//! shopper finds cart and orders on another cell — the cell stays drained,
//! so a stack of three takes two such runs. Screenshots go to
//! target/reports/e2e/.

use std::process::Command;

use anyhow::{Context, bail};

use crate::http::{self, START_HINT};
use crate::root;
use crate::stack::DEMO_STAFF;
use crate::tools::{self, step};

/// The demo staff account's password (a local stack's demo data).
pub const DEMO_STAFF_PASSWORD: &str = "cellwear demo staff passphrase";

pub fn run(drain: bool) -> anyhow::Result<()> {
    let root = root();
    let topology = topology::Topology::load(&root.join("cells.yaml"))
        .context("reading the edge's address from cells.yaml")?;
    let edge = format!("http://{}", topology.edge.listen);
    http::require_live(&edge, "the edge").with_context(|| START_HINT.to_owned())?;
    tools::ensure_command("chromium", "chromium")?;
    let frontend = root.join("frontend");
    crate::stack::frontend_packages(&frontend)?;
    let artifacts = root.join("target/reports/e2e");
    std::fs::create_dir_all(&artifacts)?;
    step(&format!(
        "running the end-to-end journey against {edge}{}",
        if drain {
            " (draining the shopper's cell)"
        } else {
            ""
        }
    ));
    let mut command = Command::new("npm");
    command
        .args(["run", "--silent", "e2e"])
        .current_dir(&frontend)
        .env("E2E_BASE_URL", &edge)
        .env("E2E_ARTIFACTS", &artifacts)
        .env("E2E_STAFF_EMAIL", DEMO_STAFF)
        .env("E2E_STAFF_PASSWORD", DEMO_STAFF_PASSWORD);
    if drain {
        command.env("E2E_DRAIN", "1");
    }
    let status = command.status().context("running npm run e2e")?;
    if !status.success() {
        bail!(
            "the end-to-end journey failed ({status}); screenshots in {}",
            artifacts.display()
        );
    }
    eprintln!("screenshots in {}", artifacts.display());
    Ok(())
}
