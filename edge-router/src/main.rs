use std::process::ExitCode;

use edge_router::config::Config;
use edge_router::startup;
use settings::Settings;

fn main() -> ExitCode {
    let prepared = Config::load()
        .map_err(anyhow::Error::from)
        .and_then(|config| {
            telemetry::init(&config.log)?;
            let proxy = startup::prepare(&config)?;
            Ok((config, proxy))
        });
    match prepared {
        Ok((config, proxy)) => startup::run(&config, proxy),
        Err(error) => {
            eprintln!("edge-router: {error:#}");
            ExitCode::FAILURE
        }
    }
}
