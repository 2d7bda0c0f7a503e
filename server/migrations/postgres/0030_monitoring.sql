-- Monitoring (issue #6): the same tables as the embedded store, PostgreSQL types.

-- Retention deletes by time across stations.
CREATE INDEX readings_time ON readings (time);

-- The newest reading of each (station, pollutant, kind), maintained by the
-- monitoring ingest in the same transaction as the readings; rebuilt from
-- `readings` at start-up when empty (a freshly seeded store).
CREATE TABLE latest_readings (
    station_id text             NOT NULL,
    pollutant  text             NOT NULL,
    kind       text             NOT NULL,
    time       timestamptz      NOT NULL,
    value      double precision NOT NULL,
    flag       text             NOT NULL,
    PRIMARY KEY (station_id, pollutant, kind)
);

-- Uploads from devices whose MN names no station: kept (acknowledged), not shown.
CREATE TABLE quarantine (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at timestamptz NOT NULL,
    peer        text        NOT NULL,
    mn          text        NOT NULL,
    cn          integer     NOT NULL,
    segment     text        NOT NULL
);

-- HJ 212 CN 2021: treatment-facility states (0 off, 1 running, ...).
CREATE TABLE facility_status (
    station_id text        NOT NULL,
    facility   text        NOT NULL,
    time       timestamptz NOT NULL,
    state      text        NOT NULL,
    PRIMARY KEY (station_id, facility, time)
);

-- Limits are data: one row per station and pollutant.
CREATE TABLE monitoring_limits (
    station_id text             NOT NULL,
    pollutant  text             NOT NULL,
    value      double precision NOT NULL,
    unit       text             NOT NULL,
    standard   text             NOT NULL,
    basis      text             NOT NULL,
    ref_o2     double precision,
    PRIMARY KEY (station_id, pollutant)
);

-- One row per exceedance episode; `end_time` is NULL while it is open.
CREATE TABLE exceedances (
    station_id  text             NOT NULL,
    pollutant   text             NOT NULL,
    start_time  timestamptz      NOT NULL,
    end_time    timestamptz,
    peak        double precision NOT NULL,
    peak_time   timestamptz      NOT NULL,
    limit_value double precision NOT NULL,
    unit        text             NOT NULL,
    basis       text             NOT NULL,
    PRIMARY KEY (station_id, pollutant, start_time)
);

CREATE INDEX exceedances_start ON exceedances (start_time);
