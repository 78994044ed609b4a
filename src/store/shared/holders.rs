//! The hot reads' SQL, written once: a token's holder (a refresh token's,
//! a session's by id or by its browser cookie, an API key's), read for every token checked. Both backends
//! run it through `hot_read`: sqlx's (`holder_reads!`), or SQLite's, which
//! runs the same text through rusqlite on the calling task
//! (`store::sqlite::hot`).

/// `format!` once, for the life of the process: a statement's text built
/// from the invoking module's `USER_COLUMNS`.
macro_rules! once_sql {
    ($($format:tt)*) => {{
        static SQL: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| format!($($format)*));
        &SQL
    }};
}

/// The hot statements, as functions of the module that invokes it (which
/// defines `USER_COLUMNS`, as `user_store!` does); each takes its key as
/// `$1` (a bearer's its `jti`, then its session as `$2`).
macro_rules! holder_sql {
    () => {
        fn refresh_holder_sql() -> &'static str {
            // The token's user and session exist while it does (their
            // foreign keys cascade), so the user is an inner join. The
            // configuration's change counter rides along: a refresh reads
            // it in this statement instead of one of its own.
            $crate::store::shared::holders::once_sql!(
                "SELECT {},
                        r.token_hash, r.family_id, r.session_id, r.client_id, r.user_id,
                        r.scope, r.auth_time, r.issued_at, r.expires_at, r.used_at,
                        r.revoked_at,
                        (SELECT version FROM config_version WHERE id = 1) AS config_version
                 FROM refresh_tokens r
                 JOIN (SELECT {USER_COLUMNS} FROM users) u ON u.id = r.user_id
                 LEFT JOIN sessions s ON s.id = r.session_id AND s.user_id = r.user_id
                 WHERE r.token_hash = $1",
                $crate::store::rows::USER_SESSION_COLUMNS
            )
        }

        /// A session joined with its user; the two statements below add
        /// the key they find it by.
        fn session_holder_sql() -> &'static str {
            $crate::store::shared::holders::once_sql!(
                "SELECT {}
                 FROM sessions s
                 JOIN (SELECT {USER_COLUMNS} FROM users) u ON u.id = s.user_id",
                $crate::store::rows::USER_SESSION_COLUMNS
            )
        }

        fn session_with_user_sql() -> &'static str {
            $crate::store::shared::holders::once_sql!("{} WHERE s.id = $1", session_holder_sql())
        }

        /// Whether the token `$1` is denied, and the session `$2` with its
        /// user: a bearer check's two reads in one. (SQLite numbers `$N`
        /// parameters in the order they first appear, so `$1` comes first.)
        fn bearer_holder_sql() -> &'static str {
            $crate::store::shared::holders::once_sql!(
                "SELECT {},
                        EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1) AS denied
                 FROM sessions s
                 JOIN (SELECT {USER_COLUMNS} FROM users) u ON u.id = s.user_id
                 WHERE s.id = $2",
                $crate::store::rows::USER_SESSION_COLUMNS
            )
        }

        fn session_by_cookie_with_user_sql() -> &'static str {
            $crate::store::shared::holders::once_sql!(
                "{} WHERE s.cookie_hash = $1",
                session_holder_sql()
            )
        }

        fn api_key_holder_sql() -> &'static str {
            $crate::store::shared::holders::once_sql!(
                "SELECT {}, {}
                 FROM api_keys k
                 JOIN (SELECT {USER_COLUMNS} FROM users) u ON u.id = k.user_id
                 LEFT JOIN sessions s ON s.id = k.session_id AND s.user_id = k.user_id
                 WHERE k.key_hash = $1",
                $crate::store::rows::USER_SESSION_COLUMNS,
                $crate::store::rows::API_KEY_COLUMNS
            )
        }

        /// The lockout of counter `$2` of kind `$1` running at `$3` (as
        /// `LockoutStore::login_lock`) and the API key `$4` with its user
        /// and session (as above): always one row, the key's columns null
        /// when there is no such key, so that a locked address's answer
        /// takes as long whatever key it sent.
        fn api_key_holder_and_lock_sql() -> &'static str {
            $crate::store::shared::holders::once_sql!(
                "SELECT l.locked_until, {}, {}
                 FROM (SELECT ({}) AS locked_until) AS l
                 LEFT JOIN api_keys k ON k.key_hash = $4
                 LEFT JOIN (SELECT {USER_COLUMNS} FROM users) u ON u.id = k.user_id
                 LEFT JOIN sessions s ON s.id = k.session_id AND s.user_id = k.user_id",
                $crate::store::rows::USER_SESSION_COLUMNS,
                $crate::store::rows::API_KEY_COLUMNS,
                $crate::store::shared::lockouts::LOGIN_LOCK_SQL
            )
        }
    };
}

/// The hot reads through sqlx, from `self.$read`: the row `sql` selects
/// with `args` as `$1`, `$2`..., mapped by `read` (one of `store::rows`'
/// rows); none when a text is one no row can hold (`unstorable`, not sent).
macro_rules! holder_reads {
    ($store:ty, $read:ident) => {
        impl $store {
            async fn hot_read<T>(
                &self,
                sql: &str,
                args: &[$crate::store::rows::Arg<'_>],
                read: fn(&dyn $crate::store::rows::Columns) -> Result<T, sqlx::Error>,
            ) -> Result<Option<T>, $crate::store::StoreError> {
                use $crate::store::rows::Arg;
                use $crate::store::shared::{binds, unavailable};
                if args.iter().any(Arg::unstorable) {
                    return Ok(None);
                }
                // A read: no ping before it (`Conns::fetch_rerunnable`).
                let row = self
                    .$read
                    .fetch_rerunnable(|| binds::hot_args(sql, args))
                    .await
                    .map_err(unavailable)?;
                row.map(|row| read(&row)).transpose().map_err(unavailable)
            }
        }
    };
}

pub(crate) use {holder_reads, holder_sql, once_sql};
