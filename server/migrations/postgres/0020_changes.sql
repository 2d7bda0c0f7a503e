-- The change log (issue #4): every write to `features` records one row in the
-- same transaction, so other instances (and a restarted one) learn exactly what
-- changed. Writers take a transaction-level advisory lock before inserting
-- their row, so `seq` order is commit order and a reader that has seen seq N
-- has seen every change up to N. A `pg_notify('envatlas_changes', seq)` in the
-- same transaction wakes listening instances when it commits.
CREATE TABLE changes (
    seq    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    layer  text   NOT NULL,
    -- 'upsert', 'delete' or 'layer' (the whole layer changed: reload it).
    op     text   NOT NULL,
    -- The changed feature ids; NULL for the whole layer.
    ids    text[],
    -- The writing process (`Store::origin`): an instance skips its own changes.
    origin text   NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_at ON changes (at);
