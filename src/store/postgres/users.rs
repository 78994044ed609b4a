//! The password store's SQL, shared with the other backend
//! (`store::shared::users`).

use super::PgStore;

crate::store::shared::user_store!(PgStore, pool, pool, "::jsonb", "::text");

#[cfg(test)]
mod tests {
    //! Against the server `IDP_TEST_POSTGRES_URL` names (skipped when unset).
    use crate::domain::user::{NewUser, User, UserSpec};
    use crate::store::postgres::testdb;
    use crate::store::{StoreError, UserRecord, UserStore as _};

    fn record(username: &str, email: &str) -> UserRecord {
        UserRecord {
            user: NewUser::from_spec(&UserSpec {
                username: username.into(),
                email: Some(email.into()),
                ..UserSpec::default()
            })
            .unwrap(),
            password_hash: "x".into(),
        }
    }

    #[tokio::test]
    async fn taken_names_are_conflicts_with_the_sqlite_store_messages() {
        let Some((s, _)) = testdb::fresh().await else {
            return;
        };
        let doc = s
            .insert_user(&record("Doc", "doc@example.com"))
            .await
            .unwrap();
        assert_eq!(doc.username, "Doc");
        let conflict = |r: Result<User, StoreError>| match r {
            Err(StoreError::Conflict(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            conflict(s.insert_user(&record("doc", "other@example.com")).await),
            "a user with this username already exists"
        );
        assert_eq!(
            conflict(s.insert_user(&record("other", "DOC@example.com")).await),
            "a user with this email already exists"
        );
        // Seeding absorbs a taken username, not a taken email.
        assert!(
            !s.insert_user_if_absent(&record("DOC", "x@example.com"))
                .await
                .unwrap()
        );
        assert!(matches!(
            s.insert_user_if_absent(&record("new", "doc@example.com"))
                .await,
            Err(StoreError::Conflict(_))
        ));
        // Logins by username or email; a key Postgres cannot hold finds nobody.
        let by_email = s.find_user_for_login("doc@example.com").await.unwrap();
        assert_eq!(by_email.map(|u| u.id), Some(doc.id.clone()));
        assert!(s.find_user_for_login("do\0c").await.unwrap().is_none());
        assert!(s.set_enabled("doc", false).await.unwrap());
        assert!(!s.get_user("doc").await.unwrap().unwrap().enabled);
        assert!(s.delete_user("doc").await.unwrap());
        assert!(s.list_users().await.unwrap().is_empty());
    }
}

#[cfg(test)]
mod scenario_tests {
    //! The shared scenarios, against the server `IDP_TEST_POSTGRES_URL`
    //! names (skipped when it is unset).
    crate::store::scenarios::scenario_tests!(crate::store::postgres::testdb::fresh: a_user_is_read_with_their_session, a_bearer_is_read_with_its_session_and_denial, the_config_version_moves_with_the_configuration);
}
