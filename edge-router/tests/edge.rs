//! The edge binary in front of two real cells (real MySQL, Redis, Kafka):
//! routing by shopper key, the guest cookie, its own endpoints, a dead cell,
//! and shutdown.

// Helpers outside #[test] functions panic on purpose: a broken fixture should
// fail the test at the line that broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use placement::ShopperKey;
use serde_json::Value;
use settings::Settings;
use tokio::sync::oneshot;
use wire::{CellState, RoutedCell};

struct TestCell {
    id: String,
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestCell {
    async fn start(id: &str) -> Self {
        let overrides = testkit::service_settings(&testkit::unique("test_edge_"))
            .merge(("cell.id", id))
            .merge(("auth.ephemeral_key", true))
            .merge(("auth.bcrypt_cost", 4))
            .merge(("search.model_dir", testkit::model_dir()))
            .merge(("search.warm_model", false));
        let app = cell::build(cell::Config::with_overrides(overrides).unwrap())
            .await
            .unwrap();
        let address = SocketAddr::from(([127, 0, 0, 1], app.port()));
        let (stop, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = signal.await;
        }));
        Self {
            id: id.into(),
            address,
            stop: Some(stop),
            task: Some(task),
        }
    }

    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

struct Edge {
    child: Child,
    address: SocketAddr,
    dir: PathBuf,
}

impl Drop for Edge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn topology_yaml(cells: &[&TestCell], control_plane: SocketAddr) -> String {
    let states: Vec<&str> = cells.iter().map(|_| "active").collect();
    topology_yaml_with(cells, &states, control_plane)
}

fn topology_yaml_with(cells: &[&TestCell], states: &[&str], control_plane: SocketAddr) -> String {
    let mut yaml = format!(
        "broker: 127.0.0.1:9092\nedge: {{ listen: \"127.0.0.1:1\" }}\ncontrol_plane:\n  http: {control_plane}\n  mysql: mysql://root@127.0.0.1:3/x\n  redis: redis://127.0.0.1:4\ncells:\n",
    );
    for (cell, state) in cells.iter().zip(states) {
        yaml.push_str(&format!(
            "  - {{ id: {}, weight: 100, state: {state}, http: \"{}\", mysql: \"mysql://root@127.0.0.1:3306/x\", redis: \"redis://127.0.0.1:6379\" }}\n",
            cell.id, cell.address
        ));
    }
    yaml
}

/// Nothing listens here: the edge finds no control plane and keeps its table.
const NO_CONTROL_PLANE: &str = "127.0.0.1:2";

fn start_edge(cells: &[&TestCell]) -> Edge {
    let dir = std::env::temp_dir().join(testkit::unique("cellwear-edge-"));
    start_edge_in(dir, cells, NO_CONTROL_PLANE.parse().unwrap(), &[])
}

/// The edge binary over `cells`, asking `control_plane` for its table every
/// 200 ms and keeping it in `dir`.
fn start_edge_in(
    dir: PathBuf,
    cells: &[&TestCell],
    control_plane: SocketAddr,
    env: &[(&str, &str)],
) -> Edge {
    std::fs::create_dir_all(dir.join("static")).unwrap();
    std::fs::write(dir.join("static/index.html"), "<html>shop</html>").unwrap();
    std::fs::write(dir.join("cells.yaml"), topology_yaml(cells, control_plane)).unwrap();
    let address = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let child = Command::new(env!("CARGO_BIN_EXE_edge-router"))
        .env("EDGE__EDGE__LISTEN", address.to_string())
        .env("EDGE__EDGE__TOPOLOGY", dir.join("cells.yaml"))
        .env("EDGE__EDGE__STATIC_DIR", dir.join("static"))
        .env("EDGE__EDGE__ROUTING_CACHE", dir.join("routing-table.json"))
        .env("EDGE__EDGE__ROUTING_REFRESH_MS", "200")
        .env("EDGE__LOG__FORMAT", "pretty")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(address).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the edge did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Edge {
        child,
        address,
        dir,
    }
}

