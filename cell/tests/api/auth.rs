use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use placement::ShopperKey;
use serde_json::{Value, json};

use crate::helpers::{TestApp, code_of, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, email: &str) -> reqwest::Response {
        self.post_json(
            "/api/auth/register",
            &json!({"email": email, "password": PASSWORD, "name": "Ada Lovelace"}),
        )
        .await
    }

    /// Registers and signs in; returns the access token and the refresh cookie.
    pub async fn sign_in(&self, email: &str) -> (String, String) {
        assert_eq!(self.register(email).await.status(), 201);
        let response = self
            .post_json(
                "/api/auth/login",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status(), 200);
        let cookie = refresh_cookie(&response);
        let body: Value = response.json().await.unwrap();
        (body["access_token"].as_str().unwrap().to_owned(), cookie)
    }

    /// Registers `email` and signs in as the guest `shopper_key` was, so the
    /// guest's cart (and coupon) join the account's: the access token.
    pub async fn sign_in_as(&self, email: &str, shopper_key: &str) -> String {
        assert_eq!(self.register(email).await.status(), 201);
        let login = self
            .client
            .post(format!("{}/api/auth/login", self.address))
            .header(cell::SHOPPER_KEY_HEADER, shopper_key)
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let body: Value = login.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn change_password(
        &self,
        token: &str,
        current: &str,
        new: &str,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}/api/me/password", self.address))
            .bearer_auth(token)
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn me(&self, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}/api/me", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// A cookie-authenticated call as the shop's page makes it: the cookies,
    /// and the CSRF cookie's value repeated in its header.
    pub async fn with_cookie(&self, path: &str, cookies: &str) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .header("cookie", cookies)
            .header("x-csrf-token", csrf_of(cookies))
            .send()
            .await
            .unwrap()
    }
}

fn csrf_of(cookies: &str) -> String {
    cookies
        .split("; ")
        .find_map(|pair| pair.strip_prefix("csrf_token="))
        .unwrap_or_default()
        .to_owned()
}

/// The whole `Set-Cookie` line for cookie `name`.
fn set_cookie(response: &reqwest::Response, name: &str) -> String {
    let prefix = format!("{name}=");
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {name} cookie was set"))
}

/// The `Cookie` header a browser would send after this response: the
/// refresh token and the CSRF token it set.
fn refresh_cookie(response: &reqwest::Response) -> String {
    let set: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let find = |name: &str| {
        set.iter()
            .find(|c| c.starts_with(name))
            .cloned()
            .expect(name)
    };
    format!("{}; {}", find("refresh_token="), find("csrf_token="))
}

#[tokio::test]
async fn registering_creates_an_account_keyed_by_the_normalised_email() {
    let app = spawn_app().await;

    let response = app.register("  Ada@Example.COM ").await;

    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(body["roles"], json!(["user"]));
    assert_eq!(
        body["shopper_key"],
        ShopperKey::for_account("ada@example.com").to_string()
    );
}

#[tokio::test]
async fn registration_rejects_bad_input_with_stable_codes() {
    let app = spawn_app().await;
    assert_eq!(app.register("ada@example.com").await.status(), 201);

    let taken = app.register("ADA@example.com").await;
    let weak = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "b@example.com", "password": "password1234", "name": "B"}),
        )
        .await;
    let bad_email = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "nope", "password": PASSWORD, "name": "B"}),
        )
        .await;
    let no_name = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "c@example.com", "password": PASSWORD, "name": " "}),
        )
        .await;
    let extra = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "d@example.com", "password": PASSWORD, "name": "D", "admin": true}),
        )
        .await;

    assert_eq!(code_of(taken).await, (409, "email_taken".into()));
    assert_eq!(code_of(weak).await, (422, "weak_password".into()));
    assert_eq!(code_of(bad_email).await, (422, "invalid_email".into()));
    assert_eq!(code_of(no_name).await, (422, "invalid_name".into()));
    assert_eq!(code_of(extra).await, (422, "invalid_body".into()));
}

#[tokio::test]
async fn malformed_json_gets_the_error_envelope() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(format!("{}/api/auth/login", app.address))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();

    assert_eq!(code_of(response).await, (400, "malformed_json".into()));
}

