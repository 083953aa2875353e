-- PAM resources (issue 6); the PostgreSQL twin of the SQLite migration of
-- the same name. See that file for what each table is for.
CREATE TABLE pam_sealed (
  tenant TEXT COLLATE "C" NOT NULL,
  id     TEXT COLLATE "C" NOT NULL,
  attr   TEXT COLLATE "C" NOT NULL,
  key_id TEXT COLLATE "C" NOT NULL,
  data   BYTEA NOT NULL,
  PRIMARY KEY (tenant, id, attr)
);
CREATE INDEX pam_sealed_key ON pam_sealed (key_id);

CREATE TABLE pam_settings (
  name  TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE UNIQUE INDEX members_pam_item ON members (tenant, member_id) WHERE member_type = 'PrivilegedData';

INSERT INTO resources (tenant, rtype, id, ukey, dname, doc, version, created, modified)
SELECT t.name, 'Role', r.id, lower(r.value), lower(r.display),
       ('{"value":"' || r.value || '","display":"' || r.display || '","type":"PAM","supported":true}')::jsonb,
       1, (extract(epoch from now()) * 1000000)::bigint, (extract(epoch from now()) * 1000000)::bigint
FROM tenants t, (
  SELECT 'role-requester' AS id, 'Requester' AS value, 'Requester: requests access to privileged data' AS display
  UNION ALL SELECT 'role-approver', 'Approver', 'Approver: approves access requests'
  UNION ALL SELECT 'role-auditor', 'Auditor', 'Auditor: reads permissions, access and the audit trail'
  UNION ALL SELECT 'role-administrator', 'Administrator', 'Administrator: manages containers, privileged data and permissions'
) r;
