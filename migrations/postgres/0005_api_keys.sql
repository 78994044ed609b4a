-- API keys (X-Domino-Api-Key, and the subject token of the token exchange):
-- stored only as the SHA-256 digest of the key (base64url), never as shown.
-- A user's keys go with the user.
CREATE TABLE api_keys (
    id           TEXT COLLATE "C" PRIMARY KEY,   -- public: `apikey list` / `revoke`
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    key_hash     TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,                         -- NULL: never
    last_used_at BIGINT                          -- to the minute
);
-- Postgres does not index the referencing side of a foreign key.
CREATE INDEX api_keys_user ON api_keys(user_id);
