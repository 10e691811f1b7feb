use figment::Figment;
use serde_json::Value;
use testkit::Relay;

use crate::helpers::{mysql_address, spawn_app, spawn_app_with};

#[tokio::test]
async fn livez_answers_ok() {
    let app = spawn_app().await;

    let response = app.get("/livez").await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_reports_every_dependency_ok() {
    let app = spawn_app().await;

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let names: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mysql", "redis", "kafka"]);
    assert!(
        body["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "ok"),
        "{body}"
    );
}

#[tokio::test]
async fn metrics_expose_request_counts_in_prometheus_text() {
    let app = spawn_app().await;
    app.get("/livez").await;

    let response = app.get("/metrics").await;

    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains("# TYPE cellwear_http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains(
            r#"cellwear_http_requests_total{method="GET",route="/livez",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"cellwear_build_info{service="cell""#),
        "{text}"
    );
    assert!(
        text.contains("# TYPE cellwear_events_relay_lag_seconds gauge"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unknown_route_gets_the_error_envelope_with_the_request_id() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(format!("{}/api/nothing-here", app.address))
        .header("x-request-id", "req-123")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["x-request-id"], "req-123");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["request_id"], "req-123");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("/api/nothing-here")
    );
}

#[tokio::test]
async fn a_request_without_an_id_gets_one() {
    let app = spawn_app().await;

    let response = app.get("/livez").await;

    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

#[tokio::test]
async fn the_openapi_document_lists_the_routes() {
    let app = spawn_app().await;

    let body: Value = app.get("/api/openapi.json").await.json().await.unwrap();

    assert!(body["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/livez", "/readyz", "/metrics", "/api/openapi.json"] {
        assert!(body["paths"][path].is_object(), "{path} missing");
    }
}

/// Sabotage: MySQL goes away under a running cell.
#[tokio::test]
async fn readyz_names_mysql_when_it_is_unreachable_while_livez_stays_ok() {
    let relay = Relay::start(mysql_address()).await.unwrap();
    let database = testkit::unique("test_cell_");
    let app = spawn_app_with(Figment::new().merge((
        "mysql.url",
        format!("mysql://root@{}/{database}", relay.address()),
    )))
    .await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    relay.cut();

    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    let failing: Vec<&Value> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failing")
        .collect();
    assert_eq!(failing.len(), 1, "{body}");
    assert_eq!(failing[0]["name"], "mysql");
    assert!(failing[0]["error"].is_string());
    assert_eq!(app.get("/livez").await.status(), 200);
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let app =
        spawn_app_with(Figment::new().merge(("http.cors_origins", ["https://shop.example"]))).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/api/me", app.address))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };

    let allowed = preflight("https://shop.example").await.unwrap();
    let refused = preflight("https://evil.example").await.unwrap();

    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
