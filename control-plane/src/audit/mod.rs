//! The append-only audit log: one row per admin or SRE action, written in the
//! transaction of the change it records (DESIGN.md §6).

pub mod routes;

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

/// The filters of `GET /control/api/audit`.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Exactly this actor (`user:<id>`).
    pub actor: Option<String>,
    /// Actions that start with this: `cell.` for every cell operation,
    /// `cell.drain` for drains only.
    pub action: Option<String>,
    /// Exactly this subject (a cell id, `product:<id>`, a SKU, …).
    pub subject: Option<String>,
    /// The `next_cursor` of the page before.
    pub before: Option<String>,
    /// 1-200, default 50.
    pub limit: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    #[error(transparent)]
    Unexpected(#[from] sqlx::Error),
}

/// A filter value: trimmed, empty means none, at most `max` printable characters.
fn filter<'a>(
    value: &'a Option<String>,
    field: &'static str,
    max: usize,
) -> Result<Option<&'a str>, AuditError> {
    let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(AuditError::Invalid {
            field,
            message: "too long, or not plain text",
        });
    }
    Ok(Some(value))
}

/// A page of the log, newest first.
pub async fn list(
    conn: &mut MySqlConnection,
    query: &AuditQuery,
) -> Result<wire::audit::AuditPage, AuditError> {
    use sqlx::Row;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AuditError::Invalid {
            field: "limit",
            message: "1-200",
        });
    }
    let before = match filter(&query.before, "before", 20)? {
        Some(cursor) => Some(cursor.parse::<u64>().map_err(|_| AuditError::Invalid {
            field: "before",
            message: "the next_cursor of an earlier page",
        })?),
        None => None,
    };
    let mut sql = sqlx::QueryBuilder::<sqlx::MySql>::new(
        "SELECT id, occurred_at, actor, action, subject, CAST(detail AS CHAR) AS detail, request_id FROM audit_log WHERE 1 = 1",
    );
    if let Some(actor) = filter(&query.actor, "actor", 320)? {
        sql.push(" AND actor = ").push_bind(actor.to_owned());
    }
    if let Some(action) = filter(&query.action, "action", 64)? {
        // A prefix compared as text, so `_` and `%` mean themselves.
        sql.push(" AND LEFT(action, ")
            .push_bind(action.chars().count() as u32)
            .push(") = ")
            .push_bind(action.to_owned());
    }
    if let Some(subject) = filter(&query.subject, "subject", 255)? {
        sql.push(" AND subject = ").push_bind(subject.to_owned());
    }
    if let Some(before) = before {
        sql.push(" AND id < ").push_bind(before);
    }
    // One more than asked tells whether an older page exists.
    sql.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
    let rows = sql.build().fetch_all(&mut *conn).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows.iter().take(limit as usize) {
        let at: time::OffsetDateTime = row.try_get("occurred_at")?;
        let detail: String = row.try_get("detail")?;
        items.push(wire::audit::AuditEntry {
            id: row.try_get("id")?,
            at: at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            actor: row.try_get("actor")?,
            action: row.try_get("action")?,
            subject: row.try_get("subject")?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
            request_id: row.try_get("request_id")?,
        });
    }
    let next_cursor = (rows.len() > limit as usize)
        .then(|| items.last().map(|entry| entry.id.to_string()))
        .flatten();
    Ok(wire::audit::AuditPage { items, next_cursor })
}
