-- Whether a refresh family was revoked (a rotation's successor is born
-- revoked then) is a seek on (family_id, revoked_at), not a walk over every
-- token the family ever rotated through. It covers lookups by family alone.
CREATE INDEX refresh_tokens_family_revoked ON refresh_tokens(family_id, revoked_at);
DROP INDEX refresh_tokens_family;