/// A shopper key (from a fixed, spread-out sequence) that `table` places on
/// a cell `wanted` accepts.
fn key_where(table: &[RoutedCell], wanted: impl Fn(&str) -> bool) -> ShopperKey {
    (1..100_000u64)
        .map(|i| ShopperKey::from(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
        .find(|key| wanted(&placement::place(*key, table).unwrap().id))
        .unwrap()
}

fn routed_cells(cells: &[&TestCell]) -> Vec<RoutedCell> {
    cells
        .iter()
        .map(|c| RoutedCell {
            id: c.id.clone(),
            weight: 100,
            state: CellState::Active,
        })
        .collect()
}

/// A GET through the edge. A process that has only just bound its port can
/// still refuse or reset the first connections while its listener comes up
/// (a reset seen once in CI), so a GET that got no answer is retried for a
/// few seconds; any answer, and a time-out, is final.
async fn get(edge: &Edge, path: &str, key: Option<ShopperKey>) -> reqwest::Response {
    let started = Instant::now();
    loop {
        let mut request = testkit::http_client().get(format!("http://{}{path}", edge.address));
        if let Some(key) = key {
            request = request.header("cookie", format!("sk={key}"));
        }
        match request.send().await {
            Ok(response) => return response,
            Err(error)
                if (error.is_connect() || error.is_request())
                    && !error.is_timeout()
                    && started.elapsed() < Duration::from_secs(5) =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("GET {path} through the edge: {error}"),
        }
    }
}

fn cell_of(response: &reqwest::Response) -> String {
    response.headers()["x-cellwear-cell"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn shoppers_are_pinned_to_the_cell_placement_picks() {
    let (a, b) = (
        TestCell::start("cell-a").await,
        TestCell::start("cell-b").await,
    );
    let edge = start_edge(&[&a, &b]);
    let table = routed_cells(&[&a, &b]);

    let mut seen = HashSet::new();
    for raw in 0..40u64 {
        let key = ShopperKey::from(raw.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let response = get(&edge, "/api/openapi.json", Some(key)).await;
        assert_eq!(response.status(), 200);
        let cell = cell_of(&response);
        assert_eq!(cell, placement::place(key, &table).unwrap().id, "key {key}");
        assert_eq!(
            cell_of(&get(&edge, "/api/openapi.json", Some(key)).await),
            cell,
            "the same key moved"
        );
        seen.insert(cell);
    }
    assert_eq!(seen.len(), 2, "40 shoppers all landed on one cell");
}

#[tokio::test]
async fn a_guest_without_a_key_gets_one_that_keeps_them_on_their_cell() {
    let (a, b) = (
        TestCell::start("cell-a").await,
        TestCell::start("cell-b").await,
    );
    let edge = start_edge(&[&a, &b]);

    // Only a proxied answer carries the new key; on a loaded machine the
    // very first request may meet a cell still warming up (a 502 or 503
    // from the edge itself), which a browser's next request would retry.
    let started = Instant::now();
    let response = loop {
        let response = get(&edge, "/api/openapi.json", None).await;
        if response.status() == 200 {
            break response;
        }
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no cell answered through the edge: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap_or_else(|| panic!("no set-cookie in {:?}", response.headers()))
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("sk="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let key = ShopperKey::parse(&cookie[3..19]).unwrap();
    let cell = cell_of(&response);
    let again = get(&edge, "/api/openapi.json", Some(key)).await;
    assert_eq!(cell_of(&again), cell);
    assert!(
        again.headers().get("set-cookie").is_none(),
        "a known shopper got a new key"
    );
}

#[tokio::test]
async fn the_edge_answers_its_own_health_and_metrics_and_serves_the_frontend() {
    let a = TestCell::start("cell-a").await;
    let edge = start_edge(&[&a]);
    get(&edge, "/api/openapi.json", None).await;

    assert_eq!(get(&edge, "/livez", None).await.status(), 200);
    let ready: Value = get(&edge, "/readyz", None).await.json().await.unwrap();
    assert_eq!(ready["status"], "ok");
    let metrics = get(&edge, "/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"cellwear_edge_requests_total{status="200",target="cell-a"} 1"#),
        "{metrics}"
    );
    let page = get(&edge, "/products/oxford-shirt", None).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.text().await.unwrap(), "<html>shop</html>");
}

#[tokio::test]
async fn a_dead_cell_answers_with_a_json_502_naming_it() {
    let mut a = TestCell::start("cell-a").await;
    // Before the health checks notice (here: never), a dead cell's request
    // fails at the proxy; a loaded machine's slow stop must not let the
    // checks notice first (that answer, 503, has its own test).
    let edge = start_edge_in(
        std::env::temp_dir().join(testkit::unique("cellwear-edge-")),
        &[&a],
        NO_CONTROL_PLANE.parse().unwrap(),
        &[("EDGE__EDGE__HEALTH_EVERY_MS", "600000")],
    );
    a.stop().await;

    let response = get(&edge, "/api/openapi.json", Some(ShopperKey::from(7))).await;

    assert_eq!(response.status(), 502);
    assert_eq!(cell_of(&response), "cell-a");
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "upstream_unavailable");
    assert!(body["request_id"].is_string());
}

#[tokio::test]
async fn a_client_cannot_pick_its_shopper_key_by_header() {
    let a = TestCell::start("cell-a").await;
    let edge = start_edge(&[&a]);
    // The cell echoes nothing yet, so check the edge's own decision: the
    // header is ignored for routing and the cookie key wins.
    let response = testkit::http_client()
        .get(format!("http://{}/api/openapi.json", edge.address))
        .header("x-cellwear-shopper-key", "ffffffffffffffff")
        .send()
        .await
        .unwrap();
    assert!(
        response.headers().contains_key("set-cookie"),
        "the header was taken as a key"
    );
}

#[tokio::test]
async fn sigterm_stops_the_edge_cleanly() {
    let a = TestCell::start("cell-a").await;
    let mut edge = start_edge(&[&a]);

    Command::new("kill")
        .args(["-TERM", &edge.child.id().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = edge.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the edge ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

#[test]
fn a_port_in_use_is_one_clear_line_and_a_non_zero_exit() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_edge-router"))
        .env(
            "EDGE__EDGE__LISTEN",
            taken.local_addr().unwrap().to_string(),
        )
        .env(
            "EDGE__EDGE__TOPOLOGY",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../cells.yaml"),
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("edge-router: cannot listen on"),
        "{stderr}"
    );
}

#[test]
fn an_oversized_write_buffer_is_refused_with_its_limit() {
    let output = Command::new(env!("CARGO_BIN_EXE_edge-router"))
        .env("EDGE__EDGE__LISTEN", format!("127.0.0.1:{}", free_port()))
        .env(
            "EDGE__EDGE__TOPOLOGY",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../cells.yaml"),
        )
        .env("EDGE__EDGE__WRITE_BUFFER_BYTES", "2000000")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("edge.write_buffer_bytes") && stderr.contains("1048576"),
        "{stderr}"
    );
}

#[test]
fn a_malformed_topology_names_the_file_and_field() {
    let dir = std::env::temp_dir().join(testkit::unique("cellwear-topology-"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cells.yaml"), "broker: nope\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_edge-router"))
        .env("EDGE__EDGE__LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("EDGE__EDGE__TOPOLOGY", dir.join("cells.yaml"))
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("edge.topology") && stderr.contains("cells.yaml"),
        "{stderr}"
    );
}

#[tokio::test]
async fn sign_in_routes_by_email_and_the_token_routes_home_afterwards() {
    let (a, b) = (
        TestCell::start("cell-a").await,
        TestCell::start("cell-b").await,
    );
    let edge = start_edge(&[&a, &b]);
    let table = routed_cells(&[&a, &b]);
    let client = testkit::http_client();
    let url = |path: &str| format!("http://{}{path}", edge.address);

    for email in [
        "ada@example.com",
        "bob@example.com",
        "cy@example.com",
        "di@example.com",
    ] {
        let home = placement::place(ShopperKey::for_email(email), &table)
            .unwrap()
            .id
            .clone();
        let body = serde_json::json!({"email": email, "password": "correct horse battery staple", "name": "N"});
        let registered = client
            .post(url("/api/auth/register"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), 201, "{email}");
        assert_eq!(
            cell_of(&registered),
            home,
            "{email} registered away from home"
        );
        let login = serde_json::json!({"email": email.to_uppercase(), "password": "correct horse battery staple"});
        let signed_in = client
            .post(url("/api/auth/login"))
            .json(&login)
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 200, "{email}");
        assert_eq!(cell_of(&signed_in), home);
        let token: Value = signed_in.json().await.unwrap();
        let me = client
            .get(url("/api/me"))
            .bearer_auth(token["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200, "{email}");
        assert_eq!(cell_of(&me), home);
    }
}

#[tokio::test]
async fn an_oversized_sign_in_body_is_refused_at_the_edge() {
    let a = TestCell::start("cell-a").await;
    let edge = start_edge(&[&a]);
    let body = format!(
        r#"{{"email":"ada@example.com","password":"{}"}}"#,
        "x".repeat(20_000)
    );

    let response = testkit::http_client()
        .post(format!("http://{}/api/auth/login", edge.address))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "body_too_large");
}

/// The control plane, seeded with `cells`, on port 0.
async fn start_control_plane(
    cells: &[&TestCell],
    database: &str,
) -> (SocketAddr, oneshot::Sender<()>, PathBuf) {
    let dir = std::env::temp_dir().join(testkit::unique("cellwear-cp-"));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("cells.yaml");
    std::fs::write(
        &seed,
        topology_yaml(cells, NO_CONTROL_PLANE.parse().unwrap()),
    )
    .unwrap();
    let settings = testkit::service_settings(database)
        .merge(("control.topology", &seed))
        .merge(("auth.key_files", vec![testkit::signing_key_file()]))
        .merge(("embeddings.model_dir", testkit::model_dir()));
    let app = control_plane::build(control_plane::Config::with_overrides(settings).unwrap())
        .await
        .unwrap();
    let address = SocketAddr::from(([127, 0, 0, 1], app.port()));
    let (stop, signal) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = signal.await;
    }));
    (address, stop, dir)
}

async fn wait_for_cell(edge: &Edge, key: ShopperKey, cell: &str) {
    let started = Instant::now();
    loop {
        if cell_of(&get(edge, "/api/openapi.json", Some(key)).await) == cell {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the edge never routed {key} to {cell}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_edge_follows_the_control_planes_overrides_and_keeps_them_without_it() {
    let (a, b) = (
        TestCell::start("cell-a").await,
        TestCell::start("cell-b").await,
    );
    let table = routed_cells(&[&a, &b]);
    let key = key_where(&table, |cell| cell == "cell-a");
    let database = testkit::unique("test_edge_cp_");
    let (control_plane, stop_control_plane, cp_dir) =
        start_control_plane(&[&a, &b], &database).await;
    let edge_dir = std::env::temp_dir().join(testkit::unique("cellwear-edge-"));
    let edge = start_edge_in(edge_dir.clone(), &[&a, &b], control_plane, &[]);
    assert_eq!(
        cell_of(&get(&edge, "/api/openapi.json", Some(key)).await),
        "cell-a"
    );

    // A migration pins the shopper to cell-b: the override and the new
    // version land in one transaction, as the control plane writes them.
    use sqlx::Connection;
    let mut db = sqlx::MySqlConnection::connect(&format!("{}/{database}", testkit::mysql_server()))
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO placement_overrides (shopper_key, cell_id, epoch) VALUES (?, 'cell-b', 1)",
    )
    .bind(key.to_string())
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("UPDATE routing_table SET version = version + 1")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    wait_for_cell(&edge, key, "cell-b").await;
    let ready: Value = get(&edge, "/readyz", None).await.json().await.unwrap();
    assert!(
        ready["checks"][0]["target"]
            .as_str()
            .unwrap()
            .starts_with("version 3"),
        "{ready}"
    );

    // The control plane goes away: the edge keeps the table, in memory and,
    // after a restart, from its file.
    let _ = stop_control_plane.send(());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        cell_of(&get(&edge, "/api/openapi.json", Some(key)).await),
        "cell-b"
    );
    let saved =
        std::fs::read(edge_dir.join("routing-table.json")).expect("the edge saved its table");
    drop(edge); // also removes its folder: put the saved table back
    std::fs::create_dir_all(&edge_dir).unwrap();
    std::fs::write(edge_dir.join("routing-table.json"), saved).unwrap();
    let restarted = start_edge_in(edge_dir, &[&a, &b], control_plane, &[]);
    assert_eq!(
        cell_of(&get(&restarted, "/api/openapi.json", Some(key)).await),
        "cell-b"
    );
    std::fs::remove_dir_all(cp_dir).unwrap();
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let a = TestCell::start("cell-a").await;
    let edge = start_edge(&[&a]);

    for path in ["/api/openapi.json", "/", "/livez", "/api/nothing-here"] {
        let response = get(&edge, path, None).await;
        let headers = response.headers();
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'"), "{path}");
        // The payment step's Stripe.js, its card frames and its API calls.
        assert!(
            policy.contains("script-src 'self' https://js.stripe.com")
                && policy.contains("frame-src https://js.stripe.com https://hooks.stripe.com")
                && policy.contains("connect-src 'self' https://api.stripe.com"),
            "{path}: {policy}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            headers["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        assert!(
            headers["strict-transport-security"]
                .to_str()
                .unwrap()
                .starts_with("max-age="),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_body_declared_too_large_stops_at_the_edge() {
    let a = TestCell::start("cell-a").await;
    let edge = start_edge(&[&a]);

    // Only the head is sent: the edge must answer from the declared length,
    // before any of the body. (A client still writing a 2 MiB body can see
    // the early answer as a broken pipe instead, which made this racy.)
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(edge.address).await.unwrap();
    stream
        .write_all(
            b"POST /api/auth/register HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&answer).contains("body_too_large") && Instant::now() < deadline
    {
        match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut chunk)).await {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&chunk[..n]),
            Ok(Err(error)) => panic!("reading the answer: {error}"),
            Err(_) => {}
        }
    }
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(answer.starts_with("http/1.1 413"), "{answer}");
    assert!(
        !answer.contains("x-cellwear-cell"),
        "the body reached a cell: {answer}"
    );
    assert!(answer.contains("\"code\":\"body_too_large\""), "{answer}");
}

#[tokio::test]
async fn a_shopper_over_the_limit_gets_429_and_probes_still_pass() {
    let a = TestCell::start("cell-a").await;
    let dir = std::env::temp_dir().join(testkit::unique("cellwear-edge-"));
    let edge = start_edge_in(
        dir,
        &[&a],
        NO_CONTROL_PLANE.parse().unwrap(),
        &[("EDGE__EDGE__RATE_LIMIT_PER_SHOPPER", "3")],
    );
    let key = ShopperKey::from(99);

    let statuses: Vec<u16> = {
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(
                get(&edge, "/api/openapi.json", Some(key))
                    .await
                    .status()
                    .as_u16(),
            );
        }
        statuses
    };

    assert_eq!(statuses, [200, 200, 200, 429]);
    let limited = get(&edge, "/api/openapi.json", Some(key)).await;
    assert!(limited.headers().contains_key("retry-after"));
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    assert_eq!(
        get(&edge, "/api/openapi.json", Some(ShopperKey::from(100)))
            .await
            .status(),
        200,
        "another shopper was limited"
    );
    assert_eq!(get(&edge, "/livez", Some(key)).await.status(), 200);
}

#[tokio::test]
async fn a_failed_cells_shoppers_browse_elsewhere_and_their_writes_wait() {
    let (a, b) = (
        TestCell::start("cell-a").await,
        TestCell::start("cell-b").await,
    );
    // b is marked failed in the table the edge starts from.
    let dir = std::env::temp_dir().join(testkit::unique("cellwear-edge-"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("cells.yaml.failed"),
        topology_yaml_with(
            &[&a, &b],
            &["active", "failed"],
            NO_CONTROL_PLANE.parse().unwrap(),
        ),
    )
    .unwrap();
    let edge = start_edge_in(
        dir.clone(),
        &[&a, &b],
        NO_CONTROL_PLANE.parse().unwrap(),
        &[(
            "EDGE__EDGE__TOPOLOGY",
            dir.join("cells.yaml.failed").to_str().unwrap(),
        )],
    );
    let mut table = routed_cells(&[&a, &b]);
    table[1].state = CellState::Failed;
    let key = key_where(&table, |cell| cell == "cell-b");

    let browsing = get(&edge, "/api/openapi.json", Some(key)).await;
    assert_eq!(browsing.status(), 503, "not a catalog read");
    let products = get(&edge, "/api/products?limit=1", Some(key)).await;
    assert_eq!(products.status(), 200);
    assert_eq!(cell_of(&products), "cell-a");
    assert_eq!(products.headers()["x-cellwear-degraded"], "cell-b");

    let cart = get(&edge, "/api/cart", Some(key)).await;
    assert_eq!(cart.status(), 503);
    assert_eq!(cart.headers()["retry-after"], "30");
    assert_eq!(cell_of(&cart), "cell-b");
    let body: Value = cart.json().await.unwrap();
    assert_eq!(body["code"], "cell_unavailable");
    let write = testkit::http_client()
        .post(format!("http://{}/api/cart/items", edge.address))
        .header("cookie", format!("sk={key}"))
        .json(&serde_json::json!({"sku": "X", "quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 503);

    // New guests are given keys whose home is a working cell.
    for _ in 0..20 {
        let guest = get(&edge, "/api/cart", None).await;
        assert_eq!(guest.status(), 200);
        assert_eq!(cell_of(&guest), "cell-a");
        assert!(guest.headers().get("x-cellwear-degraded").is_none());
    }
}

#[tokio::test]
async fn a_cell_that_stops_answering_is_taken_as_failed() {
    let (a, mut b) = (
        TestCell::start("cell-a").await,
        TestCell::start("cell-b").await,
    );
    let dir = std::env::temp_dir().join(testkit::unique("cellwear-edge-"));
    let edge = start_edge_in(
        dir,
        &[&a, &b],
        NO_CONTROL_PLANE.parse().unwrap(),
        &[
            ("EDGE__EDGE__HEALTH_EVERY_MS", "100"),
            ("EDGE__EDGE__HEALTH_TIMEOUT_MS", "200"),
            ("EDGE__EDGE__HEALTH_FAILURES", "2"),
        ],
    );
    let table = routed_cells(&[&a, &b]);
    let key = key_where(&table, |cell| cell == "cell-b");
    assert_eq!(get(&edge, "/api/cart", Some(key)).await.status(), 200);

    b.stop().await;
    let started = Instant::now();
    loop {
        let cart = get(&edge, "/api/cart", Some(key)).await;
        if cart.status() == 503 {
            let body: Value = cart.json().await.unwrap();
            assert_eq!(body["code"], "cell_unavailable");
            break;
        }
        assert_eq!(cart.status(), 502, "before detection: the cell's 502");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the edge never noticed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let detected = started.elapsed();
    let products = get(&edge, "/api/products?limit=1", Some(key)).await;
    assert_eq!(products.status(), 200);
    assert_eq!(cell_of(&products), "cell-a");
    assert_eq!(products.headers()["x-cellwear-degraded"], "cell-b");
    for _ in 0..10 {
        assert_eq!(cell_of(&get(&edge, "/api/cart", None).await), "cell-a");
    }
    let metrics = get(&edge, "/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"cellwear_edge_cell_up{cell="cell-b"} 0"#),
        "{metrics}"
    );
    // The edge stays ready (it routes everyone else) and says which cell is down.
    let ready = get(&edge, "/readyz", None).await;
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    let check = |name: &str| {
        ready["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no check {name}: {ready}"))
    };
    assert_eq!(check("cell:cell-a")["status"], "ok");
    assert_eq!(check("cell:cell-b")["status"], "failing");
    assert_eq!(
        check("cell:cell-b")["error"],
        "not answering the edge's health checks"
    );
    assert!(detected < Duration::from_secs(5), "took {detected:?}");
}

/// A stand-in cell that answers every request `200 {}` and keeps each
/// request head it was sent, to see what the edge passes on.
async fn recording_cell(id: &str) -> (TestCell, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(read) = stream.read(&mut chunk).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..read]);
                    while let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head: Vec<u8> = buffer.drain(..end + 4).collect();
                        seen.lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&head).to_lowercase());
                        let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\naccess-control-allow-origin: *\r\n\r\n{}";
                        if stream.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    let cell = TestCell {
        id: id.into(),
        address,
        stop: None,
        task: None,
    };
    (cell, heads)
}

#[tokio::test]
async fn the_edge_continues_the_clients_trace_or_starts_one_for_the_cell() {
    let (cell, heads) = recording_cell("cell-a").await;
    let edge = start_edge(&[&cell]);
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let sent = format!("00-{trace}-00f067aa0ba902b7-01");
    let client = testkit::http_client();
    let url = format!("http://{}/api/products", edge.address);
    assert_eq!(
        client
            .get(&url)
            .header("traceparent", &sent)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    let passed: Vec<String> = heads
        .lock()
        .unwrap()
        .iter()
        .filter(|head| head.starts_with("get /api/products"))
        .map(|head| {
            head.lines()
                .find_map(|line| line.strip_prefix("traceparent: "))
                .expect("the edge sends a traceparent")
                .to_owned()
        })
        .collect();
    assert_eq!(passed.len(), 2, "{passed:?}");
    // The client's trace, in the edge's own span.
    assert!(passed[0].starts_with(&format!("00-{trace}-")), "{passed:?}");
    assert_ne!(passed[0], sent);
    // No trace from the client: the edge starts one.
    assert!(
        !passed[1].contains(trace) && passed[1].len() == sent.len(),
        "{passed:?}"
    );
}

#[tokio::test]
async fn cross_origin_calls_follow_the_edges_allow_list() {
    let (cell, _) = recording_cell("cell-a").await;
    let dir = std::env::temp_dir().join(testkit::unique("cellwear-edge-"));
    let edge = start_edge_in(
        dir,
        &[&cell],
        NO_CONTROL_PLANE.parse().unwrap(),
        &[(
            "EDGE__EDGE__CORS_ALLOWED_ORIGINS",
            "[\"https://shop.example.com\"]",
        )],
    );
    let client = testkit::http_client();
    let url = format!("http://{}/api/cart/items", edge.address);
    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, x-csrf-token",
            )
            .send()
    };

    let allowed = preflight("https://shop.example.com").await.unwrap();
    assert_eq!(allowed.status(), 204);
    let headers = allowed.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://shop.example.com"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert!(
        headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("x-csrf-token")
    );
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );

    let refused = preflight("https://evil.example.com").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "cors_origin_not_allowed");

    // The answer itself: the edge's say, once, whatever the cell said (`*`).
    let products = format!("http://{}/api/products", edge.address);
    let listed = client
        .get(&products)
        .header("origin", "https://shop.example.com")
        .send()
        .await
        .unwrap();
    let origins: Vec<_> = listed
        .headers()
        .get_all("access-control-allow-origin")
        .iter()
        .collect();
    assert_eq!(origins, ["https://shop.example.com"]);
    let other = client
        .get(&products)
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn https_takes_tls_1_2_and_later_with_http2_and_plain_http_takes_h2c() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (cell, _) = recording_cell("cell-a").await;
    let dir = std::env::temp_dir().join(testkit::unique("cellwear-edge-"));
    std::fs::create_dir_all(&dir).unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.join("edge.crt"), dir.join("edge.key"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let tls = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let (tls_listen, cert_path, key_path) = (
        tls.to_string(),
        cert.display().to_string(),
        key.display().to_string(),
    );
    let edge = start_edge_in(
        dir,
        &[&cell],
        NO_CONTROL_PLANE.parse().unwrap(),
        &[
            ("EDGE__EDGE__TLS__LISTEN", &tls_listen),
            ("EDGE__EDGE__TLS__CERT", &cert_path),
            ("EDGE__EDGE__TLS__KEY", &key_path),
        ],
    );
    let started = Instant::now();
    while std::net::TcpStream::connect(tls).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no TLS listener"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let trusted = reqwest::Certificate::from_pem(made.cert.pem().as_bytes()).unwrap();
    let url = format!("https://localhost:{}/api/products", tls.port());

    let h2 = reqwest::Client::builder()
        .tls_certs_only([trusted.clone()])
        .build()
        .unwrap();
    let response = h2.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(cell_of(&response), "cell-a");

    let tls12 = reqwest::Client::builder()
        .tls_certs_only([trusted])
        .tls_version_max(reqwest::tls::Version::TLS_1_2)
        .http1_only()
        .build()
        .unwrap();
    let response = tls12.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_11);

    let h2c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = h2c
        .get(format!("http://{}/api/products", edge.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
}

#[test]
fn a_tls_key_that_does_not_fit_its_certificate_is_one_clear_line() {
    let dir = std::env::temp_dir().join(testkit::unique("cellwear-edge-"));
    std::fs::create_dir_all(&dir).unwrap();
    let one = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.join("edge.crt"), one.cert.pem()).unwrap();
    std::fs::write(dir.join("edge.key"), other.signing_key.serialize_pem()).unwrap();
    let nowhere = TestCell {
        id: "cell-a".into(),
        address: "127.0.0.1:9".parse().unwrap(),
        stop: None,
        task: None,
    };
    std::fs::write(
        dir.join("cells.yaml"),
        topology_yaml(&[&nowhere], NO_CONTROL_PLANE.parse().unwrap()),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_edge-router"))
        .env("EDGE__EDGE__LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("EDGE__EDGE__TOPOLOGY", dir.join("cells.yaml"))
        .env(
            "EDGE__EDGE__TLS__LISTEN",
            format!("127.0.0.1:{}", free_port()),
        )
        .env("EDGE__EDGE__TLS__CERT", dir.join("edge.crt"))
        .env("EDGE__EDGE__TLS__KEY", dir.join("edge.key"))
        .env("EDGE__LOG__FORMAT", "pretty")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the certificate and the key do not go together"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_providers_event_goes_to_the_cell_of_the_shopper_it_names() {
    let (a, a_heads) = recording_cell("cell-a").await;
    let (b, b_heads) = recording_cell("cell-b").await;
    let edge = start_edge(&[&a, &b]);
    let table = routed_cells(&[&a, &b]);
    let client = testkit::http_client();
    for cell in ["cell-a", "cell-b"] {
        let key = key_where(&table, |placed| placed == cell);
        let event = serde_json::json!({
            "id": format!("evt_{cell}"),
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_1", "metadata": {"order_id": "o1", "shopper_key": key.to_string()}}}
        });
        let response = client
            .post(format!(
                "http://{}/api/payments/stripe/webhook",
                edge.address
            ))
            .json(&event)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(cell_of(&response), cell);
        assert!(
            response.headers().get("set-cookie").is_none(),
            "a provider is no guest"
        );
    }
    let posted = |heads: &std::sync::Arc<std::sync::Mutex<Vec<String>>>| {
        heads
            .lock()
            .unwrap()
            .iter()
            .filter(|head| head.starts_with("post /api/payments/stripe/webhook"))
            .count()
    };
    assert_eq!((posted(&a_heads), posted(&b_heads)), (1, 1));
}

#[tokio::test]
async fn a_signing_in_guest_reaches_the_accounts_cell_with_their_guest_key() {
    let (a, a_heads) = recording_cell("cell-a").await;
    let (b, b_heads) = recording_cell("cell-b").await;
    let edge = start_edge(&[&a, &b]);
    let table = routed_cells(&[&a, &b]);
    let account = ShopperKey::for_email("ada@example.com");
    let home = placement::place(account, &table).unwrap().id.clone();
    // A guest whose cart lives on the other cell.
    let guest = key_where(&table, |cell| cell != home);
    let response = testkit::http_client()
        .post(format!("http://{}/api/auth/login", edge.address))
        .header("cookie", format!("sk={guest}"))
        .json(&serde_json::json!({"email": "ada@example.com", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cell_of(&response), home);
    // Signed in, the cookie names the account: a refresh after a reload,
    // routed by the cookie alone, reaches the account's cell.
    let cookies: Vec<&str> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with(&format!("sk={account};"))),
        "{cookies:?}"
    );
    let heads = if home == "cell-a" { a_heads } else { b_heads };
    let login = heads
        .lock()
        .unwrap()
        .iter()
        .find(|head| head.starts_with("post /api/auth/login"))
        .cloned()
        .expect("the account's cell got the sign-in");
    assert!(
        login.contains(&format!("x-cellwear-shopper-key: {guest}\r\n")),
        "{login}"
    );
}
