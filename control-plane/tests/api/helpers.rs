use chassis::config::Settings;
use control_plane::Config;
use tokio::sync::oneshot;

pub struct TestApp {
    pub address: String,
    pub database: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// The control plane on port 0 with a fresh database and its own Redis prefix.
pub async fn spawn_app() -> TestApp {
    let database = testkit::unique("test_control_");
    let settings = testkit::service_settings(&database)
        .merge((
            "control.topology",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../cells.yaml"),
        ))
        .merge(("auth.key_files", vec![testkit::signing_key_file()]))
        .merge(("embeddings.model_dir", testkit::model_dir()));
    spawn_with(database, settings).await
}

/// The control plane with `settings` (on `database`).
pub async fn spawn_with(database: String, settings: figment::Figment) -> TestApp {
    let app = control_plane::build(Config::with_overrides(settings).unwrap())
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let (stop, signal) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = signal.await;
    }));
    TestApp {
        address,
        database,
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        testkit::http_client()
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }

    /// `method path` with an admin's token and a JSON body.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> reqwest::Response {
        self.as_role(&["admin"], method, path, body).await
    }

    pub async fn as_role(
        &self,
        roles: &[&str],
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = testkit::http_client()
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(testkit::staff_token(roles));
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    /// A pool on the control plane's database.
    pub async fn pool(&self) -> sqlx::MySqlPool {
        sqlx::MySqlPool::connect(&format!("{}/{}", testkit::mysql_server(), self.database))
            .await
            .unwrap()
    }

    /// `(type, topic)` of every event the control plane wrote to its outbox.
    pub async fn outbox(&self) -> Vec<(String, String)> {
        sqlx::query_as("SELECT event_type, topic FROM event_outbox ORDER BY seq")
            .fetch_all(&self.pool().await)
            .await
            .unwrap()
    }

    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

/// The status and the error envelope's `code` of a response.
pub async fn code_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// A brand, a category tree (`clothing` > `shirts`) and their slugs.
pub async fn seed_refs(app: &TestApp) {
    use reqwest::Method;
    for (path, body) in [
        (
            "/admin/api/brands",
            serde_json::json!({"slug": "harbour", "name": "Harbour & Finch"}),
        ),
        (
            "/admin/api/categories",
            serde_json::json!({"slug": "clothing", "name": "Clothing"}),
        ),
        (
            "/admin/api/categories",
            serde_json::json!({"slug": "shirts", "name": "Shirts", "parent": "clothing"}),
        ),
    ] {
        let response = app.admin(Method::POST, path, Some(&body)).await;
        assert_eq!(response.status(), 201, "POST {path}");
    }
}

/// A valid product: `slug`, two variants `<SKU>-M` and `<SKU>-L`.
pub fn shirt(slug: &str, sku: &str, stock: u64) -> serde_json::Value {
    serde_json::json!({
        "slug": slug,
        "title": "Oxford shirt",
        "description": "Soft cotton oxford, button-down collar.",
        "brand": "harbour",
        "category": "shirts",
        "tags": ["cotton", "Office"],
        "images": [{"url": "/media/placeholders/shirts.svg", "alt": "A white oxford shirt"}],
        "attributes": {"material": "cotton"},
        "published": true,
        "variants": [
            {"sku": format!("{sku}-M"), "size": "M", "colour": "White", "price_minor": 4500, "currency": "GBP", "stock": stock},
            {"sku": format!("{sku}-L"), "size": "L", "colour": "White", "price_minor": 4900, "currency": "GBP", "compare_at_minor": 6000}
        ]
    })
}
