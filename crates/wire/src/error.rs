use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// The one body every error response carries, whichever service sent it.
///
/// `code` is stable and machine readable (`snake_case`); `message` is for a
/// person; `request_id` matches the `x-request-id` header and the logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[ts(export)]
pub struct ErrorBody {
    #[schema(example = "not_found")]
    pub code: String,
    #[schema(example = "No route matches GET /api/nothing-here.")]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}
