//! `client add`, `list`, `remove`: secrets shown once, public clients, bad input.

use super::*;

#[tokio::test]
async fn client_add_generates_a_secret_shown_once_that_authenticates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = client_added(
        dir,
        &["webapp", "--redirect-uri", "http://localhost:3000/cb"],
    );
    let secret = printed_secret(&out).expect("the generated secret is printed");
    assert_eq!(secret.len(), 43, "{secret}");
    assert!(stdout(&out).contains("only once"), "{}", stdout(&out));
    assert_eq!(stdout(&out).matches(secret.as_str()).count(), 1);

    // The store the CLI wrote holds a hash that the printed secret matches.
    let store = domino_idp::store::open(&database_url(dir)).await.unwrap();
    let client = store.get_client("webapp").await.unwrap().unwrap();
    assert!(client.secret_matches(&secret));
    assert!(!client.secret_matches("not-the-secret-at-all"));
    let hash = client.secret_hash.clone().unwrap();
    let digest = hash.split_once('$').unwrap().1.to_owned();

    // Neither the secret nor its hash is ever listed.
    for args in [vec!["client", "list"], vec!["client", "list", "--json"]] {
        let out = idp(dir).args(&args).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("webapp"), "{text}");
        assert!(text.contains("confidential"), "{text}");
        assert!(!text.contains(&secret), "{args:?} shows the secret");
        assert!(!text.contains(&digest), "{args:?} shows the hash");
        assert!(!text.contains('$'), "{args:?}: {text}");
    }
    // Adding it again does not print (or regenerate) anything.
    let again = client_add(
        dir,
        &["webapp", "--redirect-uri", "http://localhost:3000/cb"],
        None,
    );
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert!(printed_secret(&again).is_none());
    let client = store.get_client("webapp").await.unwrap().unwrap();
    assert!(
        client.secret_matches(&secret),
        "the first client is untouched"
    );
}

#[tokio::test]
async fn client_add_reads_the_secret_from_stdin() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = client_add(
        dir,
        &[
            "svc",
            "--grant",
            "client_credentials",
            "--default-scope",
            "MAIL",
            "--secret-stdin",
        ],
        Some("a-very-long-service-secret\nsecond line ignored\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(printed_secret(&out).is_none(), "{}", stdout(&out));
    assert!(!stdout(&out).contains("a-very-long-service-secret"));

    let store = domino_idp::store::open(&database_url(dir)).await.unwrap();
    let client = store.get_client("svc").await.unwrap().unwrap();
    assert!(client.secret_matches("a-very-long-service-secret"));
    assert!(!client.secret_matches("a-very-long-service-secret\n"));

    let listed = list_json(dir);
    assert_eq!(listed[0]["client_id"], "svc");
    assert_eq!(listed[0]["type"], "confidential");
    assert_eq!(
        listed[0]["grant_types"],
        serde_json::json!(["client_credentials"])
    );
    assert_eq!(listed[0]["default_scopes"], serde_json::json!(["MAIL"]));
    assert!(!listed.to_string().contains("secret"), "{listed}");

    // Secrets are never accepted in argv.
    let out = client_add(dir, &["other", "--secret", "a-very-long-secret-1"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn client_add_public_list_json_and_remove() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = client_added(
        dir,
        &[
            "spa",
            "--public",
            "--name",
            "My SPA",
            "--redirect-uri",
            "http://localhost:5173/cb",
            "--redirect-uri",
            "myapp://callback",
            "--post-logout-redirect-uri",
            "http://localhost:5173/",
            "--grant",
            "authorization_code",
            "--grant",
            "refresh_token",
        ],
    );
    assert!(
        printed_secret(&out).is_none(),
        "a public client has no secret"
    );
    client_added(dir, &["legacy", "--redirect-uri", "https://app.example/cb"]);

    let listed = list_json(dir);
    let all = listed.as_array().unwrap();
    assert_eq!(all.len(), 2);
    let spa = all.iter().find(|c| c["client_id"] == "spa").unwrap();
    assert_eq!(spa["type"], "public");
    assert_eq!(spa["name"], "My SPA");
    assert_eq!(
        spa["redirect_uris"],
        serde_json::json!(["http://localhost:5173/cb", "myapp://callback"])
    );
    assert_eq!(
        spa["post_logout_redirect_uris"],
        serde_json::json!(["http://localhost:5173/"])
    );
    assert_eq!(
        spa["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    let legacy = all.iter().find(|c| c["client_id"] == "legacy").unwrap();
    assert_eq!(legacy["type"], "confidential");
    assert_eq!(
        legacy["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token", "password"]),
        "no --grant means the default grants"
    );
    for c in all {
        assert!(c.get("secret_hash").is_none(), "{c}");
    }

    let out = idp(dir).args(["client", "list"]).output().unwrap();
    let table = stdout(&out);
    let spa_row = table.lines().find(|l| l.starts_with("spa ")).unwrap();
    assert!(spa_row.contains("public"), "{table}");
    assert!(spa_row.contains("myapp://callback"), "{table}");

    let out = idp(dir).args(["client", "remove", "spa"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = idp(dir).args(["client", "remove", "spa"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no client"), "{}", stderr(&out));
    let listed = list_json(dir);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["client_id"], "legacy");
}

#[test]
fn bad_client_input_is_a_usage_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cb = "http://localhost/cb";
    for (args, stdin, why) in [
        (vec!["bad id", "--redirect-uri", cb], None, "client_id"),
        (vec!["a:b", "--redirect-uri", cb], None, "client_id"),
        (
            vec!["ok", "--redirect-uri", cb, "--secret-stdin"],
            Some("short\n"),
            "secret",
        ),
        (
            vec!["ok", "--redirect-uri", cb, "--secret-stdin"],
            Some(""),
            "secret",
        ),
        (vec!["ok"], None, "redirect_uris"),
        (
            vec!["ok", "--redirect-uri", "http://x/cb#frag"],
            None,
            "fragment",
        ),
        (
            vec!["ok", "--public", "--grant", "client_credentials"],
            None,
            "client_credentials",
        ),
        (vec!["ok", "--grant", "implicit"], None, "implicit"),
        (
            vec!["ok", "--public", "--redirect-uri", cb, "--secret-stdin"],
            Some("a-very-long-secret-1\n"),
            "--secret-stdin",
        ),
    ] {
        let out = client_add(dir, &args, stdin);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
        assert!(stderr(&out).contains(why), "{why}: {}", stderr(&out));
    }
    assert!(!dir.join("data").exists(), "refused input opens no store");
    assert_eq!(list_json(dir), serde_json::json!([]));
}
