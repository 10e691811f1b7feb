use std::time::{Duration, Instant};

use figment::Figment;
use testkit::Relay;

use crate::helpers::{config_with, mysql_address, spawn_app, spawn_app_with};

async fn start_error(overrides: Figment) -> String {
    format!(
        "{:#}",
        cell::build(config_with(overrides)).await.unwrap_err()
    )
}

#[tokio::test]
async fn a_missing_mysql_names_it_its_address_and_how_to_start_it() {
    let error =
        start_error(Figment::new().merge(("mysql.url", "mysql://root@127.0.0.1:1/x"))).await;
    assert!(
        error.starts_with("MySQL is not reachable at mysql://127.0.0.1:1"),
        "{error}"
    );
    assert!(error.contains("cargo xtask up"), "{error}");
}

#[tokio::test]
async fn a_missing_redis_names_it_and_its_address() {
    let error = start_error(Figment::new().merge(("redis.url", "redis://127.0.0.1:1"))).await;
    assert!(
        error.starts_with("Redis is not reachable at redis://127.0.0.1:1"),
        "{error}"
    );
}

#[tokio::test]
async fn a_missing_broker_names_it_and_its_address() {
    let error = start_error(Figment::new().merge(("kafka.brokers", "127.0.0.1:1"))).await;
    assert!(
        error.starts_with("Kafka broker is not reachable at 127.0.0.1:1"),
        "{error}"
    );
}

#[tokio::test]
async fn a_database_owned_by_another_cell_is_refused() {
    let database = testkit::unique("test_cell_");
    let url = format!("{}/{database}", testkit::mysql_server());
    let mut first = spawn_app_with(
        Figment::new()
            .merge(("mysql.url", &url))
            .merge(("cell.id", "cell-a")),
    )
    .await;
    first.begin_shutdown().await.unwrap().unwrap();

    let error = start_error(
        Figment::new()
            .merge(("mysql.url", &url))
            .merge(("cell.id", "cell-b")),
    )
    .await;

    assert!(
        error.contains("points at the database of cell cell-a, not of cell cell-b"),
        "{error}"
    );
}

#[tokio::test]
async fn a_port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let error = start_error(Figment::new().merge(("http.port", port))).await;
    assert!(
        error.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{error}"
    );
}

#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish_and_refuses_new_ones() {
    // A stalled MySQL keeps /readyz waiting for its probe's time-out (1 s):
    // that is the request in flight.
    let relay = Relay::start(mysql_address()).await.unwrap();
    let database = testkit::unique("test_cell_");
    let mut app = spawn_app_with(Figment::new().merge((
        "mysql.url",
        format!("mysql://root@{}/{database}", relay.address()),
    )))
    .await;
    relay.stall();
    let in_flight = tokio::spawn({
        let client = app.client.clone();
        let url = format!("{}/readyz", app.address);
        async move { client.get(url).send().await.map(|r| r.status().as_u16()) }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let server = app.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = testkit::http_client()
        .get(format!("{}/livez", app.address))
        .send()
        .await;

    assert_eq!(
        in_flight.await.unwrap().unwrap(),
        503,
        "the request in flight got its answer"
    );
    assert!(
        refused.is_err(),
        "a new connection was accepted after shutdown began"
    );
    relay.pass();
    server.await.unwrap().unwrap();
    // Bounded by the drain grace (5 s in the test settings) plus the time the
    // workers (relay, consumers) take to stop once the stalled MySQL is back.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "shutdown took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_idle_cell_stops_promptly() {
    let mut app = spawn_app().await;
    let started = Instant::now();
    app.begin_shutdown().await.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
