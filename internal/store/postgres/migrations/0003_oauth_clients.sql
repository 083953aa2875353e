-- OAuth 2.0 clients. A client authenticates with a secret (only its SHA-256
-- is kept) or with a JWT signed by the key whose public half is public_key.
CREATE TABLE oauth_clients (
  id             TEXT COLLATE "C" PRIMARY KEY,
  tenant         TEXT COLLATE "C" NOT NULL,
  name           TEXT COLLATE "C" NOT NULL,
  secret_hash    BYTEA,
  public_key     TEXT COLLATE "C" NOT NULL DEFAULT '',
  scopes         TEXT COLLATE "C" NOT NULL,
  grants         TEXT COLLATE "C" NOT NULL,
  access_ttl     BIGINT NOT NULL,
  refresh_ttl    BIGINT NOT NULL,
  created        BIGINT NOT NULL,
  secret_changed BIGINT NOT NULL,
  last_used      BIGINT,
  created_by     TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX oauth_clients_name ON oauth_clients (tenant, name);

-- Service accounts of the password grant; password_hash is argon2id.
CREATE TABLE service_accounts (
  tenant           TEXT COLLATE "C" NOT NULL,
  name             TEXT COLLATE "C" NOT NULL,
  password_hash    TEXT COLLATE "C" NOT NULL,
  scopes           TEXT COLLATE "C" NOT NULL,
  created          BIGINT NOT NULL,
  password_changed BIGINT NOT NULL,
  PRIMARY KEY (tenant, name)
);
