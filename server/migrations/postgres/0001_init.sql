-- The PostGIS store's tables. `PostgisStore::open` makes sure the postgis
-- extension exists before this runs (the geometry type needs it).
--
-- One `features` table for every layer, told apart by `layer`: layers are
-- created at run time (imports) without DDL, and properties are a JSON object
-- keyed by property name, so a schema change never needs a table rewrite.
-- docs/architecture.md explains the choice.
CREATE TABLE layers (
    id          text    PRIMARY KEY,
    schema_json jsonb   NOT NULL,
    version     bigint  NOT NULL DEFAULT 0,
    position    integer NOT NULL
);

-- An identity never hands out a value twice, so a fid is never reused, even
-- after the highest one is deleted. MAXVALUE keeps fids below 2^53 (exact in
-- JavaScript), as the layer contract promises.
CREATE TABLE features (
    fid        bigint GENERATED ALWAYS AS IDENTITY (MAXVALUE 9007199254740991) PRIMARY KEY,
    layer      text   NOT NULL REFERENCES layers(id),
    id         text   NOT NULL,
    geom       geometry(Geometry, 4326) NOT NULL,
    properties jsonb  NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (layer, id)
);

CREATE INDEX features_geom_gist ON features USING gist (geom);

-- The primary key (station, pollutant, kind, time) is the index for a time
-- range of one station's pollutant.
CREATE TABLE readings (
    station_id text             NOT NULL,
    pollutant  text             NOT NULL,
    kind       text             NOT NULL,
    time       timestamptz      NOT NULL,
    value      double precision NOT NULL,
    flag       text             NOT NULL,
    PRIMARY KEY (station_id, pollutant, kind, time)
);

CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
