use std::process::ExitCode;

use cell::Config;
use chassis::config::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line a person can act on; the JSON logs have the detail.
            eprintln!("cell: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let config = Config::load()?;
    telemetry::init(&config.log)?;
    let app = cell::startup::build(config).await?;
    app.run_until(chassis::serve::signal()).await
}
