//! Plain HTTP/1.1 to the local stack (ureq, no TLS): how agents are set up,
//! where cells.yaml puts the control plane and the cells, and what a refusal
//! (`{code, message, request_id}`) says.

use std::fmt;
use std::time::Duration;

use anyhow::{Context, bail};
use topology::Topology;

use crate::root;

pub type Response = ureq::http::Response<ureq::Body>;

/// What to run when the stack is not answering.
pub const START_HINT: &str = "start the local stack first: `cargo xtask up --cells 1 --detach` (`cargo xtask down` stops it)";

/// An agent that hands back 4xx and 5xx answers instead of failing on them,
/// so their error bodies can be read, and that never goes through a proxy
/// from the environment: everything here is on this machine.
pub fn agent(timeout: Duration) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(timeout))
        .build();
    ureq::Agent::new_with_config(config)
}

/// `http://` + the control plane's address in cells.yaml.
pub fn control_url() -> anyhow::Result<String> {
    let topology = Topology::load(&root().join("cells.yaml"))
        .context("reading the control plane's address from cells.yaml")?;
    Ok(format!("http://{}", topology.control_plane.http))
}

/// `http://` + the first cell's address in cells.yaml.
pub fn first_cell_url() -> anyhow::Result<String> {
    let topology = Topology::load(&root().join("cells.yaml"))
        .context("reading the first cell's address from cells.yaml")?;
    let cell = topology
        .cells
        .first()
        .context("cells.yaml lists no cells")?;
    Ok(format!("http://{}", cell.http))
}

/// Fails with a hint to start the stack unless `{base}/livez` answers 2xx.
pub fn require_live(base: &str, what: &str) -> anyhow::Result<()> {
    let url = format!("{base}/livez");
    match agent(Duration::from_secs(3)).get(url.as_str()).call() {
        Ok(mut response) if response.status().is_success() => {
            // Read to the end so the connection could be reused.
            let _ = response.body_mut().read_to_vec();
            Ok(())
        }
        Ok(response) => bail!(
            "{what} at {base} answered GET /livez with {}; is something else on that port? If so, {START_HINT}",
            response.status()
        ),
        Err(error) => bail!("{what} is not answering at {base} ({error}); {START_HINT}"),
    }
}

/// A non-2xx answer: its status and, when the body is our error envelope,
/// its code and message.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Refusal {
    /// Reads the answer's body (which also frees the connection).
    pub fn read(response: &mut Response) -> Self {
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        match serde_json::from_str::<wire::ErrorBody>(&text) {
            Ok(body) => Self {
                status,
                code: body.code,
                message: body.message,
            },
            Err(_) => Self {
                status,
                code: String::new(),
                message: text.trim().chars().take(300).collect(),
            },
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code.is_empty(), self.message.is_empty()) {
            (false, _) => write!(f, "{} {}: {}", self.status, self.code, self.message),
            (true, false) => write!(f, "{}: {}", self.status, self.message),
            (true, true) => write!(f, "{}", self.status),
        }
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The sum of the samples on `base`'s `/metrics` whose line starts with
/// `prefix` (a metric name, with `{` and labels to pick some); `None` when
/// the page cannot be read or has none.
pub fn metric_sum(base: &str, prefix: &str) -> Option<f64> {
    let url = format!("{}/metrics", base.trim_end_matches('/'));
    let text = agent(Duration::from_secs(5))
        .get(url.as_str())
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    let values: Vec<f64> = text
        .lines()
        .filter(|line| line.starts_with(prefix))
        .filter_map(|line| line.rsplit(' ').next()?.parse().ok())
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
