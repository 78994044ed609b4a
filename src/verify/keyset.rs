//! The public keys a token may be checked against, built from each form a
//! consumer holds them in: a JWKS, a PEM public key or X.509 certificate, a
//! Keycloak realm document, or this issuer's key ring (`rsa` reads each
//! key). Parsing goes through jsonwebtoken and `pem`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use super::rsa::{RSA_ALGORITHMS, VerifyingKey, certificate_key, same_integer, spki_key};
use crate::keys::KeyRing;

/// The keys of one source, with notes on keys that were skipped.
#[derive(Debug, Clone)]
pub struct KeySet {
    /// The source as a report names it: `JWKS https://…`, `key file …`.
    pub source: String,
    pub keys: Vec<VerifyingKey>,
    /// Keys left out and why (an encryption key, an EC key, a weak key).
    pub notes: Vec<String>,
}

impl KeySet {
    fn empty(source: impl Into<String>) -> Self {
        KeySet {
            source: source.into(),
            keys: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The usable RSA signing keys of a JWKS document (RFC 7517 §5).
    pub fn from_jwks(source: impl Into<String>, doc: &Value) -> Result<Self, String> {
        let mut set = Self::empty(source);
        let entries = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("not a JWKS: it has no \"keys\" array")?;
        for (i, entry) in entries.iter().enumerate() {
            let name = match entry.get("kid").and_then(Value::as_str) {
                Some(kid) => format!("kid {kid}"),
                None => format!("key #{}", i + 1),
            };
            match jwk_key(entry, i) {
                Ok((key, note)) => {
                    set.keys.push(key);
                    set.notes.extend(note.map(|n| format!("{name}: {n}")));
                }
                Err(why) => set.notes.push(format!("skipped {name}: {why}")),
            }
        }
        if set.keys.is_empty() {
            return Err(format!(
                "the JWKS has no usable RSA signing key{}",
                list_notes(&set.notes)
            ));
        }
        Ok(set)
    }

    /// A PEM file as Keep's `keyFile` takes it: `PUBLIC KEY` (SPKI),
    /// `RSA PUBLIC KEY` (PKCS#1) or `CERTIFICATE` (the first block counts).
    pub fn from_pem(source: impl Into<String>, text: &[u8]) -> Result<Self, String> {
        let block = pem::parse(text).map_err(|e| format!("not a PEM file ({e})"))?;
        let (key, origin) = match block.tag() {
            "PUBLIC KEY" | "RSA PUBLIC KEY" => (
                DecodingKey::from_rsa_pem(text)
                    .map_err(|e| format!("not an RSA public key ({e})"))?,
                format!("{} PEM", block.tag()),
            ),
            "CERTIFICATE" => certificate_key(block.contents())?,
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
                return Err("this is a private key: give its public key \
                     (`domino-idp keys export --format pem`) or a certificate"
                    .into());
            }
            other => {
                return Err(format!(
                    "a {other:?} PEM block is not a key: expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE"
                ));
            }
        };
        let mut set = Self::empty(source);
        set.keys.push(VerifyingKey::rsa(
            key,
            None,
            origin,
            RSA_ALGORITHMS.to_vec(),
        )?);
        Ok(set)
    }

    /// A Keycloak realm: the document's `public_key` (base64 DER SPKI, the
    /// current signer) and, when given, the keys of its `certs` JWKS. The
    /// `public_key` is kept only if the JWKS does not already hold it.
    pub fn from_realm(realm_url: &str, doc: &Value, certs: Option<&Value>) -> Result<Self, String> {
        let source = format!("realm {realm_url}");
        let encoded = doc
            .get("public_key")
            .and_then(Value::as_str)
            .ok_or("not a Keycloak realm document: it has no \"public_key\"")?;
        let der = STANDARD
            .decode(encoded.trim())
            .map_err(|e| format!("the realm's public_key is not base64 ({e})"))?;
        let public = VerifyingKey::rsa(
            spki_key(&der).map_err(|e| format!("the realm's public_key: {e}"))?,
            None,
            "realm public_key".into(),
            RSA_ALGORITHMS.to_vec(),
        )?;
        let mut set = match certs.map(|c| Self::from_jwks(source.clone(), c)) {
            Some(Ok(set)) => set,
            Some(Err(why)) => {
                let mut set = Self::empty(source);
                set.notes.push(format!("the realm's certs: {why}"));
                set
            }
            None => Self::empty(source),
        };
        if !set.keys.iter().any(|k| k.thumbprint == public.thumbprint) {
            set.keys.push(public);
        }
        Ok(set)
    }

    /// This issuer's published keys (retired ones are left out). RS256 only: it is what
    /// the issuer signs and what its JWKS announces.
    pub fn from_ring(source: impl Into<String>, ring: &KeyRing) -> Result<Self, String> {
        let mut set = Self::empty(source);
        for key in ring.keys() {
            let decoding = key
                .public
                .decoding_key()
                .map_err(|e| format!("key {}: {e}", key.public.kid))?;
            set.keys.push(VerifyingKey::rsa(
                decoding,
                Some(key.public.kid.clone()),
                key.path.display().to_string(),
                vec![Algorithm::RS256],
            )?);
        }
        Ok(set)
    }

    /// The kids a report can list when a token names an unknown one.
    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().filter_map(|k| k.kid.as_deref()).collect()
    }
}

