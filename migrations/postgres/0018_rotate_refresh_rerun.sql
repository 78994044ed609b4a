-- rotate_refresh_token, safe to run twice: a call whose answer was lost
-- with its connection (Postgres restarted, a firewall cut it) is run again
-- on another, and must answer as the first run did instead of finding the
-- presented token spent and reporting a replay. The successor's hash is
-- drawn afresh by the issuer for each rotation, so only a second run of
-- the same call can find it stored: then the presented token was spent by
-- that call, and its row is the answer again. Nothing else changes (see
-- 0016 for the locks and the claim).
CREATE OR REPLACE FUNCTION rotate_refresh_token(
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
    IF EXISTS (SELECT 1 FROM refresh_tokens n
               WHERE n.token_hash = p_token_hash AND n.family_id = p_family_id) THEN
        RETURN QUERY SELECT * FROM refresh_tokens
                     WHERE token_hash = p_presented AND family_id = p_family_id
                       AND used_at = p_issued_at;
        RETURN;
    END IF;
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
