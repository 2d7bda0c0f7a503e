//! The command line: `envatlas [serve] …`, `envatlas sample …`, `envatlas import …`.

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
    /// 导入文件到图层 Import a GeoJSON, CSV, Shapefile or GeoPackage file into a layer of the store.
    Import(ImportArgs),
    /// 模拟 HJ 212 设备 Simulate HJ 212-2017 devices of the sample stations (demos, load tests).
    Simulate(SimulateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// The server's HJ 212 listener, HOST:PORT
    #[arg(long = "hj212")]
    pub hj212: String,
    /// How many sample stations to simulate (the first N with an MN)
    #[arg(long, default_value_t = 10)]
    pub stations: usize,
    /// Seconds between real-time uploads of a station; 0 sends as fast as replies allow
    #[arg(long, default_value_t = 30.0)]
    pub interval: f64,
    /// Data directory whose monitoring_stations.geojson names the stations and MNs
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Stop after this many seconds (default: until interrupted; 10 s with --interval 0)
    #[arg(long)]
    pub duration: Option<f64>,
    /// TCP connections the stations share
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
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

/// `envatlas import FILE --layer ID …`
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// 要导入的文件 File to import: GeoJSON (.geojson/.json), CSV with lon/lat columns (.csv), ESRI Shapefile (.shp with .dbf/.prj/.cpg), GeoPackage (.gpkg)
    pub file: PathBuf,
    /// 目标图层 Target layer id (e.g. pollution_sources)
    #[arg(long)]
    pub layer: String,
    /// 根据文件新建图层（推断字段类型） Create the layer, its schema inferred from the file
    #[arg(long)]
    pub create: bool,
    /// 作为要素 id 的字段；再次导入时按此更新 Field holding the feature id; re-imports update by it (no duplicates)
    #[arg(long)]
    pub id_field: Option<String>,
    /// 坐标系 Coordinates: EPSG:4326 (WGS84), EPSG:4490 (CGCS2000) or gcj02 (converted to WGS84) [default: what the file declares, else EPSG:4326]
    #[arg(long, value_parser = parse_crs)]
    pub crs: Option<crate::import::Crs>,
    /// 经度列 CSV longitude column [default: detected: lon, lng, longitude, x, 经度 …]
    #[arg(long)]
    pub lon_field: Option<String>,
    /// 纬度列 CSV latitude column [default: detected: lat, latitude, y, 纬度 …]
    #[arg(long)]
    pub lat_field: Option<String>,
    /// 文本编码 Text encoding of CSV/DBF: gbk or utf-8 [default: a Shapefile's .cpg, else detected]
    #[arg(long, value_parser = parse_encoding)]
    pub encoding: Option<crate::import::TextEncoding>,
    /// 跳过无效记录（仍然报告） Import the valid records, skipping (and still reporting) invalid ones
    #[arg(long)]
    pub skip_invalid: bool,
    /// 只检查并报告，不写入 Check and report only; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// 嵌入式存储所在目录 Data directory of the embedded store [default: ./data]
    #[arg(long, conflicts_with = "database_url")]
    pub data_dir: Option<PathBuf>,
    /// PostGIS 数据库 PostgreSQL/PostGIS URL (the PostGIS store)
    #[arg(long)]
    pub database_url: Option<String>,
    /// 配置文件 Configuration file [default: ./envatlas.toml when present]
    #[arg(long)]
    pub config: Option<PathBuf>,
}

fn parse_crs(text: &str) -> Result<crate::import::Crs, String> {
    crate::import::Crs::from_flag(text)
        .ok_or_else(|| format!("'{text}' is not EPSG:4326, EPSG:4490 or gcj02"))
}

fn parse_encoding(text: &str) -> Result<crate::import::TextEncoding, String> {
    crate::import::TextEncoding::from_label(text)
        .ok_or_else(|| format!("'{text}' is not gbk or utf-8"))
}

impl ImportArgs {
    /// The store to open: the same flags, environment and config file as `serve`.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            ..Overrides::default()
        }
    }

    pub fn options(&self) -> crate::import::ImportOptions {
        let mut o = crate::import::ImportOptions::new(&self.file, &self.layer);
        o.create = self.create;
        o.id_field = self.id_field.clone();
        o.crs = self.crs;
        o.lon_field = self.lon_field.clone();
        o.lat_field = self.lat_field.clone();
        o.encoding = self.encoding;
        o.skip_invalid = self.skip_invalid;
        o.dry_run = self.dry_run;
        o
    }
}
