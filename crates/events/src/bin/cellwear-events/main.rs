//! `cellwear-events`: operator tools for the event backbone, run through
//! `cargo xtask events …` and `cargo xtask bench events`.

mod bench;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cellwear-events", about = "Operate Cellwear's event backbone")]
struct Cli {
    /// Kafka bootstrap servers.
    #[arg(long, global = true, default_value = "127.0.0.1:19092")]
    brokers: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a topic's messages as JSON lines.
    Tail {
        topic: String,
        /// Start at the oldest message instead of the next new one.
        #[arg(long)]
        from_beginning: bool,
        /// Stop after this many messages.
        #[arg(long)]
        limit: Option<usize>,
        /// Stop after this long without a message.
        #[arg(long, default_value_t = 10_000)]
        idle_ms: u64,
    },
    /// Publish the dead letters of <topic> (from <topic>.dlq) back to it.
    ReplayDlq {
        topic: String,
        /// Stop after this long without a message.
        #[arg(long, default_value_t = 5_000)]
        idle_ms: u64,
    },
    /// Outbox → broker → consumer latency and throughput.
    Bench(bench::Options),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Tail {
            topic,
            from_beginning,
            limit,
            idle_ms,
        } => {
            let mut out = std::io::stdout().lock();
            events::tools::tail(
                &cli.brokers,
                &topic,
                from_beginning,
                limit,
                Duration::from_millis(idle_ms),
                &mut out,
            )
            .await
            .map(|count| eprintln!("{count} messages"))
        }
        Command::ReplayDlq { topic, idle_ms } => {
            events::tools::replay_dead_letters(&cli.brokers, &topic, Duration::from_millis(idle_ms))
                .await
                .map(|count| {
                    eprintln!(
                        "re-drove {count} dead letters from {}.dlq to their topics",
                        topic
                    )
                })
        }
        Command::Bench(options) => bench::run(&cli.brokers, options).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cellwear-events: {error:#}");
            ExitCode::FAILURE
        }
    }
}
