//! The promotions admin API: roles, validation, versions, shares of the cap,
//! events and audit.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{code_of, seed_refs, spawn_app};

fn coupon(code: &str) -> Value {
    json!({
        "code": code,
        "name": "Ten off shirts",
        "kind": "fixed_amount",
        "value": 1000,
        "currency": "GBP",
        "min_spend_minor": 5000,
        "categories": ["shirts"],
        "brands": ["harbour"],
        "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": "2030-01-01T00:00:00+01:00",
        "per_shopper_limit": 1,
        "global_cap": 101
    })
}

#[tokio::test]
async fn a_promotion_is_validated_versioned_shared_out_announced_and_audited() {
    let mut app = spawn_app().await;
    seed_refs(&app).await;
    let shopper = app
        .as_role(
            &["user"],
            Method::POST,
            "/admin/api/promotions",
            Some(&coupon("TEN")),
        )
        .await;
    assert_eq!(code_of(shopper).await, (403, "forbidden".into()));

    let created = app
        .admin(Method::POST, "/admin/api/promotions", Some(&coupon("ten")))
        .await;
    assert_eq!(created.status(), 201);
    let promotion: Value = created.json().await.unwrap();
    assert_eq!(promotion["code"], "TEN");
    assert_eq!(promotion["version"], 1);
    assert_eq!(promotion["ends_at"], "2029-12-31T23:00:00Z");
    let id = promotion["id"].as_u64().unwrap();

    // Each active cell gets a first share of the cap, half of it in all;
    // the rest waits for the cells that ask.
    let cells: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM cells WHERE state = 'active' ORDER BY id")
            .fetch_all(&app.pool().await)
            .await
            .unwrap();
    assert!(!cells.is_empty());
    let first = 101 / (2 * cells.len() as u64);
    let shares = promotion["cell_caps"].as_object().unwrap();
    assert_eq!(shares.len(), cells.len());
    assert!(
        shares.values().all(|v| v.as_u64() == Some(first)),
        "{shares:?}"
    );
    let grants = app
        .outbox()
        .await
        .into_iter()
        .filter(|(kind, topic)| topic.ends_with(".allocations") && kind == "PromotionCapGranted")
        .count();
    assert_eq!(grants, cells.len());

    // A cap below what the cells already hold is refused, and nothing is
    // written.
    let mut smaller = coupon("TEN");
    smaller["global_cap"] = json!(first * cells.len() as u64 - 1);
    let refused = app
        .admin(
            Method::PUT,
            &format!("/admin/api/promotions/{id}"),
            Some(&smaller),
        )
        .await;
    assert_eq!(code_of(refused).await, (409, "cap_below_shared".into()));

    let taken = app
        .admin(Method::POST, "/admin/api/promotions", Some(&coupon("TEN")))
        .await;
    assert_eq!(code_of(taken).await, (409, "code_taken".into()));
    for (field, value, code) in [
        ("brands", json!(["nobody"]), "unknown_brand"),
        ("categories", json!(["hats"]), "unknown_category"),
        ("value", json!(0), "invalid_value"),
        ("currency", Value::Null, "invalid_currency"),
        ("ends_at", json!("2025-01-01T00:00:00Z"), "invalid_window"),
        ("code", json!("no spaces"), "invalid_code"),
    ] {
        let mut body = coupon("OTHER");
        body[field] = value;
        let refused = app
            .admin(Method::POST, "/admin/api/promotions", Some(&body))
            .await;
        assert_eq!(code_of(refused).await, (422, code.into()), "{field}");
    }

    let mut ended = coupon("TEN");
    ended["active"] = json!(false);
    let replaced: Value = app
        .admin(
            Method::PUT,
            &format!("/admin/api/promotions/{id}"),
            Some(&ended),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (replaced["version"].as_u64(), replaced["active"].as_bool()),
        (Some(2), Some(false))
    );
    let read: Value = app
        .admin(Method::GET, &format!("/admin/api/promotions/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, replaced);
    let listed: Value = app
        .admin(Method::GET, "/admin/api/promotions", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let missing = app
        .admin(Method::GET, "/admin/api/promotions/999999", None)
        .await;
    assert_eq!(code_of(missing).await, (404, "promotion_not_found".into()));

    let announced: Vec<String> = app
        .outbox()
        .await
        .into_iter()
        .filter(|(kind, topic)| topic.ends_with(".catalog") && kind == "PromotionUpserted")
        .map(|(kind, _)| kind)
        .collect();
    assert_eq!(announced.len(), 2);
    let actions: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM audit_log WHERE subject = ? ORDER BY id")
            .bind(format!("promotion:{id}"))
            .fetch_all(&app.pool().await)
            .await
            .unwrap();
    let actions: Vec<&str> = actions.iter().map(|(a,)| a.as_str()).collect();
    assert_eq!(actions, ["promotion.create", "promotion.replace"]);
    app.stop().await;
}

#[tokio::test]
async fn capped_promotions_created_at_once_are_all_saved() {
    let mut app = spawn_app().await;
    seed_refs(&app).await;
    let app_ref = &app;
    let creates = (0..6).map(|n| async move {
        let mut body = coupon(&format!("RUSH{n}"));
        body["categories"] = json!([]);
        body["brands"] = json!([]);
        app_ref
            .admin(Method::POST, "/admin/api/promotions", Some(&body))
            .await
            .status()
            .as_u16()
    });
    let statuses = futures_util::future::join_all(creates).await;
    assert_eq!(statuses, vec![201; 6]);
    app.stop().await;
}
