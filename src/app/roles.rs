//! Administering roles (the CLI, `[[roles]]`/`[[groups]]` seeding, the
//! console) and working out the roles a token carries. See `domain::role`
//! for the model and docs/roles.md for what the operator sees.

use std::sync::Arc;

use crate::app::config_cache::Snapshot;
pub use crate::domain::role::GroupSpec;
use crate::domain::role::{
    EffectiveRoles, Holder, Role, RoleRef, RoleSpec, expand, holders_of_user, parse_group_path,
    with_builtins,
};
use crate::domain::user::{User, name_key};
use crate::store::{ClientStore, RoleGrant, RoleStore, Store, StoreError, UserStore};

pub use crate::app::ChangeError as RoleError;

/// A holder as the operator names it: a username, a group path or a client id.
#[derive(Debug, Clone)]
pub enum HolderName {
    User(String),
    Group(String),
    Client(String),
}

/// Resolves a named holder to the one the store keys grants by; the user or
/// client must exist.
pub async fn resolve(store: &dyn Store, name: &HolderName) -> Result<Holder, RoleError> {
    match name {
        HolderName::User(username) => {
            let user = UserStore::get_user(store, &name_key(username))
                .await?
                .ok_or_else(|| RoleError::NotFound(format!("no user {username:?}")))?;
            Ok(Holder::User(user.id))
        }
        HolderName::Group(path) => Ok(Holder::Group(parse_group_path(path)?)),
        HolderName::Client(id) => {
            let client = ClientStore::get_client(store, id)
                .await?
                .ok_or_else(|| RoleError::NotFound(format!("no client {id:?}")))?;
            Ok(Holder::Client(client.client_id.into_string()))
        }
    }
}

/// Every role of the realm: the stored ones and the built-in ones.
pub async fn list(store: &dyn RoleStore, realm: &str) -> Result<Vec<Role>, RoleError> {
    Ok(with_builtins(realm, store.list_roles().await?))
}

/// Adds a role; a client role's client must exist. Composites may name
/// roles that do not exist yet (they count once they do).
pub async fn create(store: &dyn Store, spec: &RoleSpec) -> Result<Role, RoleError> {
    let role = Role::from_spec(spec)?;
    if let Some(client) = &role.role.client
        && ClientStore::get_client(store, client).await?.is_none()
    {
        return Err(RoleError::NotFound(format!("no client {client:?}")));
    }
    RoleStore::insert_role(store, &role, false).await?;
    Ok(role)
}

/// Removes a role and every grant of it.
/// Stores a role unless one of that name exists (the Keycloak import);
/// true when it was created. A client role's client must exist.
pub async fn create_if_absent(store: &dyn Store, spec: &RoleSpec) -> Result<bool, RoleError> {
    let role = Role::from_spec(spec)?;
    if let Some(client) = &role.role.client
        && ClientStore::get_client(store, client).await?.is_none()
    {
        return Err(RoleError::NotFound(format!("no client {client:?}")));
    }
    Ok(RoleStore::insert_role(store, &role, true).await?)
}

pub async fn remove(store: &dyn RoleStore, role: &RoleRef) -> Result<(), RoleError> {
    if store.delete_role(role).await? {
        Ok(())
    } else {
        Err(RoleError::NotFound(format!("no stored role {role}")))
    }
}

async fn exists(store: &dyn RoleStore, realm: &str, role: &RoleRef) -> Result<(), RoleError> {
    if list(store, realm).await?.iter().any(|r| r.role == *role) {
        Ok(())
    } else {
        Err(RoleError::NotFound(format!(
            "no role {role} (add it with `role add` first)"
        )))
    }
}

/// Grants an existing role; false when the holder had it already.
pub async fn grant(
    store: &dyn Store,
    realm: &str,
    holder: &HolderName,
    role: &RoleRef,
) -> Result<(Holder, bool), RoleError> {
    exists(store, realm, role).await?;
    let holder = resolve(store, holder).await?;
    let added = RoleStore::grant_role(store, &holder, role).await?;
    Ok((holder, added))
}

