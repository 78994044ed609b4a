-- API keys (X-Domino-Api-Key, and the subject token of the token exchange):
-- stored only as the SHA-256 digest of the key (base64url), never as shown.
-- A user's keys go with the user.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,   -- public: `apikey list` / `revoke`
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,                     -- NULL: never
    last_used_at INTEGER                      -- to the minute
) STRICT;
CREATE INDEX api_keys_user ON api_keys(user_id);
