-- Brute-force counters, shared by every instance on this database: one row
-- per login-name key (kind 'user') or client address (kind 'ip'). Times are
-- Unix milliseconds; 0 means "never".
CREATE TABLE login_failures (
    kind         TEXT NOT NULL CHECK (kind IN ('user', 'ip')),
    key          TEXT NOT NULL,
    failures     INTEGER NOT NULL,    -- consecutive, within failure_reset
    last_failure INTEGER NOT NULL,
    locked_at    INTEGER NOT NULL DEFAULT 0,   -- when the lockout last grew
    locked_until INTEGER NOT NULL DEFAULT 0,
    expires_at   INTEGER NOT NULL,    -- after this the row neither locks nor counts
    PRIMARY KEY (kind, key)
) STRICT;
CREATE INDEX login_failures_locked ON login_failures(locked_until);
CREATE INDEX login_failures_expires ON login_failures(expires_at);
