-- The audit trail: token events and SCIM writes. Never a secret.
CREATE TABLE audit (
  id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at      BIGINT NOT NULL,
  tenant  TEXT COLLATE "C" NOT NULL,
  actor   TEXT COLLATE "C" NOT NULL,
  event   TEXT COLLATE "C" NOT NULL,
  outcome TEXT COLLATE "C" NOT NULL,
  rtype   TEXT COLLATE "C" NOT NULL DEFAULT '',
  object  TEXT COLLATE "C" NOT NULL DEFAULT '',
  source  TEXT COLLATE "C" NOT NULL DEFAULT '',
  detail  TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_tenant_at ON audit (tenant, at);
