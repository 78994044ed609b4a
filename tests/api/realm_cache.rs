//! Conditional GETs of the public documents (JWKS, realm, both discovery
//! URLs): a strong ETag computed when the document is rendered, and 304
//! without a body when `If-None-Match` names it (RFC 9110 §13.1.2).

use std::time::{Duration, Instant};

use domino_idp::keys::{KeySettings, rotate};
use reqwest::StatusCode;

use crate::helpers::*;

const CERTS: &str = "/auth/realms/DominoRealm/protocol/openid-connect/certs";
const REALM: &str = "/auth/realms/DominoRealm";
const REALM_DISCOVERY: &str = "/auth/realms/DominoRealm/.well-known/openid-configuration";
const DISCOVERY: &str = "/.well-known/openid-configuration";
const DOCUMENTS: [&str; 4] = [CERTS, REALM, REALM_DISCOVERY, DISCOVERY];

impl TestApp {
    async fn get_if_none_match(&self, path: &str, tags: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("if-none-match", tags)
            .send()
            .await
            .expect("request sent")
    }
}

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing: {resp:?}"))
        .to_str()
        .unwrap()
        .to_owned()
}

async fn etag(app: &TestApp, path: &str) -> String {
    let resp = app.get(path).await;
    assert_eq!(resp.status(), StatusCode::OK);
    header(&resp, "etag")
}

#[tokio::test]
async fn every_document_has_a_strong_etag_that_stays_the_same() {
    let app = spawn_app().await;
    let mut tags = Vec::new();
    for path in DOCUMENTS {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let tag = header(&resp, "etag");
        assert!(
            tag.starts_with('"') && tag.ends_with('"') && !tag.starts_with("W/"),
            "{path}: {tag}"
        );
        assert_eq!(header(&resp, "cache-control"), "public, max-age=300");
        assert!(!resp.bytes().await.unwrap().is_empty());
        assert_eq!(etag(&app, path).await, tag, "{path}: stable");
        tags.push(tag);
    }
    // One document at two URLs has one tag; different documents differ.
    assert_eq!(tags[2], tags[3]);
    assert_ne!(tags[0], tags[1]);
    assert_ne!(tags[0], tags[2]);
    assert_ne!(tags[1], tags[2]);
    // Computed when rendered: the stored tag is the served one.
    let docs = app.state.keys.current().documents.clone();
    assert_eq!(docs.jwks_etag.to_str().unwrap(), tags[0]);
    assert_eq!(docs.info_etag.to_str().unwrap(), tags[1]);
}

#[tokio::test]
async fn a_matching_if_none_match_gets_304_with_validators_and_no_body() {
    let app = spawn_app().await;
    for path in DOCUMENTS {
        let tag = etag(&app, path).await;
        let weak = format!("W/{tag}");
        let listed = format!("\"stale\", {tag}");
        for sent in [tag.as_str(), weak.as_str(), listed.as_str(), "*"] {
            let resp = app.get_if_none_match(path, sent).await;
            assert_eq!(
                resp.status(),
                StatusCode::NOT_MODIFIED,
                "{path} with {sent}"
            );
            assert_eq!(header(&resp, "etag"), tag);
            assert_eq!(header(&resp, "cache-control"), "public, max-age=300");
            assert!(resp.headers().get("content-type").is_none());
            assert!(resp.bytes().await.unwrap().is_empty());
        }
    }
}

#[tokio::test]
async fn anything_else_gets_the_document() {
    let app = spawn_app().await;
    for path in DOCUMENTS {
        let tag = etag(&app, path).await;
        let oversized = format!("{}{tag}", "\"0123456789abcdef\", ".repeat(400));
        let sent = [
            "\"AAAAAAAAAAAAAAAAAAAAAA\"".to_owned(),
            tag.trim_matches('"').to_owned(),
            format!("{tag}garbage"),
            format!("*, {tag}"),
            "}{ not a tag".to_owned(),
            oversized,
        ];
        for value in &sent {
            let resp = app.get_if_none_match(path, value).await;
            assert_eq!(resp.status(), StatusCode::OK, "{path} with {value:.60}");
            assert_eq!(header(&resp, "etag"), tag);
            assert!(!resp.bytes().await.unwrap().is_empty());
        }
    }
}

#[tokio::test]
async fn an_unknown_realm_is_still_404() {
    let app = spawn_app().await;
    let resp = app
        .get_if_none_match("/auth/realms/Other/protocol/openid-connect/certs", "*")
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_rotation_changes_the_jwks_and_realm_etags() {
    let app = spawn_with(|c| c.key_reload_interval = 1).await;
    let (jwks_before, realm_before) = (etag(&app, CERTS).await, etag(&app, REALM).await);
    let discovery_before = etag(&app, DISCOVERY).await;

    let settings = KeySettings::from_config(&app.state.config);
    tokio::task::spawn_blocking(move || rotate::rotate(&settings, 0, true))
        .await
        .unwrap()
        .expect("rotated");

    let deadline = Instant::now() + Duration::from_secs(10);
    while app
        .state
        .keys
        .current()
        .documents
        .info_etag
        .to_str()
        .unwrap()
        == realm_before
    {
        assert!(
            Instant::now() < deadline,
            "the server never saw the new key"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let jwks_after = etag(&app, CERTS).await;
    assert_ne!(jwks_after, jwks_before);
    assert_ne!(etag(&app, REALM).await, realm_before);
    // The old tag is no longer current: the new document is sent.
    let resp = app.get_if_none_match(CERTS, &jwks_before).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "etag"), jwks_after);
    // Discovery does not depend on the keys.
    assert_eq!(etag(&app, DISCOVERY).await, discovery_before);
}
