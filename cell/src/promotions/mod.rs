//! Promotions in the cell: the control plane's snapshots applied to a read
//! model ([`apply`]), and the rules that decide what a cart gets. A coupon
//! the shopper entered wins; without one the cart gets the best promotion
//! that applies by itself (one promotion per order, never stacked).
//!
//! The per-shopper limit counts the orders placed with a promotion
//! (`promotion_redemptions`); this cell's share of a global cap is kept in
//! [`caps`]. Both are checked under a lock of the promotion's row when the
//! order is placed, so two shoppers racing for the last use cannot both get
//! it.

pub mod apply;
pub mod caps;

use sqlx::MySqlConnection;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wire::promotions::{CouponProblem, Discount, PromotionKind, PromotionSnapshot};

use crate::cart::pricing::Priced;

/// Why a promotion does not apply; each has its own code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("No coupon has the code {0}.")]
    Unknown(String),
    #[error("The coupon {0} is no longer running.")]
    Inactive(String),
    #[error("The coupon {code} can be used from {starts}.")]
    NotStarted { code: String, starts: String },
    #[error("The coupon {0} has expired.")]
    Expired(String),
    #[error("Add something to your cart before using the coupon {0}.")]
    CartEmpty(String),
    #[error("The coupon {code} is for carts priced in {currency}.")]
    Currency { code: String, currency: String },
    #[error("The coupon {code} needs a spend of at least {needed}; your cart comes to {spent}.")]
    MinSpend {
        code: String,
        needed: String,
        spent: String,
    },
    #[error("Nothing in your cart is covered by the coupon {0}.")]
    NotApplicable(String),
    #[error("You have already used the coupon {code} on {limit} order(s), its limit.")]
    LimitReached { code: String, limit: u32 },
    #[error("The coupon {code} has been used up.")]
    Exhausted { code: String, promotion: u64 },
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Unknown(_) => "coupon_unknown",
            Rejection::Inactive(_) => "coupon_inactive",
            Rejection::NotStarted { .. } => "coupon_not_started",
            Rejection::Expired(_) => "coupon_expired",
            Rejection::CartEmpty(_) => "coupon_cart_empty",
            Rejection::Currency { .. } => "coupon_currency",
            Rejection::MinSpend { .. } => "coupon_min_spend",
            Rejection::NotApplicable(_) => "coupon_not_applicable",
            Rejection::LimitReached { .. } => "coupon_limit_reached",
            Rejection::Exhausted { .. } => "coupon_exhausted",
        }
    }

    pub fn problem(&self, coupon: &str) -> CouponProblem {
        CouponProblem {
            coupon: coupon.to_owned(),
            code: self.code().to_owned(),
            message: self.to_string(),
        }
    }
}

/// `1234` GBP → `12.34 GBP`.
fn money(minor: i64, currency: &str) -> String {
    format!("{}.{:02} {currency}", minor / 100, (minor % 100).abs())
}