/// One JWKS entry as a key, plus a note when its `x5c` disagrees with n/e.
fn jwk_key(entry: &Value, index: usize) -> Result<(VerifyingKey, Option<String>), String> {
    let jwk: Jwk =
        serde_json::from_value(entry.clone()).map_err(|e| format!("not a valid JWK ({e})"))?;
    if let Some(usage) = &jwk.common.public_key_use
        && *usage != PublicKeyUse::Signature
    {
        return Err("\"use\" is not \"sig\"".into());
    }
    let AlgorithmParameters::RSA(params) = &jwk.algorithm else {
        let kty = entry.get("kty").and_then(Value::as_str).unwrap_or("?");
        return Err(format!("kty {kty:?} is not supported (RSA keys only)"));
    };
    let algorithms = match jwk.common.key_algorithm {
        None => RSA_ALGORITHMS.to_vec(),
        Some(declared) => match Algorithm::try_from(declared) {
            Ok(alg) if RSA_ALGORITHMS.contains(&alg) => vec![alg],
            _ => {
                return Err(format!(
                    "alg {declared} is not an RSA signature algorithm (RS256, RS384, RS512)"
                ));
            }
        },
    };
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| format!("bad n/e ({e})"))?;
    let key = VerifyingKey::rsa(
        decoding,
        jwk.common.key_id.clone(),
        format!("JWKS key #{}", index + 1),
        algorithms,
    )?;
    let note = jwk
        .common
        .x509_chain
        .as_ref()
        .and_then(|chain| chain.first())
        .and_then(|leaf| x5c_mismatch(leaf, &params.n, &params.e));
    Ok((key, note))
}

/// `Some(why)` when the first `x5c` certificate does not hold the JWK's key.
fn x5c_mismatch(leaf: &str, n: &str, e: &str) -> Option<String> {
    let der = match STANDARD.decode(leaf) {
        Ok(der) => der,
        Err(err) => return Some(format!("x5c[0] is not base64 ({err})")),
    };
    let cert_jwk = certificate_key(&der)
        .and_then(|(key, _)| Jwk::from_decoding_key(&key, None).map_err(|e| e.to_string()));
    match cert_jwk {
        Ok(Jwk {
            algorithm: AlgorithmParameters::RSA(cert),
            ..
        }) if same_integer(&cert.n, n) && same_integer(&cert.e, e) => None,
        Ok(_) => Some("x5c[0] holds a different key than n/e".into()),
        Err(why) => Some(format!("x5c[0]: {why}")),
    }
}

