-- The provisioning log in blocks (internal/store/sqlstore/logblock.go): one
-- row per tenant per batch of the recorder, its entries' fields and bodies
-- compressed. A row per request cost 20-40 us of CPU per SCIM request; a
-- block a few (bench/RESULTS.md, "Provisioning log overhead").
--
-- The rows of the old table are not carried over: the log was new in the
-- same unreleased version, and keeps 30 days by default.
DROP TABLE provlog;
CREATE TABLE provlog_blocks (
  id       INTEGER PRIMARY KEY,
  batch    INTEGER NOT NULL, -- an entry's id is batch<<16 | its position
  tenant   TEXT NOT NULL,
  n        INTEGER NOT NULL, -- entries in the block
  first_at INTEGER NOT NULL, -- the oldest entry's time (micros)
  last_at  INTEGER NOT NULL, -- the newest entry's time
  meta     BLOB NOT NULL,
  bodies   BLOB NOT NULL
);
CREATE INDEX provlog_blocks_tenant ON provlog_blocks (tenant, batch);
CREATE INDEX provlog_blocks_batch ON provlog_blocks (batch);
-- The batch counter: never goes back, so an id is never reused after
-- pruning and a link to an entry stays right.
CREATE TABLE provlog_counter (batch INTEGER NOT NULL);
INSERT INTO provlog_counter (batch) VALUES (0);
