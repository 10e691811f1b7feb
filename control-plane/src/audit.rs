//! The append-only audit log: one row per admin or SRE action, written in the
//! transaction of the change it records (DESIGN.md §6).

use sqlx::mysql::MySqlConnection;

/// Records `action` on `subject` by `actor`, with the request's id.
pub async fn record(
    conn: &mut MySqlConnection,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO audit_log (actor, action, subject, detail, request_id) VALUES (?, ?, ?, ?, ?)",
        actor,
        action,
        subject,
        detail,
        chassis::http::current_request_id()
    )
    .execute(conn)
    .await?;
    Ok(())
}
