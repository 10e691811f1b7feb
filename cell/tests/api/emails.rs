//! Order e-mails through a real SMTP sink (maildev, started by `cargo xtask
//! test`): one at each step of the order's life, HTML and text, the invoice
//! attached to the confirmation, the tracking link in the shipping e-mail.

use std::time::{Duration, Instant};

use figment::Figment;
use serde_json::json;

use crate::shop::{expect, shop_with};

use testkit::inbox;
pub(crate) use testkit::wait_for_mail;

pub(crate) fn mail_settings() -> Figment {
    Figment::new()
        .merge(("mail.smtp_url", testkit::smtp_url()))
        .merge(("mail.shop_url", "https://shop.test"))
}

#[tokio::test]
async fn every_step_of_an_order_sends_its_email_with_the_invoice_and_tracking() {
    let shop = shop_with(10, mail_settings()).await;
    let app = &shop.app;
    let ada = format!("{}@example.com", testkit::unique("ada-"));
    let (token, checkout) = app.ready_to_pay(&ada, "P1-0", 2).await;
    let order = app.pay_now(&token, &checkout).await;
    let reference = order[..8].to_ascii_uppercase();

    let confirmed = wait_for_mail(&ada, &format!("order {reference} is confirmed")).await;
    assert!(confirmed["text"].as_str().unwrap().contains("GBP 50.00"));
    let html = confirmed["html"].as_str().unwrap();
    assert!(html.contains("<p>Your invoice is attached.</p>"), "{html}");
    assert!(html.contains(&format!("https://shop.test/account/orders/{order}")));
    let attachments = confirmed["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0]["contentType"], "application/pdf");
    assert!(
        attachments[0]["fileName"]
            .as_str()
            .unwrap()
            .starts_with("CW-T-")
    );

    let (admin, _) = app.sign_in("root@example.com").await;
    for body in [
        json!({"status": "processing", "reason": "Packing"}),
        json!({"status": "shipped", "reason": "Sent", "tracking": {"carrier": "dpd", "number": "DPD42"}}),
        json!({"status": "delivered", "reason": "Signed for"}),
    ] {
        expect(app.advance(&admin, &order, body).await, 200).await;
    }
    wait_for_mail(&ada, &format!("packing your order {reference}")).await;
    let shipped = wait_for_mail(&ada, &format!("order {reference} is on its way")).await;
    assert!(
        shipped["text"]
            .as_str()
            .unwrap()
            .contains("https://track.dpd.co.uk/parcels/DPD42"),
        "{shipped}"
    );
    wait_for_mail(&ada, &format!("order {reference} was delivered")).await;

    // A second order, cancelled: the e-mail says the money went back.
    let (token, checkout) = {
        let cart = app
            .add_to_cart(crate::shop::As::User(&token), "P2-0", 1)
            .await;
        assert_eq!(cart.status(), 200);
        (token.clone(), app.checkout_to_shipping(&token).await)
    };
    let second = app.pay_now(&token, &checkout).await;
    let reference = second[..8].to_ascii_uppercase();
    wait_for_mail(&ada, &format!("order {reference} is confirmed")).await;
    expect(app.cancel(&token, &second, json!({})).await, 200).await;
    let cancelled = wait_for_mail(&ada, &format!("order {reference} is cancelled")).await;
    assert!(
        cancelled["text"]
            .as_str()
            .unwrap()
            .contains("We refunded GBP"),
        "{cancelled}"
    );
    // One e-mail per step, none twice.
    assert_eq!(inbox(&ada).await.len(), 6);
}

/// The value of the sample `series` (name and labels, as printed) in a
/// Prometheus text page.
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn a_relay_that_never_answers_is_retried_then_the_event_is_parked() {
    let dead_relay = Figment::new()
        .merge(("mail.smtp_url", "smtp://127.0.0.1:9"))
        .merge(("mail.timeout_ms", 500));
    let shop = shop_with(10, dead_relay).await;
    let app = &shop.app;
    let (token, checkout) = app.ready_to_pay("ada@example.com", "P1-0", 1).await;
    app.pay_now(&token, &checkout).await;
    let started = Instant::now();
    let page = loop {
        let page = app.get("/metrics").await.text().await.unwrap();
        if sample(
            &page,
            "cellwear_events_dead_lettered_total{type=\"OrderConfirmed\"}",
        ) == Some(1.0)
        {
            break page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the confirmation was not parked:\n{page}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let tries = sample(
        &page,
        "cellwear_order_emails_total{kind=\"confirmed\",outcome=\"failed\"}",
    )
    .unwrap_or(0.0);
    assert!(tries >= 2.0, "tried {tries} times:\n{page}");
    assert_eq!(
        crate::shop::scalar(app, "SELECT COUNT(*) FROM sent_emails").await,
        0
    );
}