#[tokio::test]
async fn signing_in_returns_a_token_for_me_and_a_strict_refresh_cookie() {
    let app = spawn_app().await;
    assert_eq!(app.register("ada@example.com").await.status(), 201);

    let response = app.login("ada@example.com", PASSWORD).await;

    assert_eq!(response.status(), 200);
    let cookie = set_cookie(&response, "refresh_token");
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/api/auth",
        "Max-Age=604800",
    ] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let token = body["access_token"].as_str().unwrap();
    let me: Value = app.me(token).await.json().await.unwrap();
    assert_eq!(me["email"], "ada@example.com");
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sk"], me["shopper_key"]);
    assert_eq!(claims["sub"], me["id"]);
    for claim in ["jti", "iss", "aud", "iat", "exp", "roles"] {
        assert!(!claims[claim].is_null(), "{claim} missing");
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_get_the_same_answer() {
    let app = spawn_app().await;
    assert_eq!(app.register("ada@example.com").await.status(), 201);

    let wrong = app
        .login("ada@example.com", "not the password at all")
        .await;
    let unknown = app.login("bob@example.com", PASSWORD).await;

    let (wrong_status, unknown_status) = (wrong.status(), unknown.status());
    let (wrong, unknown): (Value, Value) =
        (wrong.json().await.unwrap(), unknown.json().await.unwrap());
    assert_eq!(wrong_status, 401);
    assert_eq!(unknown_status, 401);
    assert_eq!(wrong["code"], "invalid_credentials");
    assert_eq!(
        (wrong["code"].clone(), wrong["message"].clone()),
        (unknown["code"].clone(), unknown["message"].clone())
    );
}

#[tokio::test]
async fn tampered_foreign_and_missing_tokens_get_401() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in("ada@example.com").await;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["roles"] = json!(["admin"]);
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    let tampered = parts.join(".");
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );

    assert_eq!(
        code_of(app.me(&tampered).await).await,
        (401, "invalid_token".into())
    );
    assert_eq!(
        code_of(app.me(&none).await).await,
        (401, "invalid_token".into())
    );
    assert_eq!(
        code_of(app.me("garbage").await).await,
        (401, "invalid_token".into())
    );
    let missing = app
        .client
        .get(format!("{}/api/me", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(missing).await, (401, "missing_token".into()));
    let other_cell = spawn_app().await;
    assert_eq!(
        code_of(other_cell.me(&token).await).await,
        (401, "invalid_token".into()),
        "a key this cell does not hold verified"
    );
}

