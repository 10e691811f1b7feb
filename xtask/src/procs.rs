//! Starting, watching and stopping the local stack's processes. Each runs in
//! its own process group (so a Ctrl-C reaches only xtask, which then stops
//! them in order), logs to its own file and leaves a pid file, so `down` finds
//! it even after a detached `up` has exited.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A process `up` started.
#[derive(Debug)]
pub struct Managed {
    pub name: String,
    pub log: PathBuf,
    child: Child,
    pid_file: PathBuf,
}

impl Managed {
    pub fn spawn(
        name: &str,
        command: &mut Command,
        log: &Path,
        pid_file: &Path,
    ) -> anyhow::Result<Self> {
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {name}: {}", crate::tools::describe(command)))?;
        std::fs::write(pid_file, format!("{}\n{name}\n", child.id()))?;
        Ok(Self {
            name: name.to_owned(),
            log: log.to_owned(),
            child,
            pid_file: pid_file.to_owned(),
        })
    }

    /// `Some(description)` once the process has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(error) => Some(error.to_string()),
        }
    }

    /// The error for a process that died, with the end of its log.
    pub fn died(&self, status: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "{} exited ({status}). Last lines of {}:\n{}",
            self.name,
            self.log.display(),
            tail(&self.log, 15)
        )
    }

    /// Waits until `check` passes, failing early if the process dies.
    pub fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        check: impl Fn() -> bool,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut last_dot = Instant::now();
        eprint!("    {} — waiting for {what} ", self.name);
        loop {
            if check() {
                eprintln!("ok ({:.1} s)", started.elapsed().as_secs_f64());
                return Ok(());
            }
            if let Some(status) = self.exited() {
                eprintln!("died");
                return Err(self.died(&status));
            }
            if started.elapsed() > timeout {
                eprintln!("timed out");
                bail!(
                    "{} was not {what} after {} s. Last lines of {}:\n{}",
                    self.name,
                    timeout.as_secs(),
                    self.log.display(),
                    tail(&self.log, 15)
                );
            }
            if last_dot.elapsed() > Duration::from_secs(1) {
                eprint!(".");
                last_dot = Instant::now();
            }
            sleep(Duration::from_millis(100));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stop(mut self, timeout: Duration) {
        stop_pid(self.child.id(), &self.name, timeout);
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

/// SIGTERM, then SIGKILL if the process outlives `timeout`.
pub fn stop_pid(pid: u32, name: &str, timeout: Duration) {
    if !alive(pid) {
        return;
    }
    signal(pid, "TERM");
    let started = Instant::now();
    while alive(pid) && started.elapsed() < timeout {
        sleep(Duration::from_millis(50));
    }
    if alive(pid) {
        eprintln!(
            "    {name} (pid {pid}) ignored SIGTERM for {} s; killing it",
            timeout.as_secs()
        );
        signal(pid, "KILL");
    }
}

fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status();
}

pub fn alive(pid: u32) -> bool {
    // A zombie still answers `kill -0`; /proc says whether it has exited.
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let zombie = state
        .rsplit(')')
        .next()
        .is_some_and(|rest| rest.trim_start().starts_with('Z'));
    !state.is_empty() && !zombie
}

pub fn port_open(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
}

pub fn port_free(address: SocketAddr) -> bool {
    TcpListener::bind(address).is_ok()
}

/// The status of `GET path` on `address`, if anything answered.
pub fn http_status(address: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_millis(300)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 32];
    let read = stream.read(&mut head).ok()?;
    let line = std::str::from_utf8(&head[..read]).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The last `lines` lines of a log file.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
