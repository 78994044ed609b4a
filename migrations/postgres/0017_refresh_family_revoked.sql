-- Whether a refresh family was revoked (a rotation's successor is born
-- revoked then, see rotate_refresh_token and insert_refresh_token) is
-- MIN(revoked_at) over the family: with (family_id, revoked_at) indexed,
-- Postgres answers it with one index seek instead of visiting every token
-- the family ever rotated through. It covers lookups by family alone.
CREATE INDEX refresh_tokens_family_revoked ON refresh_tokens(family_id, revoked_at);
DROP INDEX refresh_tokens_family;
