//! Promotions in a cell: the control plane's snapshots applied by version,
//! coupons entered on the cart with one error code per reason, discounts
//! carried into checkout and the payment, per-shopper limits, this cell's
//! share of a global cap held under concurrent orders, and promotions that
//! apply by themselves.

use std::collections::BTreeMap;

use figment::Figment;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection;
use wire::promotions::{PromotionKind, PromotionSnapshot};

use crate::checkout::stripe_get;
use crate::helpers::{TestApp, code_of};
use crate::shop::{As, Shop, expect, scalar, shop_with};

fn promotion(id: u64, code: Option<&str>, kind: PromotionKind, value: i64) -> PromotionSnapshot {
    PromotionSnapshot {
        id,
        version: 1,
        code: code.map(str::to_owned),
        name: format!("Promotion {id}"),
        kind,
        value,
        currency: Some("GBP".into()),
        min_spend_minor: 0,
        categories: Vec::new(),
        brands: Vec::new(),
        starts_at: "2026-01-01T00:00:00Z".into(),
        ends_at: None,
        per_shopper_limit: None,
        global_cap: None,
        cell_caps: BTreeMap::new(),
        active: true,
        updated_at: "2026-01-01T00:00:00Z".into(),
    }
}

/// What the catalog consumer does with a `PromotionUpserted`.
async fn announce(app: &TestApp, p: &PromotionSnapshot) -> bool {
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    let applied = cell::promotions::apply::upsert(&mut tx, p)
        .await
        .map_err(|e| e.to_string())
        .unwrap();
    tx.commit().await.unwrap();
    applied
}

async fn shop_in(cell: &str) -> Shop {
    shop_with(10, Figment::new().merge(("cell.id", cell))).await
}

async fn enter(app: &TestApp, who: As<'_>, code: &str) -> reqwest::Response {
    app.call(
        Method::PUT,
        "/api/cart/coupon",
        who,
        Some(json!({"code": code})),
    )
    .await
}

