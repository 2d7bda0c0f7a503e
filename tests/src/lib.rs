//! Helpers for envatlas's integration tests: start a real server on a free port
//! over a temporary copy of the sample data directory, with the embedded store
//! or (see [`postgis`]) a throwaway PostGIS database.
#![forbid(unsafe_code)]

pub mod hj212;
pub mod http;
pub mod postgis;

pub use postgis::TestDatabase;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use envatlas_server::app;
use envatlas_server::config::Config;

/// The repository's sample data directory.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("data")
}

/// A running server. Dropping it stops the server and removes its data directory.
pub struct TestServer {
    pub base_url: String,
    pub addr: std::net::SocketAddr,
    pub data_dir: tempfile::TempDir,
    /// The running server's state, for in-process changes (e.g. applying a layer change).
    pub state: app::AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The server's own PostGIS database, dropped after the server has stopped.
    database: Option<TestDatabase>,
}

impl TestServer {
    /// A second handle on the running server's own store, as another process
    /// (an import, another instance) would open it.
    pub async fn open_store(&self) -> anyhow::Result<Box<dyn envatlas_server::store::Store>> {
        use envatlas_server::store::{postgis::PostgisStore, sqlite::SqliteStore};
        let config = &self.state.config;
        Ok(match &config.database_url {
            Some(url) => Box::new(PostgisStore::open(url).await?),
            None => Box::new(SqliteStore::open(&config.database_path()).await?),
        })
    }

    /// Starts a server seeded from a copy of the sample data.
    pub fn start() -> anyhow::Result<TestServer> {
        Self::start_with(|_| {})
    }

    /// Starts a server after `adjust` has changed its configuration. The server
    /// runs on its own thread and runtime, so it outlives any one test's runtime.
    pub fn start_with(adjust: impl FnOnce(&mut Config)) -> anyhow::Result<TestServer> {
        let data_dir = tempfile::tempdir()?;
        copy_sample(&sample_dir(), data_dir.path())?;
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: data_dir.path().to_path_buf(),
            ..Config::default()
        };
        adjust(&mut config);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(anyhow::anyhow!("runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                let started = async {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                    let addr = listener.local_addr()?;
                    let state = app::start(config).await?;
                    anyhow::Ok((listener, addr, state))
                };
                match started.await {
                    Ok((listener, addr, state)) => {
                        let _ = ready_tx.send(Ok((addr, state.clone())));
                        let _ = app::run(listener, state, async {
                            let _ = stop_rx.await;
                        })
                        .await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        });
        let (addr, state) = ready_rx.recv()??;
        Ok(TestServer {
            base_url: format!("http://{addr}"),
            addr,
            data_dir,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
            database: None,
        })
    }

    /// Starts a server on the PostGIS store, over a database of its own
    /// (see [`TestDatabase`]) seeded from a copy of the sample data.
    pub fn start_postgis() -> anyhow::Result<TestServer> {
        Self::start_postgis_with(|_| {})
    }

