-- A client whose refresh tokens may be exchanged at the token endpoint
-- without the client's authentication (seed 000's connectors hold a refresh
-- token and nothing else). Off unless an administrator turns it on: with it,
-- a refresh token alone is a credential.
ALTER TABLE oauth_clients ADD COLUMN refresh_token_alone BOOLEAN NOT NULL DEFAULT FALSE;
