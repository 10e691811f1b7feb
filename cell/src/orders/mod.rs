//! Orders (DESIGN.md §5): made `pending` when a shopper starts paying,
//! `confirmed` when the payment provider says the money moved, `cancelled`
//! when it never did; then `processing` → `shipped` → `delivered` (or
//! `cancelled` before shipping). A status changes only through
//! [`transition`] (and a trigger refuses any other move), whose
//! `UPDATE … WHERE status = <from>` makes two racing changes end with one
//! winner, and which records who, when and why (the order's timeline).

pub mod kpis;
pub mod routes;
pub mod service;

use std::sync::Arc;

use axum::Router;
use axum::routing::post;
use serde::Deserialize;
use sqlx::MySqlConnection;
use time::OffsetDateTime;
use wire::checkout::{OrderSummary, ShippingAddress};

pub use service::Orders;

/// The orders routes.
pub fn router(
    orders: Orders,
    checkouts: Arc<crate::checkout::Checkouts>,
    auth: Arc<crate::auth::Auth>,
) -> Router {
    Router::new()
        .route("/api/orders/{id}/cancel", post(routes::cancel))
        .route("/api/orders", axum::routing::get(routes::list))
        .route("/api/admin/orders", axum::routing::get(routes::staff_list))
        .route("/api/orders/{id}", axum::routing::get(routes::detail))
        .route("/api/orders/{id}/status", post(routes::advance))
        .route(
            "/api/orders/{id}/invoice",
            axum::routing::get(routes::invoice),
        )
        .route("/api/orders/{id}/refunds", post(routes::refund))
        .with_state(routes::OrderState {
            orders,
            invoices: crate::invoices::Invoices::new(checkouts.pool().clone()),
            checkouts: checkouts.clone(),
            auth: auth.clone(),
        })
        .layer(axum::middleware::from_fn_with_state(
            crate::checkout::idempotency::Keys {
                pool: checkouts.pool().clone(),
                auth,
                ttl: std::time::Duration::from_secs(checkouts.settings().idempotency_ttl_s),
            },
            crate::checkout::idempotency::layer,
        ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Confirmed,
    Processing,
    Shipped,
    Delivered,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Confirmed => "confirmed",
            Status::Processing => "processing",
            Status::Shipped => "shipped",
            Status::Delivered => "delivered",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(Status::Pending),
            "confirmed" => Some(Status::Confirmed),
            "processing" => Some(Status::Processing),
            "shipped" => Some(Status::Shipped),
            "delivered" => Some(Status::Delivered),
            "cancelled" => Some(Status::Cancelled),
            _ => None,
        }
    }

    /// The moves an order may make (the trigger in the order-lifecycle
    /// migration allows the same and no others).
    pub fn may_become(self, to: Status) -> bool {
        matches!(
            (self, to),
            (Status::Pending, Status::Confirmed | Status::Cancelled)
                | (Status::Confirmed, Status::Processing | Status::Cancelled)
                | (Status::Processing, Status::Shipped | Status::Cancelled)
                | (Status::Shipped, Status::Delivered)
        )
    }

    pub const ALL: [Status; 6] = [
        Status::Pending,
        Status::Confirmed,
        Status::Processing,
        Status::Shipped,
        Status::Delivered,
        Status::Cancelled,
    ];
}

/// Why staff or a shopper did something to an order (kept in the timeline
/// and the audit): 1-500 characters of text, trimmed.
pub fn reason(text: &str) -> Result<&str, service::OrderError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 500 || text.chars().any(char::is_control) {
        return Err(service::OrderError::Invalid {
            field: "reason",
            message: "1-500 characters of text",
        });
    }
    Ok(text)
}

