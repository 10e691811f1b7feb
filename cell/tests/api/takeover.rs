//! A guest cart on another cell: taken over at sign-in through that cell's
//! internal API (service tokens only), and taken over later when that cell
//! could not be reached — sign-in never waits on it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use figment::Figment;
use placement::{Placer, ShopperKey};
use serde_json::{Value, json};
use wire::{PublishedRoutingTable, RoutedCell, RoutingTable};

use crate::catalog::{apply, product};
use crate::helpers::{TestApp, code_of, spawn_app_with};
use crate::shop::{As, expect, scalar, set_stock};

/// The control plane's routing-table document, served as it would be, and
/// changeable while the test runs.
type Published = Arc<Mutex<PublishedRoutingTable>>;

async fn serve_table(table: PublishedRoutingTable) -> (String, Published) {
    let published: Published = Arc::new(Mutex::new(table));
    let app = axum::Router::new()
        .route(
            "/control/api/routing-table",
            axum::routing::get(|State(table): State<Published>| async move {
                Json(table.lock().unwrap().clone())
            }),
        )
        .with_state(published.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (
        format!("http://{address}/control/api/routing-table"),
        published,
    )
}

fn table(cells: &[&str], endpoints: &[(&str, String)]) -> PublishedRoutingTable {
    PublishedRoutingTable {
        table: RoutingTable {
            version: 1,
            cells: cells
                .iter()
                .map(|id| RoutedCell {
                    id: (*id).to_owned(),
                    weight: 100,
                    state: wire::CellState::Active,
                })
                .collect(),
            overrides: Vec::new(),
        },
        endpoints: endpoints
            .iter()
            .map(|(id, address)| ((*id).to_owned(), address.clone()))
            .collect(),
    }
}

/// A guest key that places on `cell`, the `skip`-th such.
fn guest_key_on(published: &PublishedRoutingTable, cell: &str, skip: usize) -> String {
    let placer = Placer::new(&published.table).unwrap();
    (1u64..)
        .map(|n| format!("{:016x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
        .filter(|key| placer.place(ShopperKey::parse(key).unwrap()).unwrap().id == cell)
        .nth(skip)
        .unwrap()
}

async fn cell_at(id: &str, table_url: &str) -> TestApp {
    let app = spawn_app_with(
        Figment::new()
            .merge(("cell.id", id))
            .merge(("auth.ephemeral_key", false))
            .merge(("auth.signing_key_files", vec![testkit::signing_key_file()]))
            .merge(("routing.table_url", table_url))
            .merge(("routing.refresh_ms", 100))
            .merge(("cart.takeover_retry_ms", 200)),
    )
    .await;
    apply(&app, &product(1, 1, "oxford-shirt", "shirts", "acme", 2500)).await;
    set_stock(&app, "P1-0", 10).await;
    set_stock(&app, "P1-1", 10).await;
    app
}

/// Makes every handover `days` old.
async fn age_handovers(app: &TestApp, days: u32) {
    use sqlx::Connection;
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    sqlx::query("UPDATE cart_handovers SET created_at = CURRENT_TIMESTAMP(6) - INTERVAL ? DAY")
        .bind(days)
        .execute(&mut conn)
        .await
        .unwrap();
}

fn address_of(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn a_guest_cart_on_another_cell_follows_the_shopper_home() {
    let (home_id, other_id) = (testkit::unique("t-"), testkit::unique("t-"));
    let (url, published) = serve_table(table(&[&home_id, &other_id], &[])).await;
    let home = cell_at(&home_id, &url).await;
    let other = cell_at(&other_id, &url).await;
    *published.lock().unwrap() = table(
        &[&home_id, &other_id],
        &[
            (&home_id, address_of(&home)),
            (&other_id, address_of(&other)),
        ],
    );
    let snapshot = published.lock().unwrap().clone();
    let guest = guest_key_on(&snapshot, &other_id, 0);
    tokio::time::sleep(Duration::from_millis(400)).await;

    // Browsing as a guest: the cart lives on the guest key's cell.
    expect(other.add_to_cart(As::Guest(&guest), "P1-0", 2).await, 200).await;
    let token = home.sign_in_as("traveller@example.com", &guest).await;
    let cart = home.cart(As::User(&token)).await;
    assert_eq!(cart["items"][0]["sku"], "P1-0");
    assert_eq!(cart["items"][0]["quantity"], 2);
    assert_eq!(
        other.cart(As::Guest(&guest)).await["items"],
        json!([]),
        "the guest cart left its cell"
    );
    assert_eq!(
        scalar(&home, "SELECT COUNT(*) FROM cart_takeovers").await,
        0
    );
    assert_eq!(
        scalar(&other, "SELECT COUNT(*) FROM cart_handovers").await,
        1
    );
    // A handover is remembered for retries for a week, then forgotten.
    age_handovers(&other, 8).await;
    let began = Instant::now();
    while scalar(&other, "SELECT COUNT(*) FROM cart_handovers").await > 0 {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "an old handover was never forgotten"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The internal API takes only a cell's service token.
    let body = json!({"shopper_key": guest, "takeover_id": "0193a5e2-5a6b-7c3d-8e9f-a0b1c2d3e4f5"});
    let anonymous = other
        .client
        .post(format!("{}/internal/carts/handover", other.address))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code_of(anonymous).await,
        (401, "invalid_service_token".into())
    );
    let as_shopper = other
        .client
        .post(format!("{}/internal/carts/handover", other.address))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code_of(as_shopper).await,
        (401, "invalid_service_token".into())
    );
}

#[tokio::test]
async fn a_cell_that_is_down_does_not_stop_sign_in_and_the_cart_comes_later() {
    let (home_id, other_id) = (testkit::unique("t-"), testkit::unique("t-"));
    let (url, published) = serve_table(table(&[&home_id, &other_id], &[])).await;
    let home = cell_at(&home_id, &url).await;
    let other = cell_at(&other_id, &url).await;
    // The home cell is told the other listens where nothing does.
    *published.lock().unwrap() = table(
        &[&home_id, &other_id],
        &[
            (&home_id, address_of(&home)),
            (&other_id, "127.0.0.1:9".to_owned()),
        ],
    );
    let snapshot = published.lock().unwrap().clone();
    let guest = guest_key_on(&snapshot, &other_id, 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    expect(other.add_to_cart(As::Guest(&guest), "P1-1", 3).await, 200).await;

    let began = Instant::now();
    let token = home.sign_in_as("patient@example.com", &guest).await;
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "sign-in did not wait"
    );
    assert_eq!(home.cart(As::User(&token)).await["items"], json!([]));
    assert_eq!(
        scalar(
            &home,
            "SELECT COUNT(*) FROM cart_takeovers WHERE attempts >= 1 AND last_error IS NOT NULL"
        )
        .await,
        1
    );

    // The cell is reachable again: the sweeper finishes the takeover.
    *published.lock().unwrap() = table(
        &[&home_id, &other_id],
        &[
            (&home_id, address_of(&home)),
            (&other_id, address_of(&other)),
        ],
    );
    let began = Instant::now();
    loop {
        let cart: Value = home.cart(As::User(&token)).await;
        if cart["items"][0]["quantity"] == 3 {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "the cart never arrived: {cart}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        scalar(&home, "SELECT COUNT(*) FROM cart_takeovers").await,
        0
    );
    assert_eq!(other.cart(As::Guest(&guest)).await["items"], json!([]));
}
