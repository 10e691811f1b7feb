use std::process::ExitCode;

use edge_router::config::Config;
use edge_router::startup;
use settings::Settings;

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