/// A carrier name or tracking number: 1-`max` letters, digits, `-` and `_`.
pub fn is_token(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum TransitionError {
    #[error("an order cannot go from {from} to {to}")]
    Illegal {
        from: &'static str,
        to: &'static str,
    },
    /// Another change got there first.
    #[error("the order is no longer {0}")]
    Moved(&'static str),
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub user_id: String,
    pub shopper_key: String,
    pub checkout_id: String,
    pub status: Status,
    pub currency: String,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    /// The promotion the order was placed with, and the coupon entered.
    pub promotion_id: Option<u64>,
    pub coupon: Option<String>,
    pub shipping_minor: i64,
    pub total_minor: i64,
    pub address: ShippingAddress,
    pub shipping_method: String,
    pub payment_intent: Option<String>,
    pub client_secret: Option<String>,
    pub payment_status: String,
    pub payment_error: Option<String>,
    pub reserved_until: OffsetDateTime,
    pub refunded: bool,
    pub cancel_reason: Option<String>,
}

impl Order {
    pub fn summary(&self) -> OrderSummary {
        OrderSummary {
            id: self.id.clone(),
            status: self.status.as_str().to_owned(),
            total_minor: self.total_minor,
            currency: self.currency.clone(),
            reserved_until: self
                .reserved_until
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            cancel_reason: self.cancel_reason.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, sqlx::FromRow)]
pub struct Line {
    pub sku: String,
    pub product_id: u64,
    pub title: String,
    pub size: String,
    pub colour: String,
    pub unit_price_minor: i64,
    pub quantity: u32,
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: String,
    user_id: String,
    shopper_key: String,
    checkout_id: String,
    status: String,
    currency: String,
    subtotal_minor: i64,
    discount_minor: i64,
    promotion_id: Option<u64>,
    coupon: Option<String>,
    shipping_minor: i64,
    total_minor: i64,
    address: String,
    shipping_method: String,
    payment_intent: Option<String>,
    client_secret: Option<String>,
    payment_status: String,
    payment_error: Option<String>,
    reserved_until: OffsetDateTime,
    refunded: bool,
    cancel_reason: Option<String>,
}

const COLUMNS: &str = "id, user_id, shopper_key, checkout_id, CAST(status AS CHAR) AS status, currency, \
     subtotal_minor, discount_minor, promotion_id, coupon, shipping_minor, total_minor, CAST(address AS CHAR) AS address, shipping_method, \
     payment_intent, client_secret, payment_status, payment_error, reserved_until, refunded, cancel_reason";

fn order(row: Row) -> Result<Order, sqlx::Error> {
    let status = Status::parse(&row.status)
        .ok_or_else(|| sqlx::Error::Decode(format!("order status {}", row.status).into()))?;
    let address = serde_json::from_str(&row.address)
        .map_err(|e| sqlx::Error::Decode(format!("order address: {e}").into()))?;
    Ok(Order {
        id: row.id,
        user_id: row.user_id,
        shopper_key: row.shopper_key,
        checkout_id: row.checkout_id,
        status,
        currency: row.currency,
        subtotal_minor: row.subtotal_minor,
        discount_minor: row.discount_minor,
        promotion_id: row.promotion_id,
        coupon: row.coupon,
        shipping_minor: row.shipping_minor,
        total_minor: row.total_minor,
        address,
        shipping_method: row.shipping_method,
        payment_intent: row.payment_intent,
        client_secret: row.client_secret,
        payment_status: row.payment_status,
        payment_error: row.payment_error,
        reserved_until: row.reserved_until,
        refunded: row.refunded,
        cancel_reason: row.cancel_reason,
    })
}

async fn select(
    conn: &mut MySqlConnection,
    id: &str,
    lock: bool,
) -> Result<Option<Order>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM orders WHERE id = ?{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(order).transpose()
}

pub async fn get(conn: &mut MySqlConnection, id: &str) -> Result<Option<Order>, sqlx::Error> {
    select(conn, id, false).await
}

/// The order, locked until the caller's transaction ends.
pub async fn lock(conn: &mut MySqlConnection, id: &str) -> Result<Option<Order>, sqlx::Error> {
    select(conn, id, true).await
}

/// A new `pending` order and its lines, in the caller's transaction.
pub async fn insert(
    conn: &mut MySqlConnection,
    order: &Order,
    lines: &[Line],
    actor: &str,
) -> Result<(), sqlx::Error> {
    let address =
        serde_json::to_string(&order.address).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        r#"INSERT INTO orders (id, user_id, shopper_key, checkout_id, status, currency, subtotal_minor,
                               discount_minor, promotion_id, coupon, shipping_minor, total_minor,
                               address, shipping_method, reserved_until)
           VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"#,
    )
    .bind(&order.id)
    .bind(&order.user_id)
    .bind(&order.shopper_key)
    .bind(&order.checkout_id)
    .bind(&order.currency)
    .bind(order.subtotal_minor)
    .bind(order.discount_minor)
    .bind(order.promotion_id)
    .bind(&order.coupon)
    .bind(order.shipping_minor)
    .bind(order.total_minor)
    .bind(address)
    .bind(&order.shipping_method)
    .bind(order.reserved_until)
    .execute(&mut *conn)
    .await?;
    for line in lines {
        sqlx::query(
            r#"INSERT INTO order_lines (order_id, sku, product_id, title, size, colour, unit_price_minor, quantity)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)"#,
        )
        .bind(&order.id)
        .bind(&line.sku)
        .bind(line.product_id)
        .bind(&line.title)
        .bind(&line.size)
        .bind(&line.colour)
        .bind(line.unit_price_minor)
        .bind(line.quantity)
        .execute(&mut *conn)
        .await?;
    }
    record(
        conn,
        &order.id,
        None,
        Status::Pending,
        actor,
        "payment started",
    )
    .await
}

pub async fn lines(conn: &mut MySqlConnection, id: &str) -> Result<Vec<Line>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sku, product_id, title, size, colour, unit_price_minor, quantity FROM order_lines WHERE order_id = ? ORDER BY sku",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
}

