-- The schema of migrations/sqlite/0001-0004 in Postgres terms, in one step.
-- Unix times are BIGINT seconds (login_failures: milliseconds); lists and maps
-- are JSONB, so a malformed value is refused when written and can be queried
-- from psql. Names compared by the application (*_key, client_id, kind, key)
-- use the "C" collation: byte order, as in SQLite, whatever the database's
-- locale. Every credential is stored as a SHA-256 digest, never as sent.

-- The password store. Names are compared through *_key columns
-- (NFKC + lower case), computed by the application.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    username_key  TEXT COLLATE "C" NOT NULL CONSTRAINT users_username_key_unique UNIQUE,
    email         TEXT,
    email_key     TEXT COLLATE "C" CONSTRAINT users_email_key_unique UNIQUE,
    cn            TEXT NOT NULL,
    org           TEXT,
    password_hash TEXT NOT NULL,
    scopes        JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(scopes) = 'array'),
    attributes    JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    groups        JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(groups) = 'array'),
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE clients (
    client_id                 TEXT COLLATE "C" PRIMARY KEY,
    name                      TEXT,
    secret_hash               TEXT,              -- salt$digest; NULL = public client
    redirect_uris             JSONB NOT NULL,    -- array of strings
    post_logout_redirect_uris JSONB NOT NULL,    -- array of strings
    grant_types               JSONB NOT NULL,    -- array of grant names
    default_scopes            JSONB NOT NULL,    -- array of strings
    created_at                BIGINT NOT NULL
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,                -- public: session_state / sid
    cookie_hash TEXT UNIQUE,                     -- NULL for sessions without a browser
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    auth_time   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    ended_at    BIGINT
);
-- Postgres does not index the referencing side of a foreign key; without
-- these a deleted user or client would scan every grant table.
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE auth_codes (
    code_hash      TEXT PRIMARY KEY,
    client_id      TEXT COLLATE "C" NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id     TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,                         -- S256 only
    auth_time      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    family_id      TEXT                          -- refresh family issued from it
);
CREATE INDEX auth_codes_client ON auth_codes(client_id);
CREATE INDEX auth_codes_user ON auth_codes(user_id);
CREATE INDEX auth_codes_session ON auth_codes(session_id);
CREATE INDEX auth_codes_expires ON auth_codes(expires_at);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    client_id   TEXT COLLATE "C" NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scope       TEXT NOT NULL,
    auth_time   BIGINT NOT NULL,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,                          -- set when rotated
    revoked_at  BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);
CREATE INDEX refresh_tokens_client ON refresh_tokens(client_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens(expires_at);

-- The access-token deny-list.
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens(expires_at);

-- Claim mappers, applied in insertion order (`seq` stands in for SQLite's
-- rowid). The definition is the JSON of a MapperSpec, validated again when
-- loaded.
CREATE TABLE mappers (
    name       TEXT PRIMARY KEY,
    spec       JSONB NOT NULL,
    created_at BIGINT NOT NULL,
    seq        BIGINT GENERATED ALWAYS AS IDENTITY
);

-- Brute-force counters, shared by every instance on this database: one row
-- per login-name key (kind 'user') or client address (kind 'ip'). Times are
-- Unix milliseconds; 0 means "never".
CREATE TABLE login_failures (
    kind         TEXT COLLATE "C" NOT NULL CHECK (kind IN ('user', 'ip')),
    key          TEXT COLLATE "C" NOT NULL,
    failures     BIGINT NOT NULL,              -- consecutive, within failure_reset
    last_failure BIGINT NOT NULL,
    locked_at    BIGINT NOT NULL DEFAULT 0,    -- when the lockout last grew
    locked_until BIGINT NOT NULL DEFAULT 0,
    expires_at   BIGINT NOT NULL,              -- after this the row neither locks nor counts
    PRIMARY KEY (kind, key)
);
CREATE INDEX login_failures_locked ON login_failures(locked_until);
CREATE INDEX login_failures_expires ON login_failures(expires_at);
