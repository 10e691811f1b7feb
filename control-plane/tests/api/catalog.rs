//! The catalog admin API: roles, validation, versions, events, audit, import.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{code_of, seed_refs, shirt, spawn_app};

#[tokio::test]
async fn only_admins_may_write_the_catalog() {
    let mut app = spawn_app().await;
    let body = json!({"slug": "acme", "name": "Acme"});
    let anonymous = testkit::http_client()
        .post(format!("{}/admin/api/brands", app.address))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(anonymous).await, (401, "missing_token".into()));
    let shopper = app
        .as_role(&["user"], Method::POST, "/admin/api/brands", Some(&body))
        .await;
    assert_eq!(code_of(shopper).await, (403, "forbidden".into()));
    let forged = testkit::http_client()
        .post(format!("{}/admin/api/brands", app.address))
        .bearer_auth(format!("{}x", testkit::staff_token(&["admin"])))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(forged).await, (401, "invalid_token".into()));
    let admin = app
        .admin(Method::POST, "/admin/api/brands", Some(&body))
        .await;
    assert_eq!(admin.status(), 201);
    let again = app
        .admin(Method::POST, "/admin/api/brands", Some(&body))
        .await;
    assert_eq!(code_of(again).await, (409, "brand_exists".into()));
    app.stop().await;
}

