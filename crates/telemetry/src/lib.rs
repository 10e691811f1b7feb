//! Logging for every Cellwear binary: one `tracing` subscriber, JSON lines in
//! production and local runs, a human format for a developer's terminal.
//!
//! Each JSON line carries the fields of the span it was written in, so the
//! request span opened by the HTTP layer puts `request_id` (and the method,
//! path and cell) on every line logged while that request is served. Services
//! log through `tracing` only. [`trace`] holds the W3C trace context that
//! the edge, the cells' HTTP layer and the event envelope pass along.

pub mod trace;

pub use trace::Traceparent;

use serde::Deserialize;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// An `EnvFilter` directive such as `info` or `info,sqlx=warn`.
    pub filter: String,
}

/// Installs the global subscriber. Calling it twice (as tests do) keeps the
/// first subscriber and is not an error.
pub fn init(settings: &LogSettings) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&settings.filter).map_err(|error| {
        anyhow::anyhow!(
            "log.filter: \"{}\" is not a valid filter: {error}",
            settings.filter
        )
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::NONE)
        .with_writer(std::io::stdout);
    // A second init in one process (tests) fails with "already set"; the first
    // subscriber stays in charge, which is what the caller wants.
    let _ = match settings.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_filter_names_the_setting() {
        let error = init(&LogSettings {
            format: LogFormat::Json,
            filter: "info,=[".into(),
        })
        .unwrap_err()
        .to_string();
        assert!(error.starts_with("log.filter:"), "{error}");
    }
}
