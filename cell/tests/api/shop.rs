//! A cell that sells: products in its read model, stock in its share, and
//! payments through the Stripe emulator (localstripe) with the cell's
//! webhook registered there. Shared by the cart and checkout tests.

use figment::Figment;
use reqwest::Response;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::catalog::{apply, product};
use crate::helpers::{TestApp, spawn_app_with};

pub const STRIPE_KEY: &str = "sk_test_cellwear";

pub struct Shop {
    pub app: TestApp,
    pub webhook_secret: String,
}

/// Payments settings for a test cell; `extra` on top.
pub fn payments(secret: &str) -> Figment {
    Figment::new()
        .merge(("payments.api_base", testkit::stripe_url()))
        .merge(("payments.secret_key", STRIPE_KEY))
        .merge(("payments.publishable_key", "pk_test_cellwear"))
        .merge(("payments.webhook_secret", secret))
}

/// A shop with products 1 and 2 (SKUs `P1-0`… at 2500, `P2-0`… at 4000),
/// `units` of each SKU in stock.
pub async fn shop_with(units: u32, extra: Figment) -> Shop {
    let webhook_secret = testkit::unique("whsec_");
    let app = spawn_app_with(payments(&webhook_secret).merge(extra)).await;
    apply(&app, &product(1, 1, "oxford-shirt", "shirts", "acme", 2500)).await;
    apply(&app, &product(2, 1, "wool-coat", "coats", "acme", 4000)).await;
    for sku in ["P1-0", "P1-1", "P1-2", "P2-0", "P2-1", "P2-2"] {
        set_stock(&app, sku, units).await;
    }
    let registered = testkit::http_client()
        .post(format!(
            "{}/_config/webhooks/{}",
            testkit::stripe_url(),
            testkit::unique("cell-")
        ))
        .form(&[
            (
                "url",
                format!("{}/api/payments/stripe/webhook", app.address),
            ),
            ("secret", webhook_secret.clone()),
        ])
        .send()
        .await
        .expect("the Stripe emulator answers (cargo xtask test starts it)");
    assert!(registered.status().is_success(), "webhook registered");
    Shop {
        app,
        webhook_secret,
    }
}

pub async fn shop(units: u32) -> Shop {
    shop_with(units, Figment::new()).await
}

pub async fn set_stock(app: &TestApp, sku: &str, held: u32) {
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO cell_stock (sku, held, global_hint) VALUES (?, ?, 0) ON DUPLICATE KEY UPDATE held = VALUES(held)",
    )
    .bind(sku)
    .bind(held)
    .execute(&mut conn)
    .await
    .unwrap();
}

pub async fn held(app: &TestApp, sku: &str) -> i64 {
    scalar(
        app,
        &format!("SELECT CAST(held AS SIGNED) FROM cell_stock WHERE sku = '{sku}'"),
    )
    .await
}

/// One number the cell's database answers `sql` with.
pub async fn scalar(app: &TestApp, sql: &str) -> i64 {
    one(app, sql).await
}

/// A text `sql` answers, from the shop's database.
pub async fn scalar_text(app: &TestApp, sql: &str) -> String {
    one(app, sql).await
}

async fn one<T>(app: &TestApp, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::MySql> + sqlx::Type<sqlx::MySql> + Send + Unpin,
{
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

/// Who is calling: a guest (shopper key) or a signed-in shopper (token).
#[derive(Debug, Clone, Copy)]
pub enum As<'a> {
    Guest(&'a str),
    User(&'a str),
}

impl TestApp {
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        who: As<'_>,
    ) -> reqwest::RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{path}", self.address));
        match who {
            As::Guest(key) => request.header(cell::SHOPPER_KEY_HEADER, key),
            As::User(token) => request.bearer_auth(token),
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        who: As<'_>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.request(method, path, who);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn add_to_cart(&self, who: As<'_>, sku: &str, quantity: u32) -> Response {
        self.call(
            reqwest::Method::POST,
            "/api/cart/items",
            who,
            Some(json!({"sku": sku, "quantity": quantity})),
        )
        .await
    }

    pub async fn cart(&self, who: As<'_>) -> Value {
        let response = self
            .call(reqwest::Method::GET, "/api/cart", who, None)
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }
}

/// Asserts the status and returns the body.
pub async fn expect(response: Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "body: {body}");
    body
}
