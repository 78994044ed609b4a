//! Keycloak's encoding of a password hash (a credential's `secretData` and
//! `credentialData`) to and from the PHC strings stored here. PBKDF2 hashes
//! are kept as they are (see `pbkdf2`); Keycloak's `argon2` provider stores
//! the raw hash and salt in base64 and its parameters in
//! `additionalParameters` (`type`, `version`, `hashLength`, `memory`,
//! `parallelism`; `hashIterations` is `t`), which maps onto argon2's own
//! PHC string one to one.

use std::collections::BTreeMap;

use argon2::password_hash::{Ident, Output, ParamsString, PasswordHash as Phc, Salt, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::pbkdf2;
use crate::domain::user::InvalidInput;

/// A password hash as a Keycloak realm export carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeycloakHash {
    /// The provider id: `pbkdf2`, `pbkdf2-sha256`, `pbkdf2-sha512`, `argon2`.
    pub algorithm: String,
    pub iterations: u32,
    /// Base64, as in `secretData.salt`.
    pub salt: String,
    /// Base64, as in `secretData.value`.
    pub value: String,
    /// `credentialData.additionalParameters` (each a list, as Keycloak's
    /// `MultivaluedHashMap`).
    pub additional: BTreeMap<String, Vec<String>>,
}

fn bad(msg: impl Into<String>) -> InvalidInput {
    InvalidInput(msg.into())
}

fn first<'a>(map: &'a BTreeMap<String, Vec<String>>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(|v| v.first()).map(String::as_str)
}

fn argon2_variant(kc: &str) -> Option<&'static str> {
    match kc {
        "id" => Some("argon2id"),
        "i" => Some("argon2i"),
        "d" => Some("argon2d"),
        _ => None,
    }
}

fn argon2_version(kc: &str) -> Option<u32> {
    match kc {
        "1.3" => Some(19),
        "1.0" => Some(16),
        _ => None,
    }
}

