//! Administrative acts on roles and their grants (`role`, the console's
//! roles page), each audited like the others (`super::audit`).

use super::audit;
use crate::store::Store;

/// Adds a role (`role add`, the console's roles page), audited.
pub async fn add_role(
    store: &dyn Store,
    spec: &crate::domain::role::RoleSpec,
    operator: &str,
) -> Result<crate::domain::role::Role, crate::app::roles::RoleError> {
    let role = crate::app::roles::create(store, spec).await?;
    audit("role.add", &role.role.to_string(), operator);
    Ok(role)
}

/// Removes a stored role and every grant of it, audited.
pub async fn remove_role(
    store: &dyn Store,
    role: &crate::domain::role::RoleRef,
    operator: &str,
) -> Result<(), crate::app::roles::RoleError> {
    crate::app::roles::remove(store, role).await?;
    audit("role.remove", &role.to_string(), operator);
    Ok(())
}

/// Grants an existing role; audited when the holder did not hold it yet
/// (then the second value is true).
pub async fn grant_role(
    store: &dyn Store,
    realm: &str,
    holder: &crate::app::roles::HolderName,
    role: &crate::domain::role::RoleRef,
    operator: &str,
) -> Result<(crate::domain::role::Holder, bool), crate::app::roles::RoleError> {
    let (holder, added) = crate::app::roles::grant(store, realm, holder, role).await?;
    if added {
        audit("role.grant", &format!("{role} to {holder}"), operator);
    }
    Ok((holder, added))
}

/// Revokes a role the holder holds directly, audited.
pub async fn revoke_role(
    store: &dyn Store,
    holder: &crate::app::roles::HolderName,
    role: &crate::domain::role::RoleRef,
    operator: &str,
) -> Result<crate::domain::role::Holder, crate::app::roles::RoleError> {
    let holder = crate::app::roles::revoke(store, holder, role).await?;
    audit("role.revoke", &format!("{role} from {holder}"), operator);
    Ok(holder)
}
