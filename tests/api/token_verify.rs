//! `token verify` as a consumer uses it: a real token from `POST /auth`
//! checked against every source kind over real HTTP, a Keep provider
//! directory, and forged tokens that must fail with a reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::helpers::*;
use crate::piped::output_with_stdin;

/// A running issuer, the directory its keys live in, and a token it minted.
struct Fixture {
    app: TestApp,
    dir: PathBuf,
    token: String,
    claims: Value,
    _tmp: TempDir,
}

async fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let app = spawn_in(&dir, |_| {}).await;
    app.add_doc().await;
    let body: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    Fixture {
        token: body["bearer"].as_str().unwrap().to_owned(),
        claims: body["claims"].clone(),
        app,
        dir,
        _tmp: tmp,
    }
}

impl Fixture {
    /// `domino-idp <args>` in the fixture's directory with a clean environment.
    fn idp(&self, args: &[&str]) -> Command {
        let mut cmd = idp_command(&self.dir);
        cmd.args(args).env("RUST_LOG", "warn");
        cmd
    }

    /// `token verify <token> <args>`.
    fn verify(&self, token: &str, args: &[&str]) -> Output {
        let mut all = vec!["token", "verify", token];
        all.extend_from_slice(args);
        self.idp(&all).output().unwrap()
    }

    fn keys_dir(&self) -> String {
        self.dir.join("keys").display().to_string()
    }

    fn realm_url(&self) -> String {
        self.app.issuer()
    }

    fn certs_url(&self) -> String {
        format!("{}/protocol/openid-connect/certs", self.app.issuer())
    }

