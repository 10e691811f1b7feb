//! The cart's rules: a SKU the cell sells, 1–`max_quantity` units of it and
//! no more than this cell holds, at most `max_lines` lines, one currency.
//! Each change runs in one transaction on the locked cart and answers with
//! the cart priced afresh, with the promotion it gets now.

use sqlx::{MySqlConnection, MySqlPool};
use wire::cart::{CartView, Handover};

use super::CartSettings;
use super::cache::{Cached, CartCache};
use super::pricing::{self, Priced};
use super::repo;
use super::shopper::Owner;
use crate::promotions::caps::Caps;
use crate::promotions::{self, Outcome, Rejection};

#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("sku: {0}")]
    InvalidSku(&'static str),
    #[error("quantity: {0}")]
    InvalidQuantity(String),
    #[error("No product with SKU {0} is for sale.")]
    UnknownSku(String),
    #[error("Your cart has no line for SKU {0}.")]
    NotInCart(String),
    #[error("Only {available} of {sku} can be bought now.")]
    NotEnoughStock { sku: String, available: u32 },
    #[error("A cart holds at most {0} different items.")]
    CartFull(u32),
    #[error("At most {max} of one item per order (you would have {wanted}).")]
    QuantityLimit { max: u32, wanted: u32 },
    #[error("Your cart is priced in {cart}; this item is sold in {item}.")]
    CurrencyMismatch { cart: String, item: String },
    #[error("{0}")]
    Coupon(Rejection),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl CartError {
    /// MySQL gave the change up to break a deadlock (a drain deleting moved
    /// shoppers' rows, say): nothing of it was written.
    fn is_lock_conflict(&self) -> bool {
        matches!(self, CartError::Unexpected(error) if chassis::db::is_lock_conflict(error))
    }
}

impl From<sqlx::Error> for CartError {
    fn from(error: sqlx::Error) -> Self {
        CartError::Unexpected(error.into())
    }
}

/// A SKU as the catalog writes them: 1–64 of `A-Z a-z 0-9 - _ .`.
pub fn check_sku(sku: &str) -> Result<(), CartError> {
    if sku.is_empty() || sku.len() > 64 {
        return Err(CartError::InvalidSku("1-64 characters"));
    }
    if !sku
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(CartError::InvalidSku("letters, digits, - _ . only"));
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct Carts {
    pool: MySqlPool,
    settings: CartSettings,
    low_stock: u32,
    /// This cell's shares of promotions' caps.
    caps: Caps,
    cache: CartCache,
}

impl Carts {
    pub fn new(
        pool: MySqlPool,
        settings: CartSettings,
        low_stock: u32,
        (caps, cache): (Caps, CartCache),
    ) -> Self {
        Self {
            pool,
            settings,
            low_stock,
            caps,
            cache,
        }
    }

    /// `owner`'s cart changed in a transaction just committed (checkout,
    /// a takeover): cached reads of it stop counting.
    pub async fn changed(&self, owner: &Owner) {
        self.cache.changed(&owner.key()).await;
    }

    pub fn caps(&self) -> &Caps {
        &self.caps
    }

    /// Asks for more of every cap `outcome` found spent here, in the
    /// background: the caller may hold the rows the request updates, and a
    /// shopper does not wait for it.
    fn chase(&self, outcome: &Outcome) {
        for promotion in outcome.ran_short() {
            if !self.caps.worth_chasing(promotion) {
                continue;
            }
            let caps = self.caps.clone();
            tokio::spawn(async move {
                if let Err(error) = caps.ran_short(promotion).await {
                    tracing::warn!(promotion, error = %error, "could not ask for more of a promotion's cap");
                }
            });
        }
    }

    pub fn low_stock(&self) -> u32 {
        self.low_stock
    }

    /// The cart priced now, what it holds read through the cart cache.
    /// Reading it shows each changed price once: the shopper has seen the
    /// new one.
    pub async fn get(&self, owner: &Owner) -> Result<CartView, CartError> {
        let key = owner.key();
        let mut conn = self.pool.acquire().await?;
        let cart = match self.cache.read(&key).await {
            Cached::Hit(cart) => cart,
            Cached::Miss(generation) => {
                let cart = repo::contents(&mut conn, &key).await?;
                self.cache.store(&key, generation, cart.as_ref()).await;
                cart
            }
        };
        let Some(cart) = cart else {
            return Ok(pricing::view(&[], self.low_stock));
        };
        let lines = pricing::price(&mut conn, &cart.lines).await?;
        let view = self
            .discounted(&mut conn, cart.coupon, &lines, owner)
            .await?;
        let changed: Vec<(String, i64)> = lines
            .iter()
            .filter(|l| l.price_changed())
            .filter_map(|l| l.item.as_ref().map(|i| (l.sku.clone(), i.price_minor)))
            .collect();
        if !changed.is_empty() {
            repo::acknowledge_prices(&mut conn, &cart.id, &changed).await?;
            self.cache.changed(&key).await;
        }
        Ok(view)
    }

    /// `lines` priced with the promotion they get now (a coupon that does
    /// not apply is reported and keeps the cart from checkout).
    async fn discounted(
        &self,
        conn: &mut MySqlConnection,
        coupon: Option<String>,
        lines: &[Priced],
        owner: &Owner,
    ) -> Result<CartView, CartError> {
        let mut view = pricing::view(lines, self.low_stock);
        let outcome = promotions::outcome(
            conn,
            lines,
            coupon.as_deref(),
            self.caps.cell(),
            owner.user(),
            false,
        )
        .await?;
        self.chase(&outcome);
        if let Some(discount) = &outcome.discount {
            view.total_minor = view.subtotal_minor - discount.amount_minor;
        }
        if let (Some(rejection), Some(code)) = (&outcome.problem, &coupon) {
            view.coupon_problem = Some(rejection.problem(code));
            view.ready_for_checkout = false;
        }
        view.discount = outcome.discount;
        view.coupon = coupon;
        Ok(view)
    }

    /// The cart of `owner` as checkout shows it, in the caller's connection.
    pub async fn view(
        &self,
        conn: &mut MySqlConnection,
        owner: &Owner,
    ) -> Result<CartView, CartError> {
        match repo::contents(conn, &owner.key()).await? {
            Some(cart) => {
                let lines = pricing::price(conn, &cart.lines).await?;
                self.discounted(conn, cart.coupon, &lines, owner).await
            }
            None => Ok(pricing::view(&[], self.low_stock)),
        }
    }

    /// The promotion `owner`'s order gets, its row locked for the caller's
    /// transaction; a coupon that does not apply is an error.
    pub async fn promotion_for_order(
        &self,
        conn: &mut MySqlConnection,
        owner: &Owner,
        lines: &[Priced],
    ) -> Result<Option<wire::promotions::Discount>, CartError> {
        let coupon = match repo::find(conn, &owner.key()).await? {
            Some(cart) => repo::coupon(conn, &cart).await?,
            None => None,
        };
        let outcome = promotions::outcome(
            conn,
            lines,
            coupon.as_deref(),
            self.caps.cell(),
            owner.user(),
            true,
        )
        .await?;
        self.chase(&outcome);
        match outcome.problem {
            Some(rejection) => Err(CartError::Coupon(rejection)),
            None => Ok(outcome.discount),
        }
    }

    /// Enters a coupon: kept only when it applies to the cart now.
    pub async fn apply_coupon(&self, owner: &Owner, typed: &str) -> Result<CartView, CartError> {
        let Some(code) = promotions::normalise_code(typed) else {
            let shown: String = typed.trim().chars().take(32).collect();
            return Err(CartError::Coupon(Rejection::Unknown(shown)));
        };
        chassis::db::retrying_lock_conflicts(CartError::is_lock_conflict, || {
            self.apply_coupon_once(owner, code.clone())
        })
        .await
    }

    async fn apply_coupon_once(&self, owner: &Owner, code: String) -> Result<CartView, CartError> {
        let mut tx = self.pool.begin().await?;
        let cart = repo::lock_or_create(&mut tx, &owner.key()).await?;
        let lines = pricing::lines(&mut tx, &cart).await?;
        let outcome = promotions::outcome(
            &mut tx,
            &lines,
            Some(&code),
            self.caps.cell(),
            owner.user(),
            false,
        )
        .await?;
        if let Some(rejection) = outcome.problem {
            self.chase(&Outcome {
                problem: Some(rejection.clone()),
                ..Outcome::default()
            });
            return Err(CartError::Coupon(rejection));
        }
        repo::set_coupon(&mut tx, &cart, Some(&code)).await?;
        let view = self.discounted(&mut tx, Some(code), &lines, owner).await?;
        tx.commit().await?;
        self.changed(owner).await;
        Ok(view)
    }

    /// Takes the coupon off (having none is not an error).
    pub async fn remove_coupon(&self, owner: &Owner) -> Result<CartView, CartError> {
        chassis::db::retrying_lock_conflicts(CartError::is_lock_conflict, || {
            self.remove_coupon_once(owner)
        })
        .await
    }

    async fn remove_coupon_once(&self, owner: &Owner) -> Result<CartView, CartError> {
        let mut tx = self.pool.begin().await?;
        let view = match repo::lock(&mut tx, &owner.key()).await? {
            Some(cart) => {
                repo::set_coupon(&mut tx, &cart, None).await?;
                let lines = pricing::lines(&mut tx, &cart).await?;
                self.discounted(&mut tx, None, &lines, owner).await?
            }
            None => pricing::view(&[], self.low_stock),
        };
        tx.commit().await?;
        self.changed(owner).await;
        Ok(view)
    }

    /// Adds `quantity` units of `sku` to what the cart holds.
    pub async fn add(
        &self,
        owner: &Owner,
        sku: &str,
        quantity: u32,
    ) -> Result<CartView, CartError> {
        check_sku(sku)?;
        if !(1..=self.settings.max_quantity).contains(&quantity) {
            return Err(CartError::InvalidQuantity(format!(
                "1-{} units",
                self.settings.max_quantity
            )));
        }
        self.change(owner, sku, |current| current.unwrap_or(0) + quantity, false)
            .await
    }

    /// Sets the line of `sku` to `quantity` units (0 removes it).
    pub async fn set(
        &self,
        owner: &Owner,
        sku: &str,
        quantity: u32,
    ) -> Result<CartView, CartError> {
        check_sku(sku)?;
        if quantity > self.settings.max_quantity {
            return Err(CartError::QuantityLimit {
                max: self.settings.max_quantity,
                wanted: quantity,
            });
        }
        if quantity == 0 {
            return self.remove(owner, sku, true).await;
        }
        self.change(owner, sku, |_| quantity, true).await
    }

    /// Removes the line of `sku`; `must_exist` makes a missing line an error.
    pub async fn remove(
        &self,
        owner: &Owner,
        sku: &str,
        must_exist: bool,
    ) -> Result<CartView, CartError> {
        check_sku(sku)?;
        chassis::db::retrying_lock_conflicts(CartError::is_lock_conflict, || {
            self.remove_once(owner, sku, must_exist)
        })
        .await
    }

    async fn remove_once(
        &self,
        owner: &Owner,
        sku: &str,
        must_exist: bool,
    ) -> Result<CartView, CartError> {
        let mut tx = self.pool.begin().await?;
        let cart = repo::lock(&mut tx, &owner.key()).await?;
        let removed = match &cart {
            Some(cart) => repo::remove(&mut tx, cart, sku).await?,
            None => false,
        };
        if must_exist && !removed {
            return Err(CartError::NotInCart(sku.to_owned()));
        }
        let view = self.priced(&mut tx, cart.as_deref(), owner).await?;
        tx.commit().await?;
        self.changed(owner).await;
        Ok(view)
    }

    pub async fn clear(&self, owner: &Owner) -> Result<CartView, CartError> {
        chassis::db::retrying_lock_conflicts(CartError::is_lock_conflict, || self.clear_once(owner))
            .await
    }

    async fn clear_once(&self, owner: &Owner) -> Result<CartView, CartError> {
        let mut tx = self.pool.begin().await?;
        if let Some(cart) = repo::lock(&mut tx, &owner.key()).await? {
            repo::clear(&mut tx, &cart).await?;
        }
        tx.commit().await?;
        self.changed(owner).await;
        Ok(pricing::view(&[], self.low_stock))
    }

    async fn change(
        &self,
        owner: &Owner,
        sku: &str,
        quantity: impl Fn(Option<u32>) -> u32,
        must_exist: bool,
    ) -> Result<CartView, CartError> {
        chassis::db::retrying_lock_conflicts(CartError::is_lock_conflict, || {
            self.change_once(owner, sku, &quantity, must_exist)
        })
        .await
    }

    async fn change_once(
        &self,
        owner: &Owner,
        sku: &str,
        quantity: &impl Fn(Option<u32>) -> u32,
        must_exist: bool,
    ) -> Result<CartView, CartError> {
        let mut tx = self.pool.begin().await?;
        let cart = repo::lock_or_create(&mut tx, &owner.key()).await?;
        let lines = pricing::lines(&mut tx, &cart).await?;
        let current = lines.iter().find(|l| l.sku == sku).map(|l| l.quantity);
        if must_exist && current.is_none() {
            return Err(CartError::NotInCart(sku.to_owned()));
        }
        let wanted = quantity(current);
        if wanted > self.settings.max_quantity {
            return Err(CartError::QuantityLimit {
                max: self.settings.max_quantity,
                wanted,
            });
        }
        if current.is_none() && lines.len() >= self.settings.max_lines as usize {
            return Err(CartError::CartFull(self.settings.max_lines));
        }
        let (price, currency, held) = sellable(&mut tx, sku).await?;
        if let Some(other) = lines
            .iter()
            .filter(|l| l.sku != sku)
            .find_map(|l| l.item.as_ref().map(|i| i.currency.clone()))
            .filter(|c| *c != currency)
        {
            return Err(CartError::CurrencyMismatch {
                cart: other,
                item: currency,
            });
        }
        if held < wanted {
            return Err(CartError::NotEnoughStock {
                sku: sku.to_owned(),
                available: held,
            });
        }
        repo::put(&mut tx, &cart, sku, wanted, price).await?;
        let view = self.priced(&mut tx, Some(&cart), owner).await?;
        tx.commit().await?;
        self.changed(owner).await;
        Ok(view)
    }

    async fn priced(
        &self,
        conn: &mut MySqlConnection,
        cart: Option<&str>,
        owner: &Owner,
    ) -> Result<CartView, CartError> {
        match cart {
            Some(cart) => {
                let lines = pricing::lines(conn, cart).await?;
                let coupon = repo::coupon(conn, cart).await?;
                self.discounted(conn, coupon, &lines, owner).await
            }
            None => Ok(pricing::view(&[], self.low_stock)),
        }
    }

    /// Moves the guest cart of `guest` into `user`'s: quantities summed and
    /// capped by the cell's stock and the per-item limit; lines that cannot
    /// be bought are dropped. Nothing to merge is not an error.
    pub async fn merge(&self, guest: &Owner, user: &Owner) -> Result<u32, CartError> {
        if guest == user {
            return Ok(0);
        }
        chassis::db::retrying_lock_conflicts(CartError::is_lock_conflict, || {
            self.merge_once(guest, user)
        })
        .await
    }

    async fn merge_once(&self, guest: &Owner, user: &Owner) -> Result<u32, CartError> {
        let mut tx = self.pool.begin().await?;
        let Some(guest_cart) = repo::lock(&mut tx, &guest.key()).await? else {
            return Ok(0);
        };
        let handed = Handover {
            lines: repo::handed(&mut tx, &guest_cart).await?,
            coupon: repo::coupon(&mut tx, &guest_cart).await?,
        };
        repo::delete(&mut tx, &guest_cart).await?;
        let merged = self.absorb(&mut tx, user, &handed).await?;
        tx.commit().await?;
        self.changed(guest).await;
        self.changed(user).await;
        Ok(merged)
    }

    /// Adds a guest's lines (from this cell or handed over by another) to
    /// `user`'s cart, in the caller's transaction: quantities summed, capped
    /// by this cell's stock and the per-item limit; lines this cell cannot
    /// sell are dropped; the guest's coupon comes along unless the shopper
    /// entered one. The caller calls [`changed`](Self::changed) for `user`
    /// after its commit.
    pub async fn absorb(
        &self,
        conn: &mut MySqlConnection,
        user: &Owner,
        handed: &Handover,
    ) -> Result<u32, CartError> {
        let cart = repo::lock_or_create(conn, &user.key()).await?;
        let existing = pricing::lines(conn, &cart).await?;
        let mut merged = 0;
        let mut lines = existing.len();
        for line in &handed.lines {
            let held = match sellable(conn, &line.sku).await {
                Ok((_, _, held)) => held,
                Err(CartError::UnknownSku(_)) => continue,
                Err(other) => return Err(other),
            };
            let mine = existing.iter().find(|l| l.sku == line.sku);
            if mine.is_none() && lines >= self.settings.max_lines as usize {
                continue;
            }
            let wanted = (mine.map_or(0, |l| l.quantity) + line.quantity)
                .min(self.settings.max_quantity)
                .min(held);
            if wanted == 0 {
                continue;
            }
            let price = mine.map_or(line.price_seen_minor, |l| l.price_seen_minor);
            repo::put(conn, &cart, &line.sku, wanted, price).await?;
            if mine.is_none() {
                lines += 1;
            }
            merged += 1;
        }
        if let Some(coupon) = &handed.coupon
            && repo::coupon(conn, &cart).await?.is_none()
        {
            repo::set_coupon(conn, &cart, Some(coupon)).await?;
        }
        Ok(merged)
    }

    /// Hands guest `guest_key`'s cart to the cell that asked (takeover
    /// `takeover_id`) and deletes it here; asked again with the same id, the
    /// same lines.
    pub async fn hand_over(
        &self,
        takeover_id: &str,
        guest_key: &str,
    ) -> Result<Handover, CartError> {
        let mut tx = self.pool.begin().await?;
        let before: Option<String> = sqlx::query_scalar(
            "SELECT CAST(body AS CHAR) FROM cart_handovers WHERE takeover_id = ? FOR UPDATE",
        )
        .bind(takeover_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(body) = before {
            return serde_json::from_str(&body).map_err(|e| CartError::Unexpected(e.into()));
        }
        let owner = Owner::Guest(guest_key.to_owned()).key();
        let handover = match repo::lock(&mut tx, &owner).await? {
            Some(cart) => {
                let handover = Handover {
                    lines: repo::handed(&mut tx, &cart).await?,
                    coupon: repo::coupon(&mut tx, &cart).await?,
                };
                repo::delete(&mut tx, &cart).await?;
                handover
            }
            None => Handover::default(),
        };
        sqlx::query("INSERT INTO cart_handovers (takeover_id, owner, body) VALUES (?, ?, ?)")
            .bind(takeover_id)
            .bind(&owner)
            .bind(serde_json::to_string(&handover).map_err(anyhow::Error::from)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.cache.changed(&owner).await;
        Ok(handover)
    }

    /// The lines of `owner`'s cart, priced now, for checkout.
    pub async fn lines(
        &self,
        conn: &mut MySqlConnection,
        owner: &Owner,
    ) -> Result<Vec<Priced>, CartError> {
        match repo::find(conn, &owner.key()).await? {
            Some(cart) => Ok(pricing::lines(conn, &cart).await?),
            None => Ok(Vec::new()),
        }
    }

    /// Takes bought units out of `owner`'s cart, in the caller's
    /// transaction (the order is confirmed). The caller calls
    /// [`changed`](Self::changed) after its commit.
    pub async fn bought(
        conn: &mut MySqlConnection,
        owner: &Owner,
        lines: &[(String, u32)],
    ) -> Result<(), sqlx::Error> {
        let Some(cart) = repo::lock(conn, &owner.key()).await? else {
            return Ok(());
        };
        // The coupon went on this order.
        repo::set_coupon(conn, &cart, None).await?;
        let items = repo::items(conn, &cart).await?;
        for (sku, bought) in lines {
            if let Some((_, quantity)) = items.iter().find(|(s, _)| s == sku) {
                if quantity <= bought {
                    repo::remove(conn, &cart, sku).await?;
                } else {
                    sqlx::query(
                        "UPDATE cart_items SET quantity = quantity - ? WHERE cart_id = ? AND sku = ?",
                    )
                    .bind(bought)
                    .bind(&cart)
                    .bind(sku)
                    .execute(&mut *conn)
                    .await?;
                }
            }
        }
        Ok(())
    }
}

/// `(price, currency, units held here)` of a SKU on sale.
async fn sellable(conn: &mut MySqlConnection, sku: &str) -> Result<(i64, String, u32), CartError> {
    let row: Option<(i64, String, Option<u32>)> = sqlx::query_as(
        r#"SELECT v.price_minor, v.currency, s.held
           FROM catalog_variants v
           JOIN catalog_products p ON p.id = v.product_id AND p.listed
           LEFT JOIN cell_stock s ON s.sku = v.sku
           WHERE v.sku = ?"#,
    )
    .bind(sku)
    .fetch_optional(&mut *conn)
    .await?;
    let (price, currency, held) = row.ok_or_else(|| CartError::UnknownSku(sku.to_owned()))?;
    Ok((price, currency, held.unwrap_or(0)))
}
