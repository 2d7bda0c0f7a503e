//! One validated [`Config`]: command line > environment > config file > defaults.
//!
//! The config file (`--config FILE`, `ENVATLAS_CONFIG`, else `./envatlas.toml`
//! when present) uses the long flag names with `_` and sections such as
//! `[limits]`; an unknown key is an error naming it. Environment variables are
//! `ENVATLAS_` + the key in capitals, sections joined with `__`
//! (`ENVATLAS_LIMITS__MAX_DISTANCE_M`); only variables of known keys are read, so
//! `ENVATLAS_TEST_DATABASE_URL` and plain `DATABASE_URL` are never picked up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Keys without a default (so absent from a serialised default config) and
/// always strings.
const OPTIONAL_STRING_KEYS: [&str; 3] = ["database_url", "hj212_listen", "write_token"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    File { path: String, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The whole configuration. Field names are the config-file keys.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: String,
    /// The sample data directory, and the embedded store's home (`envatlas.db`).
    pub data_dir: PathBuf,
    /// A PostgreSQL/PostGIS URL; when set, the PostGIS store is used.
    pub database_url: Option<String>,
    /// Start with the layers defined but empty.
    pub no_sample: bool,
    /// Address of the HJ 212-2017 TCP listener; off when unset.
    pub hj212_listen: Option<String>,
    /// Bearer token for writes; writes are refused (403) when unset.
    pub write_token: Option<String>,
    pub limits: Limits,
    pub http: Http,
    pub tiles: Tiles,
    /// `[rivers]`: the river network and flow velocities.
    pub rivers: crate::analysis::river::RiversConfig,
    /// `[analysis]`: risk radius and score weights.
    pub analysis: crate::analysis::risk::AnalysisConfig,
    pub monitoring: Monitoring,
    pub hj212: Hj212,
    pub web: Web,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets: the token, or a password inside the database URL.
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field("no_sample", &self.no_sample)
            .field("hj212_listen", &self.hj212_listen)
            .field("write_token", &self.write_token.as_ref().map(|_| "<set>"))
            .field("limits", &self.limits)
            .field("http", &self.http)
            .field("tiles", &self.tiles)
            .field("rivers", &self.rivers)
            .field("analysis", &self.analysis)
            .field("monitoring", &self.monitoring)
            .field("hj212", &self.hj212)
            .field("web", &self.web)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            database_url: None,
            no_sample: false,
            hj212_listen: None,
            write_token: None,
            limits: Limits::default(),
            http: Http::default(),
            tiles: Tiles::default(),
            rivers: Default::default(),
            analysis: Default::default(),
            monitoring: Monitoring::default(),
            hj212: Hj212::default(),
            web: Web::default(),
        }
    }
}

/// Request limits; each is named in the 400 it causes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Items per page when `limit` is not given.
    pub items_default: usize,
    /// Largest `limit` honoured; larger values are clamped.
    pub items_max: usize,
    pub max_distance_m: f64,
    pub max_results: usize,
    pub max_trace_m: f64,
    pub max_body_bytes: usize,
    pub max_vertices: usize,
    pub max_zoom: u8,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            items_default: 100,
            items_max: 10_000,
            max_distance_m: 100_000.0,
            max_results: 10_000,
            max_trace_m: 1_000_000.0,
            max_body_bytes: 2 * 1024 * 1024,
            max_vertices: 10_000,
            max_zoom: 22,
        }
    }
}

/// HTTP serving options.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    /// Seconds to wait for in-flight requests on shutdown.
    pub shutdown_grace_s: u64,
}

impl Default for Http {
    fn default() -> Self {
        Self {
            shutdown_grace_s: 10,
        }
    }
}

/// Vector tile serving.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Tiles {
    /// Memory for cached tiles, in MB.
    pub cache_mb: usize,
    /// The `Cache-Control` header of tile responses.
    pub cache_control: String,
}

