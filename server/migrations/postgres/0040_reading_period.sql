-- Monitoring: the period a reading stands for is part of its key. The contracts'
-- reading kinds do not tell a minute average (HJ 212 CN 2051) from an hourly (2061)
-- or daily (2031) one, and at a full hour they carry the same time, so with the old
-- key one replaced the other. Values: instant (real-time), minute, hour, day.
-- Rows written without a period (the data directory's readings.csv.gz, whose `avg`
-- rows are hourly) take `hour`; series of real-time kinds do not filter on it.
ALTER TABLE readings ADD COLUMN period text NOT NULL DEFAULT 'hour';
UPDATE readings SET period = 'instant' WHERE kind IN ('rtd', 'zs_rtd');
ALTER TABLE readings DROP CONSTRAINT readings_pkey;
ALTER TABLE readings ADD PRIMARY KEY (station_id, pollutant, kind, period, time);