/// A coupon as typed, made comparable with the stored codes: trimmed and
/// upper-cased, `None` when it cannot be a code at all.
pub fn normalise_code(typed: &str) -> Option<String> {
    let code = typed.trim().to_ascii_uppercase();
    let well_formed = (3..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    well_formed.then_some(code)
}

/// What a shopper sees the promotion as in messages.
fn label(p: &PromotionSnapshot) -> String {
    p.code.clone().unwrap_or_else(|| p.name.clone())
}

fn in_scope(p: &PromotionSnapshot, line: &Priced) -> bool {
    let Some(item) = &line.item else {
        return false;
    };
    let brand = p.brands.is_empty() || p.brands.contains(&item.brand);
    let category =
        p.categories.is_empty() || item.categories.iter().any(|c| p.categories.contains(c));
    brand && category
}

/// What `p` takes off `lines` at `now`, by the rules alone (limits are
/// [`check_limits`]'s). Only lines that can be bought count.
pub fn evaluate(
    p: &PromotionSnapshot,
    lines: &[Priced],
    now: OffsetDateTime,
) -> Result<Discount, Rejection> {
    let code = label(p);
    if !p.active {
        return Err(Rejection::Inactive(code));
    }
    if let Ok(starts) = OffsetDateTime::parse(&p.starts_at, &Rfc3339)
        && now < starts
    {
        return Err(Rejection::NotStarted {
            code,
            starts: p.starts_at.clone(),
        });
    }
    if let Some(ends) = p
        .ends_at
        .as_deref()
        .and_then(|e| OffsetDateTime::parse(e, &Rfc3339).ok())
        && now >= ends
    {
        return Err(Rejection::Expired(code));
    }
    let buyable: Vec<&Priced> = lines
        .iter()
        .filter(|l| l.item.is_some() && l.blocking_problem().is_none())
        .collect();
    let Some(currency) = buyable
        .iter()
        .find_map(|l| l.item.as_ref().map(|i| i.currency.clone()))
    else {
        return Err(Rejection::CartEmpty(code));
    };
    if let Some(wanted) = &p.currency
        && *wanted != currency
    {
        return Err(Rejection::Currency {
            code,
            currency: wanted.clone(),
        });
    }
    let subtotal: i64 = buyable.iter().map(|l| l.line_total()).sum();
    if subtotal < p.min_spend_minor {
        return Err(Rejection::MinSpend {
            code,
            needed: money(p.min_spend_minor, &currency),
            spent: money(subtotal, &currency),
        });
    }
    let eligible: Vec<&&Priced> = buyable.iter().filter(|l| in_scope(p, l)).collect();
    if eligible.is_empty() {
        return Err(Rejection::NotApplicable(code));
    }
    let eligible_total: i64 = eligible.iter().map(|l| l.line_total()).sum();
    let amount = match p.kind {
        PromotionKind::Percentage => eligible_total * p.value / 100,
        PromotionKind::FixedAmount => p.value.min(eligible_total),
        PromotionKind::FreeShipping => 0,
    };
    Ok(Discount {
        promotion_id: p.id,
        code: p.code.clone(),
        name: p.name.clone(),
        kind: p.kind,
        // An order always costs something: the provider takes no payment
        // of nothing.
        amount_minor: amount.min(subtotal - 1).max(0),
        free_shipping: p.kind == PromotionKind::FreeShipping,
    })
}

/// The per-shopper limit (for a signed-in shopper), counting orders placed
/// with `p`, and this cell's share of the cap. `locking` reads with locks:
/// under the promotion's row lock it sees every order committed before,
/// where a plain read at REPEATABLE READ would see the transaction's older
/// snapshot.
pub async fn check_limits(
    conn: &mut MySqlConnection,
    p: &PromotionSnapshot,
    cell: &str,
    user: Option<&str>,
    locking: bool,
) -> Result<Result<(), Rejection>, sqlx::Error> {
    let lock = if locking { " LOCK IN SHARE MODE" } else { "" };
    if p.global_cap.is_some() && caps::allowance(conn, p, cell, locking).await?.left() == 0 {
        return Ok(Err(Rejection::Exhausted {
            code: label(p),
            promotion: p.id,
        }));
    }
    if let (Some(limit), Some(user)) = (p.per_shopper_limit, user) {
        let used: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM promotion_redemptions WHERE promotion_id = ? AND user_id = ?{lock}"
        )))
        .bind(p.id)
        .bind(user)
        .fetch_one(&mut *conn)
        .await?;
        if used >= i64::from(limit) {
            return Ok(Err(Rejection::LimitReached {
                code: label(p),
                limit,
            }));
        }
    }
    Ok(Ok(()))
}

fn parse(json: &str) -> Result<PromotionSnapshot, sqlx::Error> {
    serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(format!("promotion: {e}").into()))
}

/// The coupon with `code`; `lock` holds its row until the transaction ends.
pub async fn by_code(
    conn: &mut MySqlConnection,
    code: &str,
    lock: bool,
) -> Result<Option<PromotionSnapshot>, sqlx::Error> {
    let sql = if lock {
        "SELECT CAST(snapshot AS CHAR) FROM promotions WHERE code = ? ORDER BY id DESC LIMIT 1 FOR UPDATE"
    } else {
        "SELECT CAST(snapshot AS CHAR) FROM promotions WHERE code = ? ORDER BY id DESC LIMIT 1"
    };
    let json: Option<String> = sqlx::query_scalar(sql)
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    json.as_deref().map(parse).transpose()
}

/// Promotion `id`, its row locked, if this cell holds it.
pub async fn locked(
    conn: &mut MySqlConnection,
    id: u64,
) -> Result<Option<PromotionSnapshot>, sqlx::Error> {
    let json: Option<String> =
        sqlx::query_scalar("SELECT CAST(snapshot AS CHAR) FROM promotions WHERE id = ? FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    json.as_deref().map(parse).transpose()
}

/// Promotion `id`, its row locked; an error when this cell lacks it.
async fn lock(conn: &mut MySqlConnection, id: u64) -> Result<PromotionSnapshot, sqlx::Error> {
    locked(conn, id).await?.ok_or(sqlx::Error::RowNotFound)
}

/// The promotions without a code that are switched on.
async fn automatic(conn: &mut MySqlConnection) -> Result<Vec<PromotionSnapshot>, sqlx::Error> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(snapshot AS CHAR) FROM promotions WHERE automatic ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut active = Vec::with_capacity(rows.len());
    for json in &rows {
        let p = parse(json)?;
        if p.active {
            active.push(p);
        }
    }
    Ok(active)
}

