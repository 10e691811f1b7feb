//! Moving a shopper to another cell (the cells' side of a drain): fenced
//! writes, a copy proven by checksum, a release that loses nothing, and a
//! shopper who finds everything — session included — on the new cell.

use std::time::{Duration, Instant};

use access_tokens::SigningKeys;
use access_tokens::service::{self, Caller};
use figment::Figment;
use placement::ShopperKey;
use reqwest::Method;
use serde_json::{Value, json};
use wire::moves::ShopperBundle;

use crate::helpers::{code_of, spawn_app};
use crate::shop::{As, Shop, expect, scalar, shop_with};

/// Both cells sign with the platform's key, as a deployment's cells do.
fn platform_keys() -> Figment {
    Figment::new()
        .merge(("auth.ephemeral_key", false))
        .merge(("auth.signing_key_files", [testkit::signing_key_file()]))
}

fn control_plane() -> String {
    let keys = SigningKeys::from_files(&[testkit::signing_key_file()], "cellwear", "cellwear-shop")
        .unwrap();
    service::issue(&keys, &Caller::ControlPlane).unwrap()
}

async fn internal(
    shop: &Shop,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = shop
        .app
        .client
        .request(method, format!("{}{path}", shop.app.address))
        .bearer_auth(control_plane());
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// Exports `key`, waiting while a payment of theirs settles.
async fn export(shop: &Shop, key: &str, epoch: u64) -> ShopperBundle {
    let started = Instant::now();
    loop {
        let path = format!("/internal/shoppers/{key}/export?epoch={epoch}");
        let response = internal(shop, Method::GET, &path, None).await;
        if response.status() == 409 && started.elapsed() < Duration::from_secs(15) {
            let (_, code) = code_of(response).await;
            assert_eq!(code, "payment_in_flight");
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        return serde_json::from_value(expect(response, 200).await).unwrap();
    }
}

fn rows_of<'a>(bundle: &'a ShopperBundle, table: &str) -> &'a [Vec<Value>] {
    &bundle
        .tables
        .iter()
        .find(|t| t.table == table)
        .unwrap()
        .rows
}