    /// Writes `keys export --format pem` (Keep's keyFile) to `path`.
    fn export_pem(&self, path: &Path) {
        let out = self
            .idp(&[
                "--keys-dir",
                &self.keys_dir(),
                "keys",
                "export",
                "--format",
                "pem",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::write(path, &out.stdout).unwrap();
    }

    /// The minted claims with `changes` applied, signed by the issuer's signer.
    fn resign(&self, changes: Value) -> String {
        let mut claims = self.claims.as_object().unwrap().clone();
        for (k, v) in changes.as_object().unwrap() {
            claims.insert(k.clone(), v.clone());
        }
        self.app.state.keys.sign(&claims).unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 0, the claims on stdout, and a `valid:` line naming `names`.
fn assert_valid(out: &Output, claims: &Value, names: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let printed: Value = serde_json::from_str(&stdout(out)).unwrap();
    assert_eq!(&printed, claims);
    let line = err.lines().find(|l| l.starts_with("valid: ")).unwrap_or("");
    for name in names {
        assert!(line.contains(name), "{name:?} not in {err}");
    }
}

/// Exit 1 with `invalid token: …` naming each of `words`.
fn assert_invalid(out: &Output, words: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("invalid token: "), "{err}");
    for word in words {
        assert!(err.contains(word), "{word:?} not in {err}");
    }
}

/// An RSA key the issuer never published: (signing key, SPKI PEM).
fn stranger() -> (EncodingKey, String) {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let pkcs8 = pem::encode(&pem::Pem::new(
        "PRIVATE KEY",
        pair.as_der().unwrap().as_ref().to_vec(),
    ));
    let spki = pair.public_key().as_der().unwrap().as_ref().to_vec();
    (
        EncodingKey::from_rsa_pem(pkcs8.as_bytes()).unwrap(),
        pem::encode(&pem::Pem::new("PUBLIC KEY", spki)),
    )
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_token_verifies_against_every_source_kind() {
    let f = fixture().await;
    let kid = f.app.state.keys.signer().kid().to_owned();
    let issuer = f.app.issuer();
    let (token, claims) = (f.token.as_str(), &f.claims);

    // This issuer's own keys; its issuer is derived from --public-url.
    let local = ["--keys-dir", &f.keys_dir(), "--public-url", &f.app.base];
    let out = f.verify(token, &local);
    assert_valid(&out, claims, &[&kid, "local keys", &issuer, "Domino"]);
    let mut from_stdin = f.idp(&["token", "verify", "-"]);
    from_stdin.args(local);
    let out = output_with_stdin(&mut from_stdin, token.as_bytes());
    assert_valid(&out, claims, &[&kid]);
    let elsewhere = [
        "--keys-dir",
        &f.keys_dir(),
        "--public-url",
        "https://idp.example",
    ];
    assert_invalid(
        &f.verify(token, &elsewhere),
        &["InvalidIssuer", "https://idp.example"],
    );

    // A JWKS says nothing about the issuer, so only --issuer checks it.
    let out = f.verify(token, &["--jwks", &f.certs_url()]);
    assert_valid(&out, claims, &[&kid, "JWKS", "issuer (not checked)"]);
    let out = f.verify(token, &["--jwks", &f.certs_url(), "--issuer", &issuer]);
    assert_valid(&out, claims, &[&kid, &format!("issuer {issuer}")]);

    // Discovery at the root and at the realm both lead to the realm's issuer.
    for url in [f.app.base.clone(), f.realm_url()] {
        let out = f.verify(token, &["--issuer-url", &url]);
        assert_valid(
            &out,
            claims,
            &[&kid, &format!("issuer {issuer}"), "jwks_uri"],
        );
    }

    let out = f.verify(token, &["--realm-url", &f.realm_url(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let verdict: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(verdict["valid"], true);
    assert_eq!(verdict["kid"], kid.as_str());
    assert_eq!(verdict["issuer"], issuer.as_str());
    assert_eq!(verdict["audience"], json!(["Domino"]));
    assert_eq!(&verdict["claims"], claims);

    // Keep's keyFile: the exported PEM, and a certificate when the JWKS has x5c.
    let pem_path = f.dir.join("idp.pem");
    f.export_pem(&pem_path);
    let out = f.verify(token, &["--key", pem_path.to_str().unwrap()]);
    assert_valid(
        &out,
        claims,
        &[&kid, "key file", &format!("thumbprint {kid}")],
    );
    let jwks = f.app.jwks().await;
    if let Some(leaf) = jwks["keys"][0]["x5c"][0].as_str() {
        let cert = pem::encode(&pem::Pem::new(
            "CERTIFICATE",
            STANDARD.decode(leaf).unwrap(),
        ));
        let cert_path = f.dir.join("idp.crt");
        std::fs::write(&cert_path, cert).unwrap();
        let out = f.verify(token, &["--key", cert_path.to_str().unwrap()]);
        assert_valid(&out, claims, &[&kid, "certificate"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_directory_names_the_provider_that_matched() {
    let f = fixture().await;
    let providers = f.dir.join("keepconfig.d");
    std::fs::create_dir(&providers).unwrap();
    f.export_pem(&providers.join("idp.pubkey"));
    std::fs::write(providers.join("other.pubkey"), stranger().1).unwrap();
    let write = |file: &str, doc: Value| {
        std::fs::write(providers.join(file), doc.to_string()).unwrap();
    };
    let first = |key_file: &str, iss: Option<&str>| {
        let mut p = json!({"active": true, "algorithm": "RS256", "keyFile": key_file});
        if let Some(iss) = iss {
            p["iss"] = json!(iss);
        }
        json!({"disableJwtExpiryCheck": false, "jwt": {"first": p}})
    };
    let second = |aud: &str| {
        json!({"jwt": {"second": {"active": true, "algorithm": "RS256",
            "providerUrl": f.realm_url(), "aud": aud}}})
    };
    let dir = providers.to_str().unwrap();

    // The first provider holds another key; the second (a Keycloak-style realm URL) matches.
    write("10-first.json", first("other.pubkey", None));
    write("20-second.json", second("Domino"));
    let out = f.verify(&f.token, &["--providers", dir]);
    assert_valid(&out, &f.claims, &["provider \"second\"", "20-second.json"]);
    let out = f.verify(&f.token, &["--providers", dir, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let verdict: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(verdict["provider"], "second");
    assert_eq!(verdict["providers"][0]["name"], "first");
    assert_eq!(verdict["providers"][0]["code"], "InvalidSignature");
    assert_eq!(verdict["providers"][1]["valid"], true);

    // The right key under the wrong issuer still does not make the first match.
    write(
        "10-first.json",
        first("idp.pubkey", Some("https://elsewhere.example/")),
    );
    let out = f.verify(&f.token, &["--providers", dir]);
    assert_valid(&out, &f.claims, &["provider \"second\""]);

    // When none matches, each provider's reason is given.
    write("20-second.json", second("api://dominorest"));
    let out = f.verify(&f.token, &["--providers", dir]);
    assert_invalid(
        &out,
        &[
            "NoProviderMatched",
            "first (",
            "https://elsewhere.example/",
            "second (",
            "api://dominorest",
            "InvalidAudience",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_unacceptable_tokens_fail_with_a_reason() {
    let f = fixture().await;
    let jwks = ["--jwks", &f.certs_url()];
    let kid = f.app.state.keys.signer().kid().to_owned();
    let payload = f.token.split('.').nth(1).unwrap();

    let none = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
    );
    assert_invalid(&f.verify(&none, &jwks), &["AlgNone", "unsigned"]);

    // The classic key-confusion forgery: HS256 keyed with the public PEM.
    let pem_path = f.dir.join("idp.pem");
    f.export_pem(&pem_path);
    let public_pem = std::fs::read(&pem_path).unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.clone());
    let hs256 =
        jsonwebtoken::encode(&header, &f.claims, &EncodingKey::from_secret(&public_pem)).unwrap();
    for source in [&jwks[..], &["--key", pem_path.to_str().unwrap()]] {
        assert_invalid(&f.verify(&hs256, source), &["HmacRefused", "HS256", "HMAC"]);
    }

    let wrong_aud = [&jwks[..], &["--expect-audience", "Other"]].concat();
    assert_invalid(
        &f.verify(&f.token, &wrong_aud),
        &["InvalidAudience", "\"Other\""],
    );
    let wrong_iss = [&jwks[..], &["--issuer", "https://evil.example/"]].concat();
    assert_invalid(
        &f.verify(&f.token, &wrong_iss),
        &["InvalidIssuer", "https://evil.example/"],
    );

    let expired = f.resign(json!({"iat": now() - 7200, "exp": now() - 3600}));
    assert_invalid(
        &f.verify(&expired, &jwks),
        &["ExpiredSignature", "expired at"],
    );
    let early = f.resign(json!({"nbf": now() + 3600}));
    assert_invalid(
        &f.verify(&early, &jwks),
        &["ImmatureSignature", "not valid before"],
    );

    let (other_key, _) = stranger();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("not-published".into());
    let unknown = jsonwebtoken::encode(&header, &f.claims, &other_key).unwrap();
    assert_invalid(
        &f.verify(&unknown, &jwks),
        &["UnknownKid", "not-published", &kid],
    );
    header.kid = Some(kid.clone());
    let impostor = jsonwebtoken::encode(&header, &f.claims, &other_key).unwrap();
    assert_invalid(&f.verify(&impostor, &jwks), &["InvalidSignature", &kid]);

    let truncated = &f.token[..f.token.rfind('.').unwrap()];
    for garbage in [truncated, "garbage", "a.b.c"] {
        assert_invalid(&f.verify(garbage, &jwks), &["Malformed", "malformed token"]);
    }
}

#[test]
fn unusable_sources_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let run = |args: &[&str]| {
        let mut cmd = idp_command(dir);
        cmd.args(["token", "verify", "x.y.z"]).args(args);
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        stderr(&out)
    };
    let err = run(&["--jwks", "http://127.0.0.1:9/", "--key", "k.pem"]);
    assert!(err.contains("cannot be used with"), "{err}");
    assert!(run(&["--key", "missing.pem"]).contains("missing.pem"));
    assert!(run(&["--jwks", "not a url"]).contains("--jwks"));
    assert!(run(&["--issuer-url", "file:///etc/passwd"]).contains("http"));
    std::fs::write(dir.join("k.pem"), "not a key").unwrap();
    assert!(run(&["--key", "k.pem"]).contains("not a PEM file"));
    std::fs::create_dir(dir.join("empty")).unwrap();
    assert!(run(&["--providers", "empty"]).contains("no JWT providers"));
    assert!(run(&["--realm-url", "http://127.0.0.1:1/auth/realms/R"]).contains("cannot fetch"));
}
