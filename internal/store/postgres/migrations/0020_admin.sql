-- Administrators of the web console (internal/console). tenant '' means the
-- administrator may see every tenant; password_hash is argon2id.
CREATE TABLE admins (
  name             TEXT COLLATE "C" PRIMARY KEY,
  tenant           TEXT COLLATE "C" NOT NULL DEFAULT '',
  password_hash    TEXT COLLATE "C" NOT NULL,
  created          BIGINT NOT NULL,
  password_changed BIGINT NOT NULL,
  last_sign_in     BIGINT
);

-- Console sessions: only the SHA-256 of the cookie value is kept. flash is
-- a value sealed with a key derived from the cookie (a secret shown once).
CREATE TABLE admin_sessions (
  hash      BYTEA PRIMARY KEY,
  admin     TEXT COLLATE "C" NOT NULL REFERENCES admins (name) ON DELETE CASCADE,
  created   BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  expires   BIGINT NOT NULL,
  source    TEXT COLLATE "C" NOT NULL DEFAULT '',
  flash     BYTEA
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin);
