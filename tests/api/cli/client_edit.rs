//! Web origins, `client edit`, and a client's scopes and roles from the command line.

use super::*;

#[test]
fn client_add_takes_web_origins() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    client_added(
        dir,
        &[
            "spa",
            "--public",
            "--redirect-uri",
            "http://localhost:3000/cb",
            "--web-origin",
            "+",
            "--web-origin",
            "https://Other.Example/",
        ],
    );
    client_added(
        dir,
        &[
            "plain",
            "--public",
            "--redirect-uri",
            "http://localhost:4000/cb",
        ],
    );
    let list = list_json(dir);
    let web = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["client_id"] == id)
            .unwrap()["web_origins"]
            .clone()
    };
    assert_eq!(
        web("spa"),
        serde_json::json!(["+", "https://other.example"])
    );
    assert_eq!(web("plain"), serde_json::json!(["+"]), "the default");
    for bad in ["null", "file:///x", "https://x.example/path"] {
        let out = client_add(
            dir,
            &[
                "bad",
                "--public",
                "--redirect-uri",
                "http://x/cb",
                "--web-origin",
                bad,
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("web_origins"), "{}", stderr(&out));
    }
}

/// `client edit --web-origin` replaces a client's web origins: `client show
/// --json` shows them and the server's CORS allows exactly them;
/// `--no-web-origins` empties the list, `--redirect-uri` replaces the
/// redirect URIs, and a bad origin is a usage error that writes nothing.
#[tokio::test]
async fn client_edit_replaces_web_origins_and_redirect_uris() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    client_added(
        dir,
        &[
            "spa",
            "--public",
            "--redirect-uri",
            "http://localhost:3000/cb",
        ],
    );
    let edit = |args: &[&str]| client_edit(dir, "spa", args);
    let show = || show_json(dir, "spa");
    let out = edit(&[
        "--web-origin",
        "https://SPA.example/",
        "--web-origin",
        "https://other.example:8443",
    ]);
    assert_edit_audited(&out);
    let spa = show();
    assert_eq!(
        spa["web_origins"],
        serde_json::json!(["https://spa.example", "https://other.example:8443"])
    );
    assert_eq!(
        spa["redirect_uris"],
        serde_json::json!(["http://localhost:3000/cb"]),
        "untouched"
    );
    assert_eq!(
        spa["default_scopes"],
        serde_json::json!(["profile", "email", "roles", "web-origins"])
    );

    let out = edit(&["--web-origin", "https://x.example/path"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("web_origins"), "{}", stderr(&out));
    assert_eq!(show()["web_origins"], spa["web_origins"], "nothing written");

    // The server on the same files allows the new origins, not the old `+`.
    let app = spawn_in(dir, |_| {}).await;
    let ok = app.token_preflight("https://spa.example").await;
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://spa.example"
    );
    let old = app.token_preflight("http://localhost:3000").await;
    assert!(old.headers().get("access-control-allow-origin").is_none());

    let out = edit(&[
        "--no-web-origins",
        "--redirect-uri",
        "http://localhost:5000/cb",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let spa = show();
    assert_eq!(spa["web_origins"], serde_json::json!([]));
    assert_eq!(
        spa["redirect_uris"],
        serde_json::json!(["http://localhost:5000/cb"])
    );
    let out = edit(&["--no-web-origins", "--web-origin", "+"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// `client add` sets Keycloak's default and optional client scopes (or
/// Keycloak's defaults), `client list` shows them; `role` adds, grants,
/// lists, revokes and removes roles, each change an audit line.
#[test]
fn client_scopes_and_roles_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cb = "http://localhost:3000/cb";
    client_added(dir, &["kc", "--redirect-uri", cb]);
    client_added(
        dir,
        &[
            "app",
            "--redirect-uri",
            cb,
            "--default-scopes",
            "profile,roles",
            "--optional-scope",
            "phone",
        ],
    );
    client_added(dir, &["bare", "--redirect-uri", cb, "--no-default-scopes"]);
    let listed = list_json(dir);
    let find = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["client_id"] == id)
            .unwrap()
            .clone()
    };
    let kc = find("kc");
    assert_eq!(
        kc["default_scopes"],
        serde_json::json!(["profile", "email", "roles", "web-origins"])
    );
    assert_eq!(
        kc["optional_scopes"],
        serde_json::json!(["address", "phone", "microprofile-jwt"])
    );
    assert_eq!(
        find("app")["default_scopes"],
        serde_json::json!(["profile", "roles"])
    );
    assert_eq!(find("app")["optional_scopes"], serde_json::json!(["phone"]));
    assert_eq!(find("bare")["default_scopes"], serde_json::json!([]));
    // `client edit` changes the lists, `client show` shows one client.
    let out = client_edit(
        dir,
        "bare",
        &[
            "--optional-scopes",
            "phone,address",
            "--default-scope",
            "email",
        ],
    );
    assert_edit_audited(&out);
    let bare = show_json(dir, "bare");
    assert_eq!(bare["default_scopes"], serde_json::json!(["email"]));
    assert_eq!(
        bare["optional_scopes"],
        serde_json::json!(["phone", "address"])
    );
    let out = client_edit(dir, "bare", &["--no-optional-scopes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = idp(dir).args(["client", "show", "bare"]).output().unwrap();
    assert!(
        stdout(&out).contains("default_scopes  email"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("optional_scopes \n"),
        "{}",
        stdout(&out)
    );
    for (args, code) in [
        (&["client", "edit", "nope", "--no-default-scopes"][..], 1),
        (&["client", "edit", "bare"], 2),
        (&["client", "edit", "bare", "--default-scope", "a b"], 2),
        (&["client", "show", "nope"], 1),
    ] {
        let out = idp(dir).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
    }
    let out = client_add(
        dir,
        &["bad", "--redirect-uri", cb, "--default-scope", "a\"b"],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let mut cmd = idp(dir);
    cmd.args(["user", "add", "alice", "--password-stdin"]);
    let out = run_with_stdin(cmd, "correct-horse-battery\n");
    assert!(out.status.success(), "{}", stderr(&out));

    let role = |args: &[&str]| idp(dir).arg("role").args(args).output().unwrap();
    for args in [
        &["add", "admin", "--description", "Admins"][..],
        &["add", "reader", "--client", "app"],
        &[
            "add",
            "editor",
            "--composite",
            "admin",
            "--composite",
            "app:reader",
        ],
        &["grant", "editor", "--group", "/staff/leads"],
        &["grant", "app:reader", "--user", "alice"],
        &["grant", "admin", "--client", "app"],
    ] {
        let out = role(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("admin.change"),
            "audited: {}",
            stderr(&out)
        );
    }
    // Refusals: an unknown role, an unknown user, a bad name, no holder.
    let out = role(&["grant", "ghost", "--user", "alice"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no role ghost"), "{}", stderr(&out));
    let out = role(&["grant", "admin", "--user", "nobody"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = role(&["add", "x", "--client", "bad client"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = role(&["grant", "admin"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = role(&["add", "admin"]);
    assert_eq!(out.status.code(), Some(1), "a duplicate: {}", stderr(&out));

    let out = role(&["list", "--json", "--grants"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listing: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let names: Vec<String> = listing["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| match r["client"].as_str() {
            Some(c) => format!("{c}:{}", r["name"].as_str().unwrap()),
            None => r["name"].as_str().unwrap().to_owned(),
        })
        .collect();
    for expected in [
        "admin",
        "editor",
        "app:reader",
        "default-roles-dominorealm",
        "offline_access",
    ] {
        assert!(
            names.contains(&expected.to_owned()),
            "{expected}: {names:?}"
        );
    }
    let grants = listing["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 3, "{grants:?}");
    assert!(grants.iter().any(|g| g["holder"]["kind"] == "group"
        && g["holder"]["id"] == "/staff/leads"
        && g["role"]["name"] == "editor"));

    // `user show` has the roles alice's tokens carry.
    let out = idp(dir).args(["user", "show", "alice"]).output().unwrap();
    let shown: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        shown["roles"]["clients"]["app"],
        serde_json::json!(["reader"])
    );
    assert_eq!(
        shown["roles"]["realm"],
        serde_json::json!([
            "default-roles-dominorealm",
            "offline_access",
            "uma_authorization"
        ])
    );
    let out = role(&["revoke", "app:reader", "--user", "alice"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = role(&["revoke", "app:reader", "--user", "alice"]);
    assert_eq!(out.status.code(), Some(1), "not held any more");
    let out = role(&["remove", "editor"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = role(&["list", "--grants"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("/staff/leads"), "{}", stdout(&out));
    assert!(stdout(&out).contains("client app"), "{}", stdout(&out));
    // A client's roles and its service account's grants go with it.
    let out = idp(dir).args(["client", "remove", "app"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = role(&["list", "--grants"]);
    assert!(!stdout(&out).contains("app:reader"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("client app"), "{}", stdout(&out));
}
