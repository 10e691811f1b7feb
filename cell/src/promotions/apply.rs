//! `PromotionUpserted` from the `catalog` topic → the cell's `promotions`
//! table, by version: an older or equal snapshot is ignored, so redelivery
//! and a rebuild from the start of the compacted topic end the same.

use async_trait::async_trait;
use events::Envelope;
use events::consumer::{Handler, HandlerError};
use sqlx::mysql::MySqlConnection;
use wire::events::PromotionUpserted;
use wire::promotions::PromotionSnapshot;

/// Writes `p` unless a version as new is held; `true` when it was written.
pub async fn upsert(
    conn: &mut MySqlConnection,
    p: &PromotionSnapshot,
) -> Result<bool, HandlerError> {
    let held: Option<u64> =
        sqlx::query_scalar("SELECT version FROM promotions WHERE id = ? FOR UPDATE")
            .bind(p.id)
            .fetch_optional(&mut *conn)
            .await?;
    if held.is_some_and(|held| held >= p.version) {
        return Ok(false);
    }
    let snapshot = serde_json::to_string(p).map_err(|e| HandlerError::Permanent(e.into()))?;
    sqlx::query(
        r#"INSERT INTO promotions (id, version, code, automatic, snapshot) VALUES (?, ?, ?, ?, ?)
           ON DUPLICATE KEY UPDATE version = VALUES(version), code = VALUES(code),
               automatic = VALUES(automatic), snapshot = VALUES(snapshot),
               applied_at = CURRENT_TIMESTAMP(6)"#,
    )
    .bind(p.id)
    .bind(p.version)
    .bind(&p.code)
    .bind(p.code.is_none())
    .bind(snapshot)
    .execute(&mut *conn)
    .await?;
    // Its allowance row exists from the start, so checkout locks a row,
    // never a gap.
    sqlx::query("INSERT IGNORE INTO promotion_allowances (promotion_id) VALUES (?)")
        .bind(p.id)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

#[derive(Debug, Clone)]
pub struct OnPromotionUpserted;

#[async_trait]
impl Handler for OnPromotionUpserted {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let event: PromotionUpserted = event
            .payload()
            .map_err(|e| HandlerError::Permanent(e.into()))?;
        if upsert(conn, &event.promotion).await? {
            tracing::info!(
                promotion = event.promotion.id,
                version = event.promotion.version,
                "promotion applied"
            );
        }
        Ok(())
    }
}