async fn record(
    conn: &mut MySqlConnection,
    id: &str,
    from: Option<Status>,
    to: Status,
    actor: &str,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_transitions (order_id, from_status, to_status, actor, reason) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(from.map(Status::as_str))
    .bind(to.as_str())
    .bind(actor)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves order `id` from `from` to `to`, in the caller's transaction.
pub async fn transition(
    conn: &mut MySqlConnection,
    id: &str,
    (from, to): (Status, Status),
    actor: &str,
    reason: &str,
) -> Result<Result<(), TransitionError>, sqlx::Error> {
    if !from.may_become(to) {
        return Ok(Err(TransitionError::Illegal {
            from: from.as_str(),
            to: to.as_str(),
        }));
    }
    let stamp = match to {
        Status::Confirmed => ", confirmed_at = CURRENT_TIMESTAMP(6)",
        Status::Processing => ", processing_at = CURRENT_TIMESTAMP(6)",
        Status::Shipped => ", shipped_at = CURRENT_TIMESTAMP(6)",
        Status::Delivered => ", delivered_at = CURRENT_TIMESTAMP(6)",
        Status::Cancelled => ", cancelled_at = CURRENT_TIMESTAMP(6), cancel_reason = ?",
        Status::Pending => "",
    };
    let sql = format!("UPDATE orders SET status = ?{stamp} WHERE id = ? AND status = ?");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to.as_str());
    if to == Status::Cancelled {
        query = query.bind(reason);
    }
    let moved = query
        .bind(id)
        .bind(from.as_str())
        .execute(&mut *conn)
        .await?;
    if moved.rows_affected() != 1 {
        return Ok(Err(TransitionError::Moved(from.as_str())));
    }
    record(conn, id, Some(from), to, actor, reason).await?;
    Ok(Ok(()))
}

/// What the payment provider last said about the order's payment.
pub async fn set_payment(
    conn: &mut MySqlConnection,
    id: &str,
    status: &str,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET payment_status = ?, payment_error = ? WHERE id = ?")
        .bind(status)
        .bind(error.map(|e| e.chars().take(500).collect::<String>()))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Ties the order to its PaymentIntent (and the secret the browser pays it
/// with), unless it already has one; the intent the order ends up with.
pub async fn set_intent(
    conn: &mut MySqlConnection,
    id: &str,
    intent: &str,
    client_secret: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query(
        "UPDATE orders SET payment_intent = ?, client_secret = ? WHERE id = ? AND payment_intent IS NULL",
    )
    .bind(intent)
    .bind(client_secret)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar("SELECT payment_intent FROM orders WHERE id = ?")
        .bind(id)
        .fetch_one(&mut *conn)
        .await
}

pub async fn set_refunded(conn: &mut MySqlConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET refunded = TRUE WHERE id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Gives a pending order more time (its payment is still processing).
pub async fn extend(conn: &mut MySqlConnection, id: &str, seconds: u64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE orders SET reserved_until = CURRENT_TIMESTAMP(6) + INTERVAL ? SECOND WHERE id = ? AND status = 'pending'",
    )
    .bind(seconds)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Pending orders whose stock hold ran out, oldest first.
pub async fn expired(conn: &mut MySqlConnection, limit: u32) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM orders WHERE status = 'pending' AND reserved_until < CURRENT_TIMESTAMP(6) ORDER BY reserved_until LIMIT ?",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
}
