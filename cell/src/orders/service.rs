//! What shoppers and admins do with orders after checkout: the shopper's
//! history (filters, text, cursor pages) and one order whole with its
//! timeline; an admin moves a paid order on (processing → shipped with its
//! tracking → delivered), each move recorded and announced.

use events::{Schemas, outbox};
use sqlx::{MySql, MySqlPool, QueryBuilder};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wire::events::OrderStatusChanged;
use wire::orders::{
    OrderDetail, OrderLineView, OrderListItem, OrderPage, RefundView, TimelineEntry, Tracking,
};

use super::{Status, TransitionError};

pub const MAX_PAGE: u32 = 100;
const MAX_TEXT: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("You have no order with this id.")]
    NotFound,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    #[error("An order cannot go from {from} to {to}.")]
    Illegal { from: String, to: String },
    #[error(
        "This order is waiting for its payment; it is cancelled by itself if the payment does not come."
    )]
    NotPaid,
    #[error("The order is no longer {0}: someone else moved it first.")]
    Moved(String),
    #[error("amount_minor: at most {remaining} can still be refunded on this order")]
    RefundTooLarge { remaining: String },
    #[error("This order was cancelled and refunded in full.")]
    AlreadyRefunded,
    #[error("The payment provider refused the refund: {0}")]
    RefundRefused(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for OrderError {
    fn from(error: sqlx::Error) -> Self {
        OrderError::Unexpected(error.into())
    }
}

impl From<outbox::EnqueueError> for OrderError {
    fn from(error: outbox::EnqueueError) -> Self {
        OrderError::Unexpected(error.into())
    }
}

/// What the history is filtered by.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<Status>,
    /// Placed at or after.
    pub from: Option<OffsetDateTime>,
    /// Placed before.
    pub to: Option<OffsetDateTime>,
    /// In an order line's title or SKU, or the start of the order id.
    pub text: Option<String>,
    pub cursor: Option<String>,
    pub limit: u32,
}

/// `YYYY-MM-DD` (the day's start, UTC) or RFC 3339.
pub fn parse_day(field: &'static str, text: &str) -> Result<OffsetDateTime, OrderError> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let invalid = || OrderError::Invalid {
        field,
        message: "a date (YYYY-MM-DD) or an RFC 3339 time",
    };
    let mut parts = text.splitn(3, '-');
    let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let (Ok(year), Ok(month), Ok(day)) =
        (year.parse::<i32>(), month.parse::<u8>(), day.parse::<u8>())
    else {
        return Err(invalid());
    };
    let month = time::Month::try_from(month).map_err(|_| invalid())?;
    time::Date::from_calendar_date(year, month, day)
        .map(|day| day.midnight().assume_utc())
        .map_err(|_| invalid())
}

impl Filter {
    pub fn check(&mut self) -> Result<(), OrderError> {
        if !(1..=MAX_PAGE).contains(&self.limit) {
            return Err(OrderError::Invalid {
                field: "limit",
                message: "1-100",
            });
        }
        if let Some(text) = &self.text {
            let text = text.trim();
            if text.chars().count() > MAX_TEXT || text.chars().any(char::is_control) {
                return Err(OrderError::Invalid {
                    field: "q",
                    message: "up to 100 characters of text",
                });
            }
            self.text = (!text.is_empty()).then(|| text.to_owned());
        }
        // Orders are stamped with TIMESTAMPs (1970-2038): a bound outside
        // that range bounds nothing, and MariaDB would not compare it.
        let (first, last) = (
            OffsetDateTime::from_unix_timestamp(1).unwrap_or(OffsetDateTime::UNIX_EPOCH),
            OffsetDateTime::from_unix_timestamp(i64::from(i32::MAX))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        );
        self.from = self.from.filter(|from| *from > first);
        self.to = self.to.filter(|to| *to < last);
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from >= to
        {
            return Err(OrderError::Invalid {
                field: "to",
                message: "after from",
            });
        }
        Ok(())
    }
}

/// `<created_at micros>.<id>` of the last row shown.
fn cursor_of(created_at: OffsetDateTime, id: &str) -> String {
    format!("{}.{id}", created_at.unix_timestamp_nanos() / 1_000)
}

