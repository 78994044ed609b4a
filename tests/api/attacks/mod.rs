//! The attacks of the external review (issue 12), each against the real
//! binary (`domino-idp serve` as a child process on a port-0 listener, on the
//! backend the suite runs on), each failing on the code it was found in.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Barrier;

use crate::helpers::{CLIENT_SECRET, PASSWORD, REDIRECT_URI, idp_command};
use crate::piped::output_with_stdin;
use crate::process::ServerProcess;
use crate::seeded::{Http, cli, config, config_with};

mod guessing;

/// RP-Initiated Logout §2: a hint that is not an ID token of the browser's
/// own session only asks; it never ends the session by itself.
#[tokio::test]
async fn a_foreign_token_as_id_token_hint_only_asks() {
    use crate::oidc_flow::{VERIFIER, authorize_url_at, query, set_cookie, submit_login};
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &config(dir.path(), ""));
    let api = Http::of(&server);
    // The victim signs in in their browser.
    let (resp, _) = submit_login(&authorize_url_at(&api.oidc("auth"), &[]), PASSWORD).await;
    assert_eq!(resp.status(), 303);
    let victim_cookie = set_cookie(&resp, "DOMINO_IDP_SESSION").unwrap();
    let code = query(&crate::oidc_flow::location(&resp), "code").unwrap();
    let own: Value = api
        .http
        .post(api.oidc("token"))
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The attacker's own tokens, every kind this issuer signs.
    let attacker = api.grant("nurse", "openid profile").await;
    let hints = [
        (
            "the attacker's ID token",
            attacker["id_token"].as_str().unwrap().to_owned(),
        ),
        (
            "the attacker's access token",
            attacker["access_token"].as_str().unwrap().to_owned(),
        ),
        ("the attacker's Keep token", api.keep("nurse").await),
        (
            "the victim's access token",
            own["access_token"].as_str().unwrap().to_owned(),
        ),
    ];
    for (what, hint) in &hints {
        let resp = api
            .http
            .get(api.oidc("logout"))
            .query(&[
                ("id_token_hint", hint.as_str()),
                ("client_id", "domino-play"),
                ("post_logout_redirect_uri", "http://127.0.0.1:9/signed-out"),
            ])
            .header(reqwest::header::COOKIE, &victim_cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{what}: the confirmation page");
        let html = resp.text().await.unwrap();
        assert!(html.contains("csrf_token"), "{what}: asks first");
        assert!(
            api.signed_in(&victim_cookie).await,
            "{what} signed the victim out"
        );
    }
    // The attacker's session is not ended either by their own hint.
    let (status, _) = api
        .userinfo(attacker["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    // The victim's own ID token of this session ends it without asking.
    let resp = api
        .http
        .get(api.oidc("logout"))
        .query(&[("id_token_hint", own["id_token"].as_str().unwrap())])
        .header(reqwest::header::COOKIE, &victim_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(!resp.text().await.unwrap().contains("csrf_token"));
    assert!(!api.signed_in(&victim_cookie).await);
    let (status, _) = api.userinfo(own["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401, "the ended session's access token");
}

/// No mapper may target a claim that says whose token it is, for which
/// client or session; the CLI and the config file refuse alike.
#[tokio::test]
async fn mappers_cannot_move_a_token_to_another_user_client_or_session() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    for claim in [
        "preferred_username",
        "typ",
        "azp",
        "sid",
        "session_state",
        "auth_time",
        "nonce",
        "at_hash",
    ] {
        let out = idp_command(dir.path())
            .arg("--config")
            .arg(&cfg)
            .args(["mapper", "add", "evil", "--type", "user-property"])
            .args(["--property", "email", "--claim", claim])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{claim} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("protected"), "{claim}: {err}");
        // Seeded from the file: the server refuses to start.
        let bad = config(
            dir.path(),
            &format!(
                "[[mappers]]\nname = \"evil\"\ntype = \"hardcoded\"\nclaim = \"{claim}\"\nvalue = \"nurse\""
            ),
        );
        let out = idp_command(dir.path())
            .arg("--config")
            .arg(&bad)
            .arg("check-config")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{claim} was accepted from the file");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("protected") && err.contains(claim),
            "{claim}: {err}"
        );
    }
    // An attribute mapper on a claim of its own still works, and userinfo
    // still answers for the token's own user.
    let cfg = config(
        dir.path(),
        "[[mappers]]\nname = \"login\"\ntype = \"user-property\"\nproperty = \"email\"\nclaim = \"login\"",
    );
    let server = ServerProcess::start(dir.path(), &cfg);
    let api = Http::of(&server);
    let token = api.grant("doc", "openid profile email").await;
    let (status, info) = api.userinfo(token["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(info["preferred_username"], "doc");
    assert_eq!(info["login"], "doctor.notes@projectkeep.io");
}

/// OIDC Core §2: `sub` is never reassigned. A removed user's tokens are
/// inactive everywhere, and a new user of the same name is someone else.
#[tokio::test]
async fn a_token_dies_with_its_user() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let server = ServerProcess::start(dir.path(), &cfg);
    let api = Http::of(&server);
    let add = |email: &str| {
        let out = output_with_stdin(
            idp_command(dir.path()).arg("--config").arg(&cfg).args([
                "user",
                "add",
                "temp",
                "--email",
                email,
                "--password-stdin",
            ]),
            PASSWORD.as_bytes(),
        );
        assert!(out.status.success());
    };
    add("first@example.com");
    let keep = api.keep("temp").await;
    let oauth = api.grant("temp", "openid email").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for token in [&keep, &oauth] {
        assert_eq!(api.introspect(token).await["active"], true);
        assert_eq!(api.userinfo(token).await.0, 200);
    }
    cli(dir.path(), &cfg, &["user", "remove", "temp"]);
    add("second@example.com");
    for token in [&keep, &oauth] {
        assert_eq!(api.introspect(token).await["active"], false);
        let (status, body) = api.userinfo(token).await;
        assert_eq!(status, 401, "{body}");
    }
    // The new temp is a principal of its own.
    let fresh = api.grant("temp", "openid email").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, info) = api.userinfo(&fresh).await;
    assert_eq!(status, 200);
    assert_eq!(info["email"], "second@example.com");
    // Disabling ends them too, at once.
    cli(dir.path(), &cfg, &["user", "disable", "temp"]);
    assert_eq!(api.introspect(&fresh).await["active"], false);
    assert_eq!(api.userinfo(&fresh).await.0, 401);
}

/// RFC 6750 §2.3: a bearer token in the URL is refused; the header and a
/// POSTed form body still carry it.
#[tokio::test]
async fn a_token_in_the_url_is_refused_at_userinfo() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &config(dir.path(), ""));
    let api = Http::of(&server);
    let token = api.grant("doc", "openid profile").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for req in [
        api.http
            .get(api.oidc("userinfo"))
            .query(&[("access_token", token.as_str())]),
        api.http
            .post(api.oidc("userinfo"))
            .query(&[("access_token", token.as_str())]),
    ] {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 400);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{body}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("header")
        );
    }
    assert_eq!(api.userinfo(&token).await.0, 200);
    let resp = api
        .http
        .post(api.oidc("userinfo"))
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// Any token, a Keep token included, can be revoked by the operator by the
/// token or by its jti: userinfo and introspection refuse it on every
/// instance until it expires.
#[tokio::test]
async fn the_operator_revokes_a_keep_token() {
    let dir = tempfile::tempdir().unwrap();
    // Two instances behind one name, as behind a balancer.
    let cfg = config_with(dir.path(), "public_url = \"http://idp.test\"", "");
    let a = ServerProcess::start(dir.path(), &cfg);
    let b = ServerProcess::start(dir.path(), &cfg);
    let (api_a, api_b) = (Http::of(&a), Http::of(&b));
    let by_token = api_a.keep("doc").await;
    let by_jti = api_a.keep("doc").await;
    let kept = api_a.keep("doc").await;
    // Clients cannot revoke a Keep token (it was issued to no client).
    let resp = api_a
        .http
        .post(api_a.oidc("revoke"))
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .form(&[("token", by_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // The token on stdin, never in argv.
    let out = output_with_stdin(
        idp_command(dir.path())
            .arg("--config")
            .arg(&cfg)
            .args(["token", "revoke", "-"]),
        format!("{by_token}\n").as_bytes(),
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("revoked"));
    let jti = api_a.introspect(&by_jti).await["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    cli(dir.path(), &cfg, &["token", "revoke", &jti]);
    for api in [&api_a, &api_b] {
        for token in [&by_token, &by_jti] {
            assert_eq!(api.introspect(token).await["active"], false);
            assert_eq!(api.userinfo(token).await.0, 401);
        }
        assert_eq!(api.introspect(&kept).await["active"], true);
    }
    // A token of another issuer is refused, not silently "revoked".
    let out = idp_command(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["token", "revoke", "e30.e30.c2ln"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// A client's `allowed_scopes` bounds what it can get for a user: a client
/// that lists no Keep scope never gets a token carrying one.
#[tokio::test]
async fn a_client_gets_only_its_allowed_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        r#"
[[clients]]
client_id = "reports"
secret = "reports-secret-0123456789"
grant_types = ["password"]
allowed_scopes = ["openid", "profile", "$DATA"]
"#,
    );
    let server = ServerProcess::start(dir.path(), &cfg);
    let api = Http::of(&server);
    let resp = api
        .http
        .post(api.oidc("token"))
        .basic_auth("reports", Some("reports-secret-0123456789"))
        .form(&[
            ("grant_type", "password"),
            ("username", "doc"),
            ("password", PASSWORD),
            ("scope", "openid profile email MAIL $DATA"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "openid profile $DATA");
    let claims = api.introspect(body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["scope"], "openid profile $DATA");
    // Without a list, as before: the user's Keep scopes and the OIDC ones.
    let all = api.grant("doc", "openid email MAIL $DATA").await;
    assert_eq!(all["scope"], "openid email MAIL $DATA");
    // The CLI sets and shows the list.
    cli(
        dir.path(),
        &cfg,
        &[
            "client",
            "add",
            "mail-only",
            "--grant",
            "password",
            "--allowed-scope",
            "MAIL",
        ],
    );
    let listed = cli(dir.path(), &cfg, &["client", "list", "--json"]);
    assert!(listed.contains("\"allowed_scopes\""), "{listed}");
}
