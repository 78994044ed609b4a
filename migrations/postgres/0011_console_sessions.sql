-- The web console's sign-ins (/admin): one per browser, bound to the realm
-- login session it came from, so ending that session (sign-out, realm
-- logout, session expiry, the user's removal) ends the console's too.
-- Stored under the digest of the console cookie, never the cookie.
CREATE TABLE console_sessions (
    cookie_hash TEXT COLLATE "C" PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf        TEXT COLLATE "C" NOT NULL,       -- every console form echoes it
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
-- Postgres does not index the referencing side of a foreign key.
CREATE INDEX console_sessions_session ON console_sessions(session_id);
CREATE INDEX console_sessions_user ON console_sessions(user_id);
