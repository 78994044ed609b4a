//! Realm info, JWKS and discovery: what third-party verifiers rely on.

use base64::Engine as _;
use serde_json::Value;

use crate::helpers::*;
use crate::keys::realm_public_key;

#[tokio::test]
async fn a_token_verifies_with_the_published_jwks() {
    let app = spawn_app().await;
    app.add_doc().await;
    let body: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    let jwks = app.jwks().await;
    let claims = verify_with_jwks(body["bearer"].as_str().unwrap(), &jwks, &app.issuer());
    assert_eq!(claims, body["claims"]);
}

#[tokio::test]
async fn jwks_shape_and_caching() {
    let app = spawn_app().await;
    let resp = app
        .get("/auth/realms/DominoRealm/protocol/openid-connect/certs")
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let cache = resp.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cache.contains("max-age=300"), "{cache}");
    let jwks: Value = resp.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(k["kty"], "RSA");
    assert_eq!(k["alg"], "RS256");
    assert_eq!(k["use"], "sig");
    assert_eq!(k["e"], "AQAB");
    // RFC 7638 thumbprint of this very key.
    let n = k["n"].as_str().unwrap();
    assert_eq!(
        k["kid"].as_str().unwrap(),
        domino_idp::keys::jwk::thumbprint(n, "AQAB")
    );
    // 2048-bit modulus.
    let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(n)
        .unwrap();
    assert_eq!(modulus.len(), 256);
    assert!(
        k.get("d").is_none() && k.get("p").is_none(),
        "no private parts"
    );
}

#[tokio::test]
async fn realm_public_key_verifies_the_same_token() {
    let app = spawn_app().await;
    app.add_doc().await;
    let body: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    let resp = app.get("/auth/realms/DominoRealm").await;
    assert_eq!(resp.status(), 200);
    let realm: Value = resp.json().await.unwrap();
    assert_eq!(realm["realm"], "DominoRealm");
    assert_eq!(realm["tokens-not-before"], 0);
    assert_eq!(
        realm["token-service"],
        format!("{}/protocol/openid-connect", app.issuer())
    );
    assert_eq!(
        realm["account-service"],
        format!("{}/account", app.issuer())
    );
    // The key as a Keep keyFile consumer would load it.
    let key = realm_public_key(&realm);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["Domino"]);
    validation.set_issuer(&[app.issuer()]);
    let data = jsonwebtoken::decode::<Value>(body["bearer"].as_str().unwrap(), &key, &validation)
        .expect("realm public_key verifies the token");
    assert_eq!(data.claims, body["claims"]);
}

#[tokio::test]
async fn discovery_lists_what_is_served() {
    let app = spawn_app().await;
    let a: Value = app
        .get_json("/auth/realms/DominoRealm/.well-known/openid-configuration")
        .await;
    let b: Value = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(a, b);
    assert_eq!(a["issuer"], app.issuer());
    let jwks_uri = a["jwks_uri"].as_str().unwrap();
    assert_eq!(
        jwks_uri,
        format!("{}/protocol/openid-connect/certs", app.issuer())
    );
    assert_eq!(
        a["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    // Every URL it names is served (405 for POST-only endpoints is still served).
    let jwks = app.client.get(jwks_uri).send().await.unwrap();
    assert_eq!(jwks.status(), 200);
    let obj = a.as_object().unwrap();
    let urls: Vec<&str> = obj
        .iter()
        .filter(|(k, _)| k.ends_with("_endpoint") || k.ends_with("_uri"))
        .filter_map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(urls.len(), 7, "{urls:?}");
    for url in urls {
        assert!(url.starts_with(&app.issuer()), "{url}");
        let status = app.client.get(url).send().await.unwrap().status();
        assert_ne!(status, 404, "{url}");
        assert!(status.as_u16() < 500, "{url}: {status}");
    }
}

#[tokio::test]
async fn unknown_realm_is_a_json_404() {
    let app = spawn_app().await;
    for path in [
        "/auth/realms/Other",
        "/auth/realms/dominorealm",
        "/auth/realms/Other/protocol/openid-connect/certs",
        "/auth/realms/Other/.well-known/openid-configuration",
        "/auth/realms/%FF%FE",
        "/auth/realms/%00",
    ] {
        let body = expect_error(app.get(path).await, 404).await;
        assert_eq!(body["message"], "Realm does not exist", "{path}");
    }
}

#[tokio::test]
async fn public_url_sets_the_issuer() {
    let app = spawn_with(|c| c.public_url = Some("https://idp.example.com/".into())).await;
    let realm: Value = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(
        realm["issuer"],
        "https://idp.example.com/auth/realms/DominoRealm"
    );
}

#[tokio::test]
async fn documents_are_rendered_once() {
    let app = spawn_app().await;
    let jwks = || app.state.keys.current().documents.jwks.clone();
    let first = jwks().as_ptr();
    let _ = app.jwks().await;
    let _ = app.jwks().await;
    assert_eq!(jwks().as_ptr(), first);
    let served = app
        .get("/auth/realms/DominoRealm/protocol/openid-connect/certs")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(served, jwks());
}

#[tokio::test]
async fn each_jwk_carries_a_self_signed_certificate_for_its_key() {
    use aws_lc_rs::digest;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use x509_cert::der::{Decode as _, Encode as _};

    let tmp = tempfile::tempdir().unwrap();
    let mut app = spawn_in(tmp.path(), |_| {}).await;
    let jwks = app.jwks().await;
    let jwk = &jwks["keys"][0];
    let kid = jwk["kid"].as_str().unwrap();
    let chain = jwk["x5c"].as_array().unwrap();
    assert_eq!(chain.len(), 1);
    // Standard base64 (RFC 7517 §4.7), not base64url.
    let der = STANDARD.decode(chain[0].as_str().unwrap()).unwrap();
    assert_eq!(
        jwk["x5t"],
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &der))
    );
    assert_eq!(
        jwk["x5t#S256"],
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, &der))
    );

    let cert = x509_cert::Certificate::from_der(&der).unwrap();
    let tbs = &cert.tbs_certificate;
    // Its public key is the JWK's n/e, and the realm's public_key.
    let spki = tbs.subject_public_key_info.to_der().unwrap();
    let realm: Value = app.get_json("/auth/realms/DominoRealm").await;
    assert_eq!(
        spki,
        STANDARD
            .decode(realm["public_key"].as_str().unwrap())
            .unwrap()
    );
    let rsa = tbs.subject_public_key_info.subject_public_key.raw_bytes();
    let components = aws_lc_rs::signature::RsaPublicKeyComponents::<Vec<u8>> {
        n: URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap(),
        e: URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap(),
    };
    // Self-signed: the key verifies its own certificate.
    components
        .verify(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            &tbs.to_der().unwrap(),
            cert.signature.raw_bytes(),
        )
        .expect("the certificate is signed by its own key");
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        rsa,
    )
    .verify(&tbs.to_der().unwrap(), cert.signature.raw_bytes())
    .expect("the SPKI in the certificate is the same key");
    assert_eq!(tbs.subject, tbs.issuer);
    let subject = tbs.subject.to_string();
    assert!(
        subject.contains("CN=DominoRealm") && subject.contains(kid),
        "{subject}"
    );

    // Stored beside the key: the same certificate after a restart.
    let crt = tmp.path().join(format!("keys/{kid}.crt"));
    assert_eq!(
        pem::parse(std::fs::read_to_string(&crt).unwrap())
            .unwrap()
            .contents(),
        der.as_slice()
    );
    app.stop().await;
    let again = spawn_in(tmp.path(), |_| {}).await;
    assert_eq!(again.jwks().await, jwks);
}
