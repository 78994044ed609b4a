-- Signing keys when key_store = "database" (the default on Postgres): the
-- private key encrypted with key_encryption_key, its certificate, and the
-- dates that give its state. `generation` is unique so that two instances
-- rotating at once cannot both add a key: the second insert conflicts and
-- that instance re-reads.
CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    generation         BIGINT NOT NULL UNIQUE,
    sealed_private_key BYTEA NOT NULL,
    certificate        BYTEA NOT NULL,
    created            BIGINT NOT NULL,
    activates_at       BIGINT NOT NULL,
    superseded_at      BIGINT,
    retire_after       BIGINT,
    archived_at        BIGINT
);
