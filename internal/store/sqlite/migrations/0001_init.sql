-- Resources of every type in one table. The document holds the canonical
-- JSON without id, meta or relational attributes; the columns beside it are
-- the hot lookup keys, kept by the store from the document on every write.
CREATE TABLE resources (
  tenant   TEXT    NOT NULL,
  rtype    TEXT    NOT NULL,
  id       TEXT    NOT NULL,
  ext_id   TEXT,
  ukey     TEXT,
  dname    TEXT,
  active   INTEGER,
  doc      TEXT    NOT NULL,
  version  INTEGER NOT NULL,
  created  INTEGER NOT NULL,
  modified INTEGER NOT NULL,
  PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX resources_ukey ON resources (tenant, rtype, ukey) WHERE ukey IS NOT NULL;
CREATE INDEX resources_list ON resources (tenant, rtype, id);
CREATE INDEX resources_ext ON resources (tenant, rtype, ext_id);
CREATE INDEX resources_dname ON resources (tenant, rtype, dname);
CREATE INDEX resources_modified ON resources (tenant, rtype, modified);

-- Group membership, indexed both ways: one member's add or remove touches one
-- row, and a user's groups are one index range.
CREATE TABLE members (
  tenant      TEXT NOT NULL,
  group_id    TEXT NOT NULL,
  member_id   TEXT NOT NULL,
  member_type TEXT NOT NULL,
  PRIMARY KEY (tenant, group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX members_rev ON members (tenant, member_id, group_id);

-- Values of multi-valued attributes that filters look up often
-- (emails.value), folded, one row per value.
CREATE TABLE attr_values (
  tenant TEXT NOT NULL,
  rtype  TEXT NOT NULL,
  attr   TEXT NOT NULL,
  val    TEXT NOT NULL,
  res_id TEXT NOT NULL,
  PRIMARY KEY (tenant, rtype, attr, val, res_id)
) WITHOUT ROWID;
CREATE INDEX attr_values_res ON attr_values (tenant, res_id);

CREATE TABLE tenants (
  name    TEXT PRIMARY KEY,
  created INTEGER NOT NULL
);
INSERT INTO tenants (name, created) VALUES ('default', CAST(strftime('%s','now') AS INTEGER) * 1000000);

-- Named SCIM bearer tokens; only the SHA-256 of the secret is kept.
CREATE TABLE tokens (
  hash       BLOB PRIMARY KEY,
  tenant     TEXT NOT NULL,
  name       TEXT NOT NULL,
  scopes     TEXT NOT NULL,
  created    INTEGER NOT NULL,
  expires    INTEGER,
  last_used  INTEGER,
  revoked    INTEGER,
  created_by TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX tokens_live_name ON tokens (tenant, name) WHERE revoked IS NULL;
