//! What the integration tests of every crate share: where the test MySQL,
//! Redis and broker are, unique names so tests never see each other's data,
//! and a TCP relay that can stall or cut a dependency under a running service
//! (the sabotage tests). A dev-dependency only; production code never uses it.
//!
//! Addresses come from `CELLWEAR_TEST_MYSQL`, `CELLWEAR_TEST_REDIS` and
//! `CELLWEAR_TEST_KAFKA` (set by `cargo xtask test`), defaulting to the
//! machine's own services.

// Test support: a fixture that cannot be built should stop the test there.
#![allow(clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use figment::Figment;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

pub fn mysql_server() -> String {
    std::env::var("CELLWEAR_TEST_MYSQL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

pub fn redis_url() -> String {
    std::env::var("CELLWEAR_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn kafka_brokers() -> String {
    std::env::var("CELLWEAR_TEST_KAFKA").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

/// An HTTP client for tests. The workspace builds reqwest with rustls and
/// no built-in crypto provider (the cell picks ring for Google sign-in), so
/// the provider is installed first; a second install is a no-op.
pub fn http_client() -> reqwest::Client {
    http_client_builder()
        .build()
        .expect("a plain HTTP client builds")
}

/// [`http_client`], still to be configured (no redirects, say).
pub fn http_client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// What every test service (a cell, the control plane) runs with: port 0, the
/// database `database` on the test MySQL (created at start), a Redis key
/// prefix of its own, the test broker, logs for people.
pub fn service_settings(database: &str) -> Figment {
    Figment::new()
        .merge(("http.port", 0))
        .merge(("mysql.url", format!("{}/{database}", mysql_server())))
        .merge(("redis.url", redis_url()))
        .merge(("redis.key_prefix", format!("{database}:")))
        .merge(("kafka.brokers", kafka_brokers()))
        // Topics of their own: tests sharing the broker never read each
        // other's events (several services of one test share a prefix).
        .merge(("kafka.topic_prefix", format!("{database}.")))
        .merge(("log.format", "pretty"))
}

/// all-MiniLM-L6-v2 as `cargo xtask models` unpacks it (or
/// `CELLWEAR_MODEL_DIR`): the tests embed with the real model.
pub fn model_dir() -> std::path::PathBuf {
    std::env::var_os("CELLWEAR_MODEL_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/all-minilm-l6-v2"),
        std::path::PathBuf::from,
    )
}

/// `prefix` plus 12 random hex digits: a database name, key prefix or cell id
/// no other test uses. `cargo xtask test` drops `test_%` databases left over
/// from earlier runs.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &id[..12])
}

const PASS: u8 = 0;
const STALL: u8 = 1;
const CUT: u8 = 2;

/// A TCP relay in front of a dependency. `stall` keeps connections open but
/// stops moving bytes (a hung server); `cut` drops every connection and
/// refuses new ones (a dead server).
#[derive(Debug)]
pub struct Relay {
    address: SocketAddr,
    mode: Arc<AtomicU8>,
    connections: Arc<Mutex<JoinSet<()>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Relay {
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let mode = Arc::new(AtomicU8::new(PASS));
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let accept = tokio::spawn({
            let mode = mode.clone();
            let connections = connections.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    if mode.load(Ordering::SeqCst) == CUT {
                        continue;
                    }
                    if let Ok(mut set) = connections.lock() {
                        set.spawn(pipe(client, upstream, mode.clone()));
                    }
                }
            }
        });
        Ok(Self {
            address,
            mode,
            connections,
            accept,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn stall(&self) {
        self.mode.store(STALL, Ordering::SeqCst);
    }

    pub fn pass(&self) {
        self.mode.store(PASS, Ordering::SeqCst);
    }

    pub fn cut(&self) {
        self.mode.store(CUT, Ordering::SeqCst);
        if let Ok(mut set) = self.connections.lock() {
            set.abort_all();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn pipe(mut client: TcpStream, upstream: SocketAddr, mode: Arc<AtomicU8>) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.split();
    let (mut server_read, mut server_write) = server.split();
    let up = copy_while_passing(&mut client_read, &mut server_write, &mode);
    let down = copy_while_passing(&mut server_read, &mut client_write, &mode);
    let _ = tokio::join!(up, down);
    let _ = client.shutdown().await;
}

async fn copy_while_passing(
    from: &mut (impl tokio::io::AsyncRead + Unpin),
    to: &mut (impl tokio::io::AsyncWrite + Unpin),
    mode: &AtomicU8,
) {
    use tokio::io::AsyncReadExt;
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // A stalled relay swallows what it reads: the peer waits for an answer
        // that never comes, as with a hung server.
        while mode.load(Ordering::SeqCst) == STALL {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if mode.load(Ordering::SeqCst) == CUT || to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// An Ed25519 key file (a fixed test key, written once per process) for
/// services that sign or check access tokens in tests.
pub fn signing_key_file() -> std::path::PathBuf {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    static FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let dir = std::env::temp_dir().join(unique("cellwear-test-keys-"));
        std::fs::create_dir_all(&dir).expect("a temporary folder for the test key");
        let path = dir.join("signing.pem");
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .expect("the test key encodes as PEM");
        std::fs::write(&path, pem.as_bytes()).expect("the test key file is written");
        path
    })
    .clone()
}

/// An access token signed with [`signing_key_file`] for a staff member with
/// `roles` (`admin`, `sre`), valid for ten minutes.
pub fn staff_token(roles: &[&str]) -> String {
    let keys =
        access_tokens::SigningKeys::from_files(&[signing_key_file()], "cellwear", "cellwear-shop")
            .expect("the test key loads");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    keys.sign(&access_tokens::Claims {
        sub: unique("staff-"),
        sk: "0000000000000000".into(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        sid: unique("sid-"),
        jti: unique("jti-"),
        iss: "cellwear".into(),
        aud: "cellwear-shop".into(),
        iat: now,
        exp: now + 600,
    })
    .expect("the test token signs")
}

/// The Stripe emulator (`localstripe`) the payment tests talk to
/// (`CELLWEAR_TEST_STRIPE`, set by `cargo xtask test`).
pub fn stripe_url() -> String {
    std::env::var("CELLWEAR_TEST_STRIPE").unwrap_or_else(|_| "http://127.0.0.1:8420".into())
}

/// The SMTP sink (maildev) e-mail tests send through (`CELLWEAR_TEST_SMTP`,
/// set by `cargo xtask test`).
pub fn smtp_url() -> String {
    std::env::var("CELLWEAR_TEST_SMTP").unwrap_or_else(|_| "smtp://127.0.0.1:1025".into())
}

/// The SMTP sink's REST API (`GET /email`), where the tests read what
/// arrived (`CELLWEAR_TEST_INBOX`).
pub fn inbox_url() -> String {
    std::env::var("CELLWEAR_TEST_INBOX").unwrap_or_else(|_| "http://127.0.0.1:1080".into())
}

/// The e-mails the sink holds for `to`, oldest first.
pub async fn inbox(to: &str) -> Vec<serde_json::Value> {
    let all: Vec<serde_json::Value> = http_client()
        .get(format!("{}/email", inbox_url()))
        .send()
        .await
        .expect("the SMTP sink answers (cargo xtask test starts maildev)")
        .json()
        .await
        .expect("the SMTP sink lists its e-mails as JSON");
    all.into_iter()
        .filter(|mail| {
            mail["to"]
                .as_array()
                .is_some_and(|to_list| to_list.iter().any(|t| t["address"] == to))
        })
        .collect()
}

/// Waits (up to 60 s) for an e-mail to `to` whose subject contains `subject`.
pub async fn wait_for_mail(to: &str, subject: &str) -> serde_json::Value {
    let started = std::time::Instant::now();
    loop {
        if let Some(mail) = inbox(to)
            .await
            .into_iter()
            .find(|m| m["subject"].as_str().is_some_and(|s| s.contains(subject)))
        {
            return mail;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no e-mail \"{subject}\" to {to}; got {:?}",
            inbox(to)
                .await
                .iter()
                .map(|m| m["subject"].clone())
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