/// Revokes a role; `NotFound` when the holder did not hold it directly.
pub async fn revoke(
    store: &dyn Store,
    holder: &HolderName,
    role: &RoleRef,
) -> Result<Holder, RoleError> {
    let holder = resolve(store, holder).await?;
    if RoleStore::revoke_role(store, &holder, role).await? {
        Ok(holder)
    } else {
        Err(RoleError::NotFound(format!(
            "{holder} does not hold {role} directly"
        )))
    }
}

/// Every direct grant.
pub async fn grants(store: &dyn RoleStore) -> Result<Vec<RoleGrant>, RoleError> {
    Ok(store.role_grants(&[]).await?)
}

/// The roles a user holds: their own, their groups' and those groups'
/// ancestors', `default-roles-<realm>`, all expanded through composites.
pub async fn of_user(
    store: &dyn RoleStore,
    realm: &str,
    user: &User,
) -> Result<EffectiveRoles, StoreError> {
    of_holders(store, realm, holders_of_user(&user.id, &user.groups)).await
}

/// The roles a token carries, from the cached configuration: the user's
/// own grants are read from the store on the user's first token under a
/// snapshot (one statement) and remembered by it; the grants of its groups
/// or of a service account come from the snapshot.
pub async fn for_token(
    store: &dyn RoleStore,
    config: &Snapshot,
    realm: &str,
    holders: Vec<Holder>,
) -> Result<EffectiveRoles, StoreError> {
    let (users, others): (Vec<Holder>, Vec<Holder>) = holders
        .into_iter()
        .partition(|h| matches!(h, Holder::User(_)));
    let own: Arc<[RoleRef]> = match users.as_slice() {
        [] => Arc::from([]),
        [Holder::User(id)] => match config.user_grants(id) {
            Some(grants) => grants,
            None => {
                let grants: Arc<[RoleRef]> = store
                    .role_grants(&users)
                    .await?
                    .into_iter()
                    .map(|g| g.role)
                    .collect();
                config.remember_user_grants(id, grants.clone());
                grants
            }
        },
        _ => store
            .role_grants(&users)
            .await?
            .into_iter()
            .map(|g| g.role)
            .collect(),
    };
    let default = RoleRef::realm(&crate::domain::role::default_roles_name(realm));
    let direct = own
        .iter()
        .chain(others.iter().flat_map(|h| config.grants_of(h)))
        .chain(std::iter::once(&default));
    Ok(expand(config.roles(), direct))
}

async fn of_holders(
    store: &dyn RoleStore,
    realm: &str,
    holders: Vec<Holder>,
) -> Result<EffectiveRoles, StoreError> {
    let defined = with_builtins(realm, store.list_roles().await?);
    let grants = store.role_grants(&holders).await?;
    let default = RoleRef::realm(&crate::domain::role::default_roles_name(realm));
    let direct = grants
        .iter()
        .map(|g| &g.role)
        .chain(std::iter::once(&default));
    Ok(expand(&defined, direct))
}

/// Applies `[[roles]]` (a role that exists is left as it is), then the
/// grants the file lists: `[[groups]]` roles, users' `roles`, clients'
/// `service_account_roles`. Grants only ever add: one revoked with the CLI
/// comes back at the next start while the file still lists it. Returns how
/// many roles were created.
pub async fn seed(
    store: &dyn Store,
    realm: &str,
    roles: &[RoleSpec],
    groups: &[GroupSpec],
    holders: &[(HolderName, Vec<String>)],
) -> Result<usize, RoleError> {
    let mut created = 0;
    for spec in roles {
        let role = Role::from_spec(spec)?;
        if RoleStore::insert_role(store, &role, true).await? {
            created += 1;
            tracing::info!(role = %role.role, "seeded role");
        }
    }
    let group_grants = groups
        .iter()
        .map(|g| (HolderName::Group(g.path.clone()), g.roles.clone()));
    let all: Vec<(HolderName, Vec<String>)> = group_grants.chain(holders.iter().cloned()).collect();
    for (holder, names) in &all {
        for name in names {
            let role = RoleRef::parse(name)?;
            grant(store, realm, holder, &role).await?;
        }
    }
    Ok(created)
}
