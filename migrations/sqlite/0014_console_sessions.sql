-- The web console's sign-ins (/admin): one per browser, bound to the realm
-- login session it came from, so ending that session (sign-out, realm
-- logout, session expiry, the user's removal) ends the console's too.
-- Stored under the digest of the console cookie, never the cookie.
CREATE TABLE console_sessions (
    cookie_hash TEXT PRIMARY KEY NOT NULL,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,                -- every console form echoes it
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX console_sessions_session ON console_sessions(session_id);
CREATE INDEX console_sessions_user ON console_sessions(user_id);
