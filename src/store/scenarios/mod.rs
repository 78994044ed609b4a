//! Scenarios both backends' tests run against their own store: one async
//! function per guarantee, taking the store as `Arc<dyn Store>`, grouped by
//! area. `scenario_tests!` makes a `#[tokio::test]` of each for a backend.

mod apikeys;
pub(crate) mod grants;
mod lockouts;
mod secrets;
mod users;

pub(crate) use apikeys::{
    an_api_key_is_read_with_its_address_lock, api_keys_live_and_die_with_their_user,
};
pub(crate) use grants::{
    a_refresh_token_rotates_once, a_session_inserted_twice_is_stored_once,
    expired_grants_are_purged_in_chunks,
};
pub(crate) use lockouts::{
    a_reservation_run_twice_takes_one_place, a_success_settles_both_counters,
    back_off_doubles_up_to_the_cap_and_resets, failures_are_all_counted,
    quick_failures_lock_and_old_rows_are_purged, reservations_bound_the_checks,
};
pub(crate) use secrets::realm_secret_is_created_once;
pub(crate) use users::{
    a_bearer_is_read_with_its_session_and_denial, a_user_is_read_with_their_session,
    the_config_version_moves_with_the_configuration,
};

use super::{SessionRecord, Store, UserRecord};
use crate::domain::user::{NewUser, User, UserSpec};

/// Records a migration no release has (9999) as applied, as a newer release
/// would have; `$1` is its checksum (any bytes).
pub(crate) const FUTURE_MIGRATION_SQL: &str = "INSERT INTO _sqlx_migrations
     (version, description, success, checksum, execution_time)
     VALUES (9999, 'from the future', TRUE, $1, 0)";

/// After `FUTURE_MIGRATION_SQL`, `store` refuses to migrate with a reason an
/// operator can act on, not sqlx's.
pub(crate) async fn a_newer_release_is_named(store: &dyn Store) {
    let err = store.migrate().await.unwrap_err().to_string();
    assert!(
        err.contains("migrated by a newer release") && err.contains("9999"),
        "{err}"
    );
}

/// One `#[tokio::test]` per named scenario, each against a fresh store from
/// `$fresh` (an `async fn() -> Option<(store, guard)>`; `None` skips the
/// test, the guard lives as long as the store).
macro_rules! scenario_tests {
    ($fresh:path: $($scenario:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $scenario() {
                let Some((store, _guard)) = $fresh().await else {
                    return;
                };
                $crate::store::scenarios::$scenario(std::sync::Arc::new(store)).await;
            }
        )+
    };
}
pub(crate) use scenario_tests;

/// Inserts the user `name` (password hash "x").
pub(super) async fn user(store: &dyn Store, name: &str) -> User {
    let user = NewUser::from_spec(&UserSpec {
        username: name.into(),
        ..UserSpec::default()
    })
    .unwrap();
    store
        .insert_user(&UserRecord {
            user,
            password_hash: "x".into(),
        })
        .await
        .unwrap()
}

/// A live session of `user_id` without a cookie (a direct grant's).
pub(crate) fn session(id: &str, user_id: &str, auth_time: i64, expires_at: i64) -> SessionRecord {
    SessionRecord {
        id: id.into(),
        cookie_hash: None,
        user_id: user_id.into(),
        auth_time,
        expires_at,
        ended_at: None,
    }
}
