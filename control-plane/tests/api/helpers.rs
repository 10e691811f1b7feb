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
    let settings = testkit::service_settings(&database).merge((
        "control.topology",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../cells.yaml"),
    ));
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

    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}
