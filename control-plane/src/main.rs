use std::process::ExitCode;

use chassis::config::Settings;
use control_plane::Config;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line a person can act on; the JSON logs have the detail.
            eprintln!("control-plane: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let config = Config::load()?;
    telemetry::init(&config.log)?;
    let app = control_plane::build(config).await?;
    app.run_until(chassis::serve::signal()).await
}