fn parse_cursor(cursor: &str) -> Result<(OffsetDateTime, String), OrderError> {
    let invalid = || OrderError::Invalid {
        field: "cursor",
        message: "the next_cursor of an earlier page",
    };
    let (micros, id) = cursor.split_once('.').ok_or_else(invalid)?;
    let micros: i128 = micros.parse().map_err(|_| invalid())?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).map_err(|_| invalid())?;
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(invalid());
    }
    Ok((at, id.to_owned()))
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

#[derive(Debug, sqlx::FromRow)]
struct ListRow {
    id: String,
    status: String,
    created_at: OffsetDateTime,
    total_minor: i64,
    currency: String,
    item_count: i64,
    first_title: Option<String>,
    email: Option<String>,
}

/// Whose orders a list holds.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// One shopper's own.
    Shopper(&'a str),
    /// Everyone's, for staff: each with the shopper's e-mail, and the text
    /// also matches the e-mail.
    Staff,
}

#[derive(Debug, Clone)]
pub struct Orders {
    pool: MySqlPool,
    cell: String,
    schemas: Schemas,
    topic: String,
}

impl Orders {
    pub fn new(pool: MySqlPool, cell: &str, topic_prefix: &str) -> Self {
        Self {
            pool,
            cell: cell.to_owned(),
            schemas: Schemas::builtin(),
            topic: format!(
                "{topic_prefix}{}",
                events::topics::cell_topic(cell, "orders")
            ),
        }
    }

