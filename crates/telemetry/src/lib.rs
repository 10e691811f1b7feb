//! Logging for every Cellwear binary: one `tracing` subscriber, JSON lines in
//! production and local runs, a human format for a developer's terminal.
//!
//! Each JSON line carries the fields of the span it was written in, so the
//! request span opened by the HTTP layer puts `request_id` (and the method,
//! path and cell) on every line logged while that request is served. Services
//! log through `tracing` only. A process that logs every request (the
//! edge) sets `log.buffered`: [`writer`] gathers its lines and writes them
//! from a thread of its own, many to one `write`. [`trace`] holds the W3C trace context that
//! the edge, the cells' HTTP layer and the event envelope pass along.

pub mod trace;
pub mod writer;

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
    /// Lines go to stdout from a writer thread, many to one `write`
    /// ([`writer`]), instead of one `write` each from the thread that logs.
    /// For a process that logs every request; the lines still queued when
    /// the process exits without unwinding are lost.
    #[serde(default)]
    pub buffered: bool,
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
    if settings.buffered {
        let buffered =
            writer::Buffered::spawn(std::io::stdout(), writer::FLUSH_EVERY).map_err(|error| {
                anyhow::anyhow!("log.buffered: cannot start the log writer: {error}")
            })?;
        install(settings.format, filter, buffered);
    } else {
        install(settings.format, filter, std::io::stdout);
    }
    Ok(())
}

fn install<W>(format: LogFormat, filter: EnvFilter, writer: W)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::NONE)
        .with_writer(writer);
    // A second init in one process (tests) fails with "already set"; the first
    // subscriber stays in charge, which is what the caller wants.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_filter_names_the_setting() {
        let error = init(&LogSettings {
            format: LogFormat::Json,
            filter: "info,=[".into(),
            buffered: false,
        })
        .unwrap_err()
        .to_string();
        assert!(error.starts_with("log.filter:"), "{error}");
    }
}
