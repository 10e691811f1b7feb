//! Orders after checkout: a shopper's history (filters, text, pages) and
//! order detail, nobody else's; an admin moves orders along the lifecycle,
//! one mover wins a race, and the database refuses an illegal move even
//! from a hand-written UPDATE.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{TestApp, code_of};
use crate::shop::{As, expect, scalar, shop};

impl TestApp {
    /// Pays the signed-in shopper's checkout `id` with a test card: the order id.
    pub(crate) async fn pay_now(&self, token: &str, id: &str) -> String {
        let paid = expect(
            self.checkout_post(
                token,
                &format!("/api/checkout/{id}/payment"),
                json!({"payment_method": "pm_card_visa"}),
            )
            .await,
            200,
        )
        .await;
        assert_eq!(paid["step"], "completed");
        paid["order"]["id"].as_str().unwrap().to_owned()
    }

    async fn orders(&self, token: &str, query: &str) -> reqwest::Response {
        self.call(
            Method::GET,
            &format!("/api/orders{query}"),
            As::User(token),
            None,
        )
        .await
    }

    /// `POST /api/orders/{order}/{action}` as the holder of `token`.
    async fn order_action(
        &self,
        token: &str,
        order: &str,
        action: &str,
        body: Value,
    ) -> reqwest::Response {
        self.call(
            Method::POST,
            &format!("/api/orders/{order}/{action}"),
            As::User(token),
            Some(body),
        )
        .await
    }

    pub(crate) async fn advance(&self, token: &str, order: &str, body: Value) -> reqwest::Response {
        self.order_action(token, order, "status", body).await
    }

    pub(crate) async fn cancel(&self, token: &str, order: &str, body: Value) -> reqwest::Response {
        self.order_action(token, order, "cancel", body).await
    }
}

