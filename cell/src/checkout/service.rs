//! Checkout's steps and the payment's outcome.
//!
//! * address → shipping: stored on the checkout, the cart priced again at
//!   every step;
//! * payment: one transaction reserves the stock (all lines or none), makes
//!   the `pending` order and ties the checkout to it; then the
//!   PaymentIntent is made with an idempotency key derived from the
//!   checkout, so a retry after a crash finds the same intent;
//! * the provider's word (webhook, or the intent read back) confirms the
//!   order once: the reserved stock is sold and the bought lines leave the
//!   cart, in one transaction;
//! * a hold that runs out: the intent is cancelled at the provider first
//!   (one that already succeeded confirms the order instead), then the
//!   stock goes back and the order is cancelled.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use events::{Schemas, outbox};
use sqlx::{MySqlConnection, MySqlPool};
use time::OffsetDateTime;
use wire::cart::{CartLine, CartView};
use wire::checkout::{CheckoutAddress, CheckoutView, PaymentView, ShippingAddress};
use wire::events::{EventPayload, OrderCancelled, OrderConfirmed, OrderLine, OrderPlaced};

use super::shipping;
use crate::auth::tokens::Claims;
use crate::cart::pricing::Priced;
use crate::cart::{CartError, Carts, Owner};
use crate::invoices::{self, InvoiceSettings};
use crate::orders::kpis::Kpis;
use crate::orders::service::OrderError;
use crate::orders::{self, Order, Status};
use crate::payments::{Intent, PaymentError, Payments};
use crate::promotions::{self, Rejection};
use crate::search::activity;
use crate::stock::{Stock, StockError, availability};
use crate::users::{AddressError, Addresses};

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutSettings {
    pub reservation_ttl_s: u64,
    pub sweep_every_ms: u64,
    pub idempotency_ttl_s: u64,
}

