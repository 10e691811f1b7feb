//! Invoices: issued when the payment is confirmed, numbered without gaps
//! per cell (also when confirmations race and some roll back), downloadable
//! as a PDF whose text holds the order's lines and totals, by the shopper
//! and admins only.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{TestApp, code_of};
use crate::shop::{As, shop};

impl TestApp {
    pub(crate) async fn invoice(&self, token: &str, order: &str) -> reqwest::Response {
        self.call(
            Method::GET,
            &format!("/api/orders/{order}/invoice"),
            As::User(token),
            None,
        )
        .await
    }
}

/// The text `pdftotext` extracts from `pdf`.
pub(crate) fn pdf_text(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(testkit::unique("invoice-"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("invoice.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext runs (cargo xtask test installs poppler-utils)");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn money(minor: i64) -> String {
    cell::invoices::money(minor, "GBP")
}

#[tokio::test]
async fn a_paid_order_has_an_invoice_with_its_lines_totals_and_tax_for_its_shopper_only() {
    let shop = shop(10).await;
    let app = &shop.app;
    let (ada, checkout) = app.ready_to_pay("ada@example.com", "P1-0", 3).await;
    let order = app.pay_now(&ada, &checkout).await;
    let detail: Value = app.get_ok(&format!("/api/orders/{order}"), &ada).await;
    let number = detail["invoice_number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("CW-T-"), "{number}");
    assert!(number.ends_with("00000001"), "the cell's first: {number}");

    let response = app.invoice(&ada, &order).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"{number}.pdf\"").as_str()
    );
    let pdf = response.bytes().await.unwrap();
    let text = pdf_text(&pdf);
    for expected in [
        "INVOICE".to_owned(),
        number.clone(),
        order.clone(),
        "Ada Lovelace".into(),
        "ada@example.com".into(),
        "P1-0".into(),
        money(2500),
        money(7500),
        money(detail["total_minor"].as_i64().unwrap()),
        "VAT 20%".into(),
        "Cellwear Ltd".into(),
    ] {
        assert!(text.contains(&expected), "{expected} not in:\n{text}");
    }
    let total = detail["total_minor"].as_i64().unwrap();
    let vat = (total * 2000 * 2 + 12000) / (2 * 12000);
    assert!(text.contains(&money(vat)), "VAT {vat} not in:\n{text}");

    // Kept once rendered: the same bytes again.
    let again = app.invoice(&ada, &order).await.bytes().await.unwrap();
    assert_eq!(again, pdf);

    let (bob, _) = app.sign_in("bob@example.com").await;
    assert_eq!(
        code_of(app.invoice(&bob, &order).await).await,
        (404, "order_not_found".into())
    );
    let (admin, _) = app.sign_in("root@example.com").await;
    assert_eq!(app.invoice(&admin, &order).await.status(), 200);

    // A declined payment leaves the order pending, with no invoice.
    let (cyd, checkout) = app.ready_to_pay("cyd@example.com", "P2-0", 1).await;
    let declined = app
        .checkout_post(
            &cyd,
            &format!("/api/checkout/{checkout}/payment"),
            json!({"payment_method": "pm_card_chargeCustomerFail"}),
        )
        .await;
    assert_eq!(declined.status(), 402);
    let pending: String = crate::orders::scalar_text(
        app,
        &format!("SELECT id FROM orders WHERE checkout_id = '{checkout}'"),
    )
    .await;
    assert_eq!(
        code_of(app.invoice(&cyd, &pending).await).await,
        (404, "invoice_not_issued".into())
    );

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("cellwear_orders_confirmed_total{currency=\"GBP\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "cellwear_revenue_minor_total{{currency=\"GBP\"}} {total}"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("cellwear_checkout_failures_total{reason=\"declined\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn invoice_numbers_have_no_gaps_when_confirmations_race() {
    let shop = shop(50).await;
    let app = std::sync::Arc::new(shop.app);
    let mut shoppers = Vec::new();
    for i in 0..6 {
        shoppers.push(
            app.ready_to_pay(&format!("racer{i}@example.com"), "P1-0", 1)
                .await,
        );
    }
    let payments: Vec<_> = shoppers
        .into_iter()
        .map(|(token, checkout)| {
            let app = app.clone();
            tokio::spawn(async move { app.pay_now(&token, &checkout).await })
        })
        .collect();
    for payment in payments {
        payment.await.unwrap();
    }
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    let sequences: Vec<u64> = sqlx::query_scalar("SELECT sequence FROM invoices ORDER BY sequence")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(sequences, (1..=6).collect::<Vec<u64>>());

    // Numbers taken by transactions that roll back come back: 30 racing
    // takers, every third rolling back, leave 1..=20 and nothing else.
    let pool = sqlx::MySqlPool::connect(&app.mysql_url).await.unwrap();
    cell::invoices::ensure_series(&pool, "GAPLESS-")
        .await
        .unwrap();
    let takers: Vec<_> = (0..30)
        .map(|i| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut tx = pool.begin().await.unwrap();
                let number = cell::invoices::next_number(&mut tx, "GAPLESS-")
                    .await
                    .unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                if i % 3 == 0 {
                    tx.rollback().await.unwrap();
                    None
                } else {
                    tx.commit().await.unwrap();
                    Some(number)
                }
            })
        })
        .collect();
    let mut kept = Vec::new();
    for taker in takers {
        kept.extend(taker.await.unwrap());
    }
    kept.sort_unstable();
    assert_eq!(kept, (1..=20).collect::<Vec<u64>>());
}
