use chassis::config::Settings;
use control_plane::Config;
use figment::Figment;
use serde_json::Value;
use sqlx::Connection;

use crate::helpers::spawn_app;

#[tokio::test]
async fn readyz_reports_mysql_redis_and_kafka() {
    let app = spawn_app().await;

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["service"], "control-plane");
    assert_eq!(body["checks"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn the_openapi_document_is_served_under_admin_api() {
    let app = spawn_app().await;

    let body: Value = app
        .get("/admin/api/openapi.json")
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(body["info"]["title"], "Cellwear control plane API");
    assert!(body["paths"]["/readyz"].is_object());
}

#[tokio::test]
async fn migrations_create_the_audit_log_at_start() {
    let mut app = spawn_app().await;
    app.stop().await;

    let url = format!("{}/{}", testkit::mysql_server(), app.database);
    let mut conn = sqlx::MySqlConnection::connect(&url).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'audit_log'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables, 1);
}

#[test]
fn an_unknown_setting_is_rejected() {
    let error = Config::with_overrides(Figment::new().merge(("kafka.brokerz", "x")))
        .unwrap_err()
        .to_string();
    assert!(error.contains("brokerz"), "{error}");
}
