//! The command line: `envatlas [serve] …`, `envatlas sample …`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Overrides;

/// envatlas — 环境空间决策支持服务 / spatial decision support for environmental protection bureaus.
#[derive(Debug, Parser)]
#[command(name = "envatlas", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `serve`, which runs when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the atlas: web map, OGC API, tiles and analysis (the default).
    Serve(ServeArgs),
    /// Write a deterministic sample data directory (the committed one is `--seed 42 --scale 1 --out data`).
    Sample(SampleArgs),
}

#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long)]
    pub listen: Option<String>,
    /// Data directory: sample data, and the embedded store's file [default: ./data]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL/PostGIS URL; uses the PostGIS store instead of the embedded one
    #[arg(long)]
    pub database_url: Option<String>,
    /// Start with the layers defined but empty (do not seed from the data directory)
    #[arg(long)]
    pub no_sample: bool,
    /// Address of the HJ 212-2017 TCP listener (off when not given)
    #[arg(long)]
    pub hj212_listen: Option<String>,
    /// Configuration file [default: ./envatlas.toml when present]
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl ServeArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config: self.config.clone(),
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            no_sample: self.no_sample,
            hj212_listen: self.hj212_listen.clone(),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct SampleArgs {
    /// Random seed; the same seed gives byte-identical files
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Multiplies the synthetic features (1 = Yibin only; more spread over China)
    #[arg(long, default_value_t = 1)]
    pub scale: u32,
    /// Days of hourly readings for the sample's stations
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Output directory
    #[arg(long)]
    pub out: PathBuf,
}
