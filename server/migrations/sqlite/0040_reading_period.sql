-- Monitoring: the period a reading stands for is part of its key. The contracts'
-- reading kinds do not tell a minute average (HJ 212 CN 2051) from an hourly (2061)
-- or daily (2031) one, and at a full hour they carry the same time, so with the old
-- key one replaced the other. Values: instant (real-time), minute, hour, day.
-- Rows written without a period (the data directory's readings.csv.gz, whose `avg`
-- rows are hourly) take `hour`; series of real-time kinds do not filter on it.
-- SQLite cannot change a primary key in place: rebuild the table.
CREATE TABLE readings_by_period (
    station_id TEXT    NOT NULL,
    pollutant  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    period     TEXT    NOT NULL DEFAULT 'hour',
    time       INTEGER NOT NULL,
    value      REAL    NOT NULL,
    flag       TEXT    NOT NULL,
    PRIMARY KEY (station_id, pollutant, kind, period, time)
) WITHOUT ROWID;

INSERT INTO readings_by_period (station_id, pollutant, kind, period, time, value, flag)
SELECT station_id, pollutant, kind,
       CASE WHEN kind IN ('rtd', 'zs_rtd') THEN 'instant' ELSE 'hour' END,
       time, value, flag
  FROM readings;

DROP TABLE readings;
ALTER TABLE readings_by_period RENAME TO readings;

-- Retention deletes by time across stations.
CREATE INDEX readings_time ON readings (time);
