-- The change log (issue #4): every write to `features` records one row in the
-- same transaction. SQLite has one writer at a time, so `seq` order is commit
-- order; a running server polls `MAX(seq)` to pick up writes made by another
-- process (`envatlas import`) on the same file.
CREATE TABLE changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    layer  TEXT    NOT NULL,
    -- 'upsert', 'delete' or 'layer' (the whole layer changed: reload it).
    op     TEXT    NOT NULL,
    -- The changed feature ids as a JSON array; NULL for the whole layer.
    ids    TEXT,
    -- The writing process (`Store::origin`): an instance skips its own changes.
    origin TEXT    NOT NULL,
    -- Unix seconds.
    at     INTEGER NOT NULL
);
CREATE INDEX changes_at ON changes (at);
