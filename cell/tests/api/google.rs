use figment::Figment;
use serde_json::{Value, json};

use crate::helpers::{TestApp, code_of, spawn_app_with};
use crate::oidc_provider::{self, CLIENT_ID, CLIENT_SECRET, Identity, RunningProvider};

async fn app_with_google() -> (TestApp, RunningProvider) {
    let provider = oidc_provider::start().await;
    let issuer = provider.issuer.clone();
    let app = spawn_app_with(
        Figment::new()
            .merge(("auth.google.enabled", true))
            .merge(("auth.google.client_id", CLIENT_ID))
            .merge(("auth.google.client_secret", CLIENT_SECRET))
            .merge(("auth.google.issuer", &issuer))
            .merge((
                "auth.google.authorization_endpoint",
                format!("{issuer}/authorize"),
            ))
            .merge(("auth.google.token_endpoint", format!("{issuer}/token")))
            .merge(("auth.google.jwks_uri", format!("{issuer}/jwks")))
            .merge((
                "auth.google.redirect_uri",
                "http://shop.test/api/auth/google/callback",
            )),
    )
    .await;
    (app, provider)
}

fn browser() -> reqwest::Client {
    testkit::http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// Start → provider → callback; returns the callback's answer.
async fn through_provider(app: &TestApp) -> (reqwest::Response, String) {
    let browser = browser();
    let start = browser
        .get(format!(
            "{}/api/auth/google/start?return_to=/account",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303);
    let authorize = browser.get(location(&start)).send().await.unwrap();
    assert_eq!(authorize.status(), 302);
    let back = location(&authorize);
    assert!(
        back.starts_with("http://shop.test/api/auth/google/callback?"),
        "{back}"
    );
    let query = back.split_once('?').unwrap().1.to_owned();
    let callback = browser
        .get(format!("{}/api/auth/google/callback?{query}", app.address))
        .send()
        .await
        .unwrap();
    (callback, query)
}

/// The whole sign-in; returns the finish response.
async fn sign_in_with_google(app: &TestApp) -> reqwest::Response {
    let (callback, _) = through_provider(app).await;
    assert_eq!(callback.status(), 303);
    let finish = location(&callback);
    assert!(
        finish.starts_with("/api/auth/google/finish?ticket="),
        "{finish}"
    );
    browser()
        .get(format!("{}{finish}", app.address))
        .send()
        .await
        .unwrap()
}

fn cookies_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn a_new_shopper_signs_in_with_google_and_gets_an_account() {
    let (app, provider) = app_with_google().await;
    provider.next_sign_in(Identity::verified("g-ada", "Ada@Example.com"));

    let finished = sign_in_with_google(&app).await;

    assert_eq!(finished.status(), 303);
    assert_eq!(location(&finished), "/account");
    let refreshed = app
        .with_cookie("/api/auth/refresh", &cookies_of(&finished))
        .await;
    assert_eq!(refreshed.status(), 200);
    let body: Value = refreshed.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["name"], "Ada From Google");
    let password = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "ada@example.com", "password": "any password at all"}),
        )
        .await;
    assert_eq!(
        password.status(),
        401,
        "an account made through Google took a password"
    );
}

#[tokio::test]
async fn google_links_to_the_account_with_the_verified_email() {
    let (app, provider) = app_with_google().await;
    let registered: Value = app.register("ada@example.com").await.json().await.unwrap();
    provider.next_sign_in(Identity::verified("g-ada", "ada@example.com"));

    let finished = sign_in_with_google(&app).await;

    let body: Value = app
        .with_cookie("/api/auth/refresh", &cookies_of(&finished))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["user"]["id"], registered["id"]);
    provider.next_sign_in(Identity::verified("g-mallory", "ada@example.com"));
    let other_google = sign_in_with_google(&app).await;
    assert_eq!(
        code_of(other_google).await,
        (409, "google_account_mismatch".into())
    );
}

#[tokio::test]
async fn an_unverified_email_is_refused() {
    let (app, provider) = app_with_google().await;
    let mut identity = Identity::verified("g-ada", "ada@example.com");
    identity.email_verified = false;
    provider.next_sign_in(identity);

    let (callback, _) = through_provider(&app).await;

    assert_eq!(
        code_of(callback).await,
        (403, "google_email_unverified".into())
    );
}

#[tokio::test]
async fn a_tampered_or_misaddressed_id_token_is_refused() {
    let (app, provider) = app_with_google().await;
    let mut tampered = Identity::verified("g-ada", "ada@example.com");
    tampered.tampered = true;
    provider.next_sign_in(tampered);
    assert_eq!(
        code_of(through_provider(&app).await.0).await,
        (401, "google_token_invalid".into())
    );

    let mut misaddressed = Identity::verified("g-ada", "ada@example.com");
    misaddressed.wrong_audience = true;
    provider.next_sign_in(misaddressed);
    assert_eq!(
        code_of(through_provider(&app).await.0).await,
        (401, "google_token_invalid".into())
    );
}

#[tokio::test]
async fn a_replayed_callback_and_a_replayed_ticket_are_refused() {
    let (app, provider) = app_with_google().await;
    provider.next_sign_in(Identity::verified("g-ada", "ada@example.com"));
    let (callback, query) = through_provider(&app).await;
    assert_eq!(callback.status(), 303);
    let finish = location(&callback);

    let again = browser()
        .get(format!("{}/api/auth/google/callback?{query}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(again).await, (400, "google_state_unknown".into()));
    assert_eq!(
        browser()
            .get(format!("{}{finish}", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    let replay = browser()
        .get(format!("{}{finish}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(replay).await, (401, "invalid_ticket".into()));
}

#[tokio::test]
async fn google_sign_in_is_off_unless_configured() {
    let app = crate::helpers::spawn_app().await;
    let start = browser()
        .get(format!("{}/api/auth/google/start", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(start).await, (404, "google_disabled".into()));
}
