-- The audit trail: token events and SCIM writes. Never a secret.
CREATE TABLE audit (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  at      INTEGER NOT NULL,
  tenant  TEXT NOT NULL,
  actor   TEXT NOT NULL,
  event   TEXT NOT NULL,
  outcome TEXT NOT NULL,
  rtype   TEXT NOT NULL DEFAULT '',
  object  TEXT NOT NULL DEFAULT '',
  source  TEXT NOT NULL DEFAULT '',
  detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_tenant_at ON audit (tenant, at);
