-- The embedded store's tables. Geometry is WKB in lon/lat (EPSG:4326);
-- properties are a JSON object keyed by property name, so a schema change
-- never needs a table rewrite.
CREATE TABLE layers (
    id          TEXT PRIMARY KEY,
    schema_json TEXT    NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0,
    position    INTEGER NOT NULL
);

-- AUTOINCREMENT: a fid is never reused, even after the highest one is deleted.
CREATE TABLE features (
    fid        INTEGER PRIMARY KEY AUTOINCREMENT,
    layer      TEXT    NOT NULL REFERENCES layers(id),
    id         TEXT    NOT NULL,
    geom       BLOB    NOT NULL,
    properties TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    UNIQUE (layer, id)
);

-- Time in Unix seconds (UTC).
CREATE TABLE readings (
    station_id TEXT    NOT NULL,
    pollutant  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    time       INTEGER NOT NULL,
    value      REAL    NOT NULL,
    flag       TEXT    NOT NULL,
    PRIMARY KEY (station_id, pollutant, kind, time)
) WITHOUT ROWID;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
