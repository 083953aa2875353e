-- Issued OAuth access and refresh tokens, by the SHA-256 of the token. A
-- lookup per request (no cache) is what makes revocation immediate on every
-- instance sharing the database.
CREATE TABLE oauth_tokens (
  hash      BLOB PRIMARY KEY,
  kind      TEXT NOT NULL,
  tenant    TEXT NOT NULL,
  client_id TEXT NOT NULL,
  subject   TEXT NOT NULL DEFAULT '',
  family    TEXT NOT NULL,
  scopes    TEXT NOT NULL,
  created   INTEGER NOT NULL,
  expires   INTEGER NOT NULL,
  used      INTEGER,
  revoked   INTEGER
);
CREATE INDEX oauth_tokens_family ON oauth_tokens (family);
CREATE INDEX oauth_tokens_client ON oauth_tokens (client_id);
CREATE INDEX oauth_tokens_subject ON oauth_tokens (tenant, subject);
CREATE INDEX oauth_tokens_expires ON oauth_tokens (expires);

-- The jti of every accepted client assertion (RFC 7523) until it expires,
-- so that a replayed assertion is refused on every instance.
CREATE TABLE oauth_assertions (
  client_id TEXT NOT NULL,
  jti       TEXT NOT NULL,
  expires   INTEGER NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX oauth_assertions_expires ON oauth_assertions (expires);
