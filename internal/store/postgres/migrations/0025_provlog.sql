-- The provisioning log: one row per SCIM request with its redacted bodies
-- (internal/provlog), kept for a configured time or count per tenant.
-- Bodies are BYTEA: a client may send bytes that are not UTF-8 (or NUL),
-- which TEXT refuses.
CREATE TABLE provlog (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant      TEXT COLLATE "C" NOT NULL,
  at          BIGINT NOT NULL,
  method      TEXT COLLATE "C" NOT NULL,
  path        TEXT COLLATE "C" NOT NULL,
  query       TEXT COLLATE "C" NOT NULL DEFAULT '',
  status      INTEGER NOT NULL,
  duration_ns BIGINT NOT NULL,
  client      TEXT COLLATE "C" NOT NULL DEFAULT '',
  rtype       TEXT COLLATE "C" NOT NULL DEFAULT '',
  rid         TEXT COLLATE "C" NOT NULL DEFAULT '',
  request_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
  req_body    BYTEA NOT NULL,
  resp_body   BYTEA NOT NULL
);
CREATE INDEX provlog_tenant_id ON provlog (tenant, id);
CREATE INDEX provlog_tenant_at ON provlog (tenant, at);
CREATE INDEX provlog_tenant_rid ON provlog (tenant, rid);
