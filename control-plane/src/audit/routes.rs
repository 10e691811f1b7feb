//! `GET /control/api/audit`: the audit log, for admins and SREs.

use axum::extract::State;
use axum::http::StatusCode;
use chassis::http::{ApiError, Json, Query};
use wire::audit::AuditPage;

use super::{AuditError, AuditQuery};
use crate::http::AppState;
use crate::staff::{AnyStaff, Staff};

impl From<AuditError> for ApiError {
    fn from(error: AuditError) -> Self {
        match &error {
            AuditError::Invalid { .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_audit_query",
                error.to_string(),
            ),
            AuditError::Unexpected(_) => ApiError::unexpected(error),
        }
    }
}

/// Staff actions, newest first: who did what to what, when, and why.
#[utoipa::path(get, path = "/control/api/audit", tag = "audit", params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries and the cursor of the next, older page", body = AuditPage),
        (status = 400, description = "`invalid_audit_query`, the message naming the parameter", body = wire::ErrorBody),
        (status = 403, description = "Neither an admin nor an SRE", body = wire::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _: Staff<AnyStaff>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let mut conn = state.pool.acquire().await.map_err(AuditError::from)?;
    Ok(Json(super::list(&mut conn, &query).await?))
}
