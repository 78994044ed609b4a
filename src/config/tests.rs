//! Loading the layers, and what a bad setting reports.

use figment::providers::Env;

use super::*;

fn load_toml(toml: &str) -> Result<Config, ConfigError> {
    let dir = std::env::temp_dir().join(format!("domino-idp-cfg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.toml");
    std::fs::write(&path, toml).unwrap();
    let result = Config::load_from(
        Some(&path),
        Env::prefixed("DOMINO_IDP_TEST_UNUSED_"),
        &Overrides::default(),
    );
    std::fs::remove_dir_all(&dir).ok();
    result
}

#[test]
fn defaults_match_the_spec() {
    let c = Config::default();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.realm, "DominoRealm");
    assert_eq!(c.database_url, "sqlite://data/idp.db");
    assert_eq!(c.audience, "Domino");
    assert_eq!(c.access_token_ttl, 300);
    assert_eq!(c.leeway, 5);
    assert_eq!(c.subject, SubjectKind::Dn);
    c.validate().unwrap();
}

#[test]
fn unknown_key_is_named() {
    let err = load_toml("lisen = \"127.0.0.1:1\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("lisen"), "{err}");
}

#[test]
fn bad_value_is_named() {
    let err = load_toml("leeway = \"soon\"\n").unwrap_err().to_string();
    assert!(err.contains("leeway"), "{err}");
    let err = load_toml("subject = \"email\"\n").unwrap_err().to_string();
    assert!(err.contains("subject"), "{err}");
    let err = load_toml("access_token_ttl = 0\n").unwrap_err().to_string();
    assert!(err.contains("access_token_ttl"), "{err}");
}

#[test]
fn flags_beat_file() {
    let dir = std::env::temp_dir().join(format!("domino-idp-cfg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.toml");
    std::fs::write(&path, "realm = \"FromFile\"\naudience = \"FileAud\"\n").unwrap();
    let overrides = Overrides {
        realm: Some("FromFlag".into()),
        ..Default::default()
    };
    let c = Config::load_from(
        Some(&path),
        Env::prefixed("DOMINO_IDP_TEST_UNUSED_"),
        &overrides,
    )
    .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(c.realm, "FromFlag");
    assert_eq!(c.audience, "FileAud");
}

#[test]
fn roles_and_their_grants_are_checked() {
    let ok = load_toml(
        "[[roles]]\nname = \"admin\"\ncomposites = [\"offline_access\"]\n\
         [[groups]]\npath = \"/staff/admins\"\nroles = [\"admin\"]\n\
         [[users]]\nusername = \"doc\"\npassword = \"a-long-password\"\nroles = [\"admin\", \"default-roles-dominorealm\"]\n",
    )
    .unwrap();
    assert_eq!(ok.roles.len(), 1);
    for (toml, why) in [
        (
            "[[roles]]\nname = \"a\"\n[[roles]]\nname = \"a\"\n",
            "appears twice",
        ),
        ("[[groups]]\npath = \"/a//b\"\n", "groups[0]"),
        (
            "[[groups]]\npath = \"/a\"\nroles = [\"ghost\"]\n",
            "role ghost is not defined",
        ),
        (
            "[[clients]]\nclient_id = \"svc\"\nsecret = \"svc-secret-0123456789\"\ngrant_types = [\"client_credentials\"]\nservice_account_roles = [\"app:x\"]\n",
            "service_account_roles: role app:x is not defined",
        ),
        (
            "[[roles]]\nname = \"r\"\nclient = \"bad client\"\n",
            "roles[0]",
        ),
    ] {
        let err = load_toml(toml).unwrap_err().to_string();
        assert!(err.contains(why), "{why}: {err}");
    }
}

#[test]
fn costlier_seeded_hash_is_refused_unless_allowed() {
    // m=65536,t=3: 64 MiB and three passes against the default 19 MiB, two.
    let seed = "[[users]]\nusername = \"old\"\npassword_hash = \"$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG\"\n";
    let err = load_toml(seed).unwrap_err().to_string();
    assert!(err.contains("users[0] (\"old\")"), "{err}");
    assert!(
        err.contains("allow_costlier_password_hashes = true"),
        "{err}"
    );
    let allowed = load_toml(&format!("allow_costlier_password_hashes = true\n{seed}")).unwrap();
    assert!(allowed.allow_costlier_password_hashes);
}

#[test]
fn domino_api_version_is_a_strict_triple() {
    assert_eq!(Config::default().domino_api_version, "6.2.0");
    for good in ["6.2.0", "10.0.12", "0.0.0"] {
        load_toml(&format!("domino_api_version = \"{good}\"\n")).unwrap();
    }
    for bad in [
        "6.2",
        "6.2.0.1",
        "v6.2.0",
        "6.2.0-rc1",
        "6..0",
        "06.2.0",
        " 6.2.0",
        "",
    ] {
        let err = load_toml(&format!("domino_api_version = \"{bad}\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("domino_api_version"), "{bad}: {err}");
    }
    let err = load_toml("admin_group = \"\"\n").unwrap_err().to_string();
    assert!(err.contains("admin_group"), "{err}");
}

#[test]
fn secrets_do_not_print() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s:?}"), "[redacted]");
    assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
}