#[tokio::test]
async fn a_shopper_moves_with_everything_and_keeps_their_session() {
    let old = shop_with(5, platform_keys()).await;
    let new = shop_with(5, platform_keys()).await;
    let email = format!("{}@example.com", testkit::unique("mover-"));
    let key = ShopperKey::for_email(&email).to_string();
    let (token, cookie) = old.app.sign_in(&email).await;
    expect(old.app.add_to_cart(As::User(&token), "P1-0", 1).await, 200).await;
    let checkout = old.app.checkout_to_shipping(&token).await;
    let order = old.app.pay_now(&token, &checkout).await;
    expect(old.app.add_to_cart(As::User(&token), "P2-0", 2).await, 200).await;

    // Fenced: the shopper's writes are refused, retryably; reads still work.
    let fence = json!({"epoch": 1});
    let path = format!("/internal/shoppers/{key}/fence");
    expect(internal(&old, Method::POST, &path, Some(fence)).await, 204).await;
    let write = old
        .app
        .request(Method::POST, "/api/cart/items", As::User(&token))
        .header(cell::SHOPPER_KEY_HEADER, &key)
        .json(&json!({"sku": "P1-1", "quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.headers()["retry-after"], "1");
    assert_eq!(code_of(write).await, (503, "shopper_migrating".into()));
    let read = old
        .app
        .request(Method::GET, "/api/cart", As::User(&token))
        .header(cell::SHOPPER_KEY_HEADER, &key)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);

    let bundle = export(&old, &key, 1).await;
    assert_eq!(rows_of(&bundle, "users").len(), 1);
    assert_eq!(rows_of(&bundle, "orders").len(), 1);
    assert_eq!(rows_of(&bundle, "invoices").len(), 1);
    assert_eq!(rows_of(&bundle, "cart_items").len(), 1);
    assert!(rows_of(&bundle, "order_transitions").len() >= 2);
    assert_eq!(bundle.sessions.len(), 1);

    // A tampered bundle is refused whole.
    let mut tampered = bundle.clone();
    tampered.tables[0].rows[0][2] = json!("Mallory");
    let path = format!("/internal/shoppers/{key}");
    let refused = internal(&new, Method::PUT, &path, Some(json!(tampered))).await;
    assert_eq!(code_of(refused).await, (400, "corrupt_bundle".into()));
    assert_eq!(
        scalar(
            &new.app,
            &format!("SELECT COUNT(*) FROM users WHERE shopper_key = '{key}'")
        )
        .await,
        0
    );

    // The copy reads back as sent, and importing again changes nothing.
    for _ in 0..2 {
        let stored = expect(
            internal(&new, Method::PUT, &path, Some(json!(bundle))).await,
            200,
        )
        .await;
        assert_eq!(stored["checksum"], bundle.checksum.as_str());
    }

    // A change at the old cell after the copy stops the release.
    // (`updated_at = updated_at` keeps the column's auto-update off.)
    let rename = format!(
        "UPDATE users SET name = 'Changed', updated_at = updated_at WHERE shopper_key = '{key}'"
    );
    execute(&old, &rename).await;
    let release = format!(
        "/internal/shoppers/{key}?epoch=1&checksum={}",
        bundle.checksum
    );
    let stopped = internal(&old, Method::DELETE, &release, None).await;
    assert_eq!(code_of(stopped).await, (409, "changed_since_copy".into()));
    execute(
        &old,
        "UPDATE users SET name = 'Ada Lovelace', updated_at = updated_at",
    )
    .await;
    expect(internal(&old, Method::DELETE, &release, None).await, 200).await;
    expect(internal(&old, Method::DELETE, &release, None).await, 200).await;

    // The old cell holds nothing of them and sends them on.
    for table in ["users", "orders"] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE shopper_key = '{key}'");
        assert_eq!(scalar(&old.app, &sql).await, 0, "{table} left behind");
    }
    let gone = old
        .app
        .request(Method::GET, "/api/orders", As::User(&token))
        .header(cell::SHOPPER_KEY_HEADER, &key)
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(gone).await, (503, "shopper_moved".into()));

    // The new cell has it all, and the same token and cookie work there.
    let orders = new.app.get_ok("/api/orders", &token).await;
    assert_eq!(orders["items"][0]["id"], order.as_str());
    let invoice = new.app.invoice(&token, &order).await;
    assert_eq!(invoice.status(), 200);
    let cart = new.app.cart(As::User(&token)).await;
    assert_eq!(cart["items"][0]["sku"], "P2-0");
    assert_eq!(cart["items"][0]["quantity"], 2);
    let refreshed = new.app.with_cookie("/api/auth/refresh", &cookie).await;
    assert_eq!(refreshed.status(), 200);
}

