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

#[tokio::test]
async fn sres_weigh_fail_recover_and_remove_cells_each_change_versioned_and_audited() {
    use reqwest::Method;
    use serde_json::json;
    use sqlx::Connection;

    let app = spawn_app().await;
    let sre = |method: Method, path: &'static str, body: Option<Value>| {
        let app = &app;
        async move { app.as_role(&["sre"], method, path, body.as_ref()).await }
    };
    let version = || async {
        let table: Value = app
            .get("/control/api/routing-table")
            .await
            .json()
            .await
            .unwrap();
        table["version"].as_u64().unwrap()
    };
    let code = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        (status, body["code"].as_str().unwrap_or_default().to_owned())
    };

    let list: Value = sre(Method::GET, "/control/api/cells", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["cells"].as_array().unwrap().len(), 3);
    assert_eq!(list["cells"][0]["health"], "unreachable", "{list}");
    assert_eq!(list["routing_version"], 2);
    let admin = app.admin(Method::GET, "/control/api/cells", None).await;
    assert_eq!(admin.status(), 403);

    let weighed: Value = sre(
        Method::PUT,
        "/control/api/cells/cell-1/weight",
        Some(json!({"weight": 300})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(weighed["cells"][1]["weight"], 300);
    assert_eq!(version().await, 3);
    let heavy = sre(
        Method::PUT,
        "/control/api/cells/cell-1/weight",
        Some(json!({"weight": 20000})),
    )
    .await;
    assert_eq!(code(heavy).await, (400, "invalid_cell_change".into()));

    let reason = Some(json!({"reason": "its database is gone"}));
    let failed: Value = sre(
        Method::POST,
        "/control/api/cells/cell-2/fail",
        reason.clone(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(failed["cells"][2]["state"], "failed");
    assert_eq!(version().await, 4);
    let table: Value = app
        .get("/control/api/routing-table")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(table["cells"][2]["state"], "failed");
    let again = sre(
        Method::POST,
        "/control/api/cells/cell-2/fail",
        reason.clone(),
    )
    .await;
    assert_eq!(code(again).await, (409, "illegal_cell_transition".into()));
    let no_reason = sre(
        Method::POST,
        "/control/api/cells/cell-0/fail",
        Some(json!({"reason": " "})),
    )
    .await;
    assert_eq!(code(no_reason).await, (400, "invalid_cell_change".into()));
    assert_eq!(
        sre(
            Method::POST,
            "/control/api/cells/cell-0/fail",
            reason.clone()
        )
        .await
        .status(),
        200
    );
    let last = sre(
        Method::POST,
        "/control/api/cells/cell-1/fail",
        reason.clone(),
    )
    .await;
    assert_eq!(code(last).await, (409, "last_active_cell".into()));
    assert_eq!(
        sre(
            Method::POST,
            "/control/api/cells/cell-0/recover",
            reason.clone()
        )
        .await
        .status(),
        200
    );
    let unknown = sre(Method::POST, "/control/api/cells/cell-9/recover", reason).await;
    assert_eq!(code(unknown).await, (404, "cell_not_found".into()));

    let active = sre(Method::DELETE, "/control/api/cells/cell-1", None).await;
    assert_eq!(code(active).await, (409, "illegal_cell_transition".into()));
    let url = format!("{}/{}", testkit::mysql_server(), app.database);
    let mut conn = sqlx::MySqlConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE cells SET state = 'drained' WHERE id = 'cell-2'")
        .execute(&mut conn)
        .await
        .unwrap();
    let removed: Value = sre(Method::DELETE, "/control/api/cells/cell-2", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(removed["cells"].as_array().unwrap().len(), 2);
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'cell.%'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(audited, 5, "weight, fail, fail, recover, remove");

    // The same log through the API: newest first, filtered, paged.
    let page: Value = sre(Method::GET, "/control/api/audit?action=cell.", None)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.first(), Some(&"cell.remove"), "{page}");
    assert_eq!(actions.len(), 5, "{page}");
    assert_eq!(page["items"][0]["subject"], "cell:cell-2");
    assert!(
        page["items"][0]["actor"]
            .as_str()
            .unwrap()
            .starts_with("user:")
    );
    assert!(page["next_cursor"].is_null());
    let first: Value = app
        .as_role(
            &["admin"],
            Method::GET,
            "/control/api/audit?action=cell.&limit=2",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let older: Value = app
        .as_role(
            &["sre"],
            Method::GET,
            &format!("/control/api/audit?action=cell.&limit=2&before={cursor}"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(older["items"][0]["id"].as_u64().unwrap() < cursor.parse::<u64>().unwrap());
    let fails: Value = sre(
        Method::GET,
        "/control/api/audit?action=cell.fail&subject=cell:cell-1",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(
        fails["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] == "cell.fail" && e["subject"] == "cell:cell-1"),
        "{fails}"
    );
    // `_` is not a wildcard: no action is `cell_fail`.
    let literal: Value = sre(Method::GET, "/control/api/audit?action=cell_", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(literal["items"], json!([]));
    assert_eq!(
        code(sre(Method::GET, "/control/api/audit?colour=red", None).await).await,
        (400, "invalid_query".to_owned())
    );
    for bad in [
        "/control/api/audit?limit=0",
        "/control/api/audit?before=yesterday",
        "/control/api/audit?actor=%07",
    ] {
        assert_eq!(
            code(sre(Method::GET, bad, None).await).await,
            (400, "invalid_audit_query".to_owned()),
            "{bad}"
        );
    }
    let shopper = app
        .as_role(&["user"], Method::GET, "/control/api/audit", None)
        .await;
    assert_eq!(shopper.status(), 403);
}
