-- The provisioning log in blocks (internal/store/sqlstore/logblock.go): one
-- row per tenant per batch of the recorder, its entries' fields and bodies
-- compressed. A row per request cost 20-40 us of CPU per SCIM request; a
-- block a few (bench/RESULTS.md, "Provisioning log overhead").
--
-- The rows of the old table are not carried over: the log was new in the
-- same unreleased version, and keeps 30 days by default.
DROP TABLE provlog;
CREATE TABLE provlog_blocks (
  id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  batch    BIGINT NOT NULL, -- an entry's id is batch<<16 | its position
  tenant   TEXT COLLATE "C" NOT NULL,
  n        INTEGER NOT NULL, -- entries in the block
  first_at BIGINT NOT NULL,  -- the oldest entry's time (micros)
  last_at  BIGINT NOT NULL,  -- the newest entry's time
  meta     BYTEA NOT NULL,
  bodies   BYTEA NOT NULL
);
-- Already compressed: TOAST need not try again.
ALTER TABLE provlog_blocks ALTER COLUMN meta SET STORAGE EXTERNAL;
ALTER TABLE provlog_blocks ALTER COLUMN bodies SET STORAGE EXTERNAL;
CREATE INDEX provlog_blocks_tenant ON provlog_blocks (tenant, batch);
CREATE INDEX provlog_blocks_batch ON provlog_blocks (batch);
-- The batch counter: never goes back, so an id is never reused after
-- pruning. A row rather than a sequence, as in SQLite, so that copy and
-- backup carry it like any table; two instances take turns on it once per
-- batch, a few times a second.
CREATE TABLE provlog_counter (batch BIGINT NOT NULL);
INSERT INTO provlog_counter (batch) VALUES (0);