impl Default for Tiles {
    fn default() -> Self {
        Self {
            cache_mb: 256,
            cache_control: "public, max-age=60".into(),
        }
    }
}

/// The web map's options. The map is fully offline by default; a basemap URL
/// (XYZ template with `{z}`, `{x}`, `{y}`, a key inside it if the provider needs
/// one) adds a raster layer under our own layers, fetched by the browser.
/// Empty strings mean unset (so `ENVATLAS_WEB__BASEMAP_URL` works like any key).
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Web {
    pub basemap_url: String,
    pub basemap_attribution: String,
}

impl std::fmt::Debug for Web {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry an API key: say only whether it is set.
        f.debug_struct("Web")
            .field(
                "basemap_url",
                &(!self.basemap_url.is_empty()).then_some("<set>"),
            )
            .field("basemap_attribution", &self.basemap_attribution)
            .finish()
    }
}

/// Online monitoring (`[monitoring]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Monitoring {
    /// Readings (and closed exceedances, quarantined uploads) older than this are
    /// deleted, checked hourly; 0 keeps everything.
    pub retention_days: u64,
    /// A station that has reported and is silent this long is `offline`.
    pub offline_after_s: u64,
    /// Most readings one group commit writes.
    pub max_batch: usize,
}

impl Default for Monitoring {
    fn default() -> Self {
        Self {
            retention_days: 400,
            offline_after_s: 7200,
            max_batch: 50_000,
        }
    }
}

/// The HJ 212-2017 TCP listener (`[hj212]`; the address is `hj212_listen`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Hj212 {
    /// `lenient` (accepts what deployed devices send, counted) or `strict`.
    pub mode: String,
    /// The offset of `DataTime` and `QN`, `+08:00` (Beijing) by default.
    pub timezone: String,
    /// A connection silent this long is closed.
    pub idle_timeout_s: u64,
    /// Connections beyond this are refused (closed at once).
    pub max_connections: usize,
}

impl Default for Hj212 {
    fn default() -> Self {
        Self {
            mode: "lenient".into(),
            timezone: "+08:00".into(),
            idle_timeout_s: 300,
            max_connections: 1024,
        }
    }
}

/// Values given on the command line; `None` leaves lower layers in charge.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub no_sample: bool,
    pub hj212_listen: Option<String>,
}

