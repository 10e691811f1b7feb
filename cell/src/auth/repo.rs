//! The `users` and `auth_audit` tables. Every statement is checked against the
//! schema at compile time (`sqlx::query!`, data in `.sqlx/`).

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

/// A `users` row as the queries below select it.
struct Row {
    id: String,
    email: String,
    name: String,
    password_hash: Option<String>,
    google_subject: Option<String>,
    roles: String,
}

impl From<Row> for UserRecord {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            email: row.email,
            name: row.name,
            password_hash: row.password_hash,
            google_subject: row.google_subject,
            roles: Role::parse_list(&row.roles),
        }
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
    let inserted = sqlx::query!(
        "INSERT INTO users (id, email, name, password_hash, google_subject, roles) VALUES (?, ?, ?, ?, ?, 'user')",
        id,
        email.as_str(),
        name,
        password_hash,
        google_subject,
    )
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
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, email, name, password_hash AS "password_hash?: String", google_subject AS "google_subject?: String", roles FROM users WHERE email = ?"#,
        email.as_str()
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(UserRecord::from))
}

#[tracing::instrument(skip_all, fields(user.id = id))]
pub async fn by_id(pool: &MySqlPool, id: &str) -> Result<Option<UserRecord>, sqlx::Error> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, email, name, password_hash AS "password_hash?: String", google_subject AS "google_subject?: String", roles FROM users WHERE id = ?"#,
        id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(UserRecord::from))
}

#[tracing::instrument(skip_all)]
pub async fn audit(
    conn: &mut MySqlConnection,
    user_id: Option<&str>,
    action: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO auth_audit (user_id, action, detail) VALUES (?, ?, ?)",
        user_id,
        action,
        detail
    )
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
    let updated = sqlx::query!(
        "UPDATE users SET roles = ? WHERE id = ?",
        list.join(","),
        id
    )
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
    sqlx::query!(
        "UPDATE users SET password_hash = ? WHERE id = ?",
        password_hash,
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(user.id = id))]
pub async fn set_name(pool: &MySqlPool, id: &str, name: &str) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!("UPDATE users SET name = ? WHERE id = ?", name, id)
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
    sqlx::query!(
        "UPDATE users SET google_subject = ? WHERE id = ?",
        subject,
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}
