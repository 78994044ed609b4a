-- OAuth clients, browser sessions, authorization codes, refresh-token
-- families and the access-token deny-list. Every credential is stored as a
-- SHA-256 digest (base64url), never as sent.
CREATE TABLE clients (
    client_id                 TEXT PRIMARY KEY NOT NULL,
    name                      TEXT,
    secret_hash               TEXT,               -- salt$digest; NULL = public client
    redirect_uris             TEXT NOT NULL,      -- JSON array of strings
    post_logout_redirect_uris TEXT NOT NULL,      -- JSON array of strings
    grant_types               TEXT NOT NULL,      -- JSON array of grant names
    default_scopes            TEXT NOT NULL,      -- JSON array of strings
    created_at                INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,        -- public: session_state / sid
    cookie_hash TEXT UNIQUE,                      -- NULL for sessions without a browser
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    auth_time   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    ended_at    INTEGER
) STRICT;

CREATE TABLE auth_codes (
    code_hash      TEXT PRIMARY KEY NOT NULL,
    client_id      TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id     TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,                          -- S256 only
    auth_time      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    family_id      TEXT                           -- refresh family issued from it
) STRICT;

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    family_id   TEXT NOT NULL,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scope       TEXT NOT NULL,
    auth_time   INTEGER NOT NULL,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,                          -- set when rotated
    revoked_at  INTEGER
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