impl Config {
    /// Builds the configuration from the command line, the process environment
    /// and the config file.
    pub fn load(cli: &Overrides) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(cli, &env)
    }

    /// As [`Config::load`], with the environment given (for tests).
    pub fn load_from(cli: &Overrides, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let env_value = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let file = cli
            .config
            .clone()
            .or_else(|| env_value("ENVATLAS_CONFIG").map(PathBuf::from))
            .or_else(|| Some(PathBuf::from("envatlas.toml")).filter(|p| p.exists()));
        let mut table = match &file {
            Some(path) => read_file(path)?,
            None => toml::Table::new(),
        };
        merge(&mut table, env_table(env)?);
        let mut config: Config = Config::deserialize(toml::Value::Table(table)).map_err(|e| {
            let message = e.message().to_string();
            match &file {
                Some(path) => ConfigError::File {
                    path: path.display().to_string(),
                    message,
                },
                None => ConfigError::Invalid(message),
            }
        })?;
        config.apply(cli);
        config.validate()?;
        Ok(config)
    }

    fn apply(&mut self, cli: &Overrides) {
        if let Some(v) = &cli.listen {
            self.listen = v.clone();
        }
        if let Some(v) = &cli.data_dir {
            self.data_dir = v.clone();
        }
        if let Some(v) = &cli.database_url {
            self.database_url = Some(v.clone());
        }
        if let Some(v) = &cli.hj212_listen {
            self.hj212_listen = Some(v.clone());
        }
        self.no_sample |= cli.no_sample;
    }

    /// Checks values that types alone do not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if self.listen.parse::<SocketAddr>().is_err() {
            return invalid(format!(
                "listen: '{}' is not an address like 127.0.0.1:8080",
                self.listen
            ));
        }
        if !matches!(self.hj212.mode.as_str(), "lenient" | "strict") {
            return invalid(format!(
                "hj212.mode: '{}' is not lenient or strict",
                self.hj212.mode
            ));
        }
        if crate::monitoring::hj212::time::parse_offset(&self.hj212.timezone).is_err() {
            return invalid(format!(
                "hj212.timezone: '{}' is not an offset like +08:00",
                self.hj212.timezone
            ));
        }
        if self.monitoring.offline_after_s == 0 || self.monitoring.max_batch == 0 {
            return invalid(
                "monitoring.offline_after_s and monitoring.max_batch must be positive".into(),
            );
        }
        if let Some(a) = &self.hj212_listen {
            if a.parse::<SocketAddr>().is_err() {
                return invalid(format!(
                    "hj212_listen: '{a}' is not an address like 0.0.0.0:9212"
                ));
            }
        }
        let l = &self.limits;
        if l.items_default == 0 || l.items_default > l.items_max {
            return invalid("limits.items_default must be between 1 and limits.items_max".into());
        }
        if l.max_zoom > 22 {
            return invalid("limits.max_zoom must be at most 22".into());
        }
        if !(l.max_distance_m > 0.0 && l.max_trace_m > 0.0) {
            return invalid("limits.max_distance_m and limits.max_trace_m must be positive".into());
        }
        let url = &self.web.basemap_url;
        if !url.is_empty() {
            let template = url.contains("{z}") && url.contains("{x}") && url.contains("{y}");
            if !(url.starts_with("http://") || url.starts_with("https://")) || !template {
                return invalid(
                    "web.basemap_url must be an http(s) XYZ template with {z}, {x} and {y}".into(),
                );
            }
        }
        self.rivers.validate().map_err(ConfigError::Invalid)?;
        self.analysis.validate().map_err(ConfigError::Invalid)?;
        if self
            .write_token
            .as_deref()
            .is_some_and(|t| t.trim().is_empty())
        {
            return invalid("write_token must not be empty".into());
        }
        Ok(())
    }

    /// The embedded store's file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("envatlas.db")
    }
}

fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    text.parse::<toml::Table>().map_err(|e| ConfigError::File {
        path: path.display().to_string(),
        message: e.message().to_string(),
    })
}