/// What a cart gets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub discount: Option<Discount>,
    pub problem: Option<Rejection>,
    /// Promotions that would apply by themselves but whose share here is
    /// spent (the caller asks for more).
    pub short: Vec<u64>,
}

impl Outcome {
    /// Every promotion this cell ran short of, the coupon's included.
    pub fn ran_short(&self) -> Vec<u64> {
        let mut short = self.short.clone();
        if let Some(Rejection::Exhausted { promotion, .. }) = &self.problem {
            short.push(*promotion);
        }
        short
    }
}

/// What `lines` get now: the coupon's discount (or why not), else the
/// best promotion that applies by itself. `user` is the signed-in shopper
/// (a guest's per-shopper limit is checked when they pay, signed in);
/// `lock` locks the chosen promotion's row for the caller's transaction.
pub async fn outcome(
    conn: &mut MySqlConnection,
    lines: &[Priced],
    coupon: Option<&str>,
    cell: &str,
    user: Option<&str>,
    lock_it: bool,
) -> Result<Outcome, sqlx::Error> {
    let now = OffsetDateTime::now_utc();
    if let Some(code) = coupon {
        let Some(p) = by_code(conn, code, lock_it).await? else {
            return Ok(Outcome {
                problem: Some(Rejection::Unknown(code.to_owned())),
                ..Outcome::default()
            });
        };
        let checked = match evaluate(&p, lines, now) {
            Ok(discount) => check_limits(conn, &p, cell, user, lock_it)
                .await?
                .map(|()| discount),
            Err(rejection) => Err(rejection),
        };
        return Ok(match checked {
            Ok(discount) => Outcome {
                discount: Some(discount),
                ..Outcome::default()
            },
            Err(rejection) => Outcome {
                problem: Some(rejection),
                ..Outcome::default()
            },
        });
    }
    let mut best: Option<Discount> = None;
    let mut short = Vec::new();
    for p in automatic(conn).await? {
        let Ok(discount) = evaluate(&p, lines, now) else {
            continue;
        };
        match check_limits(conn, &p, cell, user, false).await? {
            Ok(()) => {}
            Err(Rejection::Exhausted { promotion, .. }) => {
                short.push(promotion);
                continue;
            }
            Err(_) => continue,
        }
        let better = best.as_ref().is_none_or(|b| {
            (discount.amount_minor, discount.free_shipping) > (b.amount_minor, b.free_shipping)
        });
        if better {
            best = Some(discount);
        }
    }
    if lock_it && let Some(chosen) = &best {
        // Locked after choosing: the limits are checked again under the
        // lock, and a promotion used up meanwhile is simply not given.
        let p = lock(conn, chosen.promotion_id).await?;
        if evaluate(&p, lines, now).is_err()
            || check_limits(conn, &p, cell, user, true).await?.is_err()
        {
            best = None;
        }
    }
    Ok(Outcome {
        discount: best,
        problem: None,
        short,
    })
}

/// Counts order `order_id` against its promotion, in the caller's
/// transaction (the one that places the order, which holds the
/// promotion's row lock). When that leaves a quarter or less of this
/// cell's share of a cap, more is asked for in the same transaction.
pub async fn redeem(
    conn: &mut MySqlConnection,
    caps: &caps::Caps,
    order_id: &str,
    promotion_id: u64,
    user: &str,
) -> Result<(), anyhow::Error> {
    sqlx::query(
        "INSERT INTO promotion_redemptions (order_id, promotion_id, user_id) VALUES (?, ?, ?)",
    )
    .bind(order_id)
    .bind(promotion_id)
    .bind(user)
    .execute(&mut *conn)
    .await?;
    caps::spend(conn, promotion_id).await?;
    let p = lock(conn, promotion_id).await?;
    caps.ask_if_low(conn, &p).await
}

