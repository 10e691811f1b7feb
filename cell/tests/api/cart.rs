//! Carts: a guest's by shopper key, a shopper's by account, priced and
//! checked on every read, merged at sign-in.

use cell::cart::cache::{Cached, CartCache, Contents};
use reqwest::Method;
use serde_json::json;
use wire::cart::HandedLine;

use crate::catalog::{apply, product};
use crate::helpers::code_of;
use crate::shop::{As, expect, set_stock, shop};

#[tokio::test]
async fn a_guest_cart_is_found_by_the_shopper_key_and_priced() {
    let shop = shop(5).await;
    let app = &shop.app;
    let guest = As::Guest("guest-cart-1");

    let cart = expect(app.add_to_cart(guest, "P1-0", 2).await, 200).await;
    assert_eq!(cart["items"][0]["sku"], "P1-0");
    assert_eq!(cart["items"][0]["unit_price_minor"], 2500);
    assert_eq!(cart["items"][0]["line_total_minor"], 5000);
    assert_eq!(cart["items"][0]["product_slug"], "oxford-shirt");
    let cart = expect(app.add_to_cart(guest, "P1-0", 1).await, 200).await;
    assert_eq!(cart["items"][0]["quantity"], 3, "adding sums");
    expect(app.add_to_cart(guest, "P2-1", 1).await, 200).await;

    let cart = app.cart(guest).await;
    assert_eq!(cart["item_count"], 4);
    assert_eq!(cart["subtotal_minor"], 3 * 2500 + 4100);
    assert_eq!(cart["currency"], "GBP");
    assert_eq!(cart["ready_for_checkout"], true);

    let other = app.cart(As::Guest("guest-cart-2")).await;
    assert_eq!(other["items"], json!([]), "another shopper's cart is empty");
    let anonymous = app
        .client
        .get(format!("{}/api/cart", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        code_of(anonymous).await,
        (400, "shopper_key_missing".into())
    );

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
    assert_eq!(cart["items"][0]["quantity"], 1);
    let cart = expect(
        app.call(
            Method::PATCH,
            "/api/cart/items/P1-0",
            guest,
            Some(json!({"quantity": 0})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        cart["items"].as_array().unwrap().len(),
        1,
        "0 removes the line"
    );
    let cart = expect(
        app.call(Method::DELETE, "/api/cart/items/P2-1", guest, None)
            .await,
        200,
    )
    .await;
    assert_eq!(cart["items"], json!([]));
}

#[tokio::test]
async fn bad_cart_changes_get_their_own_codes_and_change_nothing() {
    let shop = shop(3).await;
    let app = &shop.app;
    let guest = As::Guest("guest-bad");
    expect(app.add_to_cart(guest, "P1-0", 1).await, 200).await;

    for (response, status, code) in [
        (
            app.add_to_cart(guest, "no such sku!", 1).await,
            400,
            "invalid_sku",
        ),
        (
            app.add_to_cart(guest, "NOPE-1", 1).await,
            404,
            "sku_not_found",
        ),
        (
            app.add_to_cart(guest, "P1-1", 0).await,
            422,
            "invalid_quantity",
        ),
        (
            app.add_to_cart(guest, "P1-1", 4).await,
            409,
            "not_enough_stock",
        ),
        (
            app.call(
                Method::PATCH,
                "/api/cart/items/P2-0",
                guest,
                Some(json!({"quantity": 1})),
            )
            .await,
            404,
            "not_in_cart",
        ),
        (
            app.call(
                Method::PATCH,
                "/api/cart/items/P1-0",
                guest,
                Some(json!({"quantity": 11})),
            )
            .await,
            422,
            "quantity_limit",
        ),
    ] {
        assert_eq!(code_of(response).await, (status, code.to_owned()));
    }
    let malformed = app
        .request(Method::POST, "/api/cart/items", guest)
        .header("content-type", "application/json")
        .body("{\"sku\": 7}")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16() / 100, 4);

    let cart = app.cart(guest).await;
    assert_eq!(cart["items"].as_array().unwrap().len(), 1);
    assert_eq!(cart["items"][0]["quantity"], 1, "nothing half-applied");
}

#[tokio::test]
async fn a_changed_price_is_flagged_once_and_missing_stock_blocks_checkout() {
    let shop = shop(5).await;
    let app = &shop.app;
    let guest = As::Guest("guest-prices");
    expect(app.add_to_cart(guest, "P1-0", 2).await, 200).await;

    // A new catalog version: 2500 → 2900.
    apply(app, &product(1, 2, "oxford-shirt", "shirts", "acme", 2900)).await;
    let cart = app.cart(guest).await;
    assert_eq!(cart["items"][0]["unit_price_minor"], 2900);
    assert_eq!(cart["items"][0]["previous_price_minor"], 2500);
    assert_eq!(cart["items"][0]["problems"], json!(["price_changed"]));
    let cart = app.cart(guest).await;
    assert_eq!(cart["items"][0]["problems"], json!([]), "seen once");

    set_stock(app, "P1-0", 1).await;
    let cart = app.cart(guest).await;
    assert_eq!(cart["items"][0]["problems"], json!(["not_enough_stock"]));
    assert_eq!(cart["ready_for_checkout"], false);
    set_stock(app, "P1-0", 0).await;
    let cart = app.cart(guest).await;
    assert_eq!(cart["items"][0]["problems"], json!(["out_of_stock"]));
    assert_eq!(cart["items"][0]["availability"]["status"], "out_of_stock");
}

#[tokio::test]
async fn signing_in_merges_the_guest_cart_capped_by_stock() {
    let shop = shop(4).await;
    let app = &shop.app;
    let (token, _) = app.sign_in("merge@example.com").await;
    expect(app.add_to_cart(As::User(&token), "P1-0", 2).await, 200).await;

    let guest = As::Guest("guest-merging");
    expect(app.add_to_cart(guest, "P1-0", 3).await, 200).await;
    expect(app.add_to_cart(guest, "P2-0", 1).await, 200).await;

    let login = app
        .client
        .post(format!("{}/api/auth/login", app.address))
        .header(cell::SHOPPER_KEY_HEADER, "guest-merging")
        .json(&json!({"email": "merge@example.com", "password": "correct horse battery staple"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);

    let cart = app.cart(As::User(&token)).await;
    let lines: Vec<(String, u64)> = cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_owned(),
                l["quantity"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![("P1-0".to_owned(), 4), ("P2-0".to_owned(), 1)],
        "2 + 3 capped by the 4 in stock"
    );
    assert_eq!(
        app.cart(guest).await["items"],
        json!([]),
        "the guest cart moved"
    );
}

#[tokio::test]
async fn cart_reads_come_from_redis_until_the_cart_changes() {
    let shop = shop(5).await;
    let app = &shop.app;
    let guest = As::Guest("guest-cached");
    assert_eq!(app.cart(guest).await["items"], json!([]), "no cart yet");
    expect(app.add_to_cart(guest, "P1-0", 1).await, 200).await;
    assert_eq!(
        app.cart(guest).await["items"][0]["quantity"],
        1,
        "the cached \"no cart\" went with the change"
    );

    // Changed behind the cell's back: reads keep what Redis holds…
    let pool = sqlx::MySqlPool::connect(&app.mysql_url).await.unwrap();
    let changed = sqlx::query(
        "UPDATE cart_items SET quantity = 3 WHERE sku = 'P1-0' AND cart_id IN (SELECT id FROM carts WHERE owner LIKE '%guest-cached')",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(changed.rows_affected(), 1);
    let cart = app.cart(guest).await;
    assert_eq!(cart["items"][0]["quantity"], 1, "served from the cache");
    // …while prices and stock are read afresh every time.
    set_stock(app, "P1-0", 0).await;
    let cart = app.cart(guest).await;
    assert_eq!(cart["items"][0]["problems"], json!(["out_of_stock"]));
    set_stock(app, "P1-0", 5).await;

    // Any change through the cell makes the entry stale at once.
    expect(app.add_to_cart(guest, "P2-1", 1).await, 200).await;
    let cart = app.cart(guest).await;
    assert_eq!(
        cart["items"][0]["quantity"], 3,
        "read from the tables again"
    );
    assert_eq!(cart["items"][1]["sku"], "P2-1");
    expect(
        app.call(Method::DELETE, "/api/cart", guest, None).await,
        200,
    )
    .await;
    assert_eq!(app.cart(guest).await["items"], json!([]));
}

async fn cart_cache(ttl: std::time::Duration) -> CartCache {
    let redis = redis::Client::open(testkit::redis_url())
        .unwrap()
        .get_connection_manager()
        .await
        .unwrap();
    CartCache::new(redis, &format!("{}:", testkit::unique("carts")), ttl)
}

#[tokio::test]
async fn a_cart_read_that_raced_a_change_is_never_served() {
    let cache = cart_cache(std::time::Duration::from_secs(60)).await;
    let owner = "guest:raced";
    let read = Contents {
        id: "c-1".into(),
        coupon: None,
        lines: vec![HandedLine {
            sku: "P1-0".into(),
            quantity: 1,
            price_seen_minor: 2500,
        }],
    };
    let Cached::Miss(generation) = cache.read(owner).await else {
        panic!("nothing is cached yet");
    };
    // The read's rows were old: a change committed and was announced
    // before the read stored them.
    cache.changed(owner).await;
    cache.store(owner, generation, Some(&read)).await;
    let Cached::Miss(now) = cache.read(owner).await else {
        panic!("a read from before the change was served");
    };
    assert!(now > generation);
    // A read made after the change is served, "no cart" included.
    cache.store(owner, now, Some(&read)).await;
    assert_eq!(cache.read(owner).await, Cached::Hit(Some(read)));
    cache.changed(owner).await;
    let Cached::Miss(now) = cache.read(owner).await else {
        panic!("a changed cart was served");
    };
    cache.store(owner, now, None).await;
    assert_eq!(cache.read(owner).await, Cached::Hit(None));

    // Off: nothing is kept.
    let off = cart_cache(std::time::Duration::ZERO).await;
    off.store(owner, 0, None).await;
    assert_eq!(off.read(owner).await, Cached::Miss(0));
}
