//! A local OpenID provider for the Google sign-in tests: real HTTP, real RS256
//! signatures, a real JWKS, PKCE checked. Its key is a test fixture.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "cellwear-test-client";
pub const CLIENT_SECRET: &str = "test-client-secret";
const KEY_PEM: &str = include_str!("../fixtures/oidc-provider-test-key.pem");
const JWKS: &str = include_str!("../fixtures/oidc-provider-test-jwks.json");

/// Who the provider says signs in, and how it misbehaves.
#[derive(Debug, Clone)]
pub struct Identity {
    pub subject: String,
    pub email: String,
    pub email_verified: bool,
    /// Sign the ID token for another client.
    pub wrong_audience: bool,
    /// Change the ID token after signing it.
    pub tampered: bool,
}

impl Identity {
    pub fn verified(subject: &str, email: &str) -> Self {
        Self {
            subject: subject.into(),
            email: email.into(),
            email_verified: true,
            wrong_audience: false,
            tampered: false,
        }
    }
}

struct Grant {
    nonce: String,
    challenge: String,
    redirect_uri: String,
    identity: Identity,
}

#[derive(Clone)]
struct Provider {
    issuer: String,
    identity: Arc<Mutex<Identity>>,
    grants: Arc<Mutex<HashMap<String, Grant>>>,
}

pub struct RunningProvider {
    pub issuer: String,
    identity: Arc<Mutex<Identity>>,
}

impl RunningProvider {
    pub fn next_sign_in(&self, identity: Identity) {
        *self.identity.lock().unwrap() = identity;
    }
}

pub async fn start() -> RunningProvider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let identity = Arc::new(Mutex::new(Identity::verified("g-0", "nobody@example.com")));
    let provider = Provider {
        issuer: issuer.clone(),
        identity: identity.clone(),
        grants: Arc::new(Mutex::new(HashMap::new())),
    };
    let app = Router::new()
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route(
            "/jwks",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], JWKS) }),
        )
        .with_state(provider);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    RunningProvider { issuer, identity }
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    nonce: String,
    code_challenge: String,
    code_challenge_method: String,
}

async fn authorize(
    State(provider): State<Provider>,
    Query(query): Query<AuthorizeQuery>,
) -> impl IntoResponse {
    let valid = query.response_type == "code"
        && query.client_id == CLIENT_ID
        && query.scope.split(' ').any(|s| s == "openid")
        && query.code_challenge_method == "S256";
    if !valid {
        return (StatusCode::BAD_REQUEST, "invalid authorization request").into_response();
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    let identity = provider.identity.lock().unwrap().clone();
    provider.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            nonce: query.nonce,
            challenge: query.code_challenge,
            redirect_uri: query.redirect_uri.clone(),
            identity,
        },
    );
    let location = format!("{}?code={code}&state={}", query.redirect_uri, query.state);
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: String,
    client_id: String,
    client_secret: String,
    code_verifier: String,
}

async fn token(State(provider): State<Provider>, Form(form): Form<TokenForm>) -> impl IntoResponse {
    let grant = provider.grants.lock().unwrap().remove(&form.code);
    let refuse = || {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response()
    };
    let Some(grant) = grant else { return refuse() };
    let pkce = URL_SAFE_NO_PAD.encode(Sha256::digest(form.code_verifier.as_bytes()));
    if form.grant_type != "authorization_code"
        || form.client_id != CLIENT_ID
        || form.client_secret != CLIENT_SECRET
        || form.redirect_uri != grant.redirect_uri
        || pkce != grant.challenge
    {
        return refuse();
    }
    let identity = &grant.identity;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({
        "iss": provider.issuer,
        "aud": if identity.wrong_audience { "someone-else" } else { CLIENT_ID },
        "sub": identity.subject,
        "email": identity.email,
        "email_verified": identity.email_verified,
        "name": "Ada From Google",
        "nonce": grant.nonce,
        "iat": now,
        "exp": now + 300,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("test-provider-1".into());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(KEY_PEM.as_bytes()).unwrap();
    let mut id_token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    if identity.tampered {
        let mut parts: Vec<String> = id_token.split('.').map(str::to_owned).collect();
        let mut forged = claims.clone();
        forged["email"] = json!("someone.else@example.com");
        parts[1] = URL_SAFE_NO_PAD.encode(forged.to_string());
        id_token = parts.join(".");
    }
    Json(json!({"access_token": "provider-access-token", "token_type": "Bearer", "expires_in": 3600, "id_token": id_token}))
        .into_response()
}
