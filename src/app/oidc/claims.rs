//! Every claim set this issuer produces, built in one place so that minting,
//! userinfo, introspection and `claims preview` cannot disagree: the base
//! claims of SPEC §4, then the claim mappers for that output and client.

use serde_json::{Value, json};

use crate::domain::client::Client;
use crate::domain::domino;
use crate::domain::mapper::{KEEP_CLIENT, Mapper, Output, apply_all};
use crate::domain::role::EffectiveRoles;
use crate::domain::scope::ScopeSet;
use crate::domain::token::{self, Claims, TokenPolicy};
use crate::domain::user::User;

/// Keycloak's `web-origins` scope: an access token names the origins it may
/// be used from, the client's web origins with `+` expanded (none: no claim).
pub fn add_allowed_origins(claims: &mut Claims, client: &Client) {
    let origins = client.allowed_origins();
    if !origins.is_empty() {
        claims.insert("allowed-origins".into(), json!(origins));
    }
}

/// What a claim set is built for.
pub struct ClaimContext<'a> {
    pub policy: &'a TokenPolicy,
    pub mappers: &'a [Mapper],
    /// The OAuth client, or `keep` for the Keep login.
    pub client_id: &'a str,
    /// `None` when a client acts for itself (client_credentials).
    pub user: Option<&'a User>,
    /// What the token lists in `scope`.
    pub scopes: &'a ScopeSet,
    /// The scopes whose claims it carries: those listed plus the client's
    /// default client scopes (`scope::applied`).
    pub applied: &'a ScopeSet,
    /// The holder's roles, when the `roles` scope applies.
    pub roles: Option<&'a EffectiveRoles>,
    /// The session's id (`sid`) and `auth_time`.
    pub session: Option<(&'a str, i64)>,
    pub now: i64,
    pub lifetime: u64,
}

impl ClaimContext<'_> {
    fn exp(&self) -> i64 {
        self.now
            .saturating_add(i64::try_from(self.lifetime).unwrap_or(i64::MAX))
    }

    fn mapped(&self, mut claims: Claims, output: Output) -> Claims {
        apply_all(self.mappers, output, self.client_id, self.user, &mut claims);
        claims
    }

    /// The Keep `POST /auth` token, bound to its login session, shaped like
    /// a Keycloak access token too, so that a service guarded by Keycloak's
    /// adapters accepts it.
    pub fn keep(&self, jti: &str) -> Option<Claims> {
        let mut claims = self.user_access(self.user?, jti);
        self.keycloak_access_claims(&mut claims);
        Some(self.mapped(claims, Output::Keep))
    }

    /// What Keycloak puts in every access token and its adapters check:
    /// `typ: "Bearer"` (keycloak-connect refuses any other), `acr`, and for
    /// a session-bound token `sid` and `session_state`.
    fn keycloak_access_claims(&self, c: &mut Claims) {
        c.insert("typ".into(), json!("Bearer"));
        c.insert("acr".into(), json!("1"));
        if let Some((sid, _)) = self.session {
            c.insert("sid".into(), json!(sid));
            c.insert("session_state".into(), json!(sid));
        }
    }

    /// An access token of an OAuth grant.
    pub fn access(&self, jti: &str) -> Claims {
        self.mapped(self.access_base(jti), Output::Access)
    }

    /// The Domino Token (seed 001): an access token for a user with the
    /// profile claims Domino's carries (`name`, `preferred_username`,
    /// `email`, `given_name`, `family_name`), then the access mappers of
    /// its client (`domino-play`), which may override the names.
    pub fn domino(&self, jti: &str) -> Option<Claims> {
        let user = self.user?;
        let mut c = self.access_base(jti);
        let (given, family) = domino::names(user);
        for (claim, value) in [("given_name", given), ("family_name", family)] {
            if !value.is_empty() {
                c.insert(claim.into(), json!(value));
            }
        }
        Some(self.mapped(c, Output::Access))
    }

    /// The claims of `user`'s access token with these scopes, before the
    /// mappers.
    fn user_access(&self, user: &User, jti: &str) -> Claims {
        token::access_claims(
            self.policy,
            user,
            &self.scopes.to_string(),
            self.lifetime,
            self.now,
            jti,
        )
    }

    /// An access token's claims before the mappers.
    fn access_base(&self, jti: &str) -> Claims {
        let mut c = match self.user {
            Some(user) => self.user_access(user, jti),
            // RFC 9068 §2.2: a client acting for itself is the subject.
            None => {
                let mut c = Claims::new();
                c.insert("iss".into(), json!(self.policy.issuer));
                c.insert("sub".into(), json!(self.client_id));
                c.insert("aud".into(), json!(self.policy.audience));
                c.insert("iat".into(), json!(self.now));
                c.insert("exp".into(), json!(self.exp()));
                c.insert("jti".into(), json!(jti));
                c.insert("client_id".into(), json!(self.client_id));
                c.insert("scope".into(), json!(self.scopes.to_string()));
                c
            }
        };
        c.insert("azp".into(), json!(self.client_id));
        self.keycloak_access_claims(&mut c);
        if let Some(user) = self.user {
            scope_claims(&mut c, user, self.applied);
        }
        if let Some(roles) = self.roles {
            if self.applied.contains("roles") {
                role_claims(&mut c, roles, self.client_id);
            }
            if self.applied.contains("microprofile-jwt") {
                c.insert("groups".into(), json!(roles.realm));
            }
        }
        c
    }

    /// The ID token of OIDC Core §2, with Keycloak's `typ: "ID"` so it can
    /// never pass for an access token at userinfo. `at_hash` is absent only
    /// in previews, where no access token was signed.
    pub fn id(&self, nonce: Option<&str>, at_hash: Option<&str>, jti: &str) -> Option<Claims> {
        let user = self.user?;
        let mut c = Claims::new();
        c.insert("iss".into(), json!(self.policy.issuer));
        c.insert("sub".into(), json!(self.policy.subject_of(user)));
        c.insert("aud".into(), json!(self.client_id));
        c.insert("iat".into(), json!(self.now));
        c.insert("exp".into(), json!(self.exp()));
        c.insert("jti".into(), json!(jti));
        c.insert("typ".into(), json!("ID"));
        c.insert("azp".into(), json!(self.client_id));
        if let Some(h) = at_hash {
            c.insert("at_hash".into(), json!(h));
        }
        if let Some((sid, auth_time)) = self.session {
            c.insert("auth_time".into(), json!(auth_time));
            c.insert("sid".into(), json!(sid));
        }
        if let Some(nonce) = nonce {
            c.insert("nonce".into(), json!(nonce));
        }
        profile_claims(&mut c, user, self.applied);
        scope_claims(&mut c, user, self.applied);
        Some(self.mapped(c, Output::Id))
    }

    /// The userinfo response (OIDC Core §5.3): `sub` and the claims the
    /// scopes release.
    pub fn userinfo(&self) -> Claims {
        let mut c = Claims::new();
        match self.user {
            Some(user) => {
                c.insert("sub".into(), json!(self.policy.subject_of(user)));
                profile_claims(&mut c, user, self.applied);
                scope_claims(&mut c, user, self.applied);
            }
            None => {
                c.insert("sub".into(), json!(self.client_id));
            }
        }
        self.mapped(c, Output::Userinfo)
    }

    /// Adds the introspection mappers to an introspection response.
    pub fn introspection(&self, response: Claims) -> Claims {
        self.mapped(response, Output::Introspection)
    }
}

