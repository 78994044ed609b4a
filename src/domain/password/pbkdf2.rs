//! PBKDF2 hashes as Keycloak stores them (`pbkdf2`, `pbkdf2-sha256`,
//! `pbkdf2-sha512`), kept in a PHC string (`$pbkdf2-sha256$i=27500$salt$hash`)
//! so that a user imported from Keycloak logs in with the password they had
//! there; the next successful login replaces the hash with argon2id.

use std::num::NonZeroU32;

use argon2::password_hash::{Ident, ParamsString, PasswordHash as Phc, Salt, SaltString};
use aws_lc_rs::pbkdf2;

use crate::domain::user::InvalidInput;

/// The most iterations an imported hash may ask for: far above any
/// Keycloak default (27,500 for SHA-256, 210,000 for SHA-512, 1,300,000
/// for SHA-1 in FIPS mode), low enough that one check stays bounded.
pub const MAX_ITERATIONS: u32 = 5_000_000;

/// Keycloak's provider ids, which are also the PHC identifiers used here.
const ALGORITHMS: [&str; 3] = ["pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512"];

fn algorithm(id: &str) -> Option<pbkdf2::Algorithm> {
    match id {
        "pbkdf2" => Some(pbkdf2::PBKDF2_HMAC_SHA1),
        "pbkdf2-sha256" => Some(pbkdf2::PBKDF2_HMAC_SHA256),
        "pbkdf2-sha512" => Some(pbkdf2::PBKDF2_HMAC_SHA512),
        _ => None,
    }
}

/// Whether `id` names a PBKDF2 hash this module checks.
pub fn is_pbkdf2(id: &str) -> bool {
    ALGORITHMS.contains(&id)
}

/// The iteration count of a parsed PBKDF2 PHC string.
fn iterations(phc: &Phc<'_>) -> Option<u32> {
    let i = phc.params.get_decimal("i")?;
    (1..=MAX_ITERATIONS).contains(&i).then_some(i)
}

