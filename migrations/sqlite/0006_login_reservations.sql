-- Password checks in flight per counter (see src/lockout.rs): an attempt is
-- reserved before argon2 runs, so parallel guesses cannot all pass an
-- unlocked counter. `in_flight` counts until `in_flight_until` (a lease, so
-- a crashed process cannot hold reservations for ever); `grant_nonce` is the
-- last granted reservation's random id, which tells a caller whether its own
-- reservation was the one granted.
ALTER TABLE login_failures ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_failures ADD COLUMN in_flight_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_failures ADD COLUMN grant_nonce INTEGER NOT NULL DEFAULT 0;
