//! Administrative acts shared by the command line and the web console: each
//! makes its change through the store (or the key home) and writes the one
//! audit line, `admin.change`, naming who did it (`operator`: the shell user
//! for the CLI, the signed-in admin for the console).

use crate::app::Issuer;
use crate::app::clients::{self, ClientError};
use crate::app::mappers::{self, MapperError};
use crate::app::users::{self, UserError};
use crate::domain::client::{Client, ClientSpec};
use crate::domain::mapper::{Mapper, MapperSpec};
use crate::domain::password::{HashError, PasswordHasher};
use crate::domain::user::{NewUser, Password, User, name_key};
use crate::keys::{KeyError, KeyHome, Rotation};
use crate::store::{Store, StoreError};

mod roles;
pub use roles::{add_role, grant_role, remove_role, revoke_role};

/// The audit line of an administrative change.
pub fn audit(action: &str, subject: &str, operator: &str) {
    tracing::info!(
        target: "audit",
        event = "admin.change",
        action,
        subject,
        operator,
        "administrative change"
    );
}

/// Why an act on a named thing did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Key(#[from] KeyError),
}

pub async fn add_user(
    store: &dyn Store,
    hasher: &PasswordHasher,
    user: NewUser,
    operator: &str,
) -> Result<User, UserError> {
    let created = users::create(store, hasher, user).await?;
    audit("user.add", &created.username, operator);
    Ok(created)
}

pub async fn set_enabled(
    store: &dyn Store,
    username: &str,
    enabled: bool,
    operator: &str,
) -> Result<(), AdminError> {
    let found = store.set_enabled(&name_key(username), enabled).await?;
    let action = if enabled {
        "user.enable"
    } else {
        "user.disable"
    };
    audit_found(found, action, username, operator, || no_user(username))
}

/// Replaces a user's password (hashed here; never logged nor returned).
pub async fn set_password(
    store: &dyn Store,
    hasher: &PasswordHasher,
    username: &str,
    password: &Password,
    operator: &str,
) -> Result<User, AdminError> {
    let user = existing_user(store, username, AdminError::NotFound).await?;
    let hash = hasher.hash(password).await?;
    store.set_password_hash(&user.id, &hash).await?;
    audit("user.set-password", &user.username, operator);
    Ok(user)
}

pub async fn add_client(
    store: &dyn Store,
    spec: &ClientSpec,
    operator: &str,
) -> Result<(Client, Option<String>), ClientError> {
    let (client, secret) = clients::create(store, spec).await?;
    audit("client.add", &client.client_id, operator);
    Ok((client, secret))
}

pub async fn add_mapper(
    store: &dyn Store,
    spec: &MapperSpec,
    operator: &str,
) -> Result<Mapper, MapperError> {
    let mapper = mappers::create(store, spec).await?;
    audit("mapper.add", &spec.name, operator);
    Ok(mapper)
}

/// What is removed by the one key that names it: a user by username, a
/// client by id, a mapper by name.
#[derive(Debug, Clone, Copy)]
pub enum Removable {
    User,
    Client,
    Mapper,
}

impl std::fmt::Display for Removable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Removable::User => "user",
            Removable::Client => "client",
            Removable::Mapper => "mapper",
        })
    }
}

/// Removes the user, client or mapper `key` names (a user's sessions,
/// tokens and keys, a client's grants go with it).
pub async fn remove(
    store: &dyn Store,
    what: Removable,
    key: &str,
    operator: &str,
) -> Result<(), AdminError> {
    let found = match what {
        Removable::User => store.delete_user(&name_key(key)).await?,
        Removable::Client => store.delete_client(key).await?,
        Removable::Mapper => store.delete_mapper(key).await?,
    };
    audit_found(
        found,
        &format!("{what}.remove"),
        key,
        operator,
        || match what {
            Removable::User => no_user(key),
            Removable::Client => no_client(key),
            Removable::Mapper => format!("no mapper named {key:?}"),
        },
    )
}

/// Ends one login session (its refresh tokens stop working at once).
pub async fn end_session(state: &Issuer, id: &str, operator: &str) -> Result<(), AdminError> {
    let found = state.store.end_session(id, state.clock.now()).await?;
    audit_found(found, "session.end", id, operator, || {
        format!("no live session {id:?}")
    })
}

/// Ends every live session of a user; returns how many.
pub async fn end_sessions_of(
    state: &Issuer,
    username: &str,
    operator: &str,
) -> Result<usize, AdminError> {
    let user = existing_user(state.store.as_ref(), username, AdminError::NotFound).await?;
    let now = state.clock.now();
    let mut ended = 0;
    loop {
        let live = state
            .store
            .list_live_sessions(Some(&user.id), now, 500)
            .await?;
        if live.is_empty() {
            break;
        }
        for s in &live {
            if state.store.end_session(&s.session.id, now).await? {
                ended += 1;
            }
        }
    }
    audit("session.end-all", &user.username, operator);
    Ok(ended)
}

/// Adds a signing key published now that signs after `lead` seconds, and
/// makes this server publish it at once (others pick it up on reload).
pub async fn rotate_keys(
    state: &Issuer,
    home: &KeyHome,
    lead: u64,
    operator: &str,
) -> Result<Rotation, AdminError> {
    let done = home.rotate(lead, false).await?;
    audit("keys.rotate", &done.kid, operator);
    republish(state, home).await?;
    Ok(done)
}

/// Stops publishing a key (not the signer) and archives it.
pub async fn retire_key(
    state: &Issuer,
    home: &KeyHome,
    kid: &str,
    operator: &str,
) -> Result<String, AdminError> {
    let to = home.retire(kid).await?;
    audit("keys.retire", kid, operator);
    republish(state, home).await?;
    Ok(to)
}

