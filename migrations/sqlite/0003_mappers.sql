-- Claim mappers, applied in insertion order. The definition is stored as the
-- JSON of a MapperSpec and validated again when loaded.
CREATE TABLE mappers (
    name       TEXT PRIMARY KEY NOT NULL,
    spec       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
