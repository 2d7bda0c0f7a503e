//! The `envatlas` binary: parse the command line, then hand over to the library.
#![forbid(unsafe_code)]

use anyhow::Context;
use clap::Parser;
use envatlas_server::cli::{Cli, Command, ServeArgs};
use envatlas_server::config::Config;
use envatlas_server::{app, sample};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::Sample(args)) => {
            let options = sample::SampleOptions {
                seed: args.seed,
                scale: args.scale,
                days: args.days,
            };
            let summary = sample::generate(&options, &args.out)
                .with_context(|| format!("writing the sample to {}", args.out.display()))?;
            for (layer, count) in &summary.counts {
                println!("{layer}: {count}");
            }
            println!("readings: {}", summary.readings);
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.overrides()).context("loading the configuration")?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let state = app::start(config).await.context("starting the atlas")?;
    tracing::info!("envatlas serving on http://{}", listener.local_addr()?);
    app::run(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
