//! The edge's Prometheus metrics: requests and latency per cell (or `control`,
//! `static`, `edge`) and upstream failures.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

#[derive(Debug, Clone)]
pub struct EdgeMetrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    upstream_errors: IntCounterVec,
    cell_up: IntGaugeVec,
}

impl EdgeMetrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("cellwear_edge".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "requests_total",
                "Requests answered, by destination and status",
            ),
            &["target", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new("request_duration_seconds", "Time to answer, by destination")
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ]),
            &["target"],
        )?;
        let upstream_errors = IntCounterVec::new(
            Opts::new(
                "upstream_errors_total",
                "Requests that could not be proxied, by destination",
            ),
            &["target"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        let cell_up = IntGaugeVec::new(
            Opts::new(
                "cell_up",
                "1 when the cell answered its last health check, else 0",
            ),
            &["cell"],
        )?;
        registry.register(Box::new(upstream_errors.clone()))?;
        registry.register(Box::new(cell_up.clone()))?;
        Ok(Self {
            registry,
            requests,
            duration,
            upstream_errors,
            cell_up,
        })
    }

    pub fn cell_up(&self, cell: &str, up: bool) {
        self.cell_up.with_label_values(&[cell]).set(i64::from(up));
    }

    /// Counts one request; `status` is the answer's code as text (`"0"`
    /// when none was written).
    pub fn observe(&self, target: &str, status: &str, elapsed: Duration, upstream_failed: bool) {
        self.requests.with_label_values(&[target, status]).inc();
        self.duration
            .with_label_values(&[target])
            .observe(elapsed.as_secs_f64());
        if upstream_failed {
            self.upstream_errors.with_label_values(&[target]).inc();
        }
    }

    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}