/// Builds the PHC string of a Keycloak PBKDF2 credential.
pub fn to_phc(id: &str, iterations: u32, salt: &[u8], hash: &[u8]) -> Result<String, InvalidInput> {
    let bad = |why: &str| InvalidInput(format!("{id} credential: {why}"));
    if !is_pbkdf2(id) {
        return Err(bad("not a PBKDF2 algorithm"));
    }
    if !(1..=MAX_ITERATIONS).contains(&iterations) {
        return Err(bad(&format!(
            "hashIterations must be 1-{MAX_ITERATIONS}, not {iterations}"
        )));
    }
    let ident = Ident::new(id).map_err(|_| bad("not a PHC identifier"))?;
    let mut params = ParamsString::new();
    params
        .add_decimal("i", iterations)
        .map_err(|_| bad("parameters do not encode"))?;
    let salt = SaltString::encode_b64(salt).map_err(|_| bad("salt must be 4-48 bytes"))?;
    let output = argon2::password_hash::Output::new(hash)
        .map_err(|_| bad("hash value must be 10-64 bytes"))?;
    let phc = Phc {
        algorithm: ident,
        version: None,
        params,
        salt: Some(Salt::from_b64(salt.as_str()).map_err(|_| bad("salt must be 3-48 bytes"))?),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// The parts of a PBKDF2 PHC string: algorithm id, iterations, salt, hash.
pub fn parts(phc: &Phc<'_>) -> Option<(String, u32, Vec<u8>, Vec<u8>)> {
    if !is_pbkdf2(phc.algorithm.as_str()) {
        return None;
    }
    let i = iterations(phc)?;
    let mut buf = [0u8; 64];
    let salt = phc.salt?.decode_b64(&mut buf).ok()?.to_vec();
    let hash = phc.hash?.as_bytes().to_vec();
    Some((phc.algorithm.as_str().to_owned(), i, salt, hash))
}

/// Checks `password` against a PBKDF2 PHC string, in constant time
/// (aws-lc-rs compares the derived key).
pub fn verify(password: &[u8], phc: &Phc<'_>) -> bool {
    let Some(alg) = algorithm(phc.algorithm.as_str()) else {
        return false;
    };
    let Some(i) = iterations(phc).and_then(NonZeroU32::new) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return false;
    };
    let mut buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut buf) else {
        return false;
    };
    pbkdf2::verify(alg, i, salt, password, expected.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    fn phc(id: &str, i: u32, salt: &str, value: &str) -> String {
        let salt = STANDARD.decode(salt).unwrap();
        let value = STANDARD.decode(value).unwrap();
        to_phc(id, i, &salt, &value).unwrap()
    }

    /// Hashes from public Keycloak realm exports whose passwords their
    /// authors published (see tests/fixtures/keycloak/README.md).
    #[test]
    fn keycloak_hashes_verify_as_they_are() {
        for (id, i, salt, value, password) in [
            (
                "pbkdf2-sha256",
                27500,
                "P5rtFkGtPfoaryJ6PizUJw==",
                "JsfNbCOIdZUbyBJ+BT+VoGI91Ec2rWLOvkLPDaX8e9k=",
                "password",
            ),
            (
                "pbkdf2-sha256",
                27500,
                "1/qNkZ5kr77jOMOBPBogGw==",
                "4pf9K2jWSCcHC+CwsZP/qidN5pSmDUe6AX6wBerSGdBVKkExay8MWKx+EKmaaObZW6FVsD8vdW/ZsyUFD9gJ1Q==",
                "admin",
            ),
            (
                "pbkdf2",
                20000,
                "VsYJarM+eZEMeGPx9L9tXg==",
                "b55DNTA2fTf2o4Vhp+oyTI9EugUpwVqpexCAZ7b6++J40QzVWa1j/6P1iJ2F8y9nBx0eXy53u0VX9pZYhgdaAg==",
                "demo",
            ),
        ] {
            let stored = phc(id, i, salt, value);
            assert!(stored.starts_with(&format!("${id}$i={i}$")), "{stored}");
            let parsed = Phc::new(&stored).unwrap();
            assert!(verify(password.as_bytes(), &parsed), "{id}");
            assert!(!verify(b"wrong", &parsed), "{id}");
            let (alg, iter, s, h) = parts(&parsed).unwrap();
            assert_eq!((alg.as_str(), iter), (id, i));
            assert_eq!(STANDARD.encode(s), salt);
            assert_eq!(STANDARD.encode(h), value);
        }
    }

    #[test]
    fn sha512_agrees_with_aws_lc_derive() {
        let mut out = [0u8; 64];
        let i = NonZeroU32::new(1000).unwrap();
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA512,
            i,
            b"0123456789abcdef",
            b"pw",
            &mut out,
        );
        let stored = to_phc("pbkdf2-sha512", 1000, b"0123456789abcdef", &out).unwrap();
        let parsed = Phc::new(&stored).unwrap();
        assert!(verify(b"pw", &parsed));
        assert!(!verify(b"pw2", &parsed));
    }

    #[test]
    fn hostile_parameters_are_refused() {
        assert!(to_phc("pbkdf2-md5", 1, b"saltsalt", &[0; 32]).is_err());
        assert!(to_phc("pbkdf2-sha256", 0, b"saltsalt", &[0; 32]).is_err());
        assert!(to_phc("pbkdf2-sha256", MAX_ITERATIONS + 1, b"saltsalt", &[0; 32]).is_err());
        assert!(to_phc("pbkdf2-sha256", 10, b"saltsalt", &[0; 65]).is_err());
        assert!(to_phc("pbkdf2-sha256", 10, b"s", &[0; 32]).is_err());
        // A stored string claiming too many iterations never runs.
        let claimed = to_phc("pbkdf2-sha256", 10, b"saltsalt", &[0; 32])
            .unwrap()
            .replace("i=10", "i=4000000000");
        assert!(!verify(b"pw", &Phc::new(&claimed).unwrap()));
    }
}