async fn execute(shop: &Shop, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::MySqlConnection::connect(&shop.app.mysql_url)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_sealed_cell_refuses_every_shopper_write_but_the_webhooks() {
    let shop = shop_with(5, platform_keys()).await;
    expect(
        internal(&shop, Method::POST, "/internal/shoppers/seal", None).await,
        204,
    )
    .await;
    let guest = ShopperKey::random().to_string();
    let refused = shop.app.add_to_cart(As::Guest(&guest), "P1-0", 1).await;
    assert_eq!(code_of(refused).await, (503, "cell_draining".into()));
    assert_eq!(shop.app.cart(As::Guest(&guest)).await["items"], json!([]));
    let webhook = shop
        .app
        .client
        .post(format!("{}/api/payments/stripe/webhook", shop.app.address))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_ne!(webhook.status(), 503, "the payment provider is no shopper");
}

#[tokio::test]
async fn only_the_control_plane_may_move_shoppers() {
    let shop = shop_with(1, platform_keys()).await;
    let keys = SigningKeys::from_files(&[testkit::signing_key_file()], "cellwear", "cellwear-shop")
        .unwrap();
    let a_cell = service::issue(&keys, &Caller::Cell("cell-9".into())).unwrap();
    let (shopper, _) = shop
        .app
        .sign_in(&format!("{}@example.com", testkit::unique("nosy-")))
        .await;
    for token in [a_cell, shopper] {
        let response = shop
            .app
            .client
            .get(format!("{}/internal/shoppers", shop.app.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            code_of(response).await,
            (401, "invalid_service_token".into())
        );
    }
    let bad_key = internal(
        &shop,
        Method::GET,
        "/internal/shoppers/NOT-A-KEY/checksum",
        None,
    )
    .await;
    assert_eq!(code_of(bad_key).await, (400, "invalid_shopper_key".into()));
}

#[tokio::test]
async fn a_cell_lists_its_shoppers_guests_included_in_key_order() {
    let shop = shop_with(5, platform_keys()).await;
    let email = format!("{}@example.com", testkit::unique("listed-"));
    shop.app.sign_in(&email).await;
    let guest = ShopperKey::random().to_string();
    expect(
        shop.app.add_to_cart(As::Guest(&guest), "P1-0", 1).await,
        200,
    )
    .await;
    let mut keys = Vec::new();
    let mut after = String::new();
    loop {
        let path = format!("/internal/shoppers?after={after}&limit=1");
        let page = expect(internal(&shop, Method::GET, &path, None).await, 200).await;
        keys.extend(
            page["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_owned()),
        );
        match page["next_after"].as_str() {
            Some(next) => after = next.to_owned(),
            None => break,
        }
    }
    let mut expected = vec![ShopperKey::for_email(&email).to_string(), guest];
    expected.sort();
    assert_eq!(keys, expected);
}

#[tokio::test]
async fn every_table_is_either_a_shoppers_or_the_cells() {
    let app = spawn_app().await;
    let tables: Vec<String> = {
        use sqlx::Connection;
        let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
            .await
            .unwrap();
        sqlx::query_scalar(
            "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
    };
    let shoppers: Vec<&str> = cell::moves::plan::PLAN.iter().map(|p| p.table).collect();
    for table in &tables {
        let moves = shoppers.contains(&table.as_str());
        let stays = cell::moves::plan::CELL_TABLES.contains(&table.as_str());
        assert!(
            moves ^ stays,
            "table {table}: list it in moves::plan::PLAN (a shopper's rows) or CELL_TABLES (the cell's own)"
        );
    }
    for listed in shoppers.iter().chain(cell::moves::plan::CELL_TABLES.iter()) {
        assert!(
            tables.iter().any(|t| t == listed),
            "{listed} is not in the schema"
        );
    }
}

#[tokio::test]
async fn an_accounts_key_column_is_the_key_the_edge_routes_by() {
    let app = spawn_app().await;
    let email = format!("  {}@Example.COM ", testkit::unique("MiXeD-"));
    app.sign_in(&email).await;
    let key = ShopperKey::for_email(&email).to_string();
    let sql = format!("SELECT COUNT(*) FROM users WHERE shopper_key = '{key}'");
    assert_eq!(scalar(&app, &sql).await, 1);
}

#[tokio::test]
async fn deleting_a_moved_shopper_never_waits_on_another_shopper_s_locks() {
    use sqlx::Connection;
    let shop = shop_with(5, Figment::new()).await;
    let app = &shop.app;
    expect(app.add_to_cart(As::Guest("mover-1"), "P1-0", 1).await, 200).await;
    expect(app.add_to_cart(As::Guest("stayer-1"), "P2-1", 1).await, 200).await;

    // Another shopper's cart is being changed: its rows are locked.
    let mut stayer = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    let mut changing = stayer.begin().await.unwrap();
    let locked: Vec<(String,)> = sqlx::query_as(
        "SELECT i.sku FROM carts c JOIN cart_items i ON i.cart_id = c.id WHERE c.owner = 'guest:stayer-1' FOR UPDATE",
    )
    .fetch_all(&mut *changing)
    .await
    .unwrap();
    assert_eq!(locked.len(), 1);

    // The moved shopper's rows go without waiting for it (a scan of every
    // cart would wait here until the lock wait ran out).
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    sqlx::query("SET SESSION innodb_lock_wait_timeout = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    let plan = cell::moves::plan::Plan::load(&mut conn).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    let owned = cell::moves::plan::Owned::read(&mut tx, "mover-1")
        .await
        .unwrap();
    let deleted = plan.delete(&mut tx, "mover-1", &owned).await.unwrap();
    tx.commit().await.unwrap();
    assert!(deleted >= 2, "the cart and its line, at least: {deleted}");
    assert_eq!(
        scalar(
            app,
            "SELECT COUNT(*) FROM carts WHERE owner = 'guest:mover-1'"
        )
        .await,
        0
    );
    changing.rollback().await.unwrap();
    assert_eq!(
        scalar(
            app,
            "SELECT COUNT(*) FROM cart_items i JOIN carts c ON c.id = i.cart_id WHERE c.owner = 'guest:stayer-1'"
        )
        .await,
        1,
        "the other shopper's cart is untouched"
    );
}
