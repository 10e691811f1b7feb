use secrecy::ExposeSecret;
use std::net::SocketAddr;

use cell::Config;
use chassis::config::Settings;

use figment::Figment;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Settings for a test cell: a fresh database, its own Redis key prefix, its
/// own cell id (so its own Kafka topics), port 0.
pub fn test_settings() -> Figment {
    testkit::service_settings(&testkit::unique("test_cell_"))
        .merge(("cell.id", testkit::unique("t-")))
        .merge(("http.shutdown_grace_ms", 5000))
        .merge(("mysql.connect_timeout_ms", 2000))
        .merge(("auth.ephemeral_key", true))
        .merge(("auth.bcrypt_cost", 4))
        .merge(("auth.bootstrap_admins", ["root@example.com"]))
        .merge(("search.model_dir", testkit::model_dir()))
        // Most tests never embed a query: load the model on first use.
        .merge(("search.warm_model", false))
}

pub fn config_with(overrides: Figment) -> Config {
    Config::with_overrides(test_settings().merge(overrides)).expect("test settings are valid")
}

/// The MySQL server address the tests use, for a relay to stand in front of.
pub fn mysql_address() -> SocketAddr {
    let server = testkit::mysql_server();
    let host_port = server
        .rsplit('@')
        .next()
        .unwrap()
        .trim_start_matches("mysql://");
    host_port
        .parse()
        .expect("CELLWEAR_TEST_MYSQL ends in ip:port")
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// The cell's own database, for asserting on what it wrote.
    pub mysql_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    pub task: Option<JoinHandle<anyhow::Result<()>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Figment::new()).await
}

pub async fn spawn_app_with(overrides: Figment) -> TestApp {
    let config = config_with(overrides);
    let mysql_url = config.mysql.url.expose_secret().to_owned();
    let app = cell::build(config).await.expect("the cell starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let (shutdown, signal) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = signal.await;
    }));
    TestApp {
        address,
        client: testkit::http_client(),
        mysql_url,
        shutdown: Some(shutdown),
        task: Some(task),
    }
}

impl TestApp {
    /// A cell running elsewhere (another process) at `address`.
    pub fn at(address: String, mysql_url: String) -> Self {
        Self {
            address,
            client: testkit::http_client(),
            mysql_url,
            shutdown: None,
            task: None,
        }
    }

    /// `GET path` with a bearer token; asserts 200 and returns the body.
    pub async fn get_ok(&self, path: &str, token: &str) -> serde_json::Value {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// `(type, topic)` of every event the cell wrote to its outbox, in order.
    pub async fn outbox(&self) -> Vec<(String, String)> {
        use sqlx::Connection;
        let mut conn = sqlx::MySqlConnection::connect(&self.mysql_url)
            .await
            .unwrap();
        sqlx::query_as("SELECT event_type, topic FROM event_outbox ORDER BY seq")
            .fetch_all(&mut conn)
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("the request reaches the cell")
    }

    /// Starts a graceful shutdown and returns the server task to await.
    pub fn begin_shutdown(&mut self) -> JoinHandle<anyhow::Result<()>> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.task.take().expect("shut down once")
    }
}

/// The status and the error envelope's `code` of a response.
pub async fn code_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

impl TestApp {
    /// Rebuilds the search index (and the catalog's shelf) from the read
    /// model as root; the token and the answer.
    pub async fn rebuild_search(&self) -> (String, serde_json::Value) {
        let (token, _) = self.sign_in("root@example.com").await;
        let response = self
            .client
            .post(format!("{}/api/ops/search/rebuild", self.address))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        (token, response.json().await.unwrap())
    }
}

/// A seeded generator: the same cases every run.
pub struct Cases(pub u64);

impl Cases {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