fn list_notes(notes: &[String]) -> String {
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;
    use x509_cert::spki::SubjectPublicKeyInfoRef;

    use super::*;
    use crate::verify::testkit::{jwk, keys};

    fn pkcs1_pem(spki: &[u8]) -> String {
        let parsed = SubjectPublicKeyInfoRef::try_from(spki).unwrap();
        let pkcs1 = parsed.subject_public_key.as_bytes().unwrap().to_vec();
        pem::encode(&pem::Pem::new("RSA PUBLIC KEY", pkcs1))
    }

    fn certificate(pkcs8: &[u8]) -> Vec<u8> {
        let pair = rcgen::KeyPair::try_from(pkcs8).unwrap();
        let params = rcgen::CertificateParams::new(vec!["verify.test".into()]).unwrap();
        params.self_signed(&pair).unwrap().der().to_vec()
    }

    #[test]
    fn pem_public_keys_and_certificates_give_the_same_key() {
        let [a, _] = keys();
        let thumbprint = crate::keys::jwk::thumbprint(&a.n, &a.e);
        let cert = pem::encode(&pem::Pem::new("CERTIFICATE", certificate(&a.pkcs8)));
        for text in [a.public_pem.clone(), pkcs1_pem(&a.spki), cert] {
            let set = KeySet::from_pem("f", text.as_bytes()).unwrap();
            assert_eq!(set.keys.len(), 1);
            assert_eq!(set.keys[0].thumbprint, thumbprint, "{text}");
            assert_eq!(set.keys[0].kid, None);
        }
    }

    #[test]
    fn pem_files_that_are_not_rsa_public_keys_are_refused() {
        let [a, _] = keys();
        let private = pem::encode(&pem::Pem::new("PRIVATE KEY", a.pkcs8.clone()));
        let err = KeySet::from_pem("f", private.as_bytes()).unwrap_err();
        assert!(err.contains("private key"), "{err}");
        let ec = concat!(
            "-----BEGIN PUBLIC KEY-----\n",
            "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\n",
            "q9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n",
            "-----END PUBLIC KEY-----\n"
        );
        let err = KeySet::from_pem("f", ec.as_bytes()).unwrap_err();
        assert!(err.contains("not an RSA public key"), "{err}");
        assert!(
            KeySet::from_pem("f", b"not pem")
                .unwrap_err()
                .contains("not a PEM")
        );
        let csr = pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", vec![1, 2, 3]));
        assert!(
            KeySet::from_pem("f", csr.as_bytes())
                .unwrap_err()
                .contains("CERTIFICATE REQUEST")
        );
    }

    #[test]
    fn a_jwks_keeps_only_rsa_signing_keys() {
        let [a, b] = keys();
        let mut enc = jwk(b, "enc-key");
        enc["use"] = json!("enc");
        enc["alg"] = json!("RSA-OAEP");
        let mut hmac = json!({"kty": "oct", "kid": "shared", "k": "c2VjcmV0"});
        hmac["alg"] = json!("HS256");
        let ec = json!({"kty": "EC", "kid": "ec", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        let mut weak = jwk(b, "weak");
        weak["n"] = json!(URL_SAFE_NO_PAD.encode([0xc5u8; 128]));
        let doc = json!({"keys": [enc, hmac, ec, weak, jwk(a, "good")]});
        let set = KeySet::from_jwks("JWKS", &doc).unwrap();
        assert_eq!(set.kids(), ["good"]);
        assert_eq!(set.keys[0].algorithms, [Algorithm::RS256]);
        let notes = set.notes.join("\n");
        for why in ["kid enc-key", "kid shared", "kid ec", "1024 bits"] {
            assert!(notes.contains(why), "{why}: {notes}");
        }
        assert!(KeySet::from_jwks("JWKS", &json!({"keys": []})).is_err());
        assert!(KeySet::from_jwks("JWKS", &json!({"issuer": "x"})).is_err());
    }

    #[test]
    fn an_x5c_that_holds_another_key_is_noted() {
        let [a, b] = keys();
        let mut good = jwk(a, "a");
        good["x5c"] = json!([STANDARD.encode(certificate(&a.pkcs8))]);
        let mut bad = jwk(b, "b");
        bad["x5c"] = json!([STANDARD.encode(certificate(&a.pkcs8))]);
        let set = KeySet::from_jwks("JWKS", &json!({"keys": [good, bad]})).unwrap();
        assert_eq!(set.keys.len(), 2);
        assert_eq!(set.notes, ["kid b: x5c[0] holds a different key than n/e"]);
    }

    #[test]
    fn a_realm_adds_its_public_key_unless_certs_have_it() {
        let [a, b] = keys();
        let doc = json!({"realm": "R", "public_key": STANDARD.encode(&a.spki)});
        let alone = KeySet::from_realm("http://h/auth/realms/R", &doc, None).unwrap();
        assert_eq!(alone.keys.len(), 1);
        assert_eq!(alone.keys[0].origin, "realm public_key");
        let certs = json!({"keys": [jwk(a, "a"), jwk(b, "b")]});
        let both = KeySet::from_realm("http://h/auth/realms/R", &doc, Some(&certs)).unwrap();
        assert_eq!(both.kids(), ["a", "b"]);
        assert_eq!(both.keys.len(), 2, "public_key is already in certs");
        let bad = json!({"public_key": "!!"});
        assert!(KeySet::from_realm("r", &bad, None).is_err());
        assert!(KeySet::from_realm("r", &json!({}), None).is_err());
    }
}
