//! `keys export --format keepconfig`: the file that makes a Domino REST API
//! (Keep) server trust this issuer. Keep reads every `*.json` file in
//! `keepconfig.d`; each `jwt.<name>` entry is one identity provider.
//! Online, Keep fetches the JWKS itself (`providerUrl`: Keep does not follow
//! Keycloak-style discovery, so it names the JWKS document); offline, it
//! reads the signing key's PEM (`keyFile` + `kid`), which must be exported
//! again after every key rotation.

use std::path::Path;

use serde_json::json;

use super::{Failure, print_json};
use crate::config::Config;
use crate::keys::KeyRing;

/// Prints the provider file; with `offline_dir`, also writes the signing
/// key's PEM there (the file the printed `keyFile` names, relative to
/// `keepconfig.d` as Keep resolves it).
pub fn export(config: &Config, ring: &KeyRing, offline_dir: Option<&Path>) -> Result<(), Failure> {
    let issuer = config.issuer();
    let mut provider = json!({
        "active": true,
        "algorithm": "RS256",
        "iss": issuer,
        "aud": config.audience,
    });
    match offline_dir {
        None => {
            provider["providerUrl"] = json!(format!("{issuer}/protocol/openid-connect/certs"));
        }
        Some(dir) => {
            let signer = ring.signer();
            let file = format!("{}-{}.pem", config.realm, signer.kid());
            let path = dir.join(&file);
            std::fs::write(&path, signer.public.pem())
                .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))?;
            eprintln!(
                "wrote {}; save the file below beside it, and export again after every key rotation",
                path.display()
            );
            provider["keyFile"] = json!(file);
            provider["kid"] = json!(signer.kid());
        }
    }
    let name = format!("domino-idp-{}", config.realm);
    let document = json!({ "jwt": { name: provider } });
    print_json(&document)
}
