//! Start-up check of the PostGIS store: the `postgis` extension must exist
//! (created when missing), otherwise start-up stops with an error naming the fix.

use sqlx::{PgPool, Row};

use super::StoreError;

pub(super) async fn has_postgis(pool: &PgPool) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')")
            .fetch_one(pool)
            .await?,
    )
}

/// The geometry type comes from the postgis extension: create it when missing,
/// or stop with an error that says how to fix the database.
pub(super) async fn ensure_postgis(pool: &PgPool) -> Result<(), StoreError> {
    if has_postgis(pool).await? {
        return Ok(());
    }
    let Err(cause) = sqlx::query("CREATE EXTENSION IF NOT EXISTS postgis")
        .execute(pool)
        .await
    else {
        tracing::info!("created the postgis extension");
        return Ok(());
    };
    // Another instance starting at the same time may have won the race.
    if has_postgis(pool).await? {
        return Ok(());
    }
    let row = sqlx::query(
        "SELECT current_database() AS database,
                current_setting('server_version_num')::int / 10000 AS major,
                EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis') AS installed",
    )
    .fetch_one(pool)
    .await?;
    Err(StoreError::Unsupported(postgis_missing(
        row.try_get("database")?,
        row.try_get("major")?,
        row.try_get("installed")?,
        &cause.to_string(),
    )))
}

/// The start-up error for a database without PostGIS: what is wrong and how to fix it.
pub fn postgis_missing(database: &str, major: i32, installed: bool, cause: &str) -> String {
    let enable = format!(
        "run `CREATE EXTENSION postgis;` in database '{database}' as a superuser, then start \
         envatlas again"
    );
    if installed {
        format!(
            "the PostGIS store needs the postgis extension, which database '{database}' does not have \
             and envatlas could not create ({cause}): {enable}"
        )
    } else {
        format!(
            "the PostGIS store needs the postgis extension, which is not installed on the database \
             server ({cause}): install postgresql-{major}-postgis-3 (Debian/Ubuntu; the PostGIS \
             package for PostgreSQL {major} elsewhere) and {enable}"
        )
    }
}
