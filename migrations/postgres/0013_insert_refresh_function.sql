-- A refresh token's successor stored in one round trip: the family's
-- advisory lock (the class comes from the caller, as revoke_family's), then
-- the insert, born revoked when its family was revoked or its session ended
-- by then. The function is VOLATILE, so under READ COMMITTED its INSERT
-- takes a new snapshot after the lock is held and sees any revocation that
-- committed while it waited, as the two statements of a transaction did.
-- Both locks (advisory, and the session row's share lock) are held until
-- the calling statement's transaction ends. Returns the rows inserted
-- (0: the session is gone).
CREATE FUNCTION insert_refresh_token(
    lock_class  INTEGER,
    p_token_hash TEXT,
    p_family_id TEXT,
    p_session_id TEXT,
    p_client_id TEXT,
    p_user_id   TEXT,
    p_scope     TEXT,
    p_auth_time BIGINT,
    p_issued_at BIGINT,
    p_expires_at BIGINT,
    p_used_at   BIGINT,
    p_revoked_at BIGINT
) RETURNS BIGINT LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    inserted BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_class, hashtext(p_family_id));
    INSERT INTO refresh_tokens (token_hash, family_id, session_id, client_id, user_id,
                                scope, auth_time, issued_at, expires_at, used_at, revoked_at)
    SELECT p_token_hash, p_family_id, s.id, p_client_id, p_user_id, p_scope,
           p_auth_time, p_issued_at, p_expires_at, p_used_at,
           COALESCE(p_revoked_at,
                    (SELECT MIN(r.revoked_at) FROM refresh_tokens r WHERE r.family_id = p_family_id),
                    s.ended_at)
    FROM sessions s WHERE s.id = p_session_id
    FOR SHARE OF s;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    RETURN inserted;
END
$$;
