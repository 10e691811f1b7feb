//! An admin refunds part of a paid order, with a reason, audited: the
//! provider gets the amount once (the refund's id keys it), racing refunds
//! cannot return more than was paid, a retry with the same Idempotency-Key
//! replays the first answer, and the shopper hears of it by e-mail.

use reqwest::Method;
use serde_json::{Value, json};

use crate::emails::{mail_settings, wait_for_mail};
use crate::helpers::{TestApp, code_of};
use crate::shop::{As, expect, scalar, shop_with};

impl TestApp {
    async fn refund(
        &self,
        token: &str,
        order: &str,
        body: Value,
        key: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .request(
                Method::POST,
                &format!("/api/orders/{order}/refunds"),
                As::User(token),
            )
            .json(&body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request.send().await.unwrap()
    }
}

#[tokio::test]
async fn an_admin_refunds_in_parts_never_more_than_was_paid() {
    let shop = shop_with(10, mail_settings()).await;
    let app = std::sync::Arc::new(shop.app);
    let ada = format!("{}@example.com", testkit::unique("ada-"));
    let (token, checkout) = app.ready_to_pay(&ada, "P2-0", 2).await;
    let order = app.pay_now(&token, &checkout).await;
    let (admin, _) = app.sign_in("root@example.com").await;

    let nosy = app
        .refund(
            &token,
            &order,
            json!({"amount_minor": 100, "reason": "please"}),
            None,
        )
        .await;
    assert_eq!(nosy.status(), 403);
    for (body, code) in [
        (
            json!({"amount_minor": 0, "reason": "x"}),
            "invalid_order_query",
        ),
        (
            json!({"amount_minor": 100, "reason": " "}),
            "invalid_order_query",
        ),
        (
            json!({"amount_minor": 10_000_000, "reason": "too much"}),
            "refund_too_large",
        ),
    ] {
        let (status, got) = code_of(app.refund(&admin, &order, body, None).await).await;
        assert_eq!(got, code, "{status}");
    }

    let first = expect(
        app.refund(
            &admin,
            &order,
            json!({"amount_minor": 1500, "reason": "One coat arrived damaged"}),
            Some("refund-1"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(first["refunded_minor"], 1500);
    assert_eq!(first["refunds"][0]["state"], "succeeded");
    assert_eq!(first["refunded"], false);
    // The same key again: the first answer, no second refund.
    let replay = app
        .refund(
            &admin,
            &order,
            json!({"amount_minor": 1500, "reason": "One coat arrived damaged"}),
            Some("refund-1"),
        )
        .await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT COUNT(*) FROM order_refunds WHERE order_id = '{order}'")
        )
        .await,
        1
    );
    let provider_id: String = crate::orders::scalar_text(
        &app,
        &format!("SELECT provider_id FROM order_refunds WHERE order_id = '{order}'"),
    )
    .await;
    let at_provider = crate::checkout::stripe_get(&format!("/v1/refunds/{provider_id}")).await;
    assert_eq!(at_provider["amount"], 1500, "{at_provider}");
    let reference = order[..8].to_ascii_uppercase();
    let mail = wait_for_mail(&ada, &format!("refund on your order {reference}")).await;
    assert!(
        mail["text"].as_str().unwrap().contains("GBP 15.00"),
        "{mail}"
    );

    // Two racing refunds of what is left: one wins, the other is too large.
    let total = first["total_minor"].as_i64().unwrap();
    let left = total - 1500;
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let (app, admin, order) = (app.clone(), admin.clone(), order.clone());
            tokio::spawn(async move {
                app.refund(
                    &admin,
                    &order,
                    json!({"amount_minor": left, "reason": "Returned in full"}),
                    None,
                )
                .await
                .status()
                .as_u16()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for racer in racers {
        outcomes.push(racer.await.unwrap());
    }
    outcomes.sort_unstable();
    assert_eq!(outcomes, [200, 422]);
    let after = app.get_ok(&format!("/api/orders/{order}"), &admin).await;
    assert_eq!(after["refunded_minor"], total);
    assert_eq!(after["refunded"], true);
    assert_eq!(
        scalar(
            &app,
            &format!(
                "SELECT COUNT(*) FROM order_audit WHERE order_id = '{order}' AND action = 'refund'"
            )
        )
        .await,
        2
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(&format!(
            "cellwear_refunded_minor_total{{currency=\"GBP\"}} {total}"
        )),
        "{metrics}"
    );
}
