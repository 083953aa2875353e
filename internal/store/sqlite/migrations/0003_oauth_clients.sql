-- OAuth 2.0 clients. A client authenticates with a secret (only its SHA-256
-- is kept) or with a JWT signed by the key whose public half is public_key.
CREATE TABLE oauth_clients (
  id             TEXT PRIMARY KEY,
  tenant         TEXT NOT NULL,
  name           TEXT NOT NULL,
  secret_hash    BLOB,
  public_key     TEXT NOT NULL DEFAULT '',
  scopes         TEXT NOT NULL,
  grants         TEXT NOT NULL,
  access_ttl     INTEGER NOT NULL,
  refresh_ttl    INTEGER NOT NULL,
  created        INTEGER NOT NULL,
  secret_changed INTEGER NOT NULL,
  last_used      INTEGER,
  created_by     TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX oauth_clients_name ON oauth_clients (tenant, name);

-- Service accounts of the password grant; password_hash is argon2id.
CREATE TABLE service_accounts (
  tenant           TEXT NOT NULL,
  name             TEXT NOT NULL,
  password_hash    TEXT NOT NULL,
  scopes           TEXT NOT NULL,
  created          INTEGER NOT NULL,
  password_changed INTEGER NOT NULL,
  PRIMARY KEY (tenant, name)
);
