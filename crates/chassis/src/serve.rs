//! Serving a router until a shutdown signal, then draining in-flight requests
//! for at most a grace period.

use std::future::{Future, IntoFuture};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Binds `host:port` (port 0 picks one) with an error that says which address
/// was taken.
pub async fn bind(host: &str, port: u16) -> anyhow::Result<TcpListener> {
    TcpListener::bind((host, port)).await.map_err(|error| {
        anyhow::anyhow!("cannot listen on {host}:{port} (http.host / http.port): {error}")
    })
}

/// Serves until `shutdown` resolves, then stops accepting connections and
/// waits up to `grace` for the requests in flight to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (fired_tx, fired_rx) = oneshot::channel::<()>();
    let server = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = fired_tx.send(());
        })
        .into_future();
    tokio::pin!(server);
    tokio::select! {
        finished = &mut server => return finished,
        _ = fired_rx => {}
    }
    tracing::info!(
        grace_ms = grace.as_millis() as u64,
        "shutting down: no new connections, draining requests in flight"
    );
    match tokio::time::timeout(grace, server).await {
        Ok(finished) => finished,
        Err(_) => {
            tracing::warn!(
                grace_ms = grace.as_millis() as u64,
                "requests still in flight after the grace period were dropped"
            );
            Ok(())
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => tracing::info!(signal = "SIGINT", "shutdown requested"),
        () = terminate => tracing::info!(signal = "SIGTERM", "shutdown requested"),
    }
}
