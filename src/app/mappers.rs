//! Claim mappers in the store: registering (CLI, `[[mappers]]` seeding) and
//! loading them for minting.

use crate::app::oidc::claims::{ClaimContext, add_allowed_origins};
use crate::app::oidc::scope;
use crate::domain::mapper::{KEEP_CLIENT, Mapper, MapperSpec, Output};
use crate::domain::token::{Claims, TokenPolicy};
use crate::domain::user::name_key;
use crate::store::{Store, StoreError};

pub use crate::app::SpecError as MapperError;

/// Registers a mapper after validating it; `Conflict` when the name is taken.
pub async fn create(store: &dyn Store, spec: &MapperSpec) -> Result<Mapper, MapperError> {
    let mapper = Mapper::from_spec(spec)?;
    store.insert_mapper(spec).await?;
    Ok(mapper)
}

/// Registers a mapper unless one of that name exists (the Keycloak
/// import); true when it was created.
pub async fn create_if_absent(store: &dyn Store, spec: &MapperSpec) -> Result<bool, MapperError> {
    Mapper::from_spec(spec)?;
    Ok(store.insert_mapper_if_absent(spec).await?)
}

/// Applies `[[mappers]]` idempotently: a mapper whose name exists is left as
/// it is (change it with `mapper remove` + `mapper add`). Returns how many
/// were created. The specs were validated with the configuration.
pub async fn seed(store: &dyn Store, specs: &[MapperSpec]) -> Result<usize, MapperError> {
    let mut created = 0;
    for spec in specs {
        Mapper::from_spec(spec)?;
        if store.insert_mapper_if_absent(spec).await? {
            created += 1;
            tracing::info!(mapper = %spec.name, "seeded mapper");
        }
    }
    Ok(created)
}

/// The mappers to apply, in order. A stored definition that no longer
/// validates (edited by hand) is skipped with a warning rather than failing
/// every login.
pub async fn load(store: &dyn Store) -> Result<Vec<Mapper>, StoreError> {
    let specs = store.list_mappers().await?;
    Ok(specs
        .iter()
        .filter_map(|spec| match Mapper::from_spec(spec) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!(error = %e, "stored mapper is invalid; skipped");
                None
            }
        })
        .collect())
}

/// Why `claims preview` has nothing to show.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("no user {0:?}")]
    NoUser(String),
    #[error("no client {0:?}")]
    NoClient(String),
    #[error("output {0} needs a client: it is what an OAuth client gets")]
    NeedsClient(Output),
    #[error("no claims for this combination")]
    Nothing,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a preview shows: which claim set, for which client, and the claims.
pub struct Preview {
    pub output: Output,
    pub client_id: String,
    pub username: String,
    pub claims: Claims,
}

/// The claims a user would get (`claims preview`): nothing is signed;
/// iat/exp/jti are this moment's, sid/auth_time/nonce/at_hash would come
/// from a real session. `client` `None` (or `keep`) is the Keep login;
/// `output` defaults to `access` for a client and `keep` otherwise.
#[allow(clippy::too_many_arguments)]
pub async fn preview(
    store: &dyn Store,
    policy: &TokenPolicy,
    realm: &str,
    login: &str,
    client: Option<&str>,
    output: Option<Output>,
    requested: Option<&str>,
    now: i64,
) -> Result<Preview, PreviewError> {
    let user = store
        .find_user_for_login(&name_key(login))
        .await?
        .ok_or_else(|| PreviewError::NoUser(login.to_owned()))?;
    let client = match client {
        None | Some(KEEP_CLIENT) => None,
        Some(id) => Some(
            store
                .get_client(id)
                .await?
                .ok_or_else(|| PreviewError::NoClient(id.to_owned()))?,
        ),
    };
    let output = output.unwrap_or(if client.is_some() {
        Output::Access
    } else {
        Output::Keep
    });
    let (client_id, scopes) = match (&client, output) {
        (_, Output::Keep) => (
            KEEP_CLIENT.to_owned(),
            crate::domain::token::narrow_scopes(&user.scopes, requested),
        ),
        (Some(c), _) => (
            c.client_id.to_string(),
            scope::for_user(c, &user, requested),
        ),
        (None, other) => return Err(PreviewError::NeedsClient(other)),
    };
    let applied = scope::applied(client.as_ref(), &scopes);
    let roles = if applied.contains("roles") || applied.contains("microprofile-jwt") {
        Some(crate::app::roles::of_user(store, realm, &user).await?)
    } else {
        None
    };
    let mappers = load(store).await?;
    let ctx = ClaimContext {
        policy,
        mappers: &mappers,
        client_id: &client_id,
        user: Some(&user),
        scopes: &scopes,
        applied: &applied,
        roles: roles.as_ref(),
        session: None,
        now,
        lifetime: policy.lifetime(None),
    };
    let jti = uuid::Uuid::new_v4().to_string();
    // As minted: access tokens name the client's allowed origins.
    let access = || {
        let mut claims = ctx.access(&jti);
        if let Some(c) = &client {
            add_allowed_origins(&mut claims, c);
        }
        claims
    };
    let claims = match output {
        Output::Keep => ctx.keep(&jti),
        Output::Access => Some(access()),
        Output::Id => ctx.id(None, None, &jti),
        Output::Userinfo => Some(ctx.userinfo()),
        Output::Introspection => Some(ctx.introspection(access())),
    }
    .ok_or(PreviewError::Nothing)?;
    Ok(Preview {
        output,
        client_id,
        username: user.username,
        claims,
    })
}
