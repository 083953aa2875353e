-- Server-side secrets shared by every instance on one database (the key
-- that seals pagination cursors). Created on first use, never returned.
CREATE TABLE secrets (
  name    TEXT COLLATE "C" PRIMARY KEY,
  value   BYTEA NOT NULL,
  created BIGINT NOT NULL
);
