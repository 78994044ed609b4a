-- A refresh grant's rotation in one statement and one transaction: the
-- family's advisory lock (the class comes from the caller, as for
-- revoke_family), a share lock on the session row (which end_session's
-- update conflicts with), the claim of the presented token, and its
-- successor, born revoked when the family was revoked or the session ended
-- by then. The locks are taken in the order revoke_family (family, then
-- tokens) and end_session (session, then tokens) take theirs, so none of
-- them can wait on another in a circle. The function is VOLATILE: under READ
-- COMMITTED each statement takes a new snapshot after the locks are held.
-- Returns the spent token's row, or nothing (and stores nothing) when it was
-- not live or the session is gone.
CREATE FUNCTION rotate_refresh_token(
    lock_class   INTEGER,
    p_presented  TEXT,
    p_token_hash TEXT,
    p_family_id  TEXT,
    p_session_id TEXT,
    p_client_id  TEXT,
    p_user_id    TEXT,
    p_scope      TEXT,
    p_auth_time  BIGINT,
    p_issued_at  BIGINT,
    p_expires_at BIGINT
) RETURNS SETOF refresh_tokens LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    spent refresh_tokens;
    ended BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_class, hashtext(p_family_id));
    SELECT s.ended_at INTO ended FROM sessions s WHERE s.id = p_session_id FOR SHARE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE refresh_tokens SET used_at = p_issued_at
    WHERE token_hash = p_presented AND family_id = p_family_id
      AND session_id = p_session_id AND client_id = p_client_id AND user_id = p_user_id
      AND used_at IS NULL AND revoked_at IS NULL AND expires_at > p_issued_at
    RETURNING * INTO spent;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO refresh_tokens (token_hash, family_id, session_id, client_id, user_id,
                                scope, auth_time, issued_at, expires_at, used_at, revoked_at)
    VALUES (p_token_hash, p_family_id, p_session_id, p_client_id, p_user_id, p_scope,
            p_auth_time, p_issued_at, p_expires_at, NULL,
            COALESCE((SELECT MIN(r.revoked_at) FROM refresh_tokens r WHERE r.family_id = p_family_id),
                     ended));
    RETURN NEXT spent;
END
$$;