    /// Orders in `scope`, newest first.
    pub async fn list(
        &self,
        scope: Scope<'_>,
        mut filter: Filter,
    ) -> Result<OrderPage, OrderError> {
        filter.check()?;
        let mut query: QueryBuilder<MySql> = QueryBuilder::new(
            r#"SELECT o.id, CAST(o.status AS CHAR) AS status, o.created_at, o.total_minor, o.currency,
                      CAST(COALESCE((SELECT SUM(l.quantity) FROM order_lines l WHERE l.order_id = o.id), 0) AS SIGNED) AS item_count,
                      (SELECT l.title FROM order_lines l WHERE l.order_id = o.id ORDER BY l.sku LIMIT 1) AS first_title,
                      "#,
        );
        match scope {
            Scope::Shopper(user) => {
                query
                    .push("CAST(NULL AS CHAR) AS email FROM orders o WHERE o.user_id = ")
                    .push_bind(user);
            }
            Scope::Staff => {
                query.push(
                    "u.email AS email FROM orders o JOIN users u ON u.id = o.user_id WHERE TRUE",
                );
            }
        }
        if let Some(status) = filter.status {
            query.push(" AND o.status = ").push_bind(status.as_str());
        }
        if let Some(from) = filter.from {
            query.push(" AND o.created_at >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            query.push(" AND o.created_at < ").push_bind(to);
        }
        if let Some(text) = &filter.text {
            let like = format!(
                "%{}%",
                text.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            query
                .push(" AND (o.id LIKE ")
                .push_bind(format!("{}%", text.to_ascii_lowercase().replace(['%', '_', '\\'], "")))
                .push(" OR EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND (LOWER(l.title) LIKE ")
                .push_bind(like.clone())
                .push(" OR LOWER(l.sku) LIKE ")
                .push_bind(like.clone())
                .push("))");
            if matches!(scope, Scope::Staff) {
                query.push(" OR LOWER(u.email) LIKE ").push_bind(like);
            }
            query.push(")");
        }
        if let Some(cursor) = &filter.cursor {
            let (at, id) = parse_cursor(cursor)?;
            query
                .push(" AND (o.created_at < ")
                .push_bind(at)
                .push(" OR (o.created_at = ")
                .push_bind(at)
                .push(" AND o.id < ")
                .push_bind(id)
                .push("))");
        }
        query
            .push(" ORDER BY o.created_at DESC, o.id DESC LIMIT ")
            .push_bind(filter.limit + 1);
        let mut rows: Vec<ListRow> = query.build_query_as().fetch_all(&self.pool).await?;
        let more = rows.len() > filter.limit as usize;
        rows.truncate(filter.limit as usize);
        let next_cursor = more
            .then(|| rows.last().map(|r| cursor_of(r.created_at, &r.id)))
            .flatten();
        Ok(OrderPage {
            items: rows
                .into_iter()
                .map(|r| OrderListItem {
                    id: r.id,
                    status: r.status,
                    created_at: rfc3339(r.created_at),
                    item_count: u32::try_from(r.item_count).unwrap_or(0),
                    total_minor: r.total_minor,
                    currency: r.currency,
                    first_title: r.first_title,
                    email: r.email,
                })
                .collect(),
            next_cursor,
        })
    }

    /// Who placed order `id`.
    pub async fn owner_of(&self, id: &str) -> Result<Option<String>, OrderError> {
        if uuid::Uuid::parse_str(id).is_err() {
            return Ok(None);
        }
        Ok(
            sqlx::query_scalar("SELECT user_id FROM orders WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Order `id` whole, if `user` placed it (`None`: staff, any order).
    pub async fn detail(&self, user: Option<&str>, id: &str) -> Result<OrderDetail, OrderError> {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(OrderError::NotFound);
        }
        let mut conn = self.pool.acquire().await?;
        let order = super::get(&mut conn, id)
            .await?
            .filter(|o| user.is_none_or(|u| o.user_id == u))
            .ok_or(OrderError::NotFound)?;
        let lines = super::lines(&mut conn, id).await?;
        let extra: (
            OffsetDateTime,
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
        ) = sqlx::query_as(
            "SELECT o.created_at, o.carrier, o.tracking_number, i.number, o.refunded_minor FROM orders o LEFT JOIN invoices i ON i.order_id = o.id WHERE o.id = ?",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        let refunds: Vec<(String, i64, String, String, Option<String>, OffsetDateTime)> =
            sqlx::query_as(
                "SELECT id, amount_minor, reason, CAST(state AS CHAR), error, created_at FROM order_refunds WHERE order_id = ? ORDER BY created_at, id",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
        let tracking_events = crate::carriers::events_of(&mut conn, id).await?;
        let timeline: Vec<(Option<String>, String, OffsetDateTime, String, String)> =
            sqlx::query_as(
                "SELECT from_status, to_status, at, actor, reason FROM order_transitions WHERE order_id = ? ORDER BY id",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
        Ok(OrderDetail {
            id: order.id.clone(),
            status: order.status.as_str().to_owned(),
            created_at: rfc3339(extra.0),
            lines: lines
                .iter()
                .map(|l| OrderLineView {
                    sku: l.sku.clone(),
                    title: l.title.clone(),
                    size: l.size.clone(),
                    colour: l.colour.clone(),
                    unit_price_minor: l.unit_price_minor,
                    quantity: l.quantity,
                    line_total_minor: l.unit_price_minor * i64::from(l.quantity),
                })
                .collect(),
            currency: order.currency.clone(),
            subtotal_minor: order.subtotal_minor,
            discount_minor: order.discount_minor,
            coupon: order.coupon.clone(),
            shipping_minor: order.shipping_minor,
            total_minor: order.total_minor,
            address: order.address.clone(),
            shipping_method: order.shipping_method.clone(),
            payment_status: order.payment_status.clone(),
            refunded: order.refunded,
            cancel_reason: order.cancel_reason.clone(),
            tracking: match (extra.1, extra.2) {
                (Some(carrier), Some(number)) => Some(Tracking { carrier, number }),
                _ => None,
            },
            invoice_number: extra.3,
            refunded_minor: extra.4,
            refunds: refunds
                .into_iter()
                .map(
                    |(id, amount_minor, reason, state, error, created_at)| RefundView {
                        id,
                        amount_minor,
                        reason,
                        state,
                        error,
                        created_at: rfc3339(created_at),
                    },
                )
                .collect(),
            tracking_events,
            timeline: timeline
                .into_iter()
                .map(|(from, to, at, actor, reason)| TimelineEntry {
                    from,
                    to,
                    at: rfc3339(at),
                    actor,
                    reason,
                })
                .collect(),
        })
    }

    /// Moves a paid order on, by an admin: to `processing`, `shipped` (with
    /// its tracking) or `delivered`; recorded and announced.
    pub async fn advance(
        &self,
        actor: &str,
        id: &str,
        to: &str,
        reason: &str,
        tracking: Option<&Tracking>,
    ) -> Result<OrderDetail, OrderError> {
        let to = match Status::parse(to) {
            Some(to @ (Status::Processing | Status::Shipped | Status::Delivered)) => to,
            _ => {
                return Err(OrderError::Invalid {
                    field: "status",
                    message: "processing, shipped or delivered (cancelling has its own route)",
                });
            }
        };
        let reason = super::reason(reason)?;
        match (to, tracking) {
            (Status::Shipped, Some(t))
                if super::is_token(&t.carrier, 32) && super::is_token(&t.number, 64) => {}
            (Status::Shipped, _) => {
                return Err(OrderError::Invalid {
                    field: "tracking",
                    message: "shipping needs {carrier, number}: letters, digits, - and _",
                });
            }
            (_, Some(_)) => {
                return Err(OrderError::Invalid {
                    field: "tracking",
                    message: "only when shipping",
                });
            }
            _ => {}
        }
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(OrderError::NotFound);
        }
        let mut tx = self.pool.begin().await?;
        let order = super::lock(&mut tx, id)
            .await?
            .ok_or(OrderError::NotFound)?;
        let moved = super::transition(&mut tx, id, (order.status, to), actor, reason).await?;
        match moved {
            Ok(()) => {}
            Err(TransitionError::Illegal { from, to }) => {
                return Err(OrderError::Illegal {
                    from: from.to_owned(),
                    to: to.to_owned(),
                });
            }
            Err(TransitionError::Moved(from)) => return Err(OrderError::Moved(from.to_owned())),
        }
        if actor.starts_with("user:") {
            crate::checkout::refunds::audit(
                &mut tx,
                actor,
                "move",
                id,
                &serde_json::json!({"from": order.status.as_str(), "to": to.as_str(), "reason": reason}),
            )
            .await?;
        }
        if let Some(t) = tracking {
            sqlx::query("UPDATE orders SET carrier = ?, tracking_number = ? WHERE id = ?")
                .bind(&t.carrier)
                .bind(&t.number)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        outbox::enqueue_payload(
            &mut tx,
            &self.schemas,
            &self.topic,
            Some(&self.cell),
            &OrderStatusChanged {
                order_id: id.to_owned(),
                cell: self.cell.clone(),
                user_id: order.user_id.clone(),
                from: order.status.as_str().to_owned(),
                to: to.as_str().to_owned(),
                actor: actor.to_owned(),
                reason: reason.to_owned(),
                tracking_number: tracking.map(|t| t.number.clone()),
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(order = id, to = to.as_str(), actor, "order moved on");
        self.detail(None, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_moves_follow_the_lifecycle_and_no_others() {
        use Status::*;
        let allowed = [
            (Pending, Confirmed),
            (Pending, Cancelled),
            (Confirmed, Processing),
            (Confirmed, Cancelled),
            (Processing, Shipped),
            (Processing, Cancelled),
            (Shipped, Delivered),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                assert_eq!(
                    from.may_become(to),
                    allowed.contains(&(from, to)),
                    "{} → {}",
                    from.as_str(),
                    to.as_str()
                );
            }
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_764_000_000_123_456_000).unwrap();
        let id = "0193a5e2-5a6b-7c3d-8e9f-a0b1c2d3e4f5";
        assert_eq!(
            parse_cursor(&cursor_of(at, id)).unwrap(),
            (at, id.to_owned())
        );
        for bad in ["", "x.y", "12", "12.not-a-uuid"] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn days_and_times_are_read() {
        assert_eq!(
            parse_day("from", "2026-11-02").unwrap(),
            OffsetDateTime::parse("2026-11-02T00:00:00Z", &Rfc3339).unwrap()
        );
        assert!(parse_day("from", "2026-11-02T10:00:00+01:00").is_ok());
        assert!(parse_day("from", "yesterday").is_err());
    }
}
