//! The user commands, and `keys export` with `token verify`.

use super::*;

#[tokio::test]
async fn user_commands_manage_the_store_the_server_uses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut add = idp(dir);
    add.args([
        "user",
        "add",
        "doc",
        "--cn",
        "Doctor Notes",
        "--org",
        "ProjectKeep",
        "--email",
        "doctor.notes@projectkeep.io",
        "--scope",
        "MAIL $DATA",
        "--attribute",
        "dept=R&D",
        "--attribute",
        "dept=QA",
        "--group",
        "Admins",
        "--password-stdin",
    ]);
    let out = run_with_stdin(add, &format!("{PASSWORD}\n"));
    assert!(out.status.success(), "{}", stderr(&out));

    let out = idp(dir).args(["user", "show", "DOC"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let shown: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(shown["cn"], "Doctor Notes");
    assert_eq!(shown["scopes"], serde_json::json!(["MAIL", "$DATA"]));
    assert_eq!(
        shown["attributes"]["dept"],
        serde_json::json!(["R&D", "QA"])
    );
    assert_eq!(shown["groups"], serde_json::json!(["Admins"]));
    assert!(!stdout(&out).contains("argon2"), "no hash in output");

    let out = idp(dir).args(["user", "list"]).output().unwrap();
    assert!(stdout(&out).contains("CN=Doctor Notes/O=ProjectKeep"));

    // The server on the same files logs the CLI's user in.
    let app = spawn_in(dir, |_| {}).await;
    assert_eq!(app.login("doc", PASSWORD).await.status(), 200);

    let out = run_with_stdin(
        {
            let mut c = idp(dir);
            c.args(["user", "set-password", "doc", "--password-stdin"]);
            c
        },
        "n3w-password\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(app.login("doc", PASSWORD).await.status(), 401);
    assert_eq!(app.login("doc", "n3w-password").await.status(), 200);

    let out = idp(dir).args(["user", "disable", "doc"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(app.login("doc", "n3w-password").await.status(), 401);
    let out = idp(dir).args(["user", "enable", "doc"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(app.login("doc", "n3w-password").await.status(), 200);

    let out = idp(dir).args(["user", "remove", "doc"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(app.login("doc", "n3w-password").await.status(), 401);
    let out = idp(dir).args(["user", "remove", "doc"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test]
async fn bad_user_input_is_refused_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for args in [
        vec!["user", "add", "bad\u{7}name", "--password-stdin"],
        vec![
            "user",
            "add",
            "ok",
            "--email",
            "not-an-email",
            "--password-stdin",
        ],
        vec!["user", "add", "ok", "--cn", "a/b", "--password-stdin"],
        vec![
            "user",
            "add",
            "ok",
            "--attribute",
            "novalue",
            "--password-stdin",
        ],
    ] {
        let mut cmd = idp(dir);
        cmd.args(&args);
        let out = run_with_stdin(cmd, "pw\n");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    }
    // An empty password is refused too.
    let mut cmd = idp(dir);
    cmd.args(["user", "add", "ok", "--password-stdin"]);
    assert_eq!(run_with_stdin(cmd, "\n").status.code(), Some(1));
    // Passwords are never taken from argv.
    let out = idp(dir)
        .args(["user", "add", "ok", "--password", "secret"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Without a terminal and without --password-stdin there is no prompt.
    let out = idp(dir)
        .args(["user", "add", "ok"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--password-stdin"));

    let out = idp(dir).args(["user", "list", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&out)).unwrap(),
        serde_json::json!([])
    );
    // A duplicate is a clear error, and the first user is untouched.
    for expected in [Some(0), Some(1)] {
        let mut cmd = idp(dir);
        cmd.args(["user", "add", "Twin", "--password-stdin"]);
        assert_eq!(run_with_stdin(cmd, "pw\n").status.code(), expected);
    }
}

#[tokio::test]
async fn keys_export_and_token_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // The CLI's default issuer is http://127.0.0.1:8080/...; make the server agree.
    let app = spawn_in(dir, |c| c.public_url = Some("http://127.0.0.1:8080".into())).await;
    app.add_doc().await;
    let body: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    let token = body["bearer"].as_str().unwrap();

    let out = idp(dir)
        .args(["keys", "export", "--format", "jwks"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let exported: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(exported, app.jwks().await);

    let out = idp(dir)
        .args(["keys", "export", "--format", "pem"])
        .output()
        .unwrap();
    let pem = stdout(&out);
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["Domino"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).expect("PEM verifies the token");

    let out = idp(dir).args(["keys", "list"]).output().unwrap();
    assert!(stdout(&out).contains(app.state.keys.signer().kid()));
    assert!(stdout(&out).contains("active"));

    let out = idp(dir).args(["token", "verify", token]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let claims: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(claims, body["claims"]);
    let mut from_stdin = idp(dir);
    from_stdin.args(["token", "verify", "-"]);
    assert!(run_with_stdin(from_stdin, token).status.success());

    let mut tampered: Vec<char> = token.chars().collect();
    let at = tampered.len() - 20;
    tampered[at] = if tampered[at] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    for (args, why) in [
        (
            vec!["token", "verify", tampered.as_str()],
            "InvalidSignature",
        ),
        (vec!["token", "verify", "not.a.jwt"], "malformed"),
        (
            vec!["token", "verify", token, "--expect-audience", "Other"],
            "InvalidAudience",
        ),
        (
            vec!["token", "verify", token, "--issuer", "http://evil/"],
            "InvalidIssuer",
        ),
    ] {
        let out = idp(dir).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(why), "{why}: {}", stderr(&out));
    }
    // alg=none is refused.
    let parts: Vec<&str> = token.split('.').collect();
    let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]);
    let out = idp(dir).args(["token", "verify", &none]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}