/// Overlays `top` on `base`, section by section.
fn merge(base: &mut toml::Table, top: toml::Table) {
    for (key, value) in top {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(t)) => merge(b, t),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

/// The `ENVATLAS_*` variables of known keys, typed like the defaults.
fn env_table(env: &[(String, String)]) -> Result<toml::Table, ConfigError> {
    let defaults = toml::Table::try_from(Config::default())
        .map_err(|e| ConfigError::Invalid(format!("default configuration: {e}")))?;
    let mut table = toml::Table::new();
    for (var, raw) in env {
        let Some(key) = var.strip_prefix("ENVATLAS_") else {
            continue;
        };
        let path: Vec<String> = key.to_lowercase().split("__").map(str::to_string).collect();
        let typed = match path.as_slice() {
            [k] if OPTIONAL_STRING_KEYS.contains(&k.as_str()) => {
                Some(toml::Value::String(raw.clone()))
            }
            [k] => defaults
                .get(k)
                .filter(|d| !d.is_table())
                .map(|d| typed_like(d, raw, var))
                .transpose()?,
            [section, k] => defaults
                .get(section)
                .and_then(toml::Value::as_table)
                .and_then(|s| s.get(k))
                .map(|d| typed_like(d, raw, var))
                .transpose()?,
            _ => None,
        };
        let Some(value) = typed else { continue };
        match path.as_slice() {
            [k] => {
                table.insert(k.clone(), value);
            }
            [section, k] => {
                let entry = table
                    .entry(section.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let toml::Value::Table(t) = entry {
                    t.insert(k.clone(), value);
                }
            }
            _ => {}
        }
    }
    Ok(table)
}

fn typed_like(default: &toml::Value, raw: &str, var: &str) -> Result<toml::Value, ConfigError> {
    let bad = |what: &str| ConfigError::Env {
        var: var.to_string(),
        message: format!("'{raw}' is not {what}"),
    };
    Ok(match default {
        toml::Value::Integer(_) => {
            toml::Value::Integer(raw.trim().parse().map_err(|_| bad("an integer"))?)
        }
        toml::Value::Float(_) => {
            toml::Value::Float(raw.trim().parse().map_err(|_| bad("a number"))?)
        }
        toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err(bad("true or false")),
        }),
        _ => toml::Value::String(raw.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::load_from(&Overrides::default(), &[]).expect("defaults");
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.limits.items_max, 10_000);
    }

    #[test]
    fn command_line_beats_environment_beats_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("envatlas.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1\"\ndata_dir = \"from-file\"\n[limits]\nitems_max = 500\n",
        )
        .expect("write");
        let cli = Overrides {
            config: Some(file),
            listen: Some("127.0.0.1:3".into()),
            ..Overrides::default()
        };
        let vars = env(&[
            ("ENVATLAS_LISTEN", "127.0.0.1:2"),
            ("ENVATLAS_LIMITS__MAX_DISTANCE_M", "5000"),
            ("ENVATLAS_TEST_DATABASE_URL", "postgres://elsewhere"),
            ("DATABASE_URL", "postgres://other-tool"),
        ]);
        let c = Config::load_from(&cli, &vars).expect("config");
        assert_eq!(c.listen, "127.0.0.1:3");
        assert_eq!(c.data_dir, PathBuf::from("from-file"));
        assert_eq!(c.limits.items_max, 500);
        assert_eq!(c.limits.max_distance_m, 5000.0);
        assert_eq!(
            c.database_url, None,
            "never reads DATABASE_URL or test variables"
        );
    }

    #[test]
    fn unknown_file_keys_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("x.toml");
        std::fs::write(&file, "[limits]\nmax_distanse_m = 1\n").expect("write");
        let cli = Overrides {
            config: Some(file),
            ..Overrides::default()
        };
        let err = Config::load_from(&cli, &[])
            .expect_err("unknown key")
            .to_string();
        assert!(err.contains("max_distanse_m"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let err = Config::load_from(
            &Overrides::default(),
            &env(&[("ENVATLAS_LIMITS__ITEMS_MAX", "lots")]),
        )
        .expect_err("bad number")
        .to_string();
        assert!(err.contains("ENVATLAS_LIMITS__ITEMS_MAX"), "{err}");
        let cli = Overrides {
            listen: Some("nowhere".into()),
            ..Overrides::default()
        };
        assert!(Config::load_from(&cli, &[]).is_err());
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = Config {
            write_token: Some("s3cret".into()),
            database_url: Some("postgres://u:pw@h/db".into()),
            ..Config::default()
        };
        let text = format!("{c:?}");
        assert!(!text.contains("s3cret") && !text.contains("pw@"));
    }

    #[test]
    fn web_basemap_is_off_by_default_and_validated() {
        assert_eq!(Config::default().web.basemap_url, "");
        let vars = |url: &str| env(&[("ENVATLAS_WEB__BASEMAP_URL", url)]);
        let ok = "https://tiles.example/{z}/{x}/{y}.png?key=k3y";
        let c = Config::load_from(&Overrides::default(), &vars(ok)).expect("valid basemap");
        assert_eq!(c.web.basemap_url, ok);
        assert!(!format!("{c:?}").contains("k3y"));
        for bad in ["https://tiles.example/tile.png", "file:///{z}/{x}/{y}"] {
            assert!(Config::load_from(&Overrides::default(), &vars(bad)).is_err());
        }
    }
}
