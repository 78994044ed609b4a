//! Who gets a console session, CSRF and the rate limit, the audit line, the
//! headers, `http_relative_path` and `start_page = false`.

use super::*;

#[tokio::test]
async fn only_admin_group_members_get_a_console_session() {
    let app = spawn_app().await;
    app.add_doc().await;
    app.add_user(admin_spec()).await;

    let (refused, _) = sign_in(&app, "doc").await;
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .headers()
            .get(SET_COOKIE)
            .is_none_or(|c| !c.to_str().unwrap().starts_with("DOMINO_IDP_CONSOLE="))
    );
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("Not an administrator") && page.contains("admins"),
        "{page}"
    );

    let (admitted, jar) = sign_in(&app, ADMIN).await;
    assert_eq!(admitted.status(), 303);
    assert_eq!(admitted.headers()[LOCATION], "/admin/users");
    let console = set_cookie_header(&admitted, "DOMINO_IDP_CONSOLE").expect("a console cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(console.contains(attribute), "{console}");
    }
    let users = http()
        .get(app.url("/admin/users"))
        .header("cookie", jar.join("; "))
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200);
    assert!(
        users
            .text()
            .await
            .unwrap()
            .contains("Signed in as <strong id=\"signed-in-as\">root</strong>")
    );
}

#[tokio::test]
async fn console_forms_need_the_sessions_csrf_token_and_are_rate_limited() {
    let app = spawn_app().await;
    app.add_doc().await;
    app.add_user(admin_spec()).await;
    let (cookies, csrf) = admin_session(&app).await;
    let post = |token: Option<&str>, with_cookie: bool| {
        let mut req = http().post(app.url("/admin/users/doc/enabled"));
        if with_cookie {
            req = req.header("cookie", &cookies);
        }
        let mut form = vec![("enabled", "false")];
        if let Some(t) = token {
            form.push(("csrf_token", t));
        }
        req.form(&form).send()
    };
    assert_eq!(post(None, true).await.unwrap().status(), 403, "no token");
    assert_eq!(
        post(Some("forged"), true).await.unwrap().status(),
        403,
        "a wrong token"
    );
    assert_eq!(
        post(Some(&csrf), false).await.unwrap().status(),
        403,
        "no session"
    );
    let user = app.state.store.get_user("doc").await.unwrap().unwrap();
    assert!(user.enabled, "a refused form changed something");
    let ok = post(Some(&csrf), true).await.unwrap();
    assert_eq!(ok.status(), 303);
    assert!(
        !app.state
            .store
            .get_user("doc")
            .await
            .unwrap()
            .unwrap()
            .enabled
    );

    // Bad input is a 4xx page, never a 500.
    let garbage = http()
        .post(app.url("/admin/users"))
        .header("cookie", &cookies)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"csrf_token=%FF%FE&username=x".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);

    // 60 changes a minute, then 429 with Retry-After.
    let mut limited = None;
    for _ in 0..70 {
        let r = post(Some(&csrf), true).await.unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), 303);
    }
    let limited = limited.expect("the rate limit never applied");
    assert!(limited.headers().contains_key("retry-after"));
    app.clock.advance(Duration::from_secs(61));
    assert_eq!(post(Some(&csrf), true).await.unwrap().status(), 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_changes_are_audited_with_the_admin_as_operator() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(
        tmp.path(),
        &format!(
            "[[users]]\nusername = \"root\"\npassword = \"{PASSWORD}\"\ngroups = [\"admins\"]\n\n\
             [[users]]\nusername = \"doc\"\npassword = \"{PASSWORD}\"\n"
        ),
    );
    let server = crate::process::ServerProcess::start(tmp.path(), &config);
    let base = server.url("");
    let (_, jar) = sign_in_at(&base, ADMIN).await;
    let cookies = jar.join("; ");
    let csrf = csrf_of(format!("{base}/admin/users/doc"), &cookies).await;
    let disabled = http()
        .post(format!("{base}/admin/users/doc/enabled"))
        .header("cookie", &cookies)
        .form(&[("enabled", "false"), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 303);
    let mut line = None;
    for _ in 0..50 {
        line = server
            .log()
            .lines()
            .find(|l| l.contains("admin.change") && l.contains("user.disable"))
            .map(str::to_owned);
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line = line.unwrap_or_else(|| panic!("no audit line:\n{}", server.log()));
    assert!(line.contains("audit"), "{line}");
    assert!(line.contains("operator") && line.contains("root"), "{line}");
    assert!(line.contains("subject") && line.contains("doc"), "{line}");
    let log = server.log();
    assert!(log.contains("console.signin"), "{log}");
    assert!(
        !log.contains(PASSWORD) && !log.contains(&csrf),
        "a secret in the log"
    );
    for cookie in &jar {
        let value = cookie.split_once('=').unwrap().1;
        assert!(!log.contains(value), "a cookie in the log: {cookie}");
    }
}

#[tokio::test]
async fn console_pages_carry_a_strict_csp_and_no_store() {
    let app = spawn_app().await;
    for path in ["/", "/auth/realms/DominoRealm/", "/admin"] {
        let resp = http().get(app.url(path)).send().await.unwrap();
        let csp = resp.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(resp.headers()["cache-control"], "no-store", "{path}");
    }
    let page = app.get("/").await.text().await.unwrap();
    assert!(
        !page.contains("<script>") && !page.contains("style="),
        "inline script or style"
    );
    let js = app.get("/static/console.js").await;
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    // A start-page form without the page's CSRF cookie is refused.
    let resp = http()
        .post(app.url("/start/check"))
        .form(&[("token", "x.y.z"), ("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // An unknown realm under the issuer path is a 404 page.
    assert_eq!(app.get("/auth/realms/Other/").await.status(), 404);
}

#[tokio::test]
async fn the_console_follows_http_relative_path() {
    let app = spawn_with(|c| c.http_relative_path = "/".into()).await;
    app.add_user(admin_spec()).await;
    let page = app.get("/realms/DominoRealm/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let jwks = format!(
        "{}/realms/DominoRealm/protocol/openid-connect/certs",
        app.base
    );
    assert!(html.contains(&jwks), "{html}");
    assert_eq!(app.get("/auth/realms/DominoRealm/").await.status(), 404);
    let (done, _) = sign_in(&app, ADMIN).await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()[LOCATION], "/admin/users");
}

#[tokio::test]
async fn start_page_false_leaves_the_root_a_404() {
    let app = spawn_with(|c| c.start_page = false).await;
    for path in ["/", "/auth/realms/DominoRealm/"] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 404, "{path}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
    let post = http()
        .post(app.url("/start/token"))
        .form(&[("username", "doc")])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 404);
    // The admin console is its own setting.
    let admin = http().get(app.url("/admin")).send().await.unwrap();
    assert_eq!(admin.status(), 303);
}