/// A cancelled order gives its use of the promotion back. The promotion's
/// row is locked before its allowance, in the order checkout takes them.
pub async fn give_back(conn: &mut MySqlConnection, order_id: &str) -> Result<(), sqlx::Error> {
    let promotion: Option<u64> = sqlx::query_scalar(
        "SELECT promotion_id FROM promotion_redemptions WHERE order_id = ? FOR UPDATE",
    )
    .bind(order_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(promotion) = promotion else {
        return Ok(());
    };
    sqlx::query("SELECT id FROM promotions WHERE id = ? FOR UPDATE")
        .bind(promotion)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM promotion_redemptions WHERE order_id = ?")
        .bind(order_id)
        .execute(&mut *conn)
        .await?;
    caps::unspend(conn, promotion).await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cart::pricing::Item;

    fn promotion(kind: PromotionKind, value: i64) -> PromotionSnapshot {
        PromotionSnapshot {
            id: 1,
            version: 1,
            code: Some("TEN".into()),
            name: "Ten".into(),
            kind,
            value,
            currency: Some("GBP".into()),
            min_spend_minor: 0,
            categories: Vec::new(),
            brands: Vec::new(),
            starts_at: "2026-01-01T00:00:00Z".into(),
            ends_at: Some("2027-01-01T00:00:00Z".into()),
            per_shopper_limit: None,
            global_cap: None,
            cell_caps: BTreeMap::new(),
            active: true,
            updated_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn line(sku: &str, brand: &str, category: &str, price: i64, quantity: u32) -> Priced {
        Priced {
            sku: sku.into(),
            quantity,
            price_seen_minor: price,
            item: Some(Item {
                product_id: 1,
                slug: None,
                title: sku.into(),
                size: "M".into(),
                colour: "navy".into(),
                price_minor: price,
                currency: "GBP".into(),
                image: None,
                brand: brand.into(),
                categories: vec!["clothing".into(), category.into()],
            }),
            held: 10,
            global_hint: 0,
        }
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse("2026-06-01T00:00:00Z", &Rfc3339).unwrap()
    }

    fn cart() -> Vec<Priced> {
        vec![
            line("A", "acme", "knitwear", 5000, 2),
            line("B", "brio", "shirts", 3000, 1),
        ]
    }

    #[test]
    fn percentage_and_fixed_amount_count_only_lines_in_scope() {
        let mut p = promotion(PromotionKind::Percentage, 10);
        p.categories = vec!["knitwear".into()];
        assert_eq!(evaluate(&p, &cart(), now()).unwrap().amount_minor, 1000);
        p.categories = vec!["clothing".into()];
        p.brands = vec!["brio".into()];
        assert_eq!(evaluate(&p, &cart(), now()).unwrap().amount_minor, 300);
        let mut fixed = promotion(PromotionKind::FixedAmount, 5000);
        fixed.brands = vec!["brio".into()];
        assert_eq!(evaluate(&fixed, &cart(), now()).unwrap().amount_minor, 3000);
        let free = evaluate(&promotion(PromotionKind::FreeShipping, 0), &cart(), now()).unwrap();
        assert!(free.free_shipping);
        assert_eq!(free.amount_minor, 0);
    }

    #[test]
    fn an_order_never_comes_to_nothing() {
        let p = promotion(PromotionKind::Percentage, 100);
        assert_eq!(evaluate(&p, &cart(), now()).unwrap().amount_minor, 12_999);
    }

    #[test]
    fn each_rejection_has_its_code() {
        let mut p = promotion(PromotionKind::Percentage, 10);
        p.active = false;
        let code = |p: &PromotionSnapshot, lines: &[Priced], at| {
            evaluate(p, lines, at).unwrap_err().code()
        };
        assert_eq!(code(&p, &cart(), now()), "coupon_inactive");
        p.active = true;
        let before = OffsetDateTime::parse("2025-06-01T00:00:00Z", &Rfc3339).unwrap();
        let after = OffsetDateTime::parse("2027-06-01T00:00:00Z", &Rfc3339).unwrap();
        assert_eq!(code(&p, &cart(), before), "coupon_not_started");
        assert_eq!(code(&p, &cart(), after), "coupon_expired");
        assert_eq!(code(&p, &[], now()), "coupon_cart_empty");
        p.currency = Some("EUR".into());
        assert_eq!(code(&p, &cart(), now()), "coupon_currency");
        p.currency = Some("GBP".into());
        p.min_spend_minor = 20_000;
        let spend = evaluate(&p, &cart(), now()).unwrap_err();
        assert_eq!(spend.code(), "coupon_min_spend");
        assert!(spend.to_string().contains("200.00 GBP"), "{spend}");
        assert!(spend.to_string().contains("130.00 GBP"), "{spend}");
        p.min_spend_minor = 0;
        p.brands = vec!["nobody".into()];
        assert_eq!(code(&p, &cart(), now()), "coupon_not_applicable");
    }

    #[test]
    fn lines_that_cannot_be_bought_do_not_count() {
        let mut lines = cart();
        lines[0].held = 0;
        let p = promotion(PromotionKind::Percentage, 10);
        assert_eq!(evaluate(&p, &lines, now()).unwrap().amount_minor, 300);
    }

    #[test]
    fn codes_are_read_as_typed() {
        assert_eq!(normalise_code(" winter-15 ").as_deref(), Some("WINTER-15"));
        assert_eq!(normalise_code("a b"), None);
        assert_eq!(normalise_code("x"), None);
    }
}
