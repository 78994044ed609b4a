//! Garbage and forged tokens at every endpoint that takes one: userinfo and
//! introspection refuse them all, revocation ignores them, none is a 5xx.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::helpers::*;

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Every forgery and malformation of SPEC §4 / issue 5, named.
fn forgeries(app: &TestApp, good: &str) -> Vec<(&'static str, String)> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut parts = good.split('.');
    let (header, payload) = (parts.next().unwrap(), parts.next().unwrap());
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let kid = app.state.keys.signer().kid().to_owned();
    let signed = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut c = claims.as_object().unwrap().clone();
        // A jti of its own, so revoking the forgery cannot touch the real token.
        c.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        edit(&mut c);
        app.state.keys.sign(&c).unwrap()
    };
    let public_pem = app.state.keys.signer().public.pem();
    let hs256 = {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        h.kid = Some(kid.clone());
        jsonwebtoken::encode(
            &h,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes()),
        )
        .unwrap()
    };
    let unknown_kid = {
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        use aws_lc_rs::encoding::AsDer;
        let pkcs8 = pem::encode(&pem::Pem::new(
            "PRIVATE KEY",
            pair.as_der().unwrap().as_ref().to_vec(),
        ));
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        h.kid = Some("not-a-published-kid".into());
        jsonwebtoken::encode(
            &h,
            &claims,
            &jsonwebtoken::EncodingKey::from_rsa_pem(pkcs8.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    vec![
        ("truncated", good[..good.len() - 10].to_owned()),
        ("no signature", format!("{header}.{payload}.")),
        ("bad base64", format!("{header}.!!!{payload}.sig")),
        (
            "alg none",
            format!(
                "{}.{payload}.",
                b64(&json!({"alg": "none", "typ": "JWT", "kid": kid}))
            ),
        ),
        ("HS256 keyed with the public key", hs256),
        ("unknown kid", unknown_kid),
        (
            "payload swapped",
            format!(
                "{header}.{}.{}",
                b64(&json!({"sub": "admin", "exp": now + 300})),
                good.rsplit('.').next().unwrap()
            ),
        ),
        (
            "wrong iss",
            signed(&|c| {
                c.insert("iss".into(), json!("https://evil.example/auth/realms/X"));
            }),
        ),
        (
            "expired",
            signed(&|c| {
                c.insert("iat".into(), json!(now - 7200));
                c.insert("exp".into(), json!(now - 3600));
            }),
        ),
        (
            "not yet valid",
            signed(&|c| {
                c.insert("nbf".into(), json!(now + 3600));
            }),
        ),
        ("empty", String::new()),
        ("huge", "a".repeat(8000)),
        ("unicode", "ｅｙＪ.ｅｙＪ.ｘ".to_owned()),
    ]
}

#[tokio::test]
async fn forged_and_garbage_tokens_are_refused_everywhere() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let body = app.password_grant("openid profile").await;
    let good = body["access_token"].as_str().unwrap().to_owned();
    let play = Some(("domino-play", CLIENT_SECRET));
    for (name, token) in forgeries(&app, &good) {
        // userinfo: 401 invalid_token (an empty token is a missing one: 401 too).
        let resp = app
            .client
            .get(app.oidc("userinfo"))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "userinfo accepted {name}");
        // introspection: inactive.
        let resp = app
            .oidc_post("token/introspect", &[("token", &token)], play)
            .await;
        let status = resp.status().as_u16();
        if token.is_empty() {
            assert_eq!(status, 400, "{name}");
        } else {
            assert_eq!(status, 200, "{name}");
            let info: Value = resp.json().await.unwrap();
            assert_eq!(info, json!({"active": false}), "introspection: {name}");
        }
        // revocation: never a 5xx.
        let resp = app.oidc_post("revoke", &[("token", &token)], play).await;
        assert!(resp.status().as_u16() < 500, "revoke {name}");
    }
    // And the genuine token still works: nothing above changed state.
    let resp = app
        .client
        .get(app.oidc("userinfo"))
        .bearer_auth(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