#[tokio::test]
async fn a_product_is_created_versioned_announced_and_audited() {
    let mut app = spawn_app().await;
    seed_refs(&app).await;
    let created = app
        .admin(
            Method::POST,
            "/admin/api/products",
            Some(&shirt("oxford", "OXF", 10)),
        )
        .await;
    assert_eq!(created.status(), 201);
    let product: Value = created.json().await.unwrap();
    assert_eq!(product["version"], 1);
    assert_eq!(product["tags"], json!(["cotton", "office"]));
    assert_eq!(product["variants"][0]["colour"], "white");
    assert_eq!(
        product["categories"],
        json!([{"slug": "clothing", "name": "Clothing"}, {"slug": "shirts", "name": "Shirts"}])
    );
    let id = product["id"].as_u64().unwrap();

    // Replace: the version read must still be current.
    let mut update = shirt("oxford", "OXF", 0);
    update["title"] = json!("Oxford shirt, slim");
    update["expected_version"] = json!(7);
    let stale = app
        .admin(
            Method::PUT,
            &format!("/admin/api/products/{id}"),
            Some(&update),
        )
        .await;
    assert_eq!(code_of(stale).await, (409, "version_conflict".into()));
    update["expected_version"] = json!(1);
    let replaced: Value = app
        .admin(
            Method::PUT,
            &format!("/admin/api/products/{id}"),
            Some(&update),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (replaced["version"].as_u64(), replaced["title"].as_str()),
        (Some(2), Some("Oxford shirt, slim"))
    );

    let unpublished: Value = app
        .admin(
            Method::POST,
            &format!("/admin/api/products/{id}/unpublish"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            unpublished["version"].as_u64(),
            unpublished["published"].as_bool()
        ),
        (Some(3), Some(false))
    );
    let repriced: Value = app
        .admin(
            Method::PUT,
            "/admin/api/variants/OXF-M/price",
            Some(&json!({"price_minor": 3900, "compare_at_minor": 4500})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(repriced["version"], 4);
    assert_eq!(repriced["variants"][0]["price_minor"], 3900);
    let deleted = app
        .admin(Method::DELETE, &format!("/admin/api/products/{id}"), None)
        .await;
    assert_eq!(deleted.status(), 204);
    let gone = app
        .admin(Method::GET, &format!("/admin/api/products/{id}"), None)
        .await;
    assert_eq!(code_of(gone).await, (404, "product_not_found".into()));

    let catalog: Vec<String> = app
        .outbox()
        .await
        .into_iter()
        .filter(|(_, topic)| topic.ends_with(".catalog"))
        .map(|(kind, _)| kind)
        .collect();
    assert_eq!(
        catalog,
        [
            "ProductUpserted",
            "ProductUpserted",
            "ProductUpserted",
            "ProductUpserted",
            "ProductDeleted"
        ]
    );
    let actions: Vec<(String,)> = sqlx::query_as(
        "SELECT action FROM audit_log WHERE subject = ? OR subject = 'sku:OXF-M' ORDER BY id",
    )
    .bind(format!("product:{id}"))
    .fetch_all(&app.pool().await)
    .await
    .unwrap();
    let actions: Vec<&str> = actions.iter().map(|(a,)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "product.create",
            "product.replace",
            "product.unpublish",
            "variant.price",
            "product.delete"
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_products_get_a_code_and_change_nothing() {
    let mut app = spawn_app().await;
    seed_refs(&app).await;
    let cases = [
        ("slug", json!("Not A Slug"), 422, "invalid_slug"),
        ("brand", json!("nobody"), 422, "unknown_brand"),
        ("category", json!("hats"), 422, "unknown_category"),
        ("variants", json!([]), 422, "invalid_variants"),
        (
            "images",
            json!([{"url": "/x.svg", "alt": ""}]),
            422,
            "invalid_image",
        ),
    ];
    for (field, value, status, code) in cases {
        let mut product = shirt("bad", "BAD", 1);
        product[field] = value;
        let response = app
            .admin(Method::POST, "/admin/api/products", Some(&product))
            .await;
        assert_eq!(
            code_of(response).await,
            (status, code.to_owned()),
            "{field}"
        );
    }
    let mut unknown_field = shirt("bad", "BAD", 1);
    unknown_field["colour"] = json!("red");
    let response = app
        .admin(Method::POST, "/admin/api/products", Some(&unknown_field))
        .await;
    assert_eq!(code_of(response).await, (422, "invalid_body".into()));

    assert_eq!(
        app.admin(
            Method::POST,
            "/admin/api/products",
            Some(&shirt("first", "SKU", 1))
        )
        .await
        .status(),
        201
    );
    let same_slug = app
        .admin(
            Method::POST,
            "/admin/api/products",
            Some(&shirt("first", "OTHER", 1)),
        )
        .await;
    assert_eq!(code_of(same_slug).await, (409, "slug_taken".into()));
    let same_sku = app
        .admin(
            Method::POST,
            "/admin/api/products",
            Some(&shirt("second", "SKU", 1)),
        )
        .await;
    assert_eq!(code_of(same_sku).await, (409, "sku_taken".into()));

    let products: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM products")
        .fetch_one(&app.pool().await)
        .await
        .unwrap();
    assert_eq!(products.0, 1, "no failed write left a row behind");
    let events = app.outbox().await;
    assert_eq!(
        events
            .iter()
            .filter(|(t, _)| t == "ProductUpserted")
            .count(),
        1
    );
    app.stop().await;
}

async fn wait_for_import(app: &crate::helpers::TestApp, job: &Value) -> Value {
    let id = job["id"].as_str().unwrap();
    for _ in 0..200 {
        let status: Value = app
            .admin(Method::GET, &format!("/admin/api/imports/{id}"), None)
            .await
            .json()
            .await
            .unwrap();
        if status["state"] != "running" {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the import did not finish");
}

#[tokio::test]
async fn an_import_lands_good_rows_and_reports_bad_ones() {
    let mut app = spawn_app().await;
    seed_refs(&app).await;
    let mut products: Vec<Value> = (0..250)
        .map(|i| shirt(&format!("shirt-{i}"), &format!("S{i}"), 3))
        .collect();
    products[7]["brand"] = json!("nobody");
    products[120]["variants"][0]["price_minor"] = json!(-5);
    products[200] = json!({"slug": "broken"});
    let started = app
        .admin(
            Method::POST,
            "/admin/api/imports",
            Some(&Value::Array(products.clone())),
        )
        .await;
    assert_eq!(started.status(), 202);
    let job = wait_for_import(&app, &started.json().await.unwrap()).await;
    assert_eq!(job["state"], "finished");
    assert_eq!(
        (job["total"].as_u64(), job["processed"].as_u64()),
        (Some(250), Some(250))
    );
    assert_eq!(
        (job["created"].as_u64(), job["failed"].as_u64()),
        (Some(247), Some(3))
    );
    let errors: Vec<(u64, String)> = job["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (8, "unknown_brand".to_owned()),
            (121, "invalid_price".into()),
            (201, "invalid_row".into())
        ]
    );

    // Again, one product changed: matched by slug, only that one is written
    // (and announced); the rest are left alone.
    products[3]["title"] = json!("Oxford shirt, now in linen");
    let before = app.outbox().await.len();
    let again = app
        .admin(
            Method::POST,
            "/admin/api/imports",
            Some(&Value::Array(products)),
        )
        .await;
    let job = wait_for_import(&app, &again.json().await.unwrap()).await;
    assert_eq!(
        (
            job["created"].as_u64(),
            job["updated"].as_u64(),
            job["unchanged"].as_u64()
        ),
        (Some(0), Some(1), Some(246))
    );
    assert_eq!(app.outbox().await.len(), before + 1, "one ProductUpserted");

    // CSV: one line per variant.
    let csv = "slug,title,description,brand,category,tags,image_url,image_alt,published,sku,size,colour,price_minor,currency,compare_at_minor,stock\n\
               linen,Linen shirt,Cool.,harbour,shirts,linen|summer,/media/placeholders/shirts.svg,A linen shirt,true,LIN-S,S,sand,5500,GBP,,4\n\
               linen,Linen shirt,Cool.,harbour,shirts,,,,true,LIN-M,M,sand,5500,GBP,,4\n";
    let started = testkit::http_client()
        .post(format!("{}/admin/api/imports", app.address))
        .bearer_auth(testkit::staff_token(&["admin"]))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let job = wait_for_import(&app, &started.json().await.unwrap()).await;
    assert_eq!(
        (job["created"].as_u64(), job["failed"].as_u64()),
        (Some(1), Some(0))
    );

    let xml = testkit::http_client()
        .post(format!("{}/admin/api/imports", app.address))
        .bearer_auth(testkit::staff_token(&["admin"]))
        .header("content-type", "application/xml")
        .body("<products/>")
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(xml).await, (415, "unsupported_media_type".into()));
    app.stop().await;
}

/// Each `ProductUpserted` for product `id` in the outbox: (version, whether
/// it carried a vector).
async fn upserts_of(app: &crate::helpers::TestApp, id: u64) -> Vec<(u64, bool)> {
    let envelopes: Vec<(String,)> = sqlx::query_as(
        "SELECT envelope FROM event_outbox WHERE event_type = 'ProductUpserted' AND event_key = ? ORDER BY seq",
    )
    .bind(id.to_string())
    .fetch_all(&app.pool().await)
    .await
    .unwrap();
    envelopes
        .iter()
        .map(|(text,)| {
            let envelope: Value = serde_json::from_str(text).unwrap();
            let data = &envelope["data"];
            (
                data["product"]["version"].as_u64().unwrap(),
                data["embedding"].is_object(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_import_with_vectors_later_goes_out_at_once_and_the_vectors_follow() {
    let mut app = spawn_app().await;
    seed_refs(&app).await;
    let products: Vec<Value> = (0..3)
        .map(|i| {
            let mut product = shirt(&format!("later-{i}"), &format!("L{i}"), 2);
            product["title"] = json!(format!("Brushed flannel shirt number {i}"));
            product
        })
        .collect();
    let bad = app
        .admin(
            Method::POST,
            "/admin/api/imports?vectors=soon",
            Some(&Value::Array(products.clone())),
        )
        .await;
    assert_eq!(code_of(bad).await, (400, "invalid_query".into()));

    let started = app
        .admin(
            Method::POST,
            "/admin/api/imports?vectors=later",
            Some(&Value::Array(products)),
        )
        .await;
    assert_eq!(started.status(), 202);
    let job = wait_for_import(&app, &started.json().await.unwrap()).await;
    assert_eq!(job["created"], 3, "{job}");
    let pool = app.pool().await;
    let (id, updated_at): (u64, String) =
        sqlx::query_as("SELECT id, CAST(updated_at AS CHAR) FROM products WHERE slug = 'later-0'")
            .fetch_one(&pool)
            .await
            .unwrap();

    // The backlog waits a few seconds after the import, then gives each
    // product its vector as a new version.
    let mut upserts = upserts_of(&app, id).await;
    assert_eq!(upserts[0], (1, false), "out at once, without a vector");
    for _ in 0..300 {
        if upserts.len() > 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        upserts = upserts_of(&app, id).await;
    }
    assert_eq!(upserts, [(1, false), (2, true)]);
    let (version, after): (u64, String) =
        sqlx::query_as("SELECT version, CAST(updated_at AS CHAR) FROM products WHERE id = ?")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(version, 2);
    assert_eq!(after, updated_at, "a vector is not an edit");
    for _ in 0..100 {
        let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vector_backlog")
            .fetch_one(&pool)
            .await
            .unwrap();
        if waiting == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (stored, waiting): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM product_embeddings), (SELECT COUNT(*) FROM vector_backlog)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((stored, waiting), (3, 0));
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("cellwear_catalog_vectors_pending 0"),
        "{metrics}"
    );

    // Imported again, unchanged: nothing goes out; the same text under a new
    // slug finds the stored vector and goes out with it, so waits for nothing.
    let mut twin = shirt("later-twin", "LT", 1);
    twin["title"] = json!("Brushed flannel shirt number 0");
    let started = app
        .admin(
            Method::POST,
            "/admin/api/imports?vectors=later",
            Some(&Value::Array(vec![twin])),
        )
        .await;
    let job = wait_for_import(&app, &started.json().await.unwrap()).await;
    assert_eq!(job["created"], 1, "{job}");
    let (twin_id,): (u64,) = sqlx::query_as("SELECT id FROM products WHERE slug = 'later-twin'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(upserts_of(&app, twin_id).await, [(1, true)]);
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vector_backlog")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(waiting, 0);
    app.stop().await;
}

#[tokio::test]
async fn new_stock_is_shared_out_and_the_ledger_balances() {
    let mut app = spawn_app().await;
    seed_refs(&app).await;
    // cells.yaml lists three active cells; the floor is 5.
    app.admin(
        Method::POST,
        "/admin/api/products",
        Some(&shirt("oxford", "OXF", 12)),
    )
    .await;
    let ledger: Value = app
        .admin(Method::GET, "/admin/api/stock/OXF-M", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            ledger["on_hand"].as_u64(),
            ledger["allocated"].as_u64(),
            ledger["unallocated"].as_u64()
        ),
        (Some(12), Some(12), Some(0))
    );
    let shares: Vec<u64> = ledger["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["allocated"].as_u64().unwrap())
        .collect();
    assert_eq!(shares, [5, 5, 2]);

    let restocked: Value = app
        .admin(
            Method::POST,
            "/admin/api/stock/OXF-M/restock",
            Some(&json!({"quantity": 20})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(restocked["on_hand"], 32);
    assert_eq!(
        restocked["unallocated"], 17,
        "cell-2 was topped up to the floor"
    );
    let lost = app
        .admin(
            Method::POST,
            "/admin/api/stock/OXF-M/adjust",
            Some(&json!({"delta": -18, "reason": "water damage"})),
        )
        .await;
    assert_eq!(code_of(lost).await, (409, "insufficient_stock".into()));
    let lost: Value = app
        .admin(
            Method::POST,
            "/admin/api/stock/OXF-M/adjust",
            Some(&json!({"delta": -2, "reason": "water damage"})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (lost["on_hand"].as_u64(), lost["unallocated"].as_u64()),
        (Some(30), Some(15))
    );
    let unknown = app
        .admin(
            Method::POST,
            "/admin/api/stock/NOPE/restock",
            Some(&json!({"quantity": 1})),
        )
        .await;
    assert_eq!(code_of(unknown).await, (404, "variant_not_found".into()));
    let recall = app
        .as_role(
            &["admin"],
            Method::POST,
            "/control/api/cells/cell-0/recall-stock",
            None,
        )
        .await;
    assert_eq!(code_of(recall).await, (403, "forbidden".into()));
    let recall = app
        .as_role(
            &["sre"],
            Method::POST,
            "/control/api/cells/cell-0/recall-stock",
            None,
        )
        .await;
    assert_eq!(recall.status(), 202);

    let allocations: Vec<String> = app
        .outbox()
        .await
        .into_iter()
        .filter(|(_, topic)| topic.ends_with(".allocations"))
        .map(|(kind, _)| kind)
        .collect();
    assert!(
        allocations
            .iter()
            .filter(|k| *k == "StockAllocated")
            .count()
            >= 4
    );
    assert!(allocations.contains(&"StockHintUpdated".to_owned()));
    assert_eq!(
        allocations.last().map(String::as_str),
        Some("StockRecalled")
    );
    app.stop().await;
}
