-- PAM resources (issue 6). Containers, privileged data and permissions are
-- rows of resources like every other type; what is theirs is here.

-- Sealed (encrypted) attribute values, kept out of the documents: the
-- credential secret of privileged data. key_id names the key that sealed
-- the value, so that pamscim keys rotate can find what is left to re-seal.
CREATE TABLE pam_sealed (
  tenant TEXT NOT NULL,
  id     TEXT NOT NULL,
  attr   TEXT NOT NULL,
  key_id TEXT NOT NULL,
  data   BLOB NOT NULL,
  PRIMARY KEY (tenant, id, attr)
);
CREATE INDEX pam_sealed_key ON pam_sealed (key_id);

-- Server-wide settings every instance on one database shares (the id of
-- the key that seals new secrets).
CREATE TABLE pam_settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- An item of privileged data belongs to at most one static container: the
-- container's privilegedData live in the members table.
CREATE UNIQUE INDEX members_pam_item ON members (tenant, member_id) WHERE member_type = 'PrivilegedData';

-- The usual PAM roles for every tenant that exists (new tenants get them
-- from the store when they are created).
INSERT INTO resources (tenant, rtype, id, ukey, dname, doc, version, created, modified)
SELECT t.name, 'Role', r.id, lower(r.value), lower(r.display),
       '{"value":"' || r.value || '","display":"' || r.display || '","type":"PAM","supported":true}',
       1, CAST(strftime('%s','now') AS INTEGER) * 1000000, CAST(strftime('%s','now') AS INTEGER) * 1000000
FROM tenants t, (
  SELECT 'role-requester' AS id, 'Requester' AS value, 'Requester: requests access to privileged data' AS display
  UNION ALL SELECT 'role-approver', 'Approver', 'Approver: approves access requests'
  UNION ALL SELECT 'role-auditor', 'Auditor', 'Auditor: reads permissions, access and the audit trail'
  UNION ALL SELECT 'role-administrator', 'Administrator', 'Administrator: manages containers, privileged data and permissions'
) r;
