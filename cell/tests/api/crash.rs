//! The cell process killed (SIGKILL) at points spread over the payment
//! step, and started again on the same database and port: no paid order is
//! lost, no order is paid twice, and no stock stays reserved past its hold.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;

use crate::catalog::{apply, product};
use crate::checkout::stripe_get;
use crate::helpers::TestApp;
use crate::shop::{As, expect, scalar, set_stock};

const ROUNDS: u64 = 12;
/// More than the rounds can sell, so the shelf is never empty at the end
/// (when every round paid, the last add to cart still has a unit to take).
const UNITS: u32 = ROUNDS as u32 + 4;

/// The cell binary with its settings, on a fixed port.
struct CellProcess {
    env: Vec<(String, String)>,
    port: u16,
    child: Option<Child>,
}

impl CellProcess {
    fn start(&mut self) {
        let log = std::fs::File::create(
            std::env::temp_dir().join(format!("crash-cell-{}.log", self.port)),
        )
        .expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_cell"))
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("CELL__HTTP__PORT", self.port.to_string())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the cell binary starts");
        self.child = Some(child);
    }

    async fn ready(&self) {
        let client = testkit::http_client();
        let began = Instant::now();
        loop {
            let ok = client
                .get(format!("http://127.0.0.1:{}/readyz", self.port))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ok {
                return;
            }
            assert!(
                began.elapsed() < Duration::from_secs(60),
                "the cell never became ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for CellProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::test]
async fn killing_the_cell_mid_payment_loses_no_paid_order_and_leaks_no_stock() {
    let database = testkit::unique("test_crash_");
    let cell_id = testkit::unique("t-");
    let secret = testkit::unique("whsec_");
    let key = std::env::temp_dir().join(format!("{database}.pem"));
    let made = Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&key)
        .status()
        .expect("openssl runs");
    assert!(made.success());
    let mysql_url = format!("{}/{database}", testkit::mysql_server());
    let env: Vec<(String, String)> = [
        ("CELL__CELL__ID", cell_id.clone()),
        ("CELL__HTTP__HOST", "127.0.0.1".into()),
        ("CELL__MYSQL__URL", mysql_url.clone()),
        ("CELL__REDIS__URL", testkit::redis_url()),
        ("CELL__REDIS__KEY_PREFIX", format!("{database}:")),
        ("CELL__KAFKA__BROKERS", testkit::kafka_brokers()),
        ("CELL__KAFKA__TOPIC_PREFIX", format!("{database}.")),
        (
            "CELL__AUTH__SIGNING_KEY_FILES",
            format!("[\"{}\"]", key.display()),
        ),
        ("CELL__AUTH__BCRYPT_COST", "4".into()),
        ("CELL__AUTH__COOKIE_SECURE", "false".into()),
        (
            "CELL__SEARCH__MODEL_DIR",
            testkit::model_dir().display().to_string(),
        ),
        ("CELL__SEARCH__WARM_MODEL", "false".into()),
        ("CELL__HTTP__SHUTDOWN_GRACE_MS", "1000".into()),
        ("CELL__CHECKOUT__RESERVATION_TTL_S", "3".into()),
        ("CELL__CHECKOUT__SWEEP_EVERY_MS", "200".into()),
        ("CELL__PAYMENTS__API_BASE", testkit::stripe_url()),
        ("CELL__PAYMENTS__SECRET_KEY", crate::shop::STRIPE_KEY.into()),
        ("CELL__PAYMENTS__PUBLISHABLE_KEY", "pk_test_cellwear".into()),
        ("CELL__PAYMENTS__WEBHOOK_SECRET", secret.clone()),
        ("CELL__LOG__FORMAT", "pretty".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let port = free_port();
    let mut cell = CellProcess {
        env,
        port,
        child: None,
    };
    cell.start();
    cell.ready().await;
    let app = TestApp::at(format!("http://127.0.0.1:{port}"), mysql_url);
    apply(&app, &product(1, 1, "oxford-shirt", "shirts", "acme", 2500)).await;
    set_stock(&app, "P1-0", UNITS).await;
    let registered = testkit::http_client()
        .post(format!(
            "{}/_config/webhooks/{cell_id}",
            testkit::stripe_url()
        ))
        .form(&[
            (
                "url",
                format!("{}/api/payments/stripe/webhook", app.address),
            ),
            ("secret", secret),
        ])
        .send()
        .await
        .unwrap();
    assert!(registered.status().is_success());

    let mut outcomes = Vec::new();
    for round in 0..ROUNDS {
        let (token, id) = app
            .ready_to_pay(&format!("crash{round}@example.com"), "P1-0", 1)
            .await;
        let pay = {
            let client = app.client.clone();
            let url = format!("{}/api/checkout/{id}/payment", app.address);
            tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"payment_method": "pm_card_visa"}))
                    .send()
                    .await
            })
        };
        // From "before anything" to "after the answer", over the rounds.
        tokio::time::sleep(Duration::from_millis(round * 8)).await;
        cell.kill();
        let answer = pay.await.expect("the request task ends");
        outcomes.push(answer.map_or_else(|_| "cut".to_owned(), |r| r.status().to_string()));
        cell.start();
        cell.ready().await;
    }

    // Holds run out after 3 s; the sweeper settles every pending order
    // (confirming those the provider says were paid).
    let began = Instant::now();
    while scalar(&app, "SELECT COUNT(*) FROM orders WHERE status = 'pending'").await > 0 {
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "orders still pending"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    let orders: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT id, CAST(status AS CHAR), payment_intent FROM orders")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let intents: Value = stripe_get("/v1/payment_intents?limit=100000").await;
    let mine: Vec<&Value> = intents["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pi| pi["metadata"]["cell"] == cell_id.as_str())
        .collect();
    for intent in mine.iter().filter(|pi| pi["status"] == "succeeded") {
        let paid_orders: Vec<_> = orders
            .iter()
            .filter(|(_, _, pi)| pi.as_deref() == intent["id"].as_str())
            .collect();
        assert_eq!(paid_orders.len(), 1, "one order per paid intent: {intent}");
        assert_eq!(paid_orders[0].1, "confirmed", "a paid order is confirmed");
    }
    for (id, status, pi) in &orders {
        if status == "confirmed" {
            let intent = mine.iter().find(|i| i["id"].as_str() == pi.as_deref());
            assert!(
                intent.is_some_and(|i| i["status"] == "succeeded"),
                "order {id} is confirmed without a succeeded intent"
            );
        }
    }
    let confirmed = orders.iter().filter(|(_, s, _)| s == "confirmed").count() as i64;
    eprintln!(
        "answers per round: {outcomes:?}; orders: {:?}",
        orders
            .iter()
            .map(|(_, s, _)| s.as_str())
            .collect::<Vec<_>>()
    );
    assert!(confirmed >= 1, "some rounds must have paid");
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM stock_reservations WHERE state = 'held'"
        )
        .await,
        0,
        "nothing reserved past its hold"
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT CAST(held AS SIGNED) FROM cell_stock WHERE sku = 'P1-0'"
        )
        .await,
        i64::from(UNITS) - confirmed,
        "what is not sold is back on the shelf"
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT CAST(COALESCE(SUM(quantity), 0) AS SIGNED) FROM cell_stock_sales"
        )
        .await,
        confirmed
    );
    // The shopper sees the outcome.
    let (token, _) = app.sign_in("after@example.com").await;
    expect(app.add_to_cart(As::User(&token), "P1-0", 1).await, 200).await;
    cell.kill();
    let _ = std::fs::remove_file(key);
}
