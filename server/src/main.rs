//! The `envatlas` binary: parse the command line, then hand over to the library.
#![forbid(unsafe_code)]

use anyhow::Context;
use clap::Parser;
use envatlas_server::cli::{Cli, Command, ImportArgs, ServeArgs};
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
        Some(Command::Import(args)) => import(args).await,
        Some(Command::Simulate(args)) => {
            let options = envatlas_server::monitoring::simulate::SimulateOptions {
                target: args.hj212,
                stations: args.stations,
                interval_s: args.interval,
                data_dir: args.data_dir,
                duration_s: args.duration,
                connections: args.connections,
                seed: args.seed,
            };
            let report = envatlas_server::monitoring::simulate::run(&options)
                .await
                .context("simulating HJ 212 devices")?;
            println!("{report}");
            if report.replies < report.packets {
                anyhow::bail!(
                    "{} upload(s) were not acknowledged",
                    report.packets - report.replies
                );
            }
            Ok(())
        }
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

/// `envatlas import`: prints the report; fails (non-zero exit) when nothing
/// could be imported or invalid records stopped the import.
async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.overrides()).context("loading the configuration")?;
    let store = app::open_store(&config)
        .await
        .context("opening the store")?;
    let options = args.options();
    let report = envatlas_server::import::run(
        store.as_ref(),
        &options,
        &envatlas_server::import::Progress::terminal(),
    )
    .await
    .with_context(|| format!("importing {}", options.file.display()))?;
    print!("{report}");
    if report.aborted() {
        anyhow::bail!(
            "{} invalid record(s): nothing was imported",
            report.problems.len()
        );
    }
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