    /// [`TestServer::start_postgis`] after `adjust` has changed the configuration.
    pub fn start_postgis_with(adjust: impl FnOnce(&mut Config)) -> anyhow::Result<TestServer> {
        let database = TestDatabase::create()?;
        let url = database.url.clone();
        let mut server = Self::start_with(move |config| {
            config.database_url = Some(url);
            adjust(config);
        })?;
        server.database = Some(database);
        Ok(server)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One server shared by all tests of a test binary (seeding once is much
/// faster than once per test). It lives until the process exits.
pub fn shared_server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| match TestServer::start() {
        Ok(s) => s,
        Err(e) => panic!("cannot start the shared test server: {e:#}"),
    })
}

/// Every feature's `(id, fid)`, layer by layer in catalog order.
pub fn all_fids(state: &app::AppState) -> Vec<(String, i64)> {
    state
        .atlas
        .layers()
        .iter()
        .flat_map(|l| {
            l.features()
                .iter()
                .map(|f| (f.id.to_string(), f.fid))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Copies the layers and readings of a data directory (not its store file).
pub fn copy_sample(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to.join("layers"))?;
    for entry in std::fs::read_dir(from.join("layers"))? {
        let entry = entry?;
        std::fs::copy(entry.path(), to.join("layers").join(entry.file_name()))?;
    }
    let readings = from.join("readings.csv.gz");
    if readings.exists() {
        std::fs::copy(readings, to.join("readings.csv.gz"))?;
    }
    Ok(())
}

/// Blocking HTTP GET returning status, content type and body text.
pub fn get(url: &str) -> anyhow::Result<(u16, String, String)> {
    let response = reqwest::blocking::get(url)?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    Ok((status, content_type, response.text()?))
}

/// Blocking GET of a JSON document.
pub fn get_json(url: &str) -> anyhow::Result<(u16, serde_json::Value)> {
    let (status, _, body) = get(url)?;
    Ok((status, serde_json::from_str(&body)?))
}

/// Blocking GET with request headers; returns status, response headers and raw bytes.
pub fn get_bytes(
    url: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<(u16, reqwest::header::HeaderMap, Vec<u8>)> {
    let client = reqwest::blocking::Client::new();
    let mut request = client.get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send()?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    Ok((status, headers, response.bytes()?.to_vec()))
}

/// Whether tests must not skip for a missing tool or service (`CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The store a server under test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Embedded,
    Postgis,
}

impl TestServer {
    /// Starts a server on the given store (PostGIS: a database of its own).
    pub fn start_on(
        kind: StoreKind,
        adjust: impl FnOnce(&mut Config),
    ) -> anyhow::Result<TestServer> {
        match kind {
            StoreKind::Embedded => Self::start_with(adjust),
            StoreKind::Postgis => Self::start_postgis_with(adjust),
        }
    }

    /// Starts a server on an existing database (several servers may share
    /// it); the caller keeps the database alive.
    pub fn start_on_database(
        url: &str,
        adjust: impl FnOnce(&mut Config),
    ) -> anyhow::Result<TestServer> {
        let url = url.to_string();
        Self::start_with(move |config| {
            config.database_url = Some(url);
            adjust(config);
        })
    }
}

/// One PostGIS-backed server shared by all tests of a test binary (see
/// [`TestServer::start_for_static`]).
pub fn shared_postgis_server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        TestServer::start_for_static(StoreKind::Postgis, |_| {})
            .unwrap_or_else(|e| panic!("cannot start the shared PostGIS test server: {e:#}"))
    })
}

impl TestServer {
    /// A server meant to live in a `static` (shared by a binary's tests). On
    /// PostGIS its database is named `envatlas_shared_<pid>_…`: statics are
    /// never dropped, so the database outlives the process, and this first
    /// drops the shared databases of processes that are gone.
    pub fn start_for_static(
        kind: StoreKind,
        adjust: impl FnOnce(&mut Config),
    ) -> anyhow::Result<TestServer> {
        if kind == StoreKind::Embedded {
            return Self::start_with(adjust);
        }
        postgis::drop_stale_shared_databases()?;
        let database = TestDatabase::create_shared()?;
        let mut server = Self::start_on_database(&database.url, adjust)?;
        server.database = Some(database);
        Ok(server)
    }
}

/// The shared server of a store kind ([`shared_server`] or [`shared_postgis_server`]).
pub fn shared_server_on(kind: StoreKind) -> &'static TestServer {
    match kind {
        StoreKind::Embedded => shared_server(),
        StoreKind::Postgis => shared_postgis_server(),
    }
}

/// A blocking request with any method; returns status, headers and the body text.
pub fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> anyhow::Result<(u16, reqwest::header::HeaderMap, String)> {
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()?;
    let method = reqwest::Method::from_bytes(method.as_bytes())?;
    let mut request = client.request(method, url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/geo+json")
            .body(body.to_string());
    }
    let response = request.send()?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    Ok((status, headers, response.text()?))
}

/// Polls `check` every 50 ms until it returns `Some` or `timeout` passes.
pub fn poll_until<T>(
    timeout: std::time::Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<(T, std::time::Duration)> {
    let started = std::time::Instant::now();
    loop {
        if let Some(v) = check() {
            return Some((v, started.elapsed()));
        }
        if started.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