#[tokio::test]
async fn a_shopper_pages_and_filters_their_orders_and_sees_nobody_elses() {
    let shop = shop(10).await;
    let app = &shop.app;
    let (ada, checkout) = app.ready_to_pay("ada@example.com", "P1-0", 1).await;
    let shirt = app.pay_now(&ada, &checkout).await;
    expect(app.add_to_cart(As::User(&ada), "P2-0", 2).await, 200).await;
    let checkout = app.checkout_to_shipping(&ada).await;
    let coats = app.pay_now(&ada, &checkout).await;
    let (bob, checkout) = app.ready_to_pay("bob@example.com", "P1-1", 1).await;
    let bobs = app.pay_now(&bob, &checkout).await;

    let page = expect(app.orders(&ada, "").await, 200).await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [coats.as_str(), shirt.as_str()],
        "newest first, mine only"
    );
    assert_eq!(page["items"][0]["item_count"], 2);
    assert_eq!(page["items"][0]["first_title"], "Product wool-coat");
    assert_eq!(page["next_cursor"], Value::Null);

    let first = expect(app.orders(&ada, "?limit=1").await, 200).await;
    assert_eq!(first["items"][0]["id"], coats.as_str());
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = expect(
        app.orders(&ada, &format!("?limit=1&cursor={cursor}")).await,
        200,
    )
    .await;
    assert_eq!(second["items"][0]["id"], shirt.as_str());
    assert_eq!(second["next_cursor"], Value::Null);

    let oxford = expect(app.orders(&ada, "?q=oxford").await, 200).await;
    assert_eq!(oxford["items"].as_array().unwrap().len(), 1);
    assert_eq!(oxford["items"][0]["id"], shirt.as_str());
    let by_sku = expect(app.orders(&ada, "?q=p2-0").await, 200).await;
    assert_eq!(by_sku["items"][0]["id"], coats.as_str());
    let pending = expect(app.orders(&ada, "?status=pending").await, 200).await;
    assert_eq!(pending["items"], json!([]));
    let today = expect(
        app.orders(&ada, "?from=2020-01-01&to=2999-01-01").await,
        200,
    )
    .await;
    assert_eq!(today["items"].as_array().unwrap().len(), 2);
    for bad in [
        "?status=lost",
        "?limit=0",
        "?from=yesterday",
        "?cursor=abc",
        "?from=2026-02-01&to=2026-01-01",
    ] {
        assert_eq!(
            code_of(app.orders(&ada, bad).await).await,
            (400, "invalid_order_query".into()),
            "{bad}"
        );
    }

    let detail = expect(
        app.call(
            Method::GET,
            &format!("/api/orders/{coats}"),
            As::User(&ada),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(detail["status"], "confirmed");
    assert_eq!(detail["lines"][0]["sku"], "P2-0");
    assert_eq!(detail["lines"][0]["line_total_minor"], 8000);
    assert_eq!(detail["address"]["country"], "GB");
    assert_eq!(detail["payment_status"], "succeeded");
    let moves: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"].as_str().unwrap())
        .collect();
    assert_eq!(moves, ["pending", "confirmed"]);
    for (who, order) in [(&bob, &coats), (&ada, &bobs)] {
        let other = app
            .call(
                Method::GET,
                &format!("/api/orders/{order}"),
                As::User(who),
                None,
            )
            .await;
        assert_eq!(code_of(other).await, (404, "order_not_found".into()));
    }
    let anonymous = app
        .client
        .get(format!("{}/api/orders", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn an_admin_moves_an_order_along_its_lifecycle_and_nowhere_else() {
    let shop = shop(10).await;
    let app = &shop.app;
    let (ada, checkout) = app.ready_to_pay("ada@example.com", "P1-0", 1).await;
    let order = app.pay_now(&ada, &checkout).await;
    let (admin, _) = app.sign_in("root@example.com").await;

    let forbidden = app
        .advance(
            &ada,
            &order,
            json!({"status": "processing", "reason": "mine"}),
        )
        .await;
    assert_eq!(forbidden.status(), 403);
    let skipping = app
        .advance(
            &admin,
            &order,
            json!({"status": "delivered", "reason": "in a hurry"}),
        )
        .await;
    assert_eq!(code_of(skipping).await, (409, "illegal_transition".into()));
    let unknown = app
        .advance(&admin, &order, json!({"status": "lost", "reason": "?"}))
        .await;
    assert_eq!(code_of(unknown).await, (400, "invalid_order_query".into()));

    expect(
        app.advance(
            &admin,
            &order,
            json!({"status": "processing", "reason": "Packing"}),
        )
        .await,
        200,
    )
    .await;
    let untracked = app
        .advance(
            &admin,
            &order,
            json!({"status": "shipped", "reason": "Sent"}),
        )
        .await;
    assert_eq!(
        code_of(untracked).await,
        (400, "invalid_order_query".into())
    );
    let shipped = expect(
        app.advance(
            &admin,
            &order,
            json!({"status": "shipped", "reason": "Sent", "tracking": {"carrier": "royal-mail", "number": "RM123456789GB"}}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(shipped["tracking"]["number"], "RM123456789GB");
    let delivered = expect(
        app.advance(
            &admin,
            &order,
            json!({"status": "delivered", "reason": "Signed for"}),
        )
        .await,
        200,
    )
    .await;
    let timeline = delivered["timeline"].as_array().unwrap();
    let moves: Vec<&str> = timeline.iter().map(|t| t["to"].as_str().unwrap()).collect();
    assert_eq!(
        moves,
        ["pending", "confirmed", "processing", "shipped", "delivered"]
    );
    assert_eq!(timeline[4]["reason"], "Signed for");
    assert!(timeline[4]["actor"].as_str().unwrap().starts_with("user:"));
    let announced = app
        .outbox()
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "OrderStatusChanged")
        .count();
    assert_eq!(announced, 3);
    // The shopper sees it too.
    let mine = expect(
        app.call(
            Method::GET,
            &format!("/api/orders/{order}"),
            As::User(&ada),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(mine["status"], "delivered");
    assert_eq!(mine["tracking"]["carrier"], "royal-mail");
}

#[tokio::test]
async fn racing_movers_leave_one_winner_and_the_database_refuses_illegal_moves() {
    let shop = shop(10).await;
    let app = std::sync::Arc::new(shop.app);
    let (ada, checkout) = app.ready_to_pay("ada@example.com", "P1-0", 1).await;
    let order = app.pay_now(&ada, &checkout).await;
    let (admin, _) = app.sign_in("root@example.com").await;

    let mut racing = Vec::new();
    for i in 0..8 {
        let (app, admin, order) = (app.clone(), admin.clone(), order.clone());
        racing.push(tokio::spawn(async move {
            let answer = app
                .advance(
                    &admin,
                    &order,
                    json!({"status": "processing", "reason": format!("mover {i}")}),
                )
                .await;
            answer.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in racing {
        statuses.push(task.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT COUNT(*) FROM order_transitions WHERE order_id = '{order}' AND to_status = 'processing'")
        )
        .await,
        1
    );

    // Past the code, the trigger: processing may not jump to delivered.
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    let refused = sqlx::query("UPDATE orders SET status = 'delivered' WHERE id = ?")
        .bind(&order)
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("illegal order status change"),
        "{refused}"
    );
    let back = sqlx::query("UPDATE orders SET status = 'pending' WHERE id = ?")
        .bind(&order)
        .execute(&mut conn)
        .await;
    assert!(back.is_err(), "no way back to pending");
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT COUNT(*) FROM orders WHERE id = '{order}' AND status = 'processing'")
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_shopper_cancels_before_shipping_and_gets_stock_back_and_money_refunded() {
    let shop = shop(10).await;
    let app = &shop.app;
    let (ada, checkout) = app.ready_to_pay("ada@example.com", "P1-0", 3).await;
    let order = app.pay_now(&ada, &checkout).await;
    assert_eq!(crate::shop::held(app, "P1-0").await, 7);
    let (bob, _) = app.sign_in("bob@example.com").await;
    let nosy = app.cancel(&bob, &order, json!({})).await;
    assert_eq!(code_of(nosy).await, (404, "order_not_found".into()));

    let cancelled = expect(app.cancel(&ada, &order, json!({})).await, 200).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["refunded"], true);
    assert_eq!(
        cancelled["timeline"][2]["reason"],
        "cancelled by the shopper"
    );
    assert_eq!(
        crate::shop::held(app, "P1-0").await,
        10,
        "the units are back"
    );
    let refund_id = scalar_text(
        app,
        &format!("SELECT refund_id FROM orders WHERE id = '{order}'"),
    )
    .await;
    let refund = crate::checkout::stripe_get(&format!("/v1/refunds/{refund_id}")).await;
    assert_eq!(refund["amount"], cancelled["total_minor"], "{refund}");
    let kinds: Vec<String> = app.outbox().await.into_iter().map(|(k, _)| k).collect();
    assert!(kinds.contains(&"StockUnsold".to_owned()));
    assert!(kinds.contains(&"OrderCancelled".to_owned()));
    let again = app.cancel(&ada, &order, json!({})).await;
    assert_eq!(code_of(again).await, (409, "illegal_transition".into()));
}

#[tokio::test]
async fn cancel_and_ship_race_and_exactly_one_wins() {
    let shop = shop(50).await;
    let app = std::sync::Arc::new(shop.app);
    let (admin, _) = app.sign_in("root@example.com").await;
    for round in 0..4 {
        let (ada, checkout) = app
            .ready_to_pay(&format!("racer{round}@example.com"), "P1-0", 1)
            .await;
        let order = app.pay_now(&ada, &checkout).await;
        expect(
            app.advance(
                &admin,
                &order,
                json!({"status": "processing", "reason": "Packing"}),
            )
            .await,
            200,
        )
        .await;
        let ship = {
            let (app, admin, order) = (app.clone(), admin.clone(), order.clone());
            tokio::spawn(async move {
                app.advance(
                    &admin,
                    &order,
                    json!({"status": "shipped", "reason": "Sent", "tracking": {"carrier": "dpd", "number": "DPD1"}}),
                )
                .await
                .status()
                .as_u16()
            })
        };
        let cancel = {
            let (app, ada, order) = (app.clone(), ada.clone(), order.clone());
            tokio::spawn(async move {
                app.cancel(&ada, &order, json!({"reason": "changed my mind"}))
                    .await
                    .status()
                    .as_u16()
            })
        };
        let (shipped, cancelled) = (ship.await.unwrap(), cancel.await.unwrap());
        let mut outcome = [shipped, cancelled];
        outcome.sort_unstable();
        assert_eq!(outcome, [200, 409], "ship {shipped}, cancel {cancelled}");
        let status = scalar_text(
            &app,
            &format!("SELECT CAST(status AS CHAR) FROM orders WHERE id = '{order}'"),
        )
        .await;
        assert_eq!(
            status,
            if shipped == 200 {
                "shipped"
            } else {
                "cancelled"
            }
        );
    }
}

pub(crate) async fn scalar_text(app: &TestApp, sql: &str) -> String {
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut conn)
        .await
        .unwrap()
}
