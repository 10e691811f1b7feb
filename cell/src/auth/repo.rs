//! The `users` and `auth_audit` tables. Every statement is checked against the
//! schema at compile time (`sqlx::query!`, data in `.sqlx/`).

use sqlx::MySqlPool;
use sqlx::mysql::MySqlConnection;

use placement::ShopperKey;

use super::domain::{Email, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub google_subject: Option<String>,
    pub roles: Vec<Role>,
    /// The key the account was created with; it never changes.
    pub shopper_key: String,
}

/// A `users` row as the queries below select it.
struct Row {
    id: String,
    email: String,
    name: String,
    password_hash: Option<String>,
    google_subject: Option<String>,
    roles: String,
    shopper_key: String,
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
            shopper_key: row.shopper_key,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    /// The address, or the shopper key it makes (an address an account
    /// has moved away from keeps its key taken).
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
        "INSERT INTO users (id, email, shopper_key, name, password_hash, google_subject, roles) VALUES (?, ?, ?, ?, ?, ?, 'user')",
        id,
        email.as_str(),
        ShopperKey::for_account(email.as_str()).to_string(),
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
        r#"SELECT id, email, name, password_hash AS "password_hash?: String", google_subject AS "google_subject?: String", roles, shopper_key FROM users WHERE email = ?"#,
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
        r#"SELECT id, email, name, password_hash AS "password_hash?: String", google_subject AS "google_subject?: String", roles, shopper_key FROM users WHERE id = ?"#,
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

/// Moves the account to `email`; `Err(EmailTaken)` when another account of
/// this cell has it.
#[tracing::instrument(skip_all, fields(user.id = id))]
pub async fn set_email(
    conn: &mut MySqlConnection,
    id: &str,
    email: &Email,
) -> Result<(), InsertError> {
    let updated = sqlx::query!(
        "UPDATE users SET email = ? WHERE id = ?",
        email.as_str(),
        id
    )
    .execute(conn)
    .await;
    match updated {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            Err(InsertError::EmailTaken)
        }
        Err(error) => Err(error.into()),
    }
}

/// Whether an account of this cell other than `user_id` has `email`, or
/// has the shopper key it makes (an address that account moved away from).
pub async fn email_in_use(
    conn: &mut MySqlConnection,
    email: &Email,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    let key = ShopperKey::for_account(email.as_str()).to_string();
    let found = sqlx::query_scalar!(
        "SELECT COUNT(*) FROM users WHERE (email = ? OR shopper_key = ?) AND id <> ?",
        email.as_str(),
        key,
        user_id
    )
    .fetch_one(conn)
    .await?;
    Ok(found > 0)
}

/// An e-mail change waiting for its link.
#[derive(Debug, Clone)]
pub struct PendingEmail {
    pub user_id: String,
    pub new_email: String,
    pub expired: bool,
}

/// Records (or replaces) the account's pending change, valid for `ttl_s`.
pub async fn put_email_change(
    conn: &mut MySqlConnection,
    user_id: &str,
    new_email: &Email,
    token_hash: &str,
    ttl_s: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO email_changes (user_id, new_email, token_hash, expires_at) \
         VALUES (?, ?, ?, NOW(6) + INTERVAL ? SECOND) \
         ON DUPLICATE KEY UPDATE new_email = VALUES(new_email), token_hash = VALUES(token_hash), \
         expires_at = VALUES(expires_at), created_at = NOW(6)",
        user_id,
        new_email.as_str(),
        token_hash,
        ttl_s
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The pending change a token's hash belongs to, locked for the change.
pub async fn email_change_by_token(
    conn: &mut MySqlConnection,
    token_hash: &str,
) -> Result<Option<PendingEmail>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT user_id, new_email, expires_at < NOW(6) AS "expired!: bool"
           FROM email_changes WHERE token_hash = ? FOR UPDATE"#,
        token_hash
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| PendingEmail {
        user_id: row.user_id,
        new_email: row.new_email,
        expired: row.expired,
    }))
}

pub async fn delete_email_change(
    conn: &mut MySqlConnection,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM email_changes WHERE user_id = ?", user_id)
        .execute(conn)
        .await?;
    Ok(())
}
