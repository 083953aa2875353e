-- The provisioning log: one row per SCIM request with its redacted bodies
-- (internal/provlog), kept for a configured time or count per tenant.
-- AUTOINCREMENT: an id is never reused after pruning, so a link to an entry
-- and a "before id" page stay right.
CREATE TABLE provlog (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant      TEXT NOT NULL,
  at          INTEGER NOT NULL,
  method      TEXT NOT NULL,
  path        TEXT NOT NULL,
  query       TEXT NOT NULL DEFAULT '',
  status      INTEGER NOT NULL,
  duration_ns INTEGER NOT NULL,
  client      TEXT NOT NULL DEFAULT '',
  rtype       TEXT NOT NULL DEFAULT '',
  rid         TEXT NOT NULL DEFAULT '',
  request_id  TEXT NOT NULL DEFAULT '',
  req_body    BLOB NOT NULL,
  resp_body   BLOB NOT NULL
);
CREATE INDEX provlog_tenant_id ON provlog (tenant, id);
CREATE INDEX provlog_tenant_at ON provlog (tenant, at);
CREATE INDEX provlog_tenant_rid ON provlog (tenant, rid);
