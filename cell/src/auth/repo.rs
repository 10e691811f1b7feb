//! The `users` table.

use sqlx::MySqlPool;
use sqlx::mysql::MySqlConnection;

use super::domain::{Email, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub google_subject: Option<String>,
    pub roles: Vec<Role>,
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

fn record((id, email, name, password_hash, google_subject, roles): Row) -> UserRecord {
    UserRecord {
        id,
        email,
        name,
        password_hash,
        google_subject,
        roles: Role::parse_list(&roles),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    #[error("the e-mail address is taken")]
    EmailTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut MySqlConnection,
    id: &str,
    email: &Email,
    name: &str,
    password_hash: Option<&str>,
    google_subject: Option<&str>,
) -> Result<(), InsertError> {
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, google_subject, roles) VALUES (?, ?, ?, ?, ?, 'user')",
    )
    .bind(id)
    .bind(email.as_str())
    .bind(name)
    .bind(password_hash)
    .bind(google_subject)
    .execute(conn)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            Err(InsertError::EmailTaken)
        }
        Err(error) => Err(error.into()),
    }
}

#[tracing::instrument(skip_all)]
pub async fn by_email(pool: &MySqlPool, email: &Email) -> Result<Option<UserRecord>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, email, name, password_hash, google_subject, roles FROM users WHERE email = ?",
    )
    .bind(email.as_str())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(record))
}

#[tracing::instrument(skip_all, fields(user.id = id))]
pub async fn by_id(pool: &MySqlPool, id: &str) -> Result<Option<UserRecord>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, email, name, password_hash, google_subject, roles FROM users WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(record))
}

#[tracing::instrument(skip_all)]
pub async fn audit(
    conn: &mut MySqlConnection,
    user_id: Option<&str>,
    action: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO auth_audit (user_id, action, detail) VALUES (?, ?, ?)")
        .bind(user_id)
        .bind(action)
        .bind(detail)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces the account's roles; `false` when there is no such account.
#[tracing::instrument(skip_all, fields(user.id = id))]
pub async fn set_roles(
    conn: &mut MySqlConnection,
    id: &str,
    roles: &[Role],
) -> Result<bool, sqlx::Error> {
    let list: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    let updated = sqlx::query("UPDATE users SET roles = ? WHERE id = ?")
        .bind(list.join(","))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(updated.rows_affected() == 1)
}

#[tracing::instrument(skip_all, fields(user.id = id))]
pub async fn set_password(
    conn: &mut MySqlConnection,
    id: &str,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
        .bind(password_hash)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(user.id = id))]
pub async fn set_name(pool: &MySqlPool, id: &str, name: &str) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query("UPDATE users SET name = ? WHERE id = ?")
        .bind(name)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(updated.rows_affected() == 1)
}

/// Links a Google account to the shopper account `id`.
#[tracing::instrument(skip_all, fields(user.id = id))]
pub async fn link_google(
    conn: &mut MySqlConnection,
    id: &str,
    subject: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET google_subject = ? WHERE id = ?")
        .bind(subject)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
