-- Realm-internal secrets, created once and shared by every instance on this
-- database: `refresh-token-hs512` signs the refresh tokens (never published).
CREATE TABLE realm_secrets (
    name       TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
