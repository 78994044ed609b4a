-- The login session a key's exchanged Domino Tokens share (their `sid`):
-- one per key, reused by every exchange while it is live, ended when the
-- key is revoked. No foreign key: an expired session is purged on its own,
-- and a key whose session is gone (or ended) simply starts another.
ALTER TABLE api_keys ADD COLUMN session_id TEXT;
