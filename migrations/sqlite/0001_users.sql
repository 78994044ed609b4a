-- The password store. Names are compared through *_key columns
-- (NFKC + lower case), computed by the application.
CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL,
    username_key  TEXT NOT NULL UNIQUE,
    email         TEXT,
    email_key     TEXT UNIQUE,
    cn            TEXT NOT NULL,
    org           TEXT,
    password_hash TEXT NOT NULL,
    scopes        TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
    attributes    TEXT NOT NULL DEFAULT '{}',  -- JSON object: name -> array of strings
    groups        TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
    enabled       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