async fn republish(state: &Issuer, home: &KeyHome) -> Result<(), KeyError> {
    let ring = home.refresh().await?;
    let documents = state.realm.documents(&ring);
    state.keys.publish(ring, documents);
    Ok(())
}

/// Creates an API key for `username`, named `name`, valid from `now` for
/// `expires_in` seconds (`None`: until revoked); the key itself is in the
/// answer, to be shown once.
pub async fn create_api_key(
    store: &dyn Store,
    username: &str,
    name: Option<&str>,
    expires_in: Option<u64>,
    now: i64,
    operator: &str,
) -> Result<crate::app::apikeys::CreatedKey, crate::app::apikeys::ApiKeyError> {
    let created = crate::app::apikeys::create(store, username, name, expires_in, now).await?;
    audit("apikey.create", &created.record.id, operator);
    Ok(created)
}

/// Revokes an API key at once.
pub async fn revoke_api_key(
    store: &dyn Store,
    id: &str,
    operator: &str,
) -> Result<crate::store::ApiKeyRecord, AdminError> {
    match crate::app::apikeys::revoke(store, id).await? {
        Some(key) => {
            audit("apikey.revoke", &key.id, operator);
            Ok(key)
        }
        None => Err(AdminError::NotFound(format!("no API key with id {id:?}"))),
    }
}

/// Audits `action` on `subject` when the store found it, else `NotFound`
/// with the `missing` message.
fn audit_found(
    found: bool,
    action: &str,
    subject: &str,
    operator: &str,
    missing: impl FnOnce() -> String,
) -> Result<(), AdminError> {
    if !found {
        return Err(AdminError::NotFound(missing()));
    }
    audit(action, subject, operator);
    Ok(())
}

fn no_user(username: &str) -> String {
    format!("no user named {username:?}")
}

fn no_client(client_id: &str) -> String {
    format!("no client with id {client_id:?}")
}

/// The user named `username`, or `not_found` saying there is none.
async fn existing_user<E: From<StoreError>>(
    store: &dyn Store,
    username: &str,
    not_found: fn(String) -> E,
) -> Result<User, E> {
    store
        .get_user(&name_key(username))
        .await?
        .ok_or_else(|| not_found(no_user(username)))
}

/// The client `client_id`, or `NotFound`.
async fn existing_client(store: &dyn Store, client_id: &str) -> Result<Client, EditError> {
    store
        .get_client(client_id)
        .await?
        .ok_or_else(|| EditError::NotFound(no_client(client_id)))
}

pub use crate::app::ChangeError as EditError;

/// Replaces a user's profile (email, cn, org, scopes, attributes, groups)
/// with `spec`'s, validated as `[[users]]` entries are. The username, the
/// password and the enabled flag stay as they are.
pub async fn edit_user(
    store: &dyn Store,
    username: &str,
    spec: &crate::domain::user::UserSpec,
    operator: &str,
) -> Result<User, EditError> {
    let user = existing_user(store, username, EditError::NotFound).await?;
    let spec = crate::domain::user::UserSpec {
        username: user.username.clone(),
        password: None,
        password_hash: None,
        ..spec.clone()
    };
    let new = NewUser::from_spec(&spec)?;
    if !store.update_user(&user.id, &new).await? {
        return Err(EditError::NotFound(no_user(username)));
    }
    audit("user.edit", &user.username, operator);
    Ok(user)
}

/// Replaces a client's settings with `spec`'s, validated as `[[clients]]`
/// entries are; its type (public or confidential) and secret stay.
pub async fn edit_client(
    store: &dyn Store,
    spec: &ClientSpec,
    operator: &str,
) -> Result<Client, EditError> {
    let existing = existing_client(store, &spec.client_id).await?;
    let spec = ClientSpec {
        public: existing.is_public(),
        secret: None,
        ..spec.clone()
    };
    let (mut client, _) = Client::from_spec(&spec)?;
    client.secret_hash = existing.secret_hash.clone();
    client.created_at = existing.created_at;
    if !store.update_client(&client).await? {
        return Err(EditError::NotFound(no_client(&spec.client_id)));
    }
    audit("client.edit", &client.client_id, operator);
    Ok(client)
}

/// Gives a confidential client a new generated secret (returned, to be
/// shown once); the old one stops working at once. Tokens already issued
/// stay valid.
pub async fn rotate_client_secret(
    store: &dyn Store,
    client_id: &str,
    operator: &str,
) -> Result<String, EditError> {
    let existing = existing_client(store, client_id).await?;
    if existing.is_public() {
        return Err(EditError::Invalid(crate::domain::user::InvalidInput(
            format!("client {client_id:?} is public: it has no secret"),
        )));
    }
    // Only the generated secret and its digest are taken from this spec.
    let (fresh, secret) = Client::from_spec(&ClientSpec {
        client_id: client_id.to_owned(),
        public: false,
        secret: None,
        grant_types: vec![crate::domain::client::GrantType::ClientCredentials],
        ..ClientSpec::default()
    })?;
    let secret = secret.ok_or_else(|| {
        EditError::Invalid(crate::domain::user::InvalidInput(
            "no secret generated".into(),
        ))
    })?;
    let client = Client {
        secret_hash: fresh.secret_hash,
        ..existing
    };
    if !store.update_client(&client).await? {
        return Err(EditError::NotFound(no_client(client_id)));
    }
    audit("client.rotate-secret", client_id, operator);
    Ok(secret)
}
