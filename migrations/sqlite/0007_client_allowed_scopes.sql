-- The scopes a client may request for a user (JSON array of strings); NULL:
-- the OpenID Connect scopes plus the user's own Keep scopes.
ALTER TABLE clients ADD COLUMN allowed_scopes TEXT;
