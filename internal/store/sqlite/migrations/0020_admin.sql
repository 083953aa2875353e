-- Administrators of the web console (internal/console). tenant '' means the
-- administrator may see every tenant; password_hash is argon2id.
CREATE TABLE admins (
  name             TEXT PRIMARY KEY,
  tenant           TEXT NOT NULL DEFAULT '',
  password_hash    TEXT NOT NULL,
  created          INTEGER NOT NULL,
  password_changed INTEGER NOT NULL,
  last_sign_in     INTEGER
);

-- Console sessions: only the SHA-256 of the cookie value is kept. flash is
-- a value sealed with a key derived from the cookie (a secret shown once).
CREATE TABLE admin_sessions (
  hash      BLOB PRIMARY KEY,
  admin     TEXT NOT NULL REFERENCES admins (name) ON DELETE CASCADE,
  created   INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  expires   INTEGER NOT NULL,
  source    TEXT NOT NULL DEFAULT '',
  flash     BLOB
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin);
