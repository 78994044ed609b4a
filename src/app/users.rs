//! Operations on users that need both the password hasher and the store:
//! creating, seeding and authenticating. Shared by the CLI, start-up seeding
//! and the login endpoints.

use crate::domain::password::{HashError, PasswordHasher};
use crate::domain::user::{Credential, NewUser, Password, User, UserSpec};
use crate::store::{Store, StoreError, UserRecord};

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0}")]
    Invalid(#[from] crate::domain::user::InvalidInput),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("a password is required: give password or password_hash")]
    NoPassword,
}

async fn record(hasher: &PasswordHasher, user: NewUser) -> Result<UserRecord, UserError> {
    let password_hash = match &user.credential {
        Some(Credential::Plain(p)) => hasher.hash(p).await?,
        Some(Credential::Hash(h)) => h.expose().to_owned(),
        None => return Err(UserError::NoPassword),
    };
    Ok(UserRecord {
        user,
        password_hash,
    })
}

/// Creates a user; `Conflict` when the name or email is taken.
pub async fn create(
    store: &dyn Store,
    hasher: &PasswordHasher,
    user: NewUser,
) -> Result<User, UserError> {
    let record = record(hasher, user).await?;
    Ok(store.insert_user(&record).await?)
}

/// Creates a user unless one of that username exists (the Keycloak import);
/// true when it was created. `Conflict` when only the email is taken.
pub async fn create_if_absent(
    store: &dyn Store,
    hasher: &PasswordHasher,
    user: NewUser,
) -> Result<bool, UserError> {
    if store.get_user(user.username.key()).await?.is_some() {
        return Ok(false);
    }
    let record = record(hasher, user).await?;
    Ok(store.insert_user_if_absent(&record).await?)
}

/// Applies `[[users]]` idempotently: a user that exists (by username) is left
/// exactly as it is, so edits made since with the CLI are never lost.
/// Returns how many users were created.
pub async fn seed(
    store: &dyn Store,
    hasher: &PasswordHasher,
    specs: &[UserSpec],
) -> Result<usize, UserError> {
    let mut created = 0;
    for spec in specs {
        let user = NewUser::from_spec(spec)?;
        if store.get_user(user.username.key()).await?.is_some() {
            continue;
        }
        let name = user.username.as_str().to_owned();
        let record = record(hasher, user).await?;
        match store.insert_user_if_absent(&record).await {
            Ok(true) => {
                created += 1;
                tracing::info!(username = %name, "seeded user");
            }
            Ok(false) => {}
            Err(StoreError::Conflict(why)) => {
                tracing::warn!(username = %name, %why, "seeded user skipped");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(created)
}

/// Why a login was refused. Deliberately coarse: callers answer all of these
/// the same way, so nobody learns whether a username exists.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("invalid username or password")]
    Refused,
    /// Brute-force protection: the password was not checked (or its success
    /// not revealed); retry after this many seconds.
    #[error("too many failed login attempts; try again later")]
    Locked { retry_after: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// Checks a password against the user a login name resolved to (`None`:
/// no such user). Unknown users, wrong passwords and disabled accounts cost
/// one argon2 verification each. Endpoints call it through
/// `login::authenticate`, which resolves the name and adds the
/// brute-force counters.
pub async fn check_password(
    store: &dyn Store,
    hasher: &PasswordHasher,
    user: Option<User>,
    password: &Password,
) -> Result<User, LoginError> {
    let check = hasher
        .verify(password, user.as_ref().map(|u| u.password_hash.0.as_str()))
        .await?;
    let Some(user) = user.filter(|_| check.valid) else {
        tracing::info!(outcome = "bad_credentials", "login refused");
        return Err(LoginError::Refused);
    };
    if !user.enabled {
        tracing::info!(user_id = %user.id, outcome = "disabled", "login refused");
        return Err(LoginError::Refused);
    }
    if check.needs_rehash {
        match hasher.hash(password).await {
            Ok(hash) => {
                if let Err(e) = store.set_password_hash(&user.id, &hash).await {
                    tracing::warn!(user_id = %user.id, error = %e, "could not store the upgraded password hash");
                }
            }
            Err(e) => tracing::warn!(user_id = %user.id, error = %e, "could not rehash password"),
        }
    }
    Ok(user)
}
