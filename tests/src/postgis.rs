//! A throwaway PostGIS database per test: cloned from the template database
//! `envatlas_template` (which already has PostGIS, so creating one is fast) on
//! the server named by `ENVATLAS_TEST_DATABASE_URL`, dropped when the guard is.
//!
//! The PostGIS tests never skip: without that variable they fail, saying how to
//! provide a server (`scripts/test` sets one up and exports it).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::{Connection, PgConnection};

/// The variable naming the test server (`postgres://user@host:port/db`).
pub const TEST_DATABASE_ENV: &str = "ENVATLAS_TEST_DATABASE_URL";

/// The template every test database is cloned from.
pub const TEMPLATE: &str = "envatlas_template";

/// The PostgreSQL server the tests create their databases on. Panics with
/// instructions when `ENVATLAS_TEST_DATABASE_URL` is not set, in CI or not:
/// a PostGIS test that silently skips proves nothing.
pub fn test_server_url() -> String {
    match std::env::var(TEST_DATABASE_ENV) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{TEST_DATABASE_ENV} is not set: the PostGIS tests need a PostgreSQL server with \
             PostGIS and a template database `{TEMPLATE}` that has the extension. Run \
             scripts/test (it sets one up), or export \
             {TEST_DATABASE_ENV}=postgres://postgres@127.0.0.1:5432/postgres after creating \
             the template as scripts/test does."
        ),
    }
}

/// `url` with another database name (and, when given, another user).
pub fn url_with(url: &str, database: &str, user: Option<(&str, &str)>) -> anyhow::Result<String> {
    let mut url = reqwest::Url::parse(url)?;
    url.set_path(&format!("/{database}"));
    if let Some((name, password)) = user {
        url.set_username(name)
            .map_err(|()| anyhow::anyhow!("cannot set the user of {url}"))?;
        url.set_password(Some(password))
            .map_err(|()| anyhow::anyhow!("cannot set the password of {url}"))?;
    }
    Ok(url.to_string())
}

/// Runs statements, one by one, on a fresh connection to `url`. Works from
/// inside or outside an async runtime: it uses its own thread and runtime.
pub fn admin_sql(url: &str, statements: &[String]) -> anyhow::Result<()> {
    let url = url.to_string();
    let statements = statements.to_vec();
    std::thread::spawn(move || -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let mut conn = PgConnection::connect(&url).await?;
            for sql in &statements {
                sqlx::raw_sql(sql).execute(&mut conn).await?;
            }
            conn.close().await?;
            anyhow::Ok(())
        })
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the database admin thread panicked"))?
}

/// A name no other test (or test process) uses at the same time.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Prefix of the shared servers' databases: `envatlas_shared_<pid>_…`.
pub const SHARED_PREFIX: &str = "envatlas_shared";

/// Drops the shared databases whose process no longer runs.
pub fn drop_stale_shared_databases() -> anyhow::Result<()> {
    let server_url = test_server_url();
    let names: Vec<String> = std::thread::spawn(move || -> anyhow::Result<Vec<String>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let mut conn = PgConnection::connect(&server_url).await?;
            let names = sqlx::query_scalar(
                "SELECT datname FROM pg_database WHERE datname LIKE 'envatlas\\_shared\\_%'",
            )
            .fetch_all(&mut conn)
            .await?;
            conn.close().await?;
            anyhow::Ok(names)
        })
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the database admin thread panicked"))??;
    let stale: Vec<String> = names
        .into_iter()
        .filter(|name| {
            let pid = name
                .strip_prefix(SHARED_PREFIX)
                .and_then(|rest| rest.trim_start_matches('_').split('_').next())
                .and_then(|pid| pid.parse::<u32>().ok());
            pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
        })
        .map(|name| format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .collect();
    if !stale.is_empty() {
        admin_sql(&test_server_url(), &stale)?;
    }
    Ok(())
}

/// A database of its own for one test; dropped (`WITH (FORCE)`, so open pool
/// connections do not keep it alive) when this guard is.
#[derive(Debug)]
pub struct TestDatabase {
    /// The database's name, `envatlas_test_…`.
    pub name: String,
    /// A URL connecting to it, as the server's `--database-url`.
    pub url: String,
    server_url: String,
}

impl TestDatabase {
    /// A new database cloned from [`TEMPLATE`] (PostGIS already enabled).
    pub fn create() -> anyhow::Result<TestDatabase> {
        Self::create_from(TEMPLATE)
    }

    /// A new database cloned from `template` (`template0` gives one without PostGIS).
    pub fn create_from(template: &str) -> anyhow::Result<TestDatabase> {
        Self::create_named(template, unique_name("envatlas_test"))
    }

    /// A database for a test binary's shared server (see
    /// `shared_postgis_server`), named with the process id so that
    /// [`drop_stale_shared_databases`] can tell when its process is gone.
    pub fn create_shared() -> anyhow::Result<TestDatabase> {
        Self::create_named(TEMPLATE, unique_name(SHARED_PREFIX))
    }

    fn create_named(template: &str, name: String) -> anyhow::Result<TestDatabase> {
        let server_url = test_server_url();
        let create = format!("CREATE DATABASE {name} TEMPLATE {template}");
        // Cloning fails while anyone else is connected to the template; that
        // is brief (another test run setting it up), so try a few times.
        let mut attempt = 0;
        loop {
            match admin_sql(&server_url, std::slice::from_ref(&create)) {
                Ok(()) => break,
                Err(e)
                    if attempt < 50 && e.to_string().contains("being accessed by other users") =>
                {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => {
                    return Err(e.context(format!(
                        "cannot create test database {name} from template {template} on \
                         {TEST_DATABASE_ENV}"
                    )))
                }
            }
        }
        Ok(TestDatabase {
            url: url_with(&server_url, &name, None)?,
            name,
            server_url,
        })
    }

    /// The URL of this database as another user.
    pub fn url_as(&self, user: &str, password: &str) -> anyhow::Result<String> {
        url_with(&self.server_url, &self.name, Some((user, password)))
    }

    /// The URL of the server's maintenance database, for admin statements.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = admin_sql(&self.server_url, &[drop]) {
            eprintln!("could not drop test database {}: {e:#}", self.name);
        }
    }
}
