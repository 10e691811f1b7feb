//! The `addresses` table. Every query is scoped by the owner, so one
//! shopper's ids never reach another shopper's rows.

use sqlx::MySqlPool;
use sqlx::mysql::MySqlConnection;

use super::address::Address;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedAddress {
    pub id: String,
    pub address: Address,
    pub is_default: bool,
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    bool,
);

const COLUMNS: &str =
    "id, full_name, line1, line2, city, region, postcode, country, phone, is_default";

fn saved(
    (id, full_name, line1, line2, city, region, postcode, country, phone, is_default): Row,
) -> SavedAddress {
    SavedAddress {
        id,
        address: Address {
            full_name,
            line1,
            line2,
            city,
            region,
            postcode,
            country,
            phone,
        },
        is_default,
    }
}

#[tracing::instrument(skip_all, fields(user.id = user_id))]
pub async fn list(pool: &MySqlPool, user_id: &str) -> Result<Vec<SavedAddress>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM addresses WHERE user_id = ? ORDER BY is_default DESC, created_at"
    )))
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(saved).collect())
}

#[tracing::instrument(skip_all, fields(user.id = user_id))]
pub async fn get(
    conn: &mut MySqlConnection,
    user_id: &str,
    id: &str,
) -> Result<Option<SavedAddress>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM addresses WHERE user_id = ? AND id = ?"
    )))
    .bind(user_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(saved))
}

/// Locks the owner's address rows for a change that touches the default.
pub async fn lock_all(conn: &mut MySqlConnection, user_id: &str) -> Result<u64, sqlx::Error> {
    let ids: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM addresses WHERE user_id = ? FOR UPDATE")
            .bind(user_id)
            .fetch_all(conn)
            .await?;
    Ok(ids.len() as u64)
}

pub async fn insert(
    conn: &mut MySqlConnection,
    user_id: &str,
    id: &str,
    address: &Address,
    is_default: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO addresses (id, user_id, full_name, line1, line2, city, region, postcode, country, phone, is_default) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(user_id)
    .bind(&address.full_name)
    .bind(&address.line1)
    .bind(&address.line2)
    .bind(&address.city)
    .bind(&address.region)
    .bind(&address.postcode)
    .bind(&address.country)
    .bind(&address.phone)
    .bind(is_default)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(
    conn: &mut MySqlConnection,
    user_id: &str,
    id: &str,
    address: &Address,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE addresses SET full_name = ?, line1 = ?, line2 = ?, city = ?, region = ?, postcode = ?, country = ?, phone = ? \
         WHERE user_id = ? AND id = ?",
    )
    .bind(&address.full_name)
    .bind(&address.line1)
    .bind(&address.line2)
    .bind(&address.city)
    .bind(&address.region)
    .bind(&address.postcode)
    .bind(&address.country)
    .bind(&address.phone)
    .bind(user_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Makes `id` the owner's one default address.
pub async fn make_default(
    conn: &mut MySqlConnection,
    user_id: &str,
    id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE addresses SET is_default = (id = ?) WHERE user_id = ?")
        .bind(id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(
    conn: &mut MySqlConnection,
    user_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM addresses WHERE user_id = ? AND id = ?")
        .bind(user_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// After the default was deleted, the oldest remaining address takes over.
pub async fn ensure_default(conn: &mut MySqlConnection, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE addresses SET is_default = TRUE WHERE user_id = ? AND NOT EXISTS \
         (SELECT 1 FROM (SELECT id FROM addresses WHERE user_id = ? AND is_default) AS d) \
         ORDER BY created_at LIMIT 1",
    )
    .bind(user_id)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}
