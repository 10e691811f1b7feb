//! Changing an account's e-mail address: a link to the new address through
//! a real SMTP sink (maildev), confirmed while signed in; the account keeps
//! its shopper key, the old address stays taken, other sessions end.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::emails::{mail_settings, wait_for_mail};
use crate::helpers::{TestApp, code_of, spawn_app_with};

const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    async fn ask_email_change(
        &self,
        token: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}/api/me/email", self.address))
            .bearer_auth(token)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    async fn confirm_email(&self, token: &str, link_token: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/api/me/email/confirm", self.address))
            .bearer_auth(token)
            .json(&json!({"token": link_token}))
            .send()
            .await
            .unwrap()
    }

    async fn scalar(&self, sql: &'static str) -> Option<String> {
        let mut conn = sqlx::MySqlConnection::connect(&self.mysql_url)
            .await
            .unwrap();
        sqlx::query_scalar(sql)
            .fetch_optional(&mut conn)
            .await
            .unwrap()
    }

    async fn access_token(&self, email: &str) -> String {
        let login = self.login(email, PASSWORD).await;
        assert_eq!(login.status(), 200, "{email} signs in");
        let body: Value = login.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }
}

/// The token in the link of the newest confirmation e-mail to `to`.
async fn link_token(to: &str) -> String {
    let mail = wait_for_mail(to, "Confirm your new e-mail address").await;
    let text = mail["text"].as_str().unwrap();
    let start = text.find("token=").expect("the e-mail has the link") + "token=".len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

/// The `sk` claim of an access token (read, not verified).
fn shopper_key_in(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sk"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_new_address_is_confirmed_by_its_link_and_the_account_keeps_its_key() {
    let app = spawn_app_with(mail_settings()).await;
    let old = format!("{}@example.com", testkit::unique("ada-"));
    let new = format!("{}@example.org", testkit::unique("ada-new-"));
    let (token, _) = app.sign_in(&old).await;
    let other_session = app.access_token(&old).await;
    let key = shopper_key_in(&token);
    let bob = format!("{}@example.com", testkit::unique("bob-"));
    let (bob_token, _) = app.sign_in(&bob).await;

    // Refusals change nothing.
    let refusals = [
        (
            new.as_str(),
            "not my password at all",
            403,
            "wrong_password",
        ),
        (old.as_str(), PASSWORD, 422, "email_unchanged"),
        ("no-at-sign", PASSWORD, 422, "invalid_email"),
        (bob.as_str(), PASSWORD, 409, "email_taken"),
    ];
    for (email, password, status, code) in refusals {
        let refused = app.ask_email_change(&token, email, password).await;
        assert_eq!(code_of(refused).await, (status, code.to_owned()), "{email}");
    }
    assert_eq!(app.scalar("SELECT user_id FROM email_changes").await, None);

    let asked = app
        .ask_email_change(&token, &new.to_uppercase(), PASSWORD)
        .await;
    assert_eq!(asked.status(), 202);
    let pending: Value = asked.json().await.unwrap();
    assert_eq!(pending["email"], new.as_str(), "normalised");
    assert!(pending["expires_at"].as_str().unwrap().starts_with("20"));
    let notice = wait_for_mail(&old, "Your e-mail address is about to change").await;
    assert!(notice["text"].as_str().unwrap().contains(&new));
    let link = link_token(&new).await;
    let stored = app
        .scalar("SELECT token_hash FROM email_changes")
        .await
        .unwrap();
    assert_ne!(stored, link, "only the token's hash is kept");

    // Until the link is opened, nothing has changed.
    assert_eq!(app.login(&new, PASSWORD).await.status(), 401);
    assert_eq!(app.login(&old, PASSWORD).await.status(), 200);

    // Only the account that asked can use the link.
    let foreign = app.confirm_email(&bob_token, &link).await;
    assert_eq!(code_of(foreign).await, (400, "invalid_email_token".into()));
    let wrong = app.confirm_email(&token, "not-the-token").await;
    assert_eq!(code_of(wrong).await, (400, "invalid_email_token".into()));

    let confirmed = app.confirm_email(&token, &link).await;
    assert_eq!(confirmed.status(), 200);
    let me: Value = confirmed.json().await.unwrap();
    assert_eq!(me["email"], new.as_str());
    let used = app.confirm_email(&token, &link).await;
    assert_eq!(code_of(used).await, (400, "invalid_email_token".into()));

    // The new address signs in, the old one does not; the key is the same.
    assert_eq!(app.login(&old, PASSWORD).await.status(), 401);
    let after = app.access_token(&new).await;
    assert_eq!(shopper_key_in(&after), key);
    // This session goes on; the account's other sessions are signed out.
    assert_eq!(app.me(&token).await.status(), 200);
    assert_eq!(
        code_of(app.me(&other_session).await).await,
        (401, "token_revoked".into())
    );
    // The address the account left cannot be registered again: its key is
    // the account's.
    assert_eq!(
        code_of(app.register(&old).await).await,
        (409, "email_taken".into())
    );
    let audited = app
        .scalar("SELECT detail FROM auth_audit WHERE action = 'email_changed'")
        .await
        .unwrap();
    assert_eq!(audited, format!("from {old} to {new}"));
}

#[tokio::test]
async fn an_expired_link_is_refused_and_a_relay_that_is_down_records_nothing() {
    let app = spawn_app_with(mail_settings()).await;
    let ada = format!("{}@example.com", testkit::unique("ada-"));
    let new = format!("{}@example.org", testkit::unique("ada-new-"));
    let (token, _) = app.sign_in(&ada).await;
    assert_eq!(
        app.ask_email_change(&token, &new, PASSWORD).await.status(),
        202
    );
    let link = link_token(&new).await;
    {
        let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
            .await
            .unwrap();
        sqlx::query("UPDATE email_changes SET expires_at = NOW(6) - INTERVAL 1 SECOND")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let expired = app.confirm_email(&token, &link).await;
    assert_eq!(code_of(expired).await, (410, "email_token_expired".into()));
    let again = app.confirm_email(&token, &link).await;
    assert_eq!(code_of(again).await, (400, "invalid_email_token".into()));
    assert!(
        !app.access_token(&ada).await.is_empty(),
        "the address did not change"
    );

    // A relay that does not answer: 503, and no change is waiting.
    let offline =
        spawn_app_with(mail_settings().merge(("mail.smtp_url", "smtp://127.0.0.1:1"))).await;
    let (token, _) = offline.sign_in(&ada).await;
    let refused = offline.ask_email_change(&token, &new, PASSWORD).await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(code_of(refused).await.1, "mail_unavailable");
    assert_eq!(
        offline.scalar("SELECT user_id FROM email_changes").await,
        None
    );
}