#[tokio::test]
async fn a_coupon_is_checked_on_entry_and_on_every_read() {
    let cell = testkit::unique("t-");
    let Shop { app, .. } = shop_in(&cell).await;
    let mut shirts = promotion(1, Some("SHIRTS20"), PromotionKind::Percentage, 20);
    shirts.categories = vec!["shirts".into()];
    shirts.min_spend_minor = 5000;
    assert!(announce(&app, &shirts).await);
    let mut older = shirts.clone();
    older.value = 90;
    assert!(!announce(&app, &older).await, "an equal version is ignored");

    let guest = As::Guest("sk-coupon-guest");
    assert_eq!(
        code_of(enter(&app, guest, "SHIRTS20").await).await,
        (422, "coupon_cart_empty".into())
    );
    expect(app.add_to_cart(guest, "P1-0", 1).await, 200).await;
    let short = enter(&app, guest, "shirts20").await;
    let (status, body) = (short.status(), short.json::<Value>().await.unwrap());
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (422, Some("coupon_min_spend"))
    );
    assert!(
        body["message"].as_str().unwrap().contains("50.00 GBP"),
        "{body}"
    );
    assert_eq!(
        code_of(enter(&app, guest, "NOPE-123").await).await,
        (404, "coupon_unknown".into())
    );
    assert_eq!(
        code_of(enter(&app, guest, "<script>").await).await,
        (404, "coupon_unknown".into())
    );

    // Two shirts (2500 each) and a coat (4000): 20% off the shirts only.
    expect(app.add_to_cart(guest, "P1-0", 1).await, 200).await;
    expect(app.add_to_cart(guest, "P2-0", 1).await, 200).await;
    let cart = expect(enter(&app, guest, " shirts20 ").await, 200).await;
    assert_eq!(cart["coupon"], "SHIRTS20");
    assert_eq!(cart["subtotal_minor"], 9000);
    assert_eq!(cart["discount"]["amount_minor"], 1000);
    assert_eq!(cart["total_minor"], 8000);
    assert_eq!(cart["ready_for_checkout"], true);

    // Below the minimum spend now: the cart says why and cannot be paid.
    expect(
        app.call(Method::DELETE, "/api/cart/items/P2-0", guest, None)
            .await,
        200,
    )
    .await;
    let cart = expect(
        app.call(
            Method::PATCH,
            "/api/cart/items/P1-0",
            guest,
            Some(json!({"quantity": 1})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(cart["coupon_problem"]["code"], "coupon_min_spend");
    assert_eq!(cart["discount"], Value::Null);
    assert_eq!(cart["total_minor"], cart["subtotal_minor"]);
    assert_eq!(cart["ready_for_checkout"], false);

    // The control plane ends it: the next read says so.
    expect(app.add_to_cart(guest, "P1-0", 2).await, 200).await;
    assert_eq!(app.cart(guest).await["discount"]["amount_minor"], 1500);
    let mut ended = shirts.clone();
    ended.version = 2;
    ended.active = false;
    assert!(announce(&app, &ended).await);
    assert_eq!(
        app.cart(guest).await["coupon_problem"]["code"],
        "coupon_inactive"
    );
    let cart = expect(
        app.call(Method::DELETE, "/api/cart/coupon", guest, None)
            .await,
        200,
    )
    .await;
    assert_eq!(cart["coupon"], Value::Null);
    assert_eq!(cart["coupon_problem"], Value::Null);
    assert_eq!(cart["ready_for_checkout"], true);
}

#[tokio::test]
async fn the_discount_is_what_the_shopper_pays_and_a_shopper_uses_it_once() {
    let cell = testkit::unique("t-");
    let Shop { app, .. } = shop_in(&cell).await;
    let mut once = promotion(7, Some("WELCOME5"), PromotionKind::FixedAmount, 500);
    once.per_shopper_limit = Some(1);
    announce(&app, &once).await;
    let mut ship = promotion(8, Some("SHIPFREE"), PromotionKind::FreeShipping, 0);
    ship.currency = None;
    announce(&app, &ship).await;

    // A guest enters it; it comes along at sign-in.
    let guest = As::Guest("sk-welcome");
    expect(app.add_to_cart(guest, "P2-0", 1).await, 200).await;
    expect(enter(&app, guest, "welcome5").await, 200).await;
    let token = app.sign_in_as("welcome@example.com", "sk-welcome").await;
    let me = As::User(&token);
    let cart = app.cart(me).await;
    assert_eq!(cart["coupon"], "WELCOME5");
    assert_eq!(cart["total_minor"], 3500);

    let id = app.checkout_to_shipping(&token).await;
    let view = expect(
        app.call(Method::GET, &format!("/api/checkout/{id}"), me, None)
            .await,
        200,
    )
    .await;
    let shipping = view["shipping_minor"].as_i64().unwrap();
    assert!(shipping > 0);
    assert_eq!(view["discount_minor"], 500);
    assert_eq!(view["total_minor"].as_i64().unwrap(), 4000 - 500 + shipping);
    let paid = expect(
        app.checkout_post(
            &token,
            &format!("/api/checkout/{id}/payment"),
            json!({"payment_method": "pm_card_visa"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(paid["step"], "completed");
    assert_eq!(paid["discount_minor"], 500);
    let intent = stripe_get(&format!(
        "/v1/payment_intents/{}",
        paid["payment"]["intent"].as_str().unwrap()
    ))
    .await;
    assert_eq!(
        intent["amount"], paid["total_minor"],
        "the provider charges the discounted total"
    );
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM orders WHERE promotion_id = 7 AND coupon = 'WELCOME5' AND discount_minor = 500").await,
        1
    );
    assert_eq!(
        app.cart(me).await["coupon"],
        Value::Null,
        "the coupon went on the order"
    );

    // Once per shopper.
    expect(app.add_to_cart(me, "P2-0", 1).await, 200).await;
    assert_eq!(
        code_of(enter(&app, me, "WELCOME5").await).await,
        (422, "coupon_limit_reached".into())
    );
    // Free shipping makes the chosen method cost nothing.
    expect(enter(&app, me, "SHIPFREE").await, 200).await;
    let id = app.checkout_to_shipping(&token).await;
    let view = expect(
        app.call(Method::GET, &format!("/api/checkout/{id}"), me, None)
            .await,
        200,
    )
    .await;
    assert_eq!(view["shipping_minor"], 0);
    assert_eq!(view["total_minor"], 4000);
}

#[tokio::test]
async fn the_cells_share_of_the_cap_holds_under_racing_orders() {
    let cell = testkit::unique("t-");
    let Shop { app, .. } = shop_in(&cell).await;
    let mut capped = promotion(9, Some("FIRST3"), PromotionKind::Percentage, 10);
    capped.global_cap = Some(7);
    capped.cell_caps = BTreeMap::from([(cell.clone(), 3), ("elsewhere".into(), 4)]);
    announce(&app, &capped).await;

    let mut ready = Vec::new();
    for i in 0..8 {
        let (token, _) = app.sign_in(&format!("race{i}@example.com")).await;
        expect(app.add_to_cart(As::User(&token), "P1-0", 1).await, 200).await;
        expect(enter(&app, As::User(&token), "FIRST3").await, 200).await;
        let id = app.checkout_to_shipping(&token).await;
        ready.push((token, id));
    }
    let app = std::sync::Arc::new(app);
    let mut racing = Vec::new();
    for (token, id) in ready {
        let app = app.clone();
        racing.push(tokio::spawn(async move {
            let answer = app
                .checkout_post(&token, &format!("/api/checkout/{id}/payment"), json!({}))
                .await;
            code_of(answer).await
        }));
    }
    let mut outcomes = Vec::new();
    for task in racing {
        outcomes.push(task.await.unwrap());
    }
    let placed = outcomes.iter().filter(|(s, _)| *s == 200).count();
    let exhausted = outcomes
        .iter()
        .filter(|o| **o == (422, "coupon_exhausted".to_owned()))
        .count();
    assert_eq!((placed, exhausted), (3, 5), "{outcomes:?}");
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM promotion_redemptions WHERE promotion_id = 9"
        )
        .await,
        3
    );
    // The share is spent: the cell has asked the control plane for more.
    assert_eq!(
        scalar(
            &app,
            "SELECT CAST(used AS SIGNED) FROM promotion_allowances WHERE promotion_id = 9"
        )
        .await,
        3
    );
    let started = std::time::Instant::now();
    while scalar(
        &app,
        "SELECT COUNT(*) FROM event_outbox WHERE event_type = 'PromotionCapTopUpRequested'",
    )
    .await
        == 0
    {
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_promotion_without_a_code_applies_by_itself_and_the_best_one_wins() {
    let cell = testkit::unique("t-");
    let Shop { app, .. } = shop_in(&cell).await;
    let mut coats = promotion(11, None, PromotionKind::FixedAmount, 700);
    coats.categories = vec!["coats".into()];
    announce(&app, &coats).await;
    announce(&app, &promotion(12, None, PromotionKind::Percentage, 5)).await;
    let guest = As::Guest("sk-auto");
    expect(app.add_to_cart(guest, "P1-0", 1).await, 200).await;
    let cart = app.cart(guest).await;
    assert_eq!(
        cart["discount"]["promotion_id"], 12,
        "5% of a shirt, no coat"
    );
    assert_eq!(cart["discount"]["amount_minor"], 125);
    assert_eq!(cart["discount"]["code"], Value::Null);
    expect(app.add_to_cart(guest, "P2-0", 1).await, 200).await;
    let cart = app.cart(guest).await;
    assert_eq!(
        cart["discount"]["promotion_id"], 11,
        "700 off the coat beats 5% of 6500"
    );
    assert_eq!(cart["total_minor"], 6500 - 700);
}
