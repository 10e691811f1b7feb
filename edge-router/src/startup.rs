//! From config to a running pingora server.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;
use pingora::apps::HttpServerOptions;
use pingora::listeners::tls::TlsSettings as TlsListener;
use pingora::listeners::{L4BufferSettings, ListenerConfig};
use pingora::prelude::*;
use pingora::server::configuration::ServerConf;
use topology::Topology;

use crate::config::{Config, TlsSettings};
use crate::cors::Cors;
use crate::health::HealthChecks;
use crate::limits::RateLimiter;
use crate::metrics::EdgeMetrics;
use crate::proxy::EdgeProxy;
use crate::routing::RoutingTable;
use crate::table_refresh::{self, TableRefresh};

/// Checks everything that can be checked before pingora takes over the
/// process: the topology parses and the listen address is free.
/// The proxy and the task that keeps its routing table current.
pub fn prepare(config: &Config) -> anyhow::Result<(EdgeProxy, TableRefresh, HealthChecks)> {
    let topology = load_topology(&config.edge.topology)?;
    let edge = &config.edge;
    // pingora would only log a failed bind from a worker thread; a person
    // starting the edge wants one clear line and a non-zero exit instead.
    TcpListener::bind(edge.listen).with_context(|| {
        format!(
            "cannot listen on {} (edge.listen): is another edge or program using it?",
            edge.listen
        )
    })?;
    if let Some(tls) = &edge.tls {
        check_tls(tls)?;
    }
    let mut table = RoutingTable::from_topology(&topology)
        .context("edge.topology: the routing table is not valid")?;
    let control_plane = topology.control_plane.http;
    // A table saved by an earlier run is newer than the topology's first one:
    // with it the edge routes migrated shoppers right even if the control
    // plane is away at start.
    if let Some(saved) = table_refresh::load(&edge.routing_cache)
        && saved.table.version > table.version()
    {
        match table_refresh::compile(&saved, control_plane) {
            Ok(compiled) => table = compiled,
            Err(error) => tracing::warn!(%error, "ignoring the saved routing table"),
        }
    }
    tracing::info!(
        cells = table.cell_count(),
        version = table.version(),
        topology = %edge.topology.display(),
        "routing table loaded"
    );
    let table = Arc::new(ArcSwap::from_pointee(table));
    // reqwest is built with rustls and no default crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let refresh = TableRefresh {
        table: table.clone(),
        control_plane,
        every: Duration::from_millis(edge.routing_refresh_ms),
        cache: edge.routing_cache.clone(),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?,
    };
    // Token claims count only once the cells' keys are known: ask for them
    // now, so the first requests with a token already route home.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let first_keys = TableRefresh {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?,
        ..refresh.clone()
    };
    let known = runtime.block_on(first_keys.refresh_keys());
    tracing::info!(keys = known, "cells' token keys loaded");
    let metrics = EdgeMetrics::new()?;
    let checks = HealthChecks {
        table: table.clone(),
        metrics: metrics.clone(),
        every: Duration::from_millis(edge.health_every_ms),
        failures: edge.health_failures,
        client: reqwest::Client::builder()
            .timeout(Duration::from_millis(edge.health_timeout_ms))
            .build()?,
        missed: Default::default(),
    };
    let proxy = EdgeProxy {
        table,
        metrics,
        static_dir: edge.static_dir.clone(),
        connect_timeout: Duration::from_millis(edge.upstream_connect_timeout_ms),
        read_timeout: Duration::from_millis(edge.upstream_read_timeout_ms),
        secure_cookies: edge.secure_cookies,
        content_security_policy: http::HeaderValue::from_str(&edge.content_security_policy)
            .context("edge.content_security_policy: not a valid header value")?,
        max_body_bytes: edge.max_body_bytes,
        per_ip: RateLimiter::new(
            edge.rate_limit_per_ip,
            Duration::from_millis(edge.rate_limit_window_ms),
        ),
        per_shopper: RateLimiter::new(
            edge.rate_limit_per_shopper,
            Duration::from_millis(edge.rate_limit_window_ms),
        ),
        cors: Cors::new(&edge.cors_allowed_origins),
    };
    Ok((proxy, refresh, checks))
}

/// The TLS listener's port is free and its certificate and key load and
/// match — pingora would only find out (and panic) on a worker thread.
fn check_tls(tls: &TlsSettings) -> anyhow::Result<()> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    TcpListener::bind(tls.listen).with_context(|| {
        format!(
            "cannot listen on {} (edge.tls.listen): is another edge or program using it?",
            tls.listen
        )
    })?;
    let chain = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| {
            format!(
                "edge.tls.cert: cannot read a PEM certificate from {}",
                tls.cert.display()
            )
        })?;
    if chain.is_empty() {
        anyhow::bail!("edge.tls.cert: {} holds no certificate", tls.cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key).with_context(|| {
        format!(
            "edge.tls.key: cannot read a PEM private key from {}",
            tls.key.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .context("TLS 1.2 and 1.3")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("edge.tls: the certificate and the key do not go together")?;
    Ok(())
}

fn load_topology(path: &Path) -> anyhow::Result<Topology> {
    Topology::load(path)
        .with_context(|| "edge.topology: the routing table cannot be seeded".to_owned())
}

/// Runs the proxy until SIGTERM (graceful: stop accepting, finish what is in
/// flight) or SIGINT (fast). Never returns.
pub fn run(config: &Config, proxy: EdgeProxy, refresh: TableRefresh, checks: HealthChecks) -> ! {
    let edge = &config.edge;
    let conf = ServerConf {
        threads: edge.threads,
        work_stealing: edge.work_stealing,
        grace_period_seconds: Some(edge.grace_period_s),
        graceful_shutdown_timeout_seconds: Some(edge.graceful_shutdown_timeout_s),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut service = http_proxy_service(&server.configuration, proxy);
    // Plain HTTP takes HTTP/2 from clients that start with it (h2c); over
    // TLS, ALPN offers h2 first, then HTTP/1.1.
    if let Some(proxy) = service.app_logic_mut() {
        let mut options = HttpServerOptions::default();
        options.h2c = true;
        proxy.server_options = Some(options);
    }
    // Pingora's default gathers one MSS (1,460 bytes): a response head with
    // the security headers and a small JSON body then leave in two sends.
    let buffers = L4BufferSettings::default().write(edge.write_buffer_bytes);
    service.add_listener(ListenerConfig::tcp(edge.listen.to_string()).l4_buffer(buffers));
    if let Some(tls) = &edge.tls {
        // Both paths were checked to be UTF-8 with the config.
        let cert = tls.cert.to_string_lossy();
        let key = tls.key.to_string_lossy();
        match TlsListener::intermediate(&cert, &key) {
            Ok(mut settings) => {
                settings.enable_h2();
                service.add_listener(
                    ListenerConfig::tcp(tls.listen.to_string())
                        .tls(settings)
                        .l4_buffer(buffers),
                );
                tracing::info!(listen = %tls.listen, "edge serving HTTPS (TLS 1.2+, h2 and HTTP/1.1)");
            }
            Err(error) => {
                tracing::error!(%error, "edge.tls: cannot set up TLS");
                std::process::exit(1);
            }
        }
    }
    server.add_service(service);
    server.add_service(pingora::services::background::background_service(
        "routing table",
        refresh,
    ));
    server.add_service(pingora::services::background::background_service(
        "cell health checks",
        checks,
    ));
    tracing::info!(listen = %edge.listen, "edge ready to serve");
    server.run_forever()
}
