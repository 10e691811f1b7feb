//! Order e-mails: a consumer of the cell's `orders` topic (group
//! `<cell>.notifications`) writes to the shopper at every step of the
//! order's life: confirmed (the invoice attached), processing, shipped (with
//! the tracking link), delivered, cancelled, refunded. A relay that does not
//! answer is retried with the backbone's back-off, then the event is parked
//! on the topic's dead letters. Each e-mail sent is recorded by event id
//! outside the consumer's transaction, so a redelivered event (or a batch
//! applied again) does not write twice.

pub mod compose;
pub mod smtp;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use events::Envelope;
use events::consumer::{Handler, HandlerError};
use serde::Deserialize;
use sqlx::{MySqlConnection, MySqlPool};
use wire::events::{OrderCancelled, OrderConfirmed, OrderRefunded, OrderStatusChanged};

use crate::invoices::{InvoiceError, Invoices};
use compose::{Context, Moment};
use smtp::Smtp;
pub use smtp::{Mail, SendError};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// The relay (`smtp://host:port`); empty: no e-mails (each is logged
    /// instead).
    pub smtp_url: String,
    /// `Name <address>` the e-mails come from.
    pub from: String,
    /// The shop's address, for links (`https://shop.example`).
    pub shop_url: String,
    pub timeout_ms: u64,
}

impl MailSettings {
    pub fn check(&self) -> Result<(), String> {
        if !self.smtp_url.is_empty() {
            smtp::parse_url(&self.smtp_url).map_err(|e| format!("mail.smtp_url: {e}"))?;
            self.from
                .parse::<lettre::message::Mailbox>()
                .map_err(|e| format!("mail.from: \"{}\": {e}", self.from))?;
        }
        if !(self.shop_url.starts_with("https://") || self.shop_url.starts_with("http://")) {
            return Err("mail.shop_url: the shop's http(s) address".into());
        }
        if self.timeout_ms == 0 {
            return Err("mail.timeout_ms: above 0".into());
        }
        Ok(())
    }
}

/// Writes the e-mails.
#[derive(Debug, Clone)]
pub struct Notifier {
    smtp: Option<Smtp>,
    pool: MySqlPool,
    invoices: Invoices,
    settings: MailSettings,
    metrics: Option<Arc<crate::orders::kpis::Kpis>>,
}

impl Notifier {
    pub fn new(pool: MySqlPool, settings: MailSettings) -> Result<Self, String> {
        let smtp = if settings.smtp_url.is_empty() {
            None
        } else {
            Some(Smtp::new(
                &settings.smtp_url,
                &settings.from,
                Duration::from_millis(settings.timeout_ms),
            )?)
        };
        Ok(Self {
            smtp,
            invoices: Invoices::new(pool.clone()),
            pool,
            settings,
            metrics: None,
        })
    }

    pub fn with_metrics(mut self, kpis: Arc<crate::orders::kpis::Kpis>) -> Self {
        self.metrics = Some(kpis);
        self
    }

    /// Where the shopper sees order `id`.
    pub fn order_url(&self, id: &str) -> String {
        format!(
            "{}/account/orders/{id}",
            self.settings.shop_url.trim_end_matches('/')
        )
    }

    /// A link to `path` (from `/`) on the shop.
    pub fn shop_link(&self, path: &str) -> String {
        format!("{}{path}", self.settings.shop_url.trim_end_matches('/'))
    }

    /// Sends an account e-mail now: the caller waits for the relay to take
    /// it, and tells the shopper when it did not. With no relay configured
    /// it is logged (recipient and subject only) instead.
    pub async fn send_now(&self, mail: &Mail) -> Result<(), SendError> {
        match &self.smtp {
            Some(smtp) => smtp.send(mail).await,
            None => {
                tracing::info!(to = %mail.to_email, subject = %mail.subject, "mail.smtp_url is empty: e-mail not sent");
                Ok(())
            }
        }
    }