/// The standard claims a scope releases (OIDC Core §5.4).
fn profile_claims(claims: &mut Claims, user: &User, scopes: &ScopeSet) {
    if scopes.contains("profile") {
        claims.insert("name".into(), json!(user.cn));
        claims.insert("preferred_username".into(), json!(user.username));
        claims.insert("CN".into(), json!(user.dn()));
    }
    if scopes.contains("email")
        && let Some(email) = &user.email
    {
        claims.insert("email".into(), json!(email));
    }
}

/// The claims of Keycloak's optional scopes this issuer honours: `phone`
/// (`phone_number`, `phone_number_verified` from the attributes
/// `phoneNumber`, `phoneNumberVerified`), `address` (OIDC Core §5.1.1 from
/// the attributes `street`, `locality`, `region`, `postal_code`, `country`,
/// `formatted`), `microprofile-jwt` (`upn`; its `groups` are the realm roles,
/// added by `role_claims`).
fn scope_claims(claims: &mut Claims, user: &User, scopes: &ScopeSet) {
    let attr = |name: &str| user.attributes.get(name).and_then(|v| v.first());
    if scopes.contains("phone") {
        if let Some(phone) = attr("phoneNumber") {
            claims.insert("phone_number".into(), json!(phone));
        }
        if let Some(verified) = attr("phoneNumberVerified") {
            claims.insert("phone_number_verified".into(), json!(verified == "true"));
        }
    }
    if scopes.contains("address") {
        let mut address = serde_json::Map::new();
        for part in [
            "street",
            "locality",
            "region",
            "postal_code",
            "country",
            "formatted",
        ] {
            if let Some(v) = attr(part) {
                let key = if part == "street" {
                    "street_address"
                } else {
                    part
                };
                address.insert(key.into(), json!(v));
            }
        }
        if !address.is_empty() {
            claims.insert("address".into(), Value::Object(address));
        }
    }
    if scopes.contains("microprofile-jwt") {
        claims.insert("upn".into(), json!(user.username));
    }
}

/// Keycloak's role claims, where keycloak-connect's `protect('realm:x')` /
/// `protect('app:x')` and Spring's converters read them: `realm_access.roles`
/// and `resource_access.<client>.roles`; and, as Keycloak's audience resolve
/// mapper does, each client whose roles the token carries joins `aud`
/// (but the token's own client).
fn role_claims(claims: &mut Claims, roles: &EffectiveRoles, own_client: &str) {
    if !roles.realm.is_empty() {
        claims.insert("realm_access".into(), json!({ "roles": roles.realm }));
    }
    if !roles.clients.is_empty() {
        let access: serde_json::Map<String, Value> = roles
            .clients
            .iter()
            .map(|(client, names)| (client.clone(), json!({ "roles": names })))
            .collect();
        claims.insert("resource_access".into(), Value::Object(access));
        let extra: Vec<&String> = roles
            .clients
            .keys()
            .filter(|c| c.as_str() != own_client)
            .collect();
        if !extra.is_empty() {
            let mut aud: Vec<Value> = match claims.get("aud") {
                Some(Value::Array(list)) => list.clone(),
                Some(one) => vec![one.clone()],
                None => Vec::new(),
            };
            for c in extra {
                if !aud.iter().any(|a| a == c) {
                    aud.push(json!(c));
                }
            }
            claims.insert("aud".into(), Value::Array(aud));
        }
    }
}

/// The client a token was issued to: its `azp`, or the Keep login.
pub fn client_of(claims: &Claims) -> &str {
    claims
        .get("azp")
        .and_then(Value::as_str)
        .unwrap_or(KEEP_CLIENT)
}
