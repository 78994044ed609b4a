-- Signing keys when key_store = "database": the private key encrypted with
-- key_encryption_key, its certificate, and the dates that give its state.
-- `generation` is unique so that two processes rotating at once cannot both
-- add a key: the second insert fails and that process re-reads.
CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY NOT NULL,
    generation         INTEGER NOT NULL UNIQUE,
    sealed_private_key BLOB NOT NULL,
    certificate        BLOB NOT NULL,
    created            INTEGER NOT NULL,
    activates_at       INTEGER NOT NULL,
    superseded_at      INTEGER,
    retire_after       INTEGER,
    archived_at        INTEGER
) STRICT;
