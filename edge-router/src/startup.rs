//! From config to a running pingora server.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;
use pingora::prelude::*;
use pingora::server::configuration::ServerConf;
use topology::Topology;

use crate::config::Config;
use crate::metrics::EdgeMetrics;
use crate::proxy::EdgeProxy;
use crate::routing::RoutingTable;

/// Checks everything that can be checked before pingora takes over the
/// process: the topology parses and the listen address is free.
pub fn prepare(config: &Config) -> anyhow::Result<EdgeProxy> {
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
    let table = RoutingTable::from_topology(&topology)
        .context("edge.topology: the routing table is not valid")?;
    tracing::info!(
        cells = table.cell_count(),
        version = table.version(),
        topology = %edge.topology.display(),
        "routing table loaded"
    );
    Ok(EdgeProxy {
        table: Arc::new(ArcSwap::from_pointee(table)),
        metrics: EdgeMetrics::new()?,
        static_dir: edge.static_dir.clone(),
        connect_timeout: Duration::from_millis(edge.upstream_connect_timeout_ms),
        read_timeout: Duration::from_millis(edge.upstream_read_timeout_ms),
        secure_cookies: edge.secure_cookies,
    })
}

fn load_topology(path: &Path) -> anyhow::Result<Topology> {
    Topology::load(path)
        .with_context(|| "edge.topology: the routing table cannot be seeded".to_owned())
}

/// Runs the proxy until SIGTERM (graceful: stop accepting, finish what is in
/// flight) or SIGINT (fast). Never returns.
pub fn run(config: &Config, proxy: EdgeProxy) -> ! {
    let edge = &config.edge;
    let conf = ServerConf {
        threads: edge.threads,
        grace_period_seconds: Some(edge.grace_period_s),
        graceful_shutdown_timeout_seconds: Some(edge.graceful_shutdown_timeout_s),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut service = http_proxy_service(&server.configuration, proxy);
    service.add_tcp(&edge.listen.to_string());
    server.add_service(service);
    tracing::info!(listen = %edge.listen, "edge ready to serve");
    server.run_forever()
}