impl KeycloakHash {
    /// The PHC string to store, checked for shape (not for cost).
    pub fn to_phc(&self) -> Result<String, InvalidInput> {
        let salt = STANDARD
            .decode(self.salt.trim())
            .map_err(|_| bad("secretData.salt is not base64"))?;
        let value = STANDARD
            .decode(self.value.trim())
            .map_err(|_| bad("secretData.value is not base64"))?;
        if pbkdf2::is_pbkdf2(&self.algorithm) {
            return pbkdf2::to_phc(&self.algorithm, self.iterations, &salt, &value);
        }
        if self.algorithm != "argon2" {
            return Err(bad(format!(
                "hash algorithm {:?} is not one of pbkdf2, pbkdf2-sha256, pbkdf2-sha512, argon2",
                self.algorithm
            )));
        }
        let p = &self.additional;
        let variant = argon2_variant(first(p, "type").unwrap_or("id"))
            .ok_or_else(|| bad("argon2 type must be id, i or d"))?;
        let version = argon2_version(first(p, "version").unwrap_or("1.3"))
            .ok_or_else(|| bad("argon2 version must be 1.3 or 1.0"))?;
        let number = |key: &str, default: u32| -> Result<u32, InvalidInput> {
            match first(p, key) {
                None => Ok(default),
                Some(s) => s
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("argon2 {key} must be a number"))),
            }
        };
        // Keycloak's defaults (Argon2Parameters) for what the export omits.
        let memory = number("memory", 7168)?;
        let parallelism = number("parallelism", 1)?;
        let hash_length = number("hashLength", 32)?;
        if usize::try_from(hash_length).ok() != Some(value.len()) {
            return Err(bad("argon2 hashLength does not match the hash value"));
        }
        let params = argon2::Params::new(memory, self.iterations, parallelism, Some(value.len()))
            .map_err(|e| bad(format!("argon2 parameters: {e}")))?;
        let mut encoded = ParamsString::new();
        for (k, v) in [
            ("m", params.m_cost()),
            ("t", params.t_cost()),
            ("p", params.p_cost()),
        ] {
            encoded
                .add_decimal(k, v)
                .map_err(|_| bad("argon2 parameters do not encode"))?;
        }
        let salt = SaltString::encode_b64(&salt).map_err(|_| bad("salt must be 4-48 bytes"))?;
        let phc = Phc {
            algorithm: Ident::new(variant).map_err(|_| bad("argon2 variant"))?,
            version: Some(version),
            params: encoded,
            salt: Some(Salt::from_b64(salt.as_str()).map_err(|_| bad("salt must be 3-48 bytes"))?),
            hash: Some(Output::new(&value).map_err(|_| bad("hash value must be 10-64 bytes"))?),
        };
        let phc = phc.to_string();
        super::check_phc(&phc)?;
        Ok(phc)
    }

    /// Keycloak's encoding of a stored PHC string (argon2 or PBKDF2).
    pub fn from_phc(stored: &str) -> Result<KeycloakHash, InvalidInput> {
        let phc = Phc::new(stored).map_err(|_| bad("the stored hash is not a PHC string"))?;
        if let Some((algorithm, iterations, salt, hash)) = pbkdf2::parts(&phc) {
            return Ok(KeycloakHash {
                algorithm,
                iterations,
                salt: STANDARD.encode(salt),
                value: STANDARD.encode(hash),
                additional: BTreeMap::new(),
            });
        }
        let kind = match phc.algorithm.as_str() {
            "argon2id" => "id",
            "argon2i" => "i",
            "argon2d" => "d",
            other => return Err(bad(format!("stored hash {other:?} has no Keycloak form"))),
        };
        let version = match phc.version.unwrap_or(19) {
            19 => "1.3",
            16 => "1.0",
            _ => return Err(bad("unknown argon2 version")),
        };
        let params =
            argon2::Params::try_from(&phc).map_err(|_| bad("invalid argon2 parameters"))?;
        let (Some(salt), Some(hash)) = (phc.salt, phc.hash) else {
            return Err(bad("the stored hash has no salt or hash"));
        };
        let mut buf = [0u8; 64];
        let salt = salt
            .decode_b64(&mut buf)
            .map_err(|_| bad("the stored salt is not base64"))?;
        let one = |v: String| vec![v];
        let additional = BTreeMap::from([
            ("type".to_owned(), one(kind.to_owned())),
            ("version".to_owned(), one(version.to_owned())),
            ("hashLength".to_owned(), one(hash.len().to_string())),
            ("memory".to_owned(), one(params.m_cost().to_string())),
            ("parallelism".to_owned(), one(params.p_cost().to_string())),
        ]);
        Ok(KeycloakHash {
            algorithm: "argon2".into(),
            iterations: params.t_cost(),
            salt: STANDARD.encode(salt),
            value: STANDARD.encode(hash.as_bytes()),
            additional,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};

    #[test]
    fn argon2_round_trips_through_keycloak_form() {
        let params = argon2::Params::new(7168, 5, 1, Some(32)).unwrap();
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let ours = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(b"pw", &salt)
            .unwrap()
            .to_string();
        let kc = KeycloakHash::from_phc(&ours).unwrap();
        assert_eq!(kc.algorithm, "argon2");
        assert_eq!(kc.iterations, 5);
        assert_eq!(kc.salt, STANDARD.encode(b"0123456789abcdef"));
        assert_eq!(first(&kc.additional, "memory"), Some("7168"));
        assert_eq!(first(&kc.additional, "type"), Some("id"));
        assert_eq!(first(&kc.additional, "version"), Some("1.3"));
        assert_eq!(first(&kc.additional, "hashLength"), Some("32"));
        let back = kc.to_phc().unwrap();
        assert_eq!(back, ours);
        Argon2::default()
            .verify_password(b"pw", &Phc::new(&back).unwrap())
            .unwrap();
    }

    #[test]
    fn keycloak_argon2_defaults_fill_in_missing_parameters() {
        let kc = KeycloakHash {
            algorithm: "argon2".into(),
            iterations: 5,
            salt: STANDARD.encode(b"0123456789abcdef"),
            value: STANDARD.encode([7u8; 32]),
            additional: BTreeMap::new(),
        };
        assert!(
            kc.to_phc()
                .unwrap()
                .starts_with("$argon2id$v=19$m=7168,t=5,p=1$")
        );
        let bad_length = KeycloakHash {
            additional: BTreeMap::from([("hashLength".into(), vec!["64".into()])]),
            ..kc.clone()
        };
        assert!(bad_length.to_phc().is_err());
        let unknown = KeycloakHash {
            algorithm: "bcrypt".into(),
            ..kc
        };
        assert!(unknown.to_phc().unwrap_err().0.contains("bcrypt"));
    }
}
