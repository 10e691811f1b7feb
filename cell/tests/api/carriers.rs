//! Carriers: a real carrier's signed webhook moves a shipped order to
//! delivered (each event kept once, a bad signature refused), and the
//! simulated carrier of a local stack packs, ships and delivers a paid
//! order by the clock through the same signed path.

use std::time::{Duration, Instant};

use figment::Figment;
use serde_json::{Value, json};

use crate::helpers::{TestApp, code_of};
use crate::shop::{expect, scalar, scalar_text, shop_with};

const SECRET: &str = "carrier_test_secret";

impl TestApp {
    async fn carrier_event(&self, body: &Value, secret: &str) -> reqwest::Response {
        let bytes = serde_json::to_vec(body).unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.client
            .post(format!("{}/api/carriers/webhook", self.address))
            .header("content-type", "application/json")
            .header(
                "carrier-signature",
                cell::payments::signature::sign(secret, now, &bytes),
            )
            .body(bytes)
            .send()
            .await
            .unwrap()
    }
}

fn event(id: &str, number: &str, status: &str) -> Value {
    json!({
        "event_id": id,
        "carrier": "dpd",
        "tracking_number": number,
        "status": status,
        "detail": "Hub",
        "occurred_at": "2026-11-26T10:00:00Z"
    })
}

#[tokio::test]
async fn a_signed_delivery_event_moves_a_shipped_order_to_delivered_once() {
    let shop = shop_with(10, Figment::new().merge(("carrier.webhook_secret", SECRET))).await;
    let app = &shop.app;
    let (ada, checkout) = app.ready_to_pay("ada@example.com", "P1-0", 1).await;
    let order = app.pay_now(&ada, &checkout).await;
    let (admin, _) = app.sign_in("root@example.com").await;
    for body in [
        json!({"status": "processing", "reason": "Packing"}),
        json!({"status": "shipped", "reason": "Sent", "tracking": {"carrier": "dpd", "number": "DPD777"}}),
    ] {
        expect(app.advance(&admin, &order, body).await, 200).await;
    }

    let forged = app
        .carrier_event(&event("e1", "DPD777", "delivered"), "not-the-secret")
        .await;
    assert_eq!(code_of(forged).await, (400, "invalid_signature".into()));
    let unknown = app
        .carrier_event(&event("e0", "DPD000", "in_transit"), SECRET)
        .await;
    assert_eq!(code_of(unknown).await, (404, "shipment_not_found".into()));
    let bad = app
        .carrier_event(&event("e2", "DPD777", "teleported"), SECRET)
        .await;
    assert_eq!(code_of(bad).await, (400, "invalid_tracking_event".into()));
    let mut mixed_up = event("e5", "DPD777", "delivered");
    mixed_up["reference"] = json!("someone-else");
    let mixed_up = app.carrier_event(&mixed_up, SECRET).await;
    assert_eq!(
        code_of(mixed_up).await,
        (400, "invalid_tracking_event".into())
    );

    let shopper_key = scalar_text(
        app,
        &format!("SELECT shopper_key FROM orders WHERE id = '{order}'"),
    )
    .await;
    let mut in_transit = event("e3", "DPD777", "in_transit");
    in_transit["reference"] = json!(shopper_key);
    expect(app.carrier_event(&in_transit, SECRET).await, 200).await;
    let detail = app.get_ok(&format!("/api/orders/{order}"), &ada).await;
    assert_eq!(detail["status"], "shipped");
    for _ in 0..2 {
        expect(
            app.carrier_event(&event("e4", "DPD777", "delivered"), SECRET)
                .await,
            200,
        )
        .await;
    }
    let detail = app.get_ok(&format!("/api/orders/{order}"), &ada).await;
    assert_eq!(detail["status"], "delivered");
    assert_eq!(
        detail["timeline"].as_array().unwrap().last().unwrap()["actor"],
        "carrier:dpd"
    );
    assert_eq!(detail["tracking_events"].as_array().unwrap().len(), 2);
    assert_eq!(
        scalar(
            app,
            "SELECT COUNT(*) FROM order_transitions WHERE to_status = 'delivered'"
        )
        .await,
        1
    );
    let tracking = expect(app.get("/api/tracking/DPD777").await, 200).await;
    assert_eq!(tracking["status"], "delivered");
    assert_eq!(tracking["events"][1]["status"], "delivered");
}

#[tokio::test]
async fn the_webhook_is_closed_without_a_secret() {
    let shop = shop_with(1, Figment::new()).await;
    let closed = shop
        .app
        .carrier_event(&event("e1", "X1", "delivered"), "anything")
        .await;
    assert_eq!(
        code_of(closed).await,
        (503, "carrier_webhook_closed".into())
    );
}

#[tokio::test]
async fn the_simulated_carrier_packs_ships_and_delivers_a_paid_order() {
    let simulated = Figment::new()
        .merge(("carrier.simulated.enabled", true))
        .merge(("carrier.simulated.every_ms", 100))
        .merge(("carrier.simulated.pack_after_ms", 200))
        .merge(("carrier.simulated.ship_after_ms", 200))
        .merge(("carrier.simulated.deliver_after_ms", 600));
    let shop = shop_with(10, simulated).await;
    let app = &shop.app;
    let (ada, checkout) = app.ready_to_pay("ada@example.com", "P1-0", 1).await;
    let order = app.pay_now(&ada, &checkout).await;
    let started = Instant::now();
    let detail = loop {
        let detail = app.get_ok(&format!("/api/orders/{order}"), &ada).await;
        if detail["status"] == "delivered" {
            break detail;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still {}",
            detail["status"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let moves: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"].as_str().unwrap())
        .collect();
    assert_eq!(
        moves,
        ["pending", "confirmed", "processing", "shipped", "delivered"]
    );
    assert_eq!(detail["tracking"]["carrier"], "simulated");
    let statuses: Vec<&str> = detail["tracking_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["in_transit", "delivered"]);
}
