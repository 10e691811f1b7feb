use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Failing,
}

/// `GET /livez`: the process is up and its event loop answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct LivenessResponse {
    pub status: HealthStatus,
    pub service: String,
}

/// One dependency probed by `GET /readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct CheckReport {
    /// `mysql`, `redis`, `kafka`, …
    pub name: String,
    pub status: HealthStatus,
    /// Where the dependency was looked for (never contains credentials).
    pub target: String,
    pub duration_ms: u64,
    /// Why the check failed; absent when it passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET /readyz`: 200 when every dependency answers, 503 naming those that do not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct ReadinessResponse {
    pub status: HealthStatus,
    pub service: String,
    pub checks: Vec<CheckReport>,
}

impl ReadinessResponse {
    pub fn failing(&self) -> impl Iterator<Item = &CheckReport> {
        self.checks
            .iter()
            .filter(|check| check.status == HealthStatus::Failing)
    }
}
