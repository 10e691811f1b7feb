//! The `cells`, `placement_overrides`, `sign_in_aliases` and
//! `routing_table` tables.

use sqlx::MySqlPool;
use sqlx::mysql::MySqlConnection;

pub struct CellRow {
    pub id: String,
    pub weight: u32,
    pub state: String,
    pub http_address: String,
}

pub struct OverrideRow {
    pub shopper_key: String,
    pub cell_id: String,
    pub epoch: u64,
}

pub async fn version(conn: &mut MySqlConnection) -> Result<u64, sqlx::Error> {
    sqlx::query_scalar!("SELECT version FROM routing_table WHERE singleton = 1")
        .fetch_one(conn)
        .await
}

pub async fn cells(conn: &mut MySqlConnection) -> Result<Vec<CellRow>, sqlx::Error> {
    sqlx::query_as!(
        CellRow,
        "SELECT id, weight, state, http_address FROM cells ORDER BY id"
    )
    .fetch_all(conn)
    .await
}

pub async fn overrides(conn: &mut MySqlConnection) -> Result<Vec<OverrideRow>, sqlx::Error> {
    sqlx::query_as!(
        OverrideRow,
        "SELECT shopper_key, cell_id, epoch FROM placement_overrides ORDER BY shopper_key"
    )
    .fetch_all(conn)
    .await
}

/// Adds a cell unless one with its id exists; `true` if it was added.
pub async fn add_cell_if_missing(pool: &MySqlPool, cell: &CellRow) -> Result<bool, sqlx::Error> {
    let added = sqlx::query!(
        "INSERT IGNORE INTO cells (id, weight, state, http_address) VALUES (?, ?, ?, ?)",
        cell.id,
        cell.weight,
        cell.state,
        cell.http_address
    )
    .execute(pool)
    .await?;
    Ok(added.rows_affected() == 1)
}

pub async fn bump_version(conn: &mut MySqlConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE routing_table SET version = version + 1 WHERE singleton = 1")
        .execute(conn)
        .await?;
    Ok(())
}

pub struct AliasRow {
    pub account_key: String,
    pub alias_key: String,
}

pub async fn aliases(conn: &mut MySqlConnection) -> Result<Vec<AliasRow>, sqlx::Error> {
    sqlx::query_as!(
        AliasRow,
        "SELECT account_key, alias_key FROM sign_in_aliases ORDER BY alias_key"
    )
    .fetch_all(conn)
    .await
}