    /// Writes to the shopper of `order_id` about `moment`, once per event.
    async fn notify(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
        order_id: &str,
        moment: Moment,
    ) -> Result<(), HandlerError> {
        let already: Option<u8> =
            sqlx::query_scalar("SELECT 1 FROM sent_emails WHERE event_id = ?")
                .bind(event.id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        if already.is_some() {
            return Ok(());
        }
        let Some(order) = crate::orders::get(conn, order_id).await? else {
            return Err(HandlerError::Permanent(anyhow::anyhow!(
                "order {order_id} is not in this cell"
            )));
        };
        let lines = crate::orders::lines(conn, order_id).await?;
        let Some((email, name)): Option<(String, String)> =
            sqlx::query_as("SELECT email, name FROM users WHERE id = ?")
                .bind(&order.user_id)
                .fetch_optional(&mut *conn)
                .await?
        else {
            return Err(HandlerError::Permanent(anyhow::anyhow!(
                "the shopper of order {order_id} has no account here"
            )));
        };
        let invoice = if moment == Moment::Confirmed {
            match self.invoices.for_order(order_id).await {
                Ok(stored) => Some((format!("{}.pdf", stored.number), stored.pdf)),
                Err(InvoiceError::NotIssued) => None,
                Err(InvoiceError::Unexpected(error)) => return Err(HandlerError::Transient(error)),
            }
        } else {
            None
        };
        let mail = compose::compose(
            &moment,
            Context {
                order: &order,
                lines: &lines,
                name: &name,
                email: &email,
                order_url: self.order_url(order_id),
                invoice,
            },
        );
        match &self.smtp {
            Some(smtp) => smtp.send(&mail).await.map_err(|error| match error {
                SendError::Invalid(_) => HandlerError::Permanent(error.into()),
                SendError::Relay(_) => {
                    if let Some(kpis) = &self.metrics {
                        kpis.email_failed(moment.kind());
                    }
                    HandlerError::Transient(error.into())
                }
            })?,
            None => {
                tracing::info!(to = %email, subject = %mail.subject, "mail.smtp_url is empty: e-mail not sent")
            }
        }
        sqlx::query(
            "INSERT IGNORE INTO sent_emails (event_id, order_id, kind, recipient, subject) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(event.id.to_string())
        .bind(order_id)
        .bind(moment.kind())
        .bind(&email)
        .bind(mail.subject.chars().take(200).collect::<String>())
        .execute(&self.pool)
        .await?;
        if let Some(kpis) = &self.metrics {
            kpis.email_sent(moment.kind());
        }
        tracing::info!(order = order_id, kind = moment.kind(), "order e-mail sent");
        Ok(())
    }
}

fn payload<P: wire::events::EventPayload>(event: &Envelope) -> Result<P, HandlerError> {
    event
        .payload()
        .map_err(|e| HandlerError::Permanent(e.into()))
}

/// Confirmation, with the invoice.
#[derive(Debug, Clone)]
pub struct OnConfirmed(pub Notifier);

#[async_trait]
impl Handler for OnConfirmed {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let confirmed: OrderConfirmed = payload(event)?;
        self.0
            .notify(conn, event, &confirmed.order_id, Moment::Confirmed)
            .await
    }
}

/// Processing, shipped (with tracking), delivered.
#[derive(Debug, Clone)]
pub struct OnStatusChanged(pub Notifier);

#[async_trait]
impl Handler for OnStatusChanged {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let changed: OrderStatusChanged = payload(event)?;
        let moment = match changed.to.as_str() {
            "processing" => Moment::Processing,
            "delivered" => Moment::Delivered,
            "shipped" => {
                let tracking: Option<(Option<String>, Option<String>)> =
                    sqlx::query_as("SELECT carrier, tracking_number FROM orders WHERE id = ?")
                        .bind(&changed.order_id)
                        .fetch_optional(&mut *conn)
                        .await?;
                let (carrier, number) = match tracking {
                    Some((Some(carrier), Some(number))) => (carrier, number),
                    _ => (
                        "our carrier".to_owned(),
                        changed.tracking_number.clone().unwrap_or_default(),
                    ),
                };
                let link =
                    crate::carriers::tracking_url(&self.0.settings.shop_url, &carrier, &number);
                Moment::Shipped {
                    carrier,
                    number,
                    link,
                }
            }
            _ => return Ok(()),
        };
        self.0.notify(conn, event, &changed.order_id, moment).await
    }
}

#[derive(Debug, Clone)]
pub struct OnCancelled(pub Notifier);

#[async_trait]
impl Handler for OnCancelled {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let cancelled: OrderCancelled = payload(event)?;
        let moment = Moment::Cancelled {
            reason: cancelled.reason.trim_end_matches('.').to_owned(),
            refunded: cancelled.refunded,
        };
        self.0
            .notify(conn, event, &cancelled.order_id, moment)
            .await
    }
}

/// A partial (or later full) refund by an admin.
#[derive(Debug, Clone)]
pub struct OnRefunded(pub Notifier);

#[async_trait]
impl Handler for OnRefunded {
    async fn handle(
        &self,
        conn: &mut MySqlConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let refunded: OrderRefunded = payload(event)?;
        let moment = Moment::Refunded {
            amount_minor: refunded.amount_minor,
            reason: refunded.reason.trim_end_matches('.').to_owned(),
        };
        self.0.notify(conn, event, &refunded.order_id, moment).await
    }
}

/// Events on the orders topic that need no e-mail (an order waiting for
/// its payment): taken so they are not parked as unhandled.
#[derive(Debug, Clone)]
pub struct Quiet;

#[async_trait]
impl Handler for Quiet {
    async fn handle(
        &self,
        _conn: &mut MySqlConnection,
        _event: &Envelope,
    ) -> Result<(), HandlerError> {
        Ok(())
    }
}
