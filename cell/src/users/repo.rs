//! The `addresses` table. Every query is scoped by the owner, so one
//! shopper's ids never reach another shopper's rows; every statement is
//! checked against the schema at compile time (`.sqlx/`).

use sqlx::MySqlPool;
use sqlx::mysql::MySqlConnection;

use super::address::Address;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedAddress {
    pub id: String,
    pub address: Address,
    pub is_default: bool,
}

/// An `addresses` row as the queries below select it.
struct Row {
    id: String,
    full_name: String,
    line1: String,
    line2: Option<String>,
    city: String,
    region: Option<String>,
    postcode: String,
    country: String,
    phone: Option<String>,
    is_default: bool,
}

impl From<Row> for SavedAddress {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            address: Address {
                full_name: row.full_name,
                line1: row.line1,
                line2: row.line2,
                city: row.city,
                region: row.region,
                postcode: row.postcode,
                country: row.country,
                phone: row.phone,
            },
            is_default: row.is_default,
        }
    }
}

#[tracing::instrument(skip_all, fields(user.id = user_id))]
pub async fn list(pool: &MySqlPool, user_id: &str) -> Result<Vec<SavedAddress>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id, full_name, line1, line2, city, region, postcode, country, phone,
                  is_default AS "is_default: bool"
           FROM addresses WHERE user_id = ? ORDER BY is_default DESC, created_at"#,
        user_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(SavedAddress::from).collect())
}

#[tracing::instrument(skip_all, fields(user.id = user_id))]
pub async fn get(
    conn: &mut MySqlConnection,
    user_id: &str,
    id: &str,
) -> Result<Option<SavedAddress>, sqlx::Error> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, full_name, line1, line2, city, region, postcode, country, phone,
                  is_default AS "is_default: bool"
           FROM addresses WHERE user_id = ? AND id = ?"#,
        user_id,
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(SavedAddress::from))
}

/// Locks the owner's address rows for a change that touches the default;
/// returns how many there are.
pub async fn lock_all(conn: &mut MySqlConnection, user_id: &str) -> Result<u64, sqlx::Error> {
    let ids = sqlx::query!(
        "SELECT id FROM addresses WHERE user_id = ? FOR UPDATE",
        user_id
    )
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
    sqlx::query!(
        "INSERT INTO addresses (id, user_id, full_name, line1, line2, city, region, postcode, country, phone, is_default) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        id,
        user_id,
        address.full_name,
        address.line1,
        address.line2,
        address.city,
        address.region,
        address.postcode,
        address.country,
        address.phone,
        is_default,
    )
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
    let updated = sqlx::query!(
        "UPDATE addresses SET full_name = ?, line1 = ?, line2 = ?, city = ?, region = ?, postcode = ?, country = ?, \
         phone = ? WHERE user_id = ? AND id = ?",
        address.full_name,
        address.line1,
        address.line2,
        address.city,
        address.region,
        address.postcode,
        address.country,
        address.phone,
        user_id,
        id,
    )
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
    sqlx::query!(
        "UPDATE addresses SET is_default = (id = ?) WHERE user_id = ?",
        id,
        user_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(
    conn: &mut MySqlConnection,
    user_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query!(
        "DELETE FROM addresses WHERE user_id = ? AND id = ?",
        user_id,
        id
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected() == 1)
}

/// After the default was deleted, the oldest remaining address takes over.
pub async fn ensure_default(conn: &mut MySqlConnection, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE addresses SET is_default = TRUE WHERE user_id = ? AND NOT EXISTS \
         (SELECT 1 FROM (SELECT id FROM addresses WHERE user_id = ? AND is_default) AS d) \
         ORDER BY created_at LIMIT 1",
        user_id,
        user_id
    )
    .execute(conn)
    .await?;
    Ok(())
}
