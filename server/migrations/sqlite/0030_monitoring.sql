-- Monitoring (issue #6). Times are Unix seconds (UTC), as in `readings`.

-- Retention deletes by time across stations.
CREATE INDEX readings_time ON readings (time);

-- The newest reading of each (station, pollutant, kind), maintained by the
-- monitoring ingest in the same transaction as the readings; rebuilt from
-- `readings` at start-up when empty (a freshly seeded store).
CREATE TABLE latest_readings (
    station_id TEXT    NOT NULL,
    pollutant  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    time       INTEGER NOT NULL,
    value      REAL    NOT NULL,
    flag       TEXT    NOT NULL,
    PRIMARY KEY (station_id, pollutant, kind)
) WITHOUT ROWID;

-- Uploads from devices whose MN names no station: kept (acknowledged), not shown.
CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    peer        TEXT    NOT NULL,
    mn          TEXT    NOT NULL,
    cn          INTEGER NOT NULL,
    segment     TEXT    NOT NULL
);

-- HJ 212 CN 2021: treatment-facility states (0 off, 1 running, ...).
CREATE TABLE facility_status (
    station_id TEXT    NOT NULL,
    facility   TEXT    NOT NULL,
    time       INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    PRIMARY KEY (station_id, facility, time)
) WITHOUT ROWID;

-- Limits are data: one row per station and pollutant.
CREATE TABLE monitoring_limits (
    station_id TEXT NOT NULL,
    pollutant  TEXT NOT NULL,
    value      REAL NOT NULL,
    unit       TEXT NOT NULL,
    standard   TEXT NOT NULL,
    basis      TEXT NOT NULL,
    ref_o2     REAL,
    PRIMARY KEY (station_id, pollutant)
) WITHOUT ROWID;

-- One row per exceedance episode; `end_time` is NULL while it is open.
CREATE TABLE exceedances (
    station_id  TEXT    NOT NULL,
    pollutant   TEXT    NOT NULL,
    start_time  INTEGER NOT NULL,
    end_time    INTEGER,
    peak        REAL    NOT NULL,
    peak_time   INTEGER NOT NULL,
    limit_value REAL    NOT NULL,
    unit        TEXT    NOT NULL,
    basis       TEXT    NOT NULL,
    PRIMARY KEY (station_id, pollutant, start_time)
) WITHOUT ROWID;

CREATE INDEX exceedances_start ON exceedances (start_time);
