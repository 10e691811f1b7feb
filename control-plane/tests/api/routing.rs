use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_routing_table_is_seeded_from_the_topology() {
    let app = spawn_app().await;

    let response = app.get("/control/api/routing-table").await;

    assert_eq!(response.status(), 200);
    let table: Value = response.json().await.unwrap();
    assert_eq!(
        table["version"], 2,
        "seeding should bump the version once: {table}"
    );
    let ids: Vec<&str> = table["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["cell-0", "cell-1", "cell-2"]);
    assert_eq!(table["cells"][0]["state"], "active");
    assert_eq!(table["endpoints"]["cell-1"], "127.0.0.1:9101");
    assert_eq!(table["overrides"], serde_json::json!([]));
}