impl CheckoutSettings {
    pub fn check(&self) -> Result<(), String> {
        if self.reservation_ttl_s < 1 || self.sweep_every_ms < 100 || self.idempotency_ttl_s < 60 {
            return Err("checkout.reservation_ttl_s ≥ 1, checkout.sweep_every_ms ≥ 100, checkout.idempotency_ttl_s ≥ 60".into());
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("You have no checkout with this id.")]
    NotFound,
    #[error("Your cart is empty.")]
    CartEmpty,
    #[error("Your cart needs a look first: {0}.")]
    CartNotReady(String),
    #[error("Choose one: address_id (a saved address) or address (a new one).")]
    AddressChoice,
    #[error(transparent)]
    Address(#[from] AddressError),
    #[error("Choose where the order goes first.")]
    AddressRequired,
    #[error("Choose a shipping method first.")]
    ShippingRequired,
    #[error("\"{0}\" is not a shipping method for this address.")]
    UnknownShippingMethod(String),
    #[error("This checkout is {0}; start a new one.")]
    Closed(&'static str),
    #[error("Only {held} of {sku} left; your cart has been kept.")]
    OutOfStock { sku: String, held: u32 },
    #[error("{0}")]
    Coupon(Rejection),
    #[error("Payments are not available in this cell right now.")]
    PaymentsOff,
    #[error("payment_method: a Stripe PaymentMethod id (pm_…)")]
    InvalidPaymentMethod,
    #[error("The payment was declined: {0}")]
    Declined(String),
    #[error(transparent)]
    Provider(PaymentError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl CheckoutError {
    /// MySQL gave up a transaction of ours to break a deadlock (or a lock
    /// wait ran out): nothing of it was written, and running it again is
    /// the cure MySQL prescribes.
    fn is_lock_conflict(&self) -> bool {
        let CheckoutError::Unexpected(error) = self else {
            return false;
        };
        chassis::db::is_lock_conflict(error)
    }

    /// Why a payment could not be made, as the checkout-failure KPI
    /// counts it; `None` for mistakes in the request.
    pub fn failure_reason(&self) -> Option<&'static str> {
        Some(match self {
            CheckoutError::Declined(_) => "declined",
            CheckoutError::OutOfStock { .. } => "out_of_stock",
            CheckoutError::Coupon(_) => "coupon",
            CheckoutError::CartNotReady(_) => "cart_not_ready",
            CheckoutError::PaymentsOff => "payments_off",
            CheckoutError::Provider(_) => "provider",
            CheckoutError::Unexpected(_) => "internal",
            _ => return None,
        })
    }
}

impl From<sqlx::Error> for CheckoutError {
    fn from(error: sqlx::Error) -> Self {
        CheckoutError::Unexpected(error.into())
    }
}

impl From<outbox::EnqueueError> for CheckoutError {
    fn from(error: outbox::EnqueueError) -> Self {
        CheckoutError::Unexpected(error.into())
    }
}

impl From<CartError> for CheckoutError {
    fn from(error: CartError) -> Self {
        match error {
            CartError::Coupon(rejection) => CheckoutError::Coupon(rejection),
            // Passed on as it is, so a database error stays findable in
            // the chain (see `is_lock_conflict`).
            CartError::Unexpected(error) => CheckoutError::Unexpected(error),
            other => CheckoutError::Unexpected(other.into()),
        }
    }
}

impl From<StockError> for CheckoutError {
    fn from(error: StockError) -> Self {
        match error {
            StockError::NotEnough { sku, held } => CheckoutError::OutOfStock { sku, held },
            StockError::Unexpected(error) => CheckoutError::Unexpected(error),
            other => CheckoutError::Unexpected(other.into()),
        }
    }
}

impl From<PaymentError> for CheckoutError {
    fn from(error: PaymentError) -> Self {
        match error {
            PaymentError::Declined(message) => CheckoutError::Declined(message),
            PaymentError::NotConfigured => CheckoutError::PaymentsOff,
            other => CheckoutError::Provider(other),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: String,
    address: Option<String>,
    shipping_method: Option<String>,
    order_id: Option<String>,
}

#[derive(Debug)]
pub struct Checkouts {
    pub(super) pool: MySqlPool,
    carts: Arc<Carts>,
    addresses: Arc<Addresses>,
    stock: Stock,
    pub(super) payments: Payments,
    settings: CheckoutSettings,
    pub(super) schemas: Schemas,
    pub(super) cell: String,
    /// `<cell>.orders`, prefixed.
    pub(super) orders_topic: String,
    invoices: InvoiceSettings,
    pub(super) kpis: Arc<Kpis>,
}

/// What a checkout is built from.
#[derive(Debug)]
pub struct Parts {
    pub pool: MySqlPool,
    pub carts: Arc<Carts>,
    pub addresses: Arc<Addresses>,
    pub stock: Stock,
    pub payments: Payments,
    pub settings: CheckoutSettings,
    pub cell: String,
    pub topic_prefix: String,
    pub invoices: InvoiceSettings,
    pub kpis: Arc<Kpis>,
}

fn parse_address(json: Option<&str>) -> Result<Option<ShippingAddress>, CheckoutError> {
    json.map(|json| {
        serde_json::from_str(json)
            .map_err(|e| CheckoutError::Unexpected(anyhow::anyhow!("checkout address: {e}")))
    })
    .transpose()
}

/// Why `lines` cannot be ordered as they are, if they cannot. With
/// `stock`, short stock counts too; without, only what the reservation
/// cannot tell (a line no longer sold, mixed currencies).
fn not_ready(lines: &[Priced], stock: bool) -> Option<String> {
    let problems: Vec<String> = lines
        .iter()
        .filter_map(|l| l.blocking_problem().map(|p| (l, p)))
        .filter(|(_, p)| stock || *p == "unavailable")
        .map(|(l, p)| format!("{} is {}", l.sku, p.replace('_', " ")))
        .collect();
    let currencies: std::collections::BTreeSet<_> = lines
        .iter()
        .filter_map(|l| l.item.as_ref().map(|i| i.currency.as_str()))
        .collect();
    if currencies.len() > 1 {
        return Some("its items are priced in more than one currency".into());
    }
    (!problems.is_empty()).then(|| problems.join(", "))
}

impl Checkouts {
    pub fn new(parts: Parts) -> Self {
        Self {
            orders_topic: format!(
                "{}{}",
                parts.topic_prefix,
                events::topics::cell_topic(&parts.cell, "orders")
            ),
            pool: parts.pool,
            carts: parts.carts,
            addresses: parts.addresses,
            stock: parts.stock,
            payments: parts.payments,
            settings: parts.settings,
            schemas: Schemas::builtin(),
            cell: parts.cell,
            invoices: parts.invoices,
            kpis: parts.kpis,
        }
    }

    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    pub fn settings(&self) -> &CheckoutSettings {
        &self.settings
    }

    pub fn kpis(&self) -> &Kpis {
        &self.kpis
    }

    async fn load(
        &self,
        conn: &mut MySqlConnection,
        user: &str,
        id: &str,
        lock: bool,
    ) -> Result<Row, CheckoutError> {
        let sql = format!(
            "SELECT id, CAST(address AS CHAR) AS address, shipping_method, order_id FROM checkouts WHERE id = ? AND user_id = ?{}",
            if lock { " FOR UPDATE" } else { "" }
        );
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(user)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(CheckoutError::NotFound)
    }

    /// A new checkout of the caller's cart, which must be ready.
    pub async fn start(&self, user: &Claims) -> Result<CheckoutView, CheckoutError> {
        let mut conn = self.pool.acquire().await?;
        let lines = self
            .carts
            .lines(&mut conn, &Owner::User(user.sub.clone()))
            .await
            .map_err(anyhow::Error::from)?;
        if lines.is_empty() {
            return Err(CheckoutError::CartEmpty);
        }
        if let Some(problems) = not_ready(&lines, true) {
            return Err(CheckoutError::CartNotReady(problems));
        }
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query("INSERT INTO checkouts (id, user_id) VALUES (?, ?)")
            .bind(&id)
            .bind(&user.sub)
            .execute(&mut *conn)
            .await?;
        let row = self.load(&mut conn, &user.sub, &id, false).await?;
        self.render(&mut conn, &user.sub, row).await
    }

    pub async fn view(&self, user: &Claims, id: &str) -> Result<CheckoutView, CheckoutError> {
        let mut conn = self.pool.acquire().await?;
        let row = self.load(&mut conn, &user.sub, id, false).await?;
        self.render(&mut conn, &user.sub, row).await
    }

    /// Step 1: where the order goes.
    pub async fn set_address(
        &self,
        user: &Claims,
        id: &str,
        choice: &CheckoutAddress,
    ) -> Result<CheckoutView, CheckoutError> {
        let address = match (&choice.address_id, &choice.address) {
            (Some(saved), None) => self.addresses.find(&user.sub, saved).await?,
            (None, Some(new)) if choice.save => {
                let saved = self.addresses.create(&user.sub, new).await?;
                self.addresses.find(&user.sub, &saved.id).await?
            }
            (None, Some(new)) => Addresses::normalise(new)?,
            _ => return Err(CheckoutError::AddressChoice),
        };
        let json = serde_json::to_string(&address).map_err(anyhow::Error::from)?;
        let (mut tx, row) = self.open(&user.sub, id).await?;
        sqlx::query("UPDATE checkouts SET address = ? WHERE id = ?")
            .bind(&json)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // A method the new destination does not offer is dropped.
        if let Some(method) = &row.shipping_method
            && !shipping::offers(&address.country, method)
        {
            sqlx::query("UPDATE checkouts SET shipping_method = NULL WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        self.changed(tx, &user.sub, id).await
    }

    /// Step 2: how it travels.
    pub async fn set_shipping(
        &self,
        user: &Claims,
        id: &str,
        method: &str,
    ) -> Result<CheckoutView, CheckoutError> {
        let (mut tx, row) = self.open(&user.sub, id).await?;
        let address =
            parse_address(row.address.as_deref())?.ok_or(CheckoutError::AddressRequired)?;
        if !shipping::offers(&address.country, method) {
            return Err(CheckoutError::UnknownShippingMethod(
                method.chars().take(32).collect(),
            ));
        }
        sqlx::query("UPDATE checkouts SET shipping_method = ? WHERE id = ?")
            .bind(method)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.changed(tx, &user.sub, id).await
    }

    /// The caller's checkout, locked for a change; refused once its payment
    /// has started.
    async fn open(
        &self,
        user: &str,
        id: &str,
    ) -> Result<(sqlx::Transaction<'static, sqlx::MySql>, Row), CheckoutError> {
        let mut tx = self.pool.begin().await?;
        let row = self.load(&mut tx, user, id, true).await?;
        if row.order_id.is_some() {
            return Err(CheckoutError::Closed("being paid for"));
        }
        Ok((tx, row))
    }

    /// Commits a change from [`Checkouts::open`] and answers with the
    /// checkout as it now stands.
    async fn changed(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::MySql>,
        user: &str,
        id: &str,
    ) -> Result<CheckoutView, CheckoutError> {
        let row = self.load(&mut tx, user, id, false).await?;
        tx.commit().await?;
        let mut conn = self.pool.acquire().await?;
        self.render(&mut conn, user, row).await
    }

    /// Step 3: reserve, order, and ask the provider for the money; with
    /// `payment_method`, pay at once.
    pub async fn pay(
        &self,
        user: &Claims,
        id: &str,
        payment_method: Option<&str>,
    ) -> Result<CheckoutView, CheckoutError> {
        if let Some(method) = payment_method
            && !(method.starts_with("pm_")
                && method.len() <= 255
                && method
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err(CheckoutError::InvalidPaymentMethod);
        }
        if !self.payments.enabled() {
            return Err(CheckoutError::PaymentsOff);
        }
        let order_id =
            chassis::db::retrying_lock_conflicts(CheckoutError::is_lock_conflict, || {
                self.place(user, id)
            })
            .await?;
        // No connection is held across a call to the provider: those take
        // long enough to drain the pool under load.
        let order = orders::get(&mut *self.pool.acquire().await?, &order_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("order {order_id} vanished"))?;
        match order.status {
            Status::Pending => {}
            Status::Cancelled => return Err(CheckoutError::Closed("cancelled")),
            // Paid: whatever happened since, the checkout is done.
            _ => return self.view(user, id).await,
        }
        let intent = match &order.payment_intent {
            Some(intent) => intent.clone(),
            None => {
                let metadata = HashMap::from([
                    ("order_id".to_owned(), order.id.clone()),
                    ("checkout_id".to_owned(), id.to_owned()),
                    ("cell".to_owned(), self.cell.clone()),
                    // The edge routes the provider's events by it, to
                    // wherever the shopper lives by then.
                    ("shopper_key".to_owned(), order.shopper_key.clone()),
                ]);
                let created = self
                    .payments
                    .create_intent(
                        order.total_minor,
                        &order.currency,
                        metadata,
                        &format!("checkout-{id}"),
                    )
                    .await?;
                let mut conn = self.pool.acquire().await?;
                orders::set_payment(&mut conn, &order.id, &created.status, None).await?;
                orders::set_intent(
                    &mut conn,
                    &order.id,
                    &created.id,
                    created.client_secret.as_deref(),
                )
                .await?
                .unwrap_or(created.id)
            }
        };
        if let Some(method) = payment_method {
            let attempt = format!("checkout-{id}-{method}");
            match self.payments.confirm(&intent, method, &attempt).await {
                Ok(paid) => {
                    let mut conn = self.pool.acquire().await?;
                    orders::set_payment(&mut conn, &order.id, &paid.status, None).await?;
                    drop(conn);
                    if paid.succeeded() {
                        self.confirm(&order.id, &paid, "checkout").await?;
                    }
                }
                Err(PaymentError::Declined(message)) => {
                    let mut conn = self.pool.acquire().await?;
                    orders::set_payment(&mut conn, &order.id, "failed", Some(&message)).await?;
                    return Err(CheckoutError::Declined(message));
                }
                Err(other) => return Err(other.into()),
            }
        }
        self.view(user, id).await
    }

    /// The checkout's order, made (with its stock reserved) if it has none.
    async fn place(&self, user: &Claims, id: &str) -> Result<String, CheckoutError> {
        let mut tx = self.pool.begin().await?;
        let row = self.load(&mut tx, &user.sub, id, true).await?;
        if let Some(order) = row.order_id {
            return Ok(order);
        }
        let address =
            parse_address(row.address.as_deref())?.ok_or(CheckoutError::AddressRequired)?;
        let method = row.shipping_method.ok_or(CheckoutError::ShippingRequired)?;
        let lines = self
            .carts
            .lines(&mut tx, &Owner::User(user.sub.clone()))
            .await?;
        if lines.is_empty() {
            return Err(CheckoutError::CartEmpty);
        }
        // Short stock is the reservation's to report, as `out_of_stock`.
        if let Some(problems) = not_ready(&lines, false) {
            return Err(CheckoutError::CartNotReady(problems));
        }
        let order_lines: Vec<orders::Line> = lines
            .iter()
            .filter_map(|l| {
                l.item.as_ref().map(|item| orders::Line {
                    sku: l.sku.clone(),
                    product_id: item.product_id,
                    title: item.title.clone(),
                    size: item.size.clone(),
                    colour: item.colour.clone(),
                    unit_price_minor: item.price_minor,
                    quantity: l.quantity,
                })
            })
            .collect();
        let currency = lines
            .iter()
            .find_map(|l| l.item.as_ref().map(|i| i.currency.clone()))
            .unwrap_or_default();
        let owner = Owner::User(user.sub.clone());
        // The promotion's row stays locked until the order is in: its
        // limits cannot be spent twice by racing orders.
        let discount = self
            .carts
            .promotion_for_order(&mut tx, &owner, &lines)
            .await?;
        let subtotal: i64 = lines.iter().map(Priced::line_total).sum();
        let discount_minor = discount.as_ref().map_or(0, |d| d.amount_minor);
        let option = priced_options(
            &address.country,
            subtotal - discount_minor,
            &currency,
            discount.as_ref(),
        )
        .into_iter()
        .find(|o| o.method == method)
        .ok_or_else(|| CheckoutError::UnknownShippingMethod(method.clone()))?;
        let order = Order {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user.sub.clone(),
            shopper_key: user.sk.clone(),
            checkout_id: id.to_owned(),
            status: Status::Pending,
            currency: currency.clone(),
            subtotal_minor: subtotal,
            discount_minor,
            promotion_id: discount.as_ref().map(|d| d.promotion_id),
            coupon: discount.as_ref().and_then(|d| d.code.clone()),
            shipping_minor: option.price_minor,
            total_minor: subtotal - discount_minor + option.price_minor,
            address,
            shipping_method: method,
            payment_intent: None,
            client_secret: None,
            payment_status: "not_started".into(),
            payment_error: None,
            reserved_until: OffsetDateTime::now_utc()
                + Duration::from_secs(self.settings.reservation_ttl_s),
            refunded: false,
            cancel_reason: None,
        };
        let reserve: Vec<(String, u32)> = order_lines
            .iter()
            .map(|l| (l.sku.clone(), l.quantity))
            .collect();
        if let Err(error) = self.stock.reserve(&mut tx, &order.id, &reserve).await {
            if let StockError::NotEnough { sku, .. } = &error {
                tx.rollback().await?;
                self.stock.ran_short(sku).await?;
            }
            return Err(error.into());
        }
        orders::insert(&mut tx, &order, &order_lines, &owner.key()).await?;
        if let Some(discount) = &discount {
            promotions::redeem(
                &mut tx,
                self.carts.caps(),
                &order.id,
                discount.promotion_id,
                &user.sub,
            )
            .await?;
        }
        sqlx::query("UPDATE checkouts SET order_id = ? WHERE id = ?")
            .bind(&order.id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.announce(
            &mut tx,
            &OrderPlaced {
                order_id: order.id.clone(),
                cell: self.cell.clone(),
                user_id: user.sub.clone(),
                currency,
                total_minor: order.total_minor,
                lines: order_lines
                    .iter()
                    .map(|l| OrderLine {
                        sku: l.sku.clone(),
                        quantity: l.quantity,
                        unit_price_minor: l.unit_price_minor,
                    })
                    .collect(),
            },
        )
        .await?;
        tx.commit().await?;
        // What is reserved is no longer held: lists and product pages say so.
        self.stock
            .changed(reserve.into_iter().map(|(sku, _)| sku).collect());
        Ok(order.id)
    }

    async fn announce<P: EventPayload>(
        &self,
        conn: &mut MySqlConnection,
        payload: &P,
    ) -> Result<(), CheckoutError> {
        outbox::enqueue_payload(
            conn,
            &self.schemas,
            &self.orders_topic,
            Some(&self.cell),
            payload,
        )
        .await?;
        Ok(())
    }

    /// The provider says `intent` succeeded for `order_id`: sell the stock,
    /// confirm the order, empty the bought lines from the cart — once,
    /// however often this is called. An order already cancelled (its stock
    /// gone back) gets the money returned.
    pub async fn confirm(
        &self,
        order_id: &str,
        intent: &Intent,
        actor: &str,
    ) -> Result<(), CheckoutError> {
        chassis::db::retrying_lock_conflicts(CheckoutError::is_lock_conflict, || {
            self.confirm_once(order_id, intent, actor)
        })
        .await
    }

    async fn confirm_once(
        &self,
        order_id: &str,
        intent: &Intent,
        actor: &str,
    ) -> Result<(), CheckoutError> {
        let mut tx = self.pool.begin().await?;
        let Some(order) = orders::lock(&mut tx, order_id).await? else {
            tracing::warn!(order = order_id, intent = %intent.id, "a payment succeeded for an order this cell does not have");
            return Ok(());
        };
        if let Some(existing) = &order.payment_intent
            && existing != &intent.id
        {
            tracing::warn!(order = order_id, intent = %intent.id, existing = %existing, "a payment succeeded on an intent that is not the order's");
            return Ok(());
        }
        if order.payment_intent.is_none() {
            orders::set_intent(&mut tx, order_id, &intent.id, None).await?;
        }
        match order.status {
            Status::Confirmed | Status::Processing | Status::Shipped | Status::Delivered => {
                return Ok(());
            }
            Status::Cancelled => {
                tx.commit().await?;
                if !order.refunded {
                    tracing::error!(order = order_id, intent = %intent.id, "paid after its stock went back: refunding");
                    self.payments.refund(&intent.id).await?;
                    let mut conn = self.pool.acquire().await?;
                    orders::set_refunded(&mut conn, order_id).await?;
                }
                return Ok(());
            }
            Status::Pending => {}
        }
        if intent.amount != order.total_minor
            || !intent.currency.eq_ignore_ascii_case(&order.currency)
        {
            return Err(CheckoutError::Unexpected(anyhow::anyhow!(
                "intent {} is for {} {}, order {order_id} for {} {}",
                intent.id,
                intent.amount,
                intent.currency,
                order.total_minor,
                order.currency
            )));
        }
        let skus = self.stock.commit(&mut tx, order_id).await?;
        orders::transition(
            &mut tx,
            order_id,
            (Status::Pending, Status::Confirmed),
            actor,
            "payment succeeded",
        )
        .await?
        .map_err(anyhow::Error::from)?;
        orders::set_payment(&mut tx, order_id, "succeeded", None).await?;
        let lines = orders::lines(&mut tx, order_id).await?;
        let bought: Vec<(String, u32)> =
            lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect();
        Carts::bought(&mut tx, &Owner::User(order.user_id.clone()), &bought).await?;
        let products: Vec<u64> = lines.iter().map(|l| l.product_id).collect();
        activity::purchased(&mut tx, &order.shopper_key, &products).await?;
        self.announce(
            &mut tx,
            &OrderConfirmed {
                order_id: order_id.to_owned(),
                cell: self.cell.clone(),
                payment_intent: intent.id.clone(),
                currency: order.currency.clone(),
                total_minor: order.total_minor,
            },
        )
        .await?;
        // Last: the series stays locked only until the commit just after.
        let invoice = invoices::issue(&mut tx, &self.invoices, &self.cell, &order, &lines).await?;
        tx.commit().await?;
        self.carts
            .changed(&Owner::User(order.user_id.clone()))
            .await;
        self.stock.changed(skus);
        self.kpis.confirmed(&order.currency, order.total_minor);
        tracing::info!(order = order_id, total = order.total_minor, currency = %order.currency, invoice = %invoice.number, "order confirmed");
        Ok(())
    }

    /// The provider says an attempt to pay failed: the shopper may try again
    /// while the hold lasts.
    pub async fn payment_failed(&self, order_id: &str, message: &str) -> Result<(), CheckoutError> {
        let mut tx = self.pool.begin().await?;
        if let Some(order) = orders::lock(&mut tx, order_id).await?
            && order.status == Status::Pending
        {
            orders::set_payment(&mut tx, order_id, "failed", Some(message)).await?;
            self.kpis.checkout_failed("payment_failed");
        }
        tx.commit().await?;
        Ok(())
    }

    /// The hold of `order_id` ran out: cancel its intent at the provider,
    /// then give the stock back and cancel the order. An intent that
    /// succeeded meanwhile confirms the order; one still processing gets
    /// another minute.
    pub async fn expire(&self, order_id: &str) -> Result<(), CheckoutError> {
        let Some(order) = orders::get(&mut *self.pool.acquire().await?, order_id).await? else {
            return Ok(());
        };
        if order.status != Status::Pending {
            return Ok(());
        }
        if let Some(intent) = &order.payment_intent
            && let Err(error) = self.payments.cancel(intent).await
        {
            let now = self.payments.retrieve(intent).await?;
            if now.succeeded() {
                return self.confirm(order_id, &now, "expiry").await;
            }
            if now.status == "processing" {
                orders::extend(&mut *self.pool.acquire().await?, order_id, 60).await?;
                return Ok(());
            }
            if now.status != "canceled" {
                return Err(error.into());
            }
        }
        let reason = format!(
            "no payment within {} s; the stock went back",
            self.settings.reservation_ttl_s
        );
        let mut tx = self.pool.begin().await?;
        let Some(order) = orders::lock(&mut tx, order_id).await? else {
            return Ok(());
        };
        if order.status != Status::Pending {
            return Ok(());
        }
        // The promotion first, as placing an order locks it before stock.
        promotions::give_back(&mut tx, order_id).await?;
        let skus = self.stock.release(&mut tx, order_id).await?;
        orders::transition(
            &mut tx,
            order_id,
            (Status::Pending, Status::Cancelled),
            "system",
            &reason,
        )
        .await?
        .map_err(anyhow::Error::from)?;
        self.announce(
            &mut tx,
            &OrderCancelled {
                order_id: order_id.to_owned(),
                cell: self.cell.clone(),
                reason,
                refunded: false,
            },
        )
        .await?;
        tx.commit().await?;
        self.stock.changed(skus);
        self.kpis.cancelled(false);
        self.kpis.checkout_failed("payment_expired");
        tracing::info!(order = order_id, "unpaid order cancelled; stock released");
        Ok(())
    }

    /// Cancels a paid order before it ships (by its shopper when `owner`
    /// is theirs, or by an admin): in one transaction the order is
    /// cancelled (a racing move to `shipped` leaves one winner), its units
    /// go back into this cell's share and its promotion use is given back;
    /// then the payment is refunded in full (idempotent at the provider; the
    /// sweeper retries a refund that failed).
    pub async fn cancel(
        &self,
        actor: &str,
        order_id: &str,
        owner: Option<&str>,
        reason: &str,
    ) -> Result<(), OrderError> {
        let reason = orders::reason(reason)?;
        if uuid::Uuid::parse_str(order_id).is_err() {
            return Err(OrderError::NotFound);
        }
        let mut tx = self.pool.begin().await?;
        let order = orders::lock(&mut tx, order_id)
            .await?
            .filter(|o| owner.is_none_or(|u| o.user_id == u))
            .ok_or(OrderError::NotFound)?;
        match order.status {
            Status::Pending => return Err(OrderError::NotPaid),
            Status::Confirmed | Status::Processing => {}
            other => {
                return Err(OrderError::Illegal {
                    from: other.as_str().to_owned(),
                    to: Status::Cancelled.as_str().to_owned(),
                });
            }
        }
        match orders::transition(
            &mut tx,
            order_id,
            (order.status, Status::Cancelled),
            actor,
            reason,
        )
        .await?
        {
            Ok(()) => {}
            Err(orders::TransitionError::Moved(from)) => {
                return Err(OrderError::Moved(from.to_owned()));
            }
            Err(orders::TransitionError::Illegal { from, to }) => {
                return Err(OrderError::Illegal {
                    from: from.to_owned(),
                    to: to.to_owned(),
                });
            }
        }
        // The promotion first, as placing an order locks it before stock.
        promotions::give_back(&mut tx, order_id).await?;
        let skus = self
            .stock
            .unsell(&mut tx, order_id)
            .await
            .map_err(|e| OrderError::Unexpected(e.into()))?;
        if owner.is_none() {
            super::refunds::audit(
                &mut tx,
                actor,
                "cancel",
                order_id,
                &serde_json::json!({"reason": reason, "from": order.status.as_str()}),
            )
            .await?;
        }
        self.announce(
            &mut tx,
            &OrderCancelled {
                order_id: order_id.to_owned(),
                cell: self.cell.clone(),
                reason: reason.to_owned(),
                refunded: true,
            },
        )
        .await
        .map_err(|e| OrderError::Unexpected(e.into()))?;
        tx.commit().await?;
        self.stock.changed(skus);
        self.kpis.cancelled(true);
        tracing::info!(
            order = order_id,
            actor,
            "paid order cancelled; stock back in the share"
        );
        if let Err(error) = self.refund(order_id).await {
            tracing::warn!(order = order_id, error = %error, "refund not issued yet; the sweeper retries");
        }
        Ok(())
    }

    /// Refunds cancelled, paid order `order_id` in full, once.
    pub async fn refund(&self, order_id: &str) -> Result<(), CheckoutError> {
        let Some(order) = orders::get(&mut *self.pool.acquire().await?, order_id).await? else {
            return Ok(());
        };
        let Some(intent) = order.payment_intent.as_deref() else {
            return Ok(());
        };
        if order.refunded || order.status != Status::Cancelled {
            return Ok(());
        }
        let before: i64 = sqlx::query_scalar("SELECT refunded_minor FROM orders WHERE id = ?")
            .bind(order_id)
            .fetch_one(&self.pool)
            .await?;
        let refund = self.payments.refund(intent).await?;
        sqlx::query(
            "UPDATE orders SET refunded = TRUE, refund_id = ?, refunded_minor = total_minor WHERE id = ? AND NOT refunded",
        )
        .bind(refund)
        .bind(order_id)
        .execute(&self.pool)
        .await?;
        self.kpis
            .refunded(&order.currency, order.total_minor - before);
        tracing::info!(order = order_id, "refunded");
        Ok(())
    }

    async fn render(
        &self,
        conn: &mut MySqlConnection,
        user: &str,
        row: Row,
    ) -> Result<CheckoutView, CheckoutError> {
        let address = parse_address(row.address.as_deref())?;
        let low_stock = self.carts.low_stock();
        if let Some(order_id) = &row.order_id {
            let order = orders::get(conn, order_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("order {order_id} vanished"))?;
            let lines = orders::lines(conn, order_id).await?;
            let cart = ordered(&order, &lines, low_stock);
            let shipping = shipping::options(
                &order.address.country,
                order.subtotal_minor - order.discount_minor,
                &order.currency,
            )
            .into_iter()
            .find(|o| o.method == order.shipping_method)
            .map(|mut o| {
                o.price_minor = order.shipping_minor;
                o
            });
            let payment = order.payment_intent.as_ref().map(|intent| PaymentView {
                provider: "stripe".into(),
                intent: intent.clone(),
                client_secret: order.client_secret.clone().unwrap_or_default(),
                publishable_key: self.payments.publishable_key().to_owned(),
                stripe_js: self.payments.stripe_js(),
                status: order.payment_status.clone(),
                error: order.payment_error.clone(),
            });
            let step = match order.status {
                Status::Pending => "paying",
                Status::Cancelled => "cancelled",
                _ => "completed",
            };
            return Ok(CheckoutView {
                id: row.id,
                step: step.into(),
                cart,
                address: Some(order.address.clone()),
                shipping_options: Vec::new(),
                shipping,
                subtotal_minor: order.subtotal_minor,
                discount_minor: order.discount_minor,
                shipping_minor: order.shipping_minor,
                total_minor: order.total_minor,
                currency: Some(order.currency.clone()),
                order: Some(order.summary()),
                payment,
            });
        }
        let cart = self.carts.view(conn, &Owner::User(user.to_owned())).await?;
        let currency = cart.currency.clone().unwrap_or_else(|| "GBP".into());
        let options = address
            .as_ref()
            .map(|a| {
                priced_options(
                    &a.country,
                    cart.total_minor,
                    &currency,
                    cart.discount.as_ref(),
                )
            })
            .unwrap_or_default();
        let chosen = row
            .shipping_method
            .as_ref()
            .and_then(|m| options.iter().find(|o| &o.method == m).cloned());
        let step = if address.is_none() {
            "address"
        } else if chosen.is_none() {
            "shipping"
        } else {
            "payment"
        };
        let shipping_minor = chosen.as_ref().map_or(0, |o| o.price_minor);
        Ok(CheckoutView {
            id: row.id,
            step: step.into(),
            subtotal_minor: cart.subtotal_minor,
            discount_minor: cart.subtotal_minor - cart.total_minor,
            shipping_minor,
            total_minor: cart.total_minor + shipping_minor,
            currency: cart.currency.clone(),
            cart,
            address,
            shipping_options: options,
            shipping: chosen,
            order: None,
            payment: None,
        })
    }
}

/// The shipping options for `country`, free-shipping thresholds measured
/// on the discounted lines; a free-shipping promotion makes each free.
fn priced_options(
    country: &str,
    lines_minor: i64,
    currency: &str,
    discount: Option<&wire::promotions::Discount>,
) -> Vec<wire::checkout::ShippingOption> {
    let mut options = shipping::options(country, lines_minor, currency);
    if discount.is_some_and(|d| d.free_shipping) {
        for option in &mut options {
            option.price_minor = 0;
        }
    }
    options
}

/// An order's lines, as a cart at the prices paid.
fn ordered(order: &Order, lines: &[orders::Line], low_stock: u32) -> CartView {
    let items = lines
        .iter()
        .map(|l| CartLine {
            sku: l.sku.clone(),
            product_slug: None,
            title: l.title.clone(),
            size: l.size.clone(),
            colour: l.colour.clone(),
            image: None,
            quantity: l.quantity,
            unit_price_minor: l.unit_price_minor,
            line_total_minor: l.unit_price_minor * i64::from(l.quantity),
            currency: order.currency.clone(),
            availability: availability(l.quantity, 0, low_stock),
            previous_price_minor: None,
            problems: Vec::new(),
        })
        .collect();
    CartView {
        items,
        item_count: lines.iter().map(|l| l.quantity).sum(),
        currency: Some(order.currency.clone()),
        subtotal_minor: order.subtotal_minor,
        coupon: order.coupon.clone(),
        discount: None,
        coupon_problem: None,
        total_minor: order.subtotal_minor - order.discount_minor,
        ready_for_checkout: false,
    }
}

/// Expires unpaid orders every `every` until `stop`, and forgets old
/// idempotency keys.
pub async fn sweep(
    checkouts: Arc<Checkouts>,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        let expired = match checkouts.pool().acquire().await {
            Ok(mut conn) => orders::expired(&mut conn, 100).await,
            Err(error) => Err(error),
        };
        match expired {
            Ok(ids) => {
                for id in ids {
                    if let Err(error) = checkouts.expire(&id).await {
                        tracing::warn!(order = %id, error = %error, "could not expire an unpaid order; will retry");
                    }
                }
            }
            Err(error) => tracing::warn!(error = %error, "could not look for unpaid orders"),
        }
        let unrefunded: Result<Vec<String>, sqlx::Error> = sqlx::query_scalar(
            "SELECT id FROM orders WHERE status = 'cancelled' AND NOT refunded AND payment_status = 'succeeded' LIMIT 20",
        )
        .fetch_all(checkouts.pool())
        .await;
        for id in unrefunded.unwrap_or_default() {
            if let Err(error) = checkouts.refund(&id).await {
                tracing::warn!(order = %id, error = %error, "refund failed; will retry");
            }
        }
        let unanswered: Result<Vec<String>, sqlx::Error> = sqlx::query_scalar(
            "SELECT id FROM order_refunds WHERE state = 'requested' AND created_at < CURRENT_TIMESTAMP(6) - INTERVAL 30 SECOND ORDER BY created_at LIMIT 20",
        )
        .fetch_all(checkouts.pool())
        .await;
        for id in unanswered.unwrap_or_default() {
            if let Err(outcome) = checkouts.settle_refund(&id).await {
                tracing::warn!(refund = %id, outcome = ?outcome, "refund still not settled");
            }
        }
        let ttl = Duration::from_secs(checkouts.settings().idempotency_ttl_s);
        if let Err(error) = super::idempotency::forget_old(checkouts.pool(), ttl).await {
            tracing::warn!(error = %error, "could not forget old idempotency keys");
        }
    }
}