#[tokio::test]
async fn refreshing_rotates_and_a_replayed_token_revokes_the_family() {
    let app = spawn_app().await;
    let (_, first) = app.sign_in("ada@example.com").await;

    let rotated = app.with_cookie("/api/auth/refresh", &first).await;
    assert_eq!(rotated.status(), 200);
    let second = refresh_cookie(&rotated);
    assert_ne!(second, first);
    let body: Value = rotated.json().await.unwrap();
    assert_eq!(
        app.me(body["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );

    let replay = app.with_cookie("/api/auth/refresh", &first).await;
    assert_eq!(code_of(replay).await, (401, "refresh_token_reused".into()));
    let after = app.with_cookie("/api/auth/refresh", &second).await;
    assert_eq!(
        code_of(after).await,
        (401, "invalid_refresh_token".into()),
        "the family survived the reuse"
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_revokes_the_access_token() {
    let app = spawn_app().await;
    let (token, cookie) = app.sign_in("ada@example.com").await;

    let response = app
        .client
        .post(format!("{}/api/auth/logout", app.address))
        .bearer_auth(&token)
        .header("cookie", &cookie)
        .header("x-csrf-token", csrf_of(&cookie))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 204);
    let cleared = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cleared.starts_with("refresh_token=;") || cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    app.assert_signed_out(&token, &cookie).await;
}

#[tokio::test]
async fn the_jwks_lists_the_key_that_signed_the_token() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in("ada@example.com").await;
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();

    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(header["alg"], "EdDSA");
    let key = &jwks["keys"][0];
    assert_eq!(key["kid"], header["kid"]);
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );
}

#[tokio::test]
async fn the_openapi_document_lists_the_identity_routes() {
    let app = spawn_app().await;
    let body: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    for path in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/me",
        "/.well-known/jwks.json",
    ] {
        assert!(body["paths"][path].is_object(), "{path} missing");
    }
}

impl TestApp {
    /// The session of `token` and `cookies` is over: neither works any more.
    pub async fn assert_signed_out(&self, token: &str, cookies: &str) {
        assert_eq!(
            code_of(self.me(token).await).await,
            (401, "token_revoked".into())
        );
        assert_eq!(
            code_of(self.with_cookie("/api/auth/refresh", cookies).await).await,
            (401, "invalid_refresh_token".into())
        );
    }

    /// Signs in an existing account again (a second device).
    pub async fn sign_in_again(&self, email: &str, password: &str) -> (String, String) {
        let response = self
            .post_json(
                "/api/auth/login",
                &json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 200);
        let cookie = refresh_cookie(&response);
        let body: Value = response.json().await.unwrap();
        (body["access_token"].as_str().unwrap().to_owned(), cookie)
    }

    pub async fn delete(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .delete(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn sessions(&self, token: &str) -> Value {
        self.get_ok("/api/me/sessions", token).await
    }
}

#[tokio::test]
async fn a_shopper_lists_sessions_and_signs_another_device_out() {
    let app = spawn_app().await;
    let (laptop, _) = app.sign_in("ada@example.com").await;
    let (phone, phone_cookie) = app.sign_in_again("ada@example.com", PASSWORD).await;

    let listed = app.sessions(&laptop).await;
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_session = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(
        app.delete(&format!("/api/me/sessions/{phone_session}"), &laptop)
            .await
            .status(),
        204
    );

    app.assert_signed_out(&phone, &phone_cookie).await;
    assert_eq!(app.me(&laptop).await.status(), 200);
    assert_eq!(
        app.sessions(&laptop).await["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_shopper_cannot_see_or_end_another_shoppers_sessions() {
    let app = spawn_app().await;
    let (ada, _) = app.sign_in("ada@example.com").await;
    let (bob, _) = app.sign_in("bob@example.com").await;
    let ada_session = app.sessions(&ada).await["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let attempt = app
        .delete(&format!("/api/me/sessions/{ada_session}"), &bob)
        .await;

    assert_eq!(code_of(attempt).await, (404, "session_not_found".into()));
    assert_eq!(app.me(&ada).await.status(), 200);
    let bobs = app.sessions(&bob).await;
    assert!(
        bobs["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["id"] != ada_session.as_str())
    );
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session() {
    let app = spawn_app().await;
    let (laptop, laptop_cookie) = app.sign_in("ada@example.com").await;
    let (phone, _) = app.sign_in_again("ada@example.com", PASSWORD).await;

    assert_eq!(app.delete("/api/me/sessions", &laptop).await.status(), 204);

    assert_eq!(
        code_of(app.me(&laptop).await).await,
        (401, "token_revoked".into())
    );
    app.assert_signed_out(&phone, &laptop_cookie).await;
}

#[tokio::test]
async fn changing_the_password_signs_out_the_other_sessions() {
    let app = spawn_app().await;
    let (laptop, laptop_cookie) = app.sign_in("ada@example.com").await;
    let (phone, phone_cookie) = app.sign_in_again("ada@example.com", PASSWORD).await;
    let change =
        |current: &'static str, new: &'static str| app.change_password(&laptop, current, new);

    assert_eq!(
        code_of(change("not my password!", "another long passphrase").await).await,
        (403, "wrong_password".into())
    );
    assert_eq!(
        code_of(change(PASSWORD, "password1234").await).await,
        (422, "weak_password".into())
    );
    assert_eq!(
        change(PASSWORD, "another long passphrase").await.status(),
        204
    );

    app.assert_signed_out(&phone, &phone_cookie).await;
    assert_eq!(app.me(&laptop).await.status(), 200);
    assert_eq!(
        app.with_cookie("/api/auth/refresh", &laptop_cookie)
            .await
            .status(),
        200
    );
    let old = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(old.status(), 401);
    app.sign_in_again("ada@example.com", "another long passphrase")
        .await;
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_sign_in_with_retry_after() {
    let app = spawn_app().await;
    assert_eq!(app.register("ada@example.com").await.status(), 201);
    let attempt = |password: &'static str| {
        let body = json!({"email": "ada@example.com", "password": password});
        let request = app
            .client
            .post(format!("{}/api/auth/login", app.address))
            .json(&body);
        request.send()
    };

    for _ in 0..6 {
        assert_eq!(
            code_of(attempt("wrong password again").await.unwrap()).await,
            (401, "invalid_credentials".into())
        );
    }
    let locked = attempt(PASSWORD).await.unwrap();

    assert_eq!(locked.status(), 429);
    assert!(
        locked.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(code_of(locked).await, (429, "account_locked".into()));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        attempt(PASSWORD).await.unwrap().status(),
        200,
        "the lock outlived its second"
    );
}

#[tokio::test]
async fn too_many_sign_ins_for_one_account_are_rate_limited() {
    let app = spawn_app().await;
    assert_eq!(app.register("ada@example.com").await.status(), 201);

    let mut statuses = Vec::new();
    for _ in 0..11 {
        let response = app.login("ada@example.com", PASSWORD).await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
            assert_eq!(code_of(response).await.1, "rate_limited");
        }
    }

    assert_eq!(statuses[..10], [200; 10]);
    assert_eq!(statuses[10], 429);
}

#[tokio::test]
async fn refresh_without_the_csrf_header_or_from_a_foreign_origin_is_refused() {
    let app = spawn_app().await;
    let (_, cookies) = app.sign_in("ada@example.com").await;
    let post = || {
        app.client
            .post(format!("{}/api/auth/refresh", app.address))
            .header("cookie", &cookies)
    };

    let no_header = post().send().await.unwrap();
    let wrong_header = post().header("x-csrf-token", "guess").send().await.unwrap();
    let foreign = post()
        .header("x-csrf-token", csrf_of(&cookies))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    let own = post()
        .header("x-csrf-token", csrf_of(&cookies))
        .header("origin", "http://127.0.0.1:8080")
        .send()
        .await
        .unwrap();

    assert_eq!(code_of(no_header).await, (403, "csrf_failed".into()));
    assert_eq!(code_of(wrong_header).await, (403, "csrf_failed".into()));
    assert_eq!(code_of(foreign).await, (403, "csrf_failed".into()));
    assert_eq!(own.status(), 200);
}

#[tokio::test]
async fn the_csrf_cookie_is_readable_by_the_page_and_strict() {
    let app = spawn_app().await;
    assert_eq!(app.register("ada@example.com").await.status(), 201);
    let response = app.login("ada@example.com", PASSWORD).await;
    let csrf = set_cookie(&response, "csrf_token");
    assert!(!csrf.contains("HttpOnly"), "{csrf}");
    assert!(
        csrf.contains("SameSite=Strict") && csrf.contains("Path=/"),
        "{csrf}"
    );
}

#[tokio::test]
async fn identity_writes_its_events_to_the_outbox() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in("ada@example.com").await;
    let changed = app
        .change_password(&token, PASSWORD, "another long passphrase")
        .await;
    assert_eq!(changed.status(), 204);
    let failed = app.register("ada@example.com").await;
    assert_eq!(failed.status(), 409);

    let written = app.outbox().await;

    let types: Vec<&str> = written.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        ["UserRegistered", "UserLoggedIn", "PasswordChanged"],
        "a failed registration wrote an event"
    );
    assert!(written[0].1.ends_with(".analytics"));
    assert!(written[1].1.ends_with(".analytics"));
    assert!(written[2].1.ends_with(".notifications"));
}

#[tokio::test]
async fn an_event_written_while_serving_a_request_continues_the_callers_trace() {
    let app = spawn_app().await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let sent = format!("00-{trace}-00f067aa0ba902b7-01");
    let response = app
        .client
        .post(format!("{}/api/auth/register", app.address))
        .header("traceparent", &sent)
        .json(&json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada Lovelace"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(app.register("grace@example.com").await.status(), 201);

    use sqlx::Connection;
    let mut conn = sqlx::MySqlConnection::connect(&app.mysql_url)
        .await
        .unwrap();
    let written: Vec<String> = sqlx::query_scalar(
        "SELECT traceparent FROM event_outbox WHERE event_type = 'UserRegistered' ORDER BY seq",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(written.len(), 2);
    // The same trace, in a span of the cell's own.
    assert!(
        written[0].starts_with(&format!("00-{trace}-")),
        "{written:?}"
    );
    assert_ne!(written[0], sent);
    // A request that brings no trace starts one.
    assert!(!written[1].contains(trace), "{written:?}");
    assert_eq!(written[1].len(), sent.len());
}

/// Everything the app logs while a shopper registers, signs in, refreshes and
/// signs out must hold none of their secrets.
#[tokio::test]
async fn passwords_tokens_and_cookies_never_reach_the_logs() {
    let logs = capture_logs();
    let app = spawn_app().await;
    let (token, cookies) = app.sign_in("ada@example.com").await;
    let refreshed = app.with_cookie("/api/auth/refresh", &cookies).await;
    assert_eq!(refreshed.status(), 200);
    let new_cookies = refresh_cookie(&refreshed);
    let wrong = app.login("ada@example.com", "a wrong password here").await;
    assert_eq!(wrong.status(), 401);
    app.with_cookie("/api/auth/logout", &new_cookies).await;

    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();

    assert!(text.contains("signed in"), "nothing was captured: {text}");
    let refresh = cookies
        .split("; ")
        .next()
        .unwrap()
        .trim_start_matches("refresh_token=");
    for secret in [
        PASSWORD,
        "a wrong password here",
        token.as_str(),
        refresh,
        csrf_of(&cookies).as_str(),
    ] {
        assert!(
            !text.contains(secret),
            "a secret reached the logs: {secret}"
        );
    }
}

fn capture_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    use std::sync::{Arc, Mutex};
    #[derive(Clone)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let shared = Arc::new(Mutex::new(Vec::new()));
    let writer = Buffer(shared.clone());
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter("debug")
        .with_writer(move || writer.clone())
        .finish();
    // nextest runs each test in its own process, so this is the only
    // subscriber; under `cargo test` a second one would be refused.
    tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
    shared
}

impl TestApp {
    pub async fn set_roles(&self, token: &str, user_id: &str, roles: &[&str]) -> reqwest::Response {
        self.client
            .put(format!("{}/api/auth/users/{user_id}/roles", self.address))
            .bearer_auth(token)
            .json(&json!({ "roles": roles }))
            .send()
            .await
            .unwrap()
    }

    /// The audit trail of an account, oldest first.
    pub async fn audit(&self, user_id: &str) -> Vec<(String, String)> {
        use sqlx::Connection;
        let mut conn = sqlx::MySqlConnection::connect(&self.mysql_url)
            .await
            .unwrap();
        sqlx::query_as("SELECT action, detail FROM auth_audit WHERE user_id = ? ORDER BY id")
            .bind(user_id)
            .fetch_all(&mut conn)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_bootstrap_administrator_grants_roles_and_the_grant_is_audited() {
    let app = spawn_app().await;
    let (root, _) = app.sign_in("root@example.com").await;
    let root_me: Value = app.me(&root).await.json().await.unwrap();
    assert_eq!(root_me["roles"], json!(["user", "admin", "sre"]));
    let bob: Value = app.register("bob@example.com").await.json().await.unwrap();
    let bob_id = bob["id"].as_str().unwrap();

    let granted = app.set_roles(&root, bob_id, &["sre"]).await;

    assert_eq!(granted.status(), 200);
    let body: Value = granted.json().await.unwrap();
    assert_eq!(body["roles"], json!(["user", "sre"]));
    let audit = app.audit(bob_id).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "roles_set");
    assert!(audit[0].1.contains("user -> user,sre by"), "{:?}", audit[0]);
    let (bob_token, _) = app.sign_in_again("bob@example.com", PASSWORD).await;
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(bob_token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["roles"], json!(["user", "sre"]));
}

#[tokio::test]
async fn only_administrators_set_roles_and_bad_requests_are_named() {
    let app = spawn_app().await;
    let (root, _) = app.sign_in("root@example.com").await;
    let (bob, _) = app.sign_in("bob@example.com").await;
    let bob_id = app.me(&bob).await.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(
        code_of(app.set_roles(&bob, &bob_id, &["admin"]).await).await,
        (403, "forbidden".into())
    );
    assert_eq!(
        code_of(app.set_roles(&root, &bob_id, &["owner"]).await).await,
        (422, "unknown_role".into())
    );
    assert_eq!(
        code_of(app.set_roles(&root, "no-such-user", &["sre"]).await).await,
        (404, "user_not_found".into())
    );
    assert!(app.audit(&bob_id).await.is_empty());
}

#[tokio::test]
async fn an_expired_access_token_gets_its_own_code() {
    let app =
        crate::helpers::spawn_app_with(figment::Figment::new().merge(("auth.access_ttl_s", 1)))
            .await;
    let (token, _) = app.sign_in("ada@example.com").await;
    assert_eq!(app.me(&token).await.status(), 200);

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    assert_eq!(
        code_of(app.me(&token).await).await,
        (401, "token_expired".into())
    );
}

#[tokio::test]
async fn an_oversized_body_gets_413_in_the_envelope() {
    let app = crate::helpers::spawn_app_with(
        figment::Figment::new().merge(("http.max_body_bytes", 1024)),
    )
    .await;
    let body = json!({"email": "ada@example.com", "password": "x".repeat(4096), "name": "Ada"});

    let response = app.post_json("/api/auth/register", &body).await;

    assert_eq!(code_of(response).await, (413, "body_too_large".into()));
}

#[tokio::test]
async fn a_dead_session_clears_its_cookie() {
    let app = spawn_app().await;
    let (_, first) = app.sign_in("ada@example.com").await;
    let rotated = app.with_cookie("/api/auth/refresh", &first).await;
    assert_eq!(rotated.status(), 200);

    let replay = app.with_cookie("/api/auth/refresh", &first).await;

    let cleared = set_cookie(&replay, "refresh_token");
    assert!(
        cleared.starts_with("refresh_token=;") || cleared.contains("Max-Age=0"),
        "{cleared}"
    );
}
