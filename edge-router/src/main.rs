use std::process::ExitCode;

use edge_router::config::Config;
use edge_router::startup;
use settings::Settings;

/// mimalloc rather than glibc's malloc: a proxy allocates and frees small
/// buffers on every request, and glibc's arena locks showed up as ~10% of the
/// edge's CPU under load (docs/RUNBOOK.md, "Measure the edge against nginx").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let prepared = Config::load()
        .map_err(anyhow::Error::from)
        .and_then(|config| {
            telemetry::init(&config.log)?;
            let (proxy, refresh, checks) = startup::prepare(&config)?;
            Ok((config, proxy, refresh, checks))
        });
    match prepared {
        Ok((config, proxy, refresh, checks)) => startup::run(&config, proxy, refresh, checks),
        Err(error) => {
            eprintln!("edge-router: {error:#}");
            ExitCode::FAILURE
        }
    }
}
