//! PostGIS as the oracle: the same questions as SQL over `geography`.

use super::*;

pub(crate) struct Truth {
    rt: tokio::runtime::Runtime,
    pool: PgPool,
}

impl Truth {
    pub(crate) fn connect(url: &str) -> Truth {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let pool = rt.block_on(async {
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .expect("connect to the test database");
            // A geography index, as a PostGIS user would have; the server's
            // own index is on the geometry.
            sqlx::query("CREATE INDEX ON features USING gist ((geom::geography))")
                .execute(&pool)
                .await
                .expect("geography index");
            sqlx::query("ANALYZE features")
                .execute(&pool)
                .await
                .expect("analyze");
            pool
        });
        Truth { rt, pool }
    }

    /// (layer, id) → (distance, within `limit`) for features within the limit
    /// (plus margin) of the GeoJSON geometry.
    pub(crate) fn within(
        &self,
        layers: &[String],
        geometry: &Value,
        limit: f64,
    ) -> BTreeMap<(String, String), (f64, bool)> {
        let sql = "WITH q AS (SELECT ST_GeomFromGeoJSON($2)::geography AS g)
            SELECT f.layer, f.id, ST_Distance(f.geom::geography, q.g) AS d,
                   ST_DWithin(f.geom::geography, q.g, $3) AS inside
            FROM features f, q
            WHERE f.layer = ANY($1) AND ST_DWithin(f.geom::geography, q.g, $4)";
        let rows = self
            .rt
            .block_on(
                sqlx::query(sql)
                    .bind(layers)
                    .bind(geometry.to_string())
                    .bind(limit)
                    .bind(limit * MARGIN + MARGIN_M)
                    .fetch_all(&self.pool),
            )
            .expect("PostGIS buffer query");
        rows.iter()
            .map(|r| {
                (
                    (r.get::<String, _>("layer"), r.get::<String, _>("id")),
                    (r.get::<f64, _>("d"), r.get::<bool, _>("inside")),
                )
            })
            .collect()
    }

    /// Per layer, the features within `max_m` ranked by geography distance
    /// then fid: the first `k + extra`, with their distances.
    pub(crate) fn nearest(
        &self,
        layers: &[String],
        origin: Point<f64>,
        k: usize,
        max_m: f64,
        filter: Option<(&str, &str)>,
    ) -> BTreeMap<String, Vec<(String, f64)>> {
        let sql = "WITH o AS (SELECT ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography AS g),
            ranked AS (
              SELECT f.layer, f.id, ST_Distance(f.geom::geography, o.g) AS d,
                     row_number() OVER (PARTITION BY f.layer
                        ORDER BY ST_Distance(f.geom::geography, o.g), f.fid) AS rn
              FROM features f, o
              WHERE f.layer = ANY($1) AND ST_DWithin(f.geom::geography, o.g, $4)
                AND ($6::text IS NULL OR f.properties ->> $6 = $7))
            SELECT layer, id, d FROM ranked WHERE rn <= $5 ORDER BY layer, rn";
        let rows = self
            .rt
            .block_on(
                sqlx::query(sql)
                    .bind(layers)
                    .bind(origin.x())
                    .bind(origin.y())
                    .bind(max_m)
                    .bind((k + 20) as i64)
                    .bind(filter.map(|f| f.0))
                    .bind(filter.map(|f| f.1))
                    .fetch_all(&self.pool),
            )
            .expect("PostGIS nearest query");
        let mut out: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
        for r in &rows {
            out.entry(r.get("layer"))
                .or_default()
                .push((r.get("id"), r.get("d")));
        }
        out
    }

    /// PostGIS distances of named features of a layer to a point.
    pub(crate) fn distances(
        &self,
        layer: &str,
        ids: &[String],
        origin: Point<f64>,
    ) -> BTreeMap<String, f64> {
        let sql = "SELECT id, ST_Distance(geom::geography,
                     ST_SetSRID(ST_MakePoint($3, $4), 4326)::geography) AS d
                   FROM features WHERE layer = $1 AND id = ANY($2)";
        self.rt
            .block_on(
                sqlx::query(sql)
                    .bind(layer)
                    .bind(ids)
                    .bind(origin.x())
                    .bind(origin.y())
                    .fetch_all(&self.pool),
            )
            .expect("PostGIS distance query")
            .iter()
            .map(|r| (r.get("id"), r.get("d")))
            .collect()
    }
}
