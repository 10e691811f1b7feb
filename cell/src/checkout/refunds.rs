//! An admin's refunds of a paid order, whole or in part, with a reason,
//! audited. The amount is counted on the order when the refund is asked for,
//! under the order's row lock (racing refunds cannot give back more than was
//! paid); then the provider is asked with an idempotency key made from the
//! refund's id. A refusal gives the amount back; no answer leaves the refund
//! `requested` for the sweeper to ask again with the same key.

use events::outbox;
use wire::events::OrderRefunded;

use super::Checkouts;
use crate::invoices::money;
use crate::orders::service::OrderError;
use crate::orders::{self, Status};
use crate::payments::PaymentError;

/// Writes one line of the order's staff audit.
pub async fn audit(
    conn: &mut sqlx::MySqlConnection,
    actor: &str,
    action: &str,
    order_id: &str,
    detail: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO order_audit (actor, action, order_id, detail) VALUES (?, ?, ?, ?)")
        .bind(actor)
        .bind(action)
        .bind(order_id)
        .bind(detail.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Checkouts {
    /// Refunds `amount_minor` of paid order `order_id` (an admin's
    /// `actor`): the refund's id.
    pub async fn refund_part(
        &self,
        actor: &str,
        order_id: &str,
        amount_minor: i64,
        reason: &str,
    ) -> Result<String, OrderError> {
        let reason = orders::reason(reason)?;
        if amount_minor < 1 {
            return Err(OrderError::Invalid {
                field: "amount_minor",
                message: "a whole number of minor units, at least 1",
            });
        }
        if uuid::Uuid::parse_str(order_id).is_err() {
            return Err(OrderError::NotFound);
        }
        let refund_id = uuid::Uuid::now_v7().to_string();
        let mut tx = self.pool.begin().await?;
        let order = orders::lock(&mut tx, order_id)
            .await?
            .ok_or(OrderError::NotFound)?;
        match order.status {
            Status::Pending => return Err(OrderError::NotPaid),
            Status::Cancelled if order.payment_status == "succeeded" => {
                return Err(OrderError::AlreadyRefunded);
            }
            Status::Cancelled => return Err(OrderError::NotPaid),
            _ => {}
        }
        let refunded: i64 = sqlx::query_scalar("SELECT refunded_minor FROM orders WHERE id = ?")
            .bind(order_id)
            .fetch_one(&mut *tx)
            .await?;
        let remaining = order.total_minor - refunded;
        if amount_minor > remaining {
            return Err(OrderError::RefundTooLarge {
                remaining: money(remaining, &order.currency),
            });
        }
        sqlx::query("UPDATE orders SET refunded_minor = refunded_minor + ? WHERE id = ?")
            .bind(amount_minor)
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO order_refunds (id, order_id, amount_minor, reason, actor) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&refund_id)
        .bind(order_id)
        .bind(amount_minor)
        .bind(reason)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "refund",
            order_id,
            &serde_json::json!({"refund": refund_id, "amount_minor": amount_minor, "currency": order.currency, "reason": reason}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            order = order_id,
            refund = %refund_id,
            amount = amount_minor,
            actor,
            "refund requested"
        );
        match self.settle_refund(&refund_id).await {
            Ok(()) => Ok(refund_id),
            Err(RefundOutcome::Refused(message)) => Err(OrderError::RefundRefused(message)),
            Err(RefundOutcome::Later(error)) => {
                tracing::warn!(refund = %refund_id, error = %error, "the provider did not answer; the sweeper asks again");
                Ok(refund_id)
            }
        }
    }

    /// Asks the provider for requested refund `refund_id` and records its
    /// answer; a refund already settled is left alone.
    pub async fn settle_refund(&self, refund_id: &str) -> Result<(), RefundOutcome> {
        let row: Option<(String, i64, String, String, String)> = sqlx::query_as(
            "SELECT order_id, amount_minor, reason, actor, CAST(state AS CHAR) FROM order_refunds WHERE id = ?",
        )
        .bind(refund_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| RefundOutcome::Later(e.into()))?;
        let Some((order_id, amount_minor, reason, actor, state)) = row else {
            return Ok(());
        };
        if state != "requested" {
            return Ok(());
        }
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| RefundOutcome::Later(e.into()))?;
        let order = orders::get(&mut conn, &order_id)
            .await
            .map_err(|e| RefundOutcome::Later(e.into()))?
            .ok_or_else(|| RefundOutcome::Later(anyhow::anyhow!("order {order_id} vanished")))?;
        drop(conn);
        let intent = order.payment_intent.clone().unwrap_or_default();
        let asked = self
            .payments
            .refund_part(&intent, amount_minor, refund_id)
            .await;
        let later = |e: sqlx::Error| RefundOutcome::Later(e.into());
        let mut tx = self.pool.begin().await.map_err(later)?;
        let state: String = sqlx::query_scalar(
            "SELECT CAST(state AS CHAR) FROM order_refunds WHERE id = ? FOR UPDATE",
        )
        .bind(refund_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(later)?;
        if state != "requested" {
            return Ok(());
        }
        match asked {
            Ok(provider_id) => {
                sqlx::query(
                    "UPDATE order_refunds SET state = 'succeeded', provider_id = ?, settled_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
                )
                .bind(&provider_id)
                .bind(refund_id)
                .execute(&mut *tx)
                .await
                .map_err(later)?;
                let refunded: i64 =
                    sqlx::query_scalar("SELECT refunded_minor FROM orders WHERE id = ? FOR UPDATE")
                        .bind(&order_id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(later)?;
                if refunded == order.total_minor {
                    orders::set_refunded(&mut tx, &order_id)
                        .await
                        .map_err(later)?;
                }
                outbox::enqueue_payload(
                    &mut tx,
                    &self.schemas,
                    &self.orders_topic,
                    Some(&self.cell),
                    &OrderRefunded {
                        order_id: order_id.clone(),
                        cell: self.cell.clone(),
                        refund_id: refund_id.to_owned(),
                        amount_minor,
                        currency: order.currency.clone(),
                        refunded_minor: refunded,
                        reason,
                        actor,
                    },
                )
                .await
                .map_err(|e| RefundOutcome::Later(e.into()))?;
                tx.commit().await.map_err(later)?;
                self.kpis.refunded(&order.currency, amount_minor);
                tracing::info!(order = %order_id, refund = refund_id, amount = amount_minor, "refunded in part");
                Ok(())
            }
            Err(PaymentError::Refused(message) | PaymentError::Declined(message)) => {
                sqlx::query(
                    "UPDATE order_refunds SET state = 'failed', error = ?, settled_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
                )
                .bind(message.chars().take(500).collect::<String>())
                .bind(refund_id)
                .execute(&mut *tx)
                .await
                .map_err(later)?;
                sqlx::query("UPDATE orders SET refunded_minor = refunded_minor - ? WHERE id = ?")
                    .bind(amount_minor)
                    .bind(&order_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(later)?;
                tx.commit().await.map_err(later)?;
                Err(RefundOutcome::Refused(message))
            }
            Err(other) => Err(RefundOutcome::Later(other.into())),
        }
    }
}

/// Why a refund is not settled.
#[derive(Debug)]
pub enum RefundOutcome {
    /// The provider said no; the amount can be refunded again.
    Refused(String),
    /// No answer (or our database was away): ask again later.
    Later(anyhow::Error),
}
