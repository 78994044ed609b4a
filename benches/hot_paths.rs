//! Micro-benchmarks of the per-request work that does not touch the network
//! or the store: minting (claims + RS256 signature), verification, claim
//! mappers and the JWKS/realm rendering done on each key change.
//!
//!     cargo bench --bench hot_paths -- --warm-up-time 1 --measurement-time 2

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::crypto::aws_lc;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;

use domino_idp::app::oidc::claims::ClaimContext;
use domino_idp::config::SubjectKind;
use domino_idp::domain::client::ClientSpec;
use domino_idp::domain::mapper::{Mapper, MapperSpec, Output, apply_all};
use domino_idp::domain::token::{Claims, TokenPolicy};
use domino_idp::domain::user::{PasswordHash, User};
use domino_idp::keys::{KeyRing, KeySettings, rotate};
use domino_idp::realm::Realm;

const ISSUER: &str = "http://127.0.0.1:8080/auth/realms/DominoRealm";
const CLIENT: &str = "domino-play";

struct Fixture {
    _dir: tempfile::TempDir,
    ring: KeyRing,
    policy: TokenPolicy,
    user: User,
    mappers: Vec<Mapper>,
    scopes: domino_idp::domain::scope::ScopeSet,
    now: i64,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let settings = KeySettings {
        dir: dir.path().to_owned(),
        cert_name: "DominoRealm".into(),
        retirement_delay: 3600,
        rotation_lead: 0,
        rotation_period: 0,
        reload_interval: 60,
    };
    // A second key makes the JWKS look like one during a rotation.
    let ring = rotate::refresh(&settings).unwrap();
    rotate::rotate(&settings, 3600, false).unwrap();
    let ring = KeyRing::load_with(&settings).map_or(ring, |r| r);
    let policy = TokenPolicy {
        issuer: ISSUER.into(),
        audience: "Domino".into(),
        access_token_ttl: 300,
        max_jwt_duration: 3600,
        subject: SubjectKind::Dn,
    };
    let user = User {
        id: "0b7c9d1e-2f3a-4b5c-8d6e-7f8091a2b3c4".into(),
        username: "doc".into(),
        email: Some("doctor.notes@projectkeep.io".into()),
        cn: "Doctor Notes".into(),
        org: Some("ProjectKeep".into()),
        password_hash: PasswordHash(String::new()),
        scopes: vec!["MAIL".into(), "$DATA".into()],
        attributes: BTreeMap::from([
            ("dept".into(), vec!["Surgery".into(), "Research".into()]),
            ("level".into(), vec!["7".into()]),
        ]),
        groups: vec!["Admins".into(), "Staff/Doctors".into()],
        enabled: true,
        created_at: 0,
        updated_at: 0,
    };
    let specs = [
        json!({"name": "tier", "type": "hardcoded", "claim": "org.tier", "value": "gold"}),
        json!({"name": "departments", "type": "user-attribute", "attribute": "dept",
               "multivalued": true, "claim": "departments"}),
        json!({"name": "level", "type": "user-attribute", "attribute": "level",
               "json_type": "int", "claim": "level"}),
        json!({"name": "uid", "type": "user-property", "property": "id", "claim": "uid"}),
        json!({"name": "groups", "type": "group-membership", "claim": "groups"}),
        json!({"name": "reports", "type": "audience", "audience": "reports-api",
               "outputs": ["access"]}),
    ];
    let mappers = specs
        .into_iter()
        .map(|s| Mapper::from_spec(&serde_json::from_value::<MapperSpec>(s).unwrap()).unwrap())
        .collect();
    Fixture {
        _dir: dir,
        ring,
        policy,
        user,
        mappers,
        scopes: domino_idp::domain::scope::ScopeSet::parse_param("openid profile email MAIL $DATA"),
        now: domino_idp::keys::now() as i64,
    }
}

impl Fixture {
    fn context<'a>(&'a self, mappers: &'a [Mapper]) -> ClaimContext<'a> {
        ClaimContext {
            policy: &self.policy,
            mappers,
            client_id: CLIENT,
            user: Some(&self.user),
            scopes: &self.scopes,
            applied: &self.scopes,
            roles: None,
            session: Some(("5d1c2b3a-4e5f-6a7b-8c9d-0e1f2a3b4c5d", self.now)),
            now: self.now,
            lifetime: 300,
        }
    }

    fn access_claims(&self) -> Claims {
        let jti = uuid::Uuid::new_v4().to_string();
        self.context(&[]).access(&jti)
    }
}

fn benches(c: &mut Criterion) {
    let f = fixture();

    // What the token endpoint does per access token: jti, claims, mappers, sign.
    c.bench_function("mint/access_token", |b| {
        b.iter(|| {
            let jti = uuid::Uuid::new_v4().to_string();
            let claims = f.context(&f.mappers).access(&jti);
            black_box(f.ring.sign(&claims).unwrap())
        })
    });
    c.bench_function("mint/claims_only", |b| {
        b.iter(|| {
            let jti = uuid::Uuid::new_v4().to_string();
            black_box(f.context(&f.mappers).access(&jti))
        })
    });

    // The floor and the old way: the bare RSA signature of a real signing
    // input with the key parsed once (what KeyRing::sign now uses), and
    // jsonwebtoken's own aws-lc signer, which re-parses the key each time.
    let token = f.ring.sign(&f.access_claims()).unwrap();
    let input = token.rsplit_once('.').unwrap().0.as_bytes().to_vec();
    let signer = f.ring.signer();
    c.bench_function("sign/raw_rs256_preparsed", |b| {
        b.iter(|| black_box(signer.sign_rs256(black_box(&input)).unwrap()))
    });
    let pem = std::fs::read(&signer.path).unwrap();
    let encoding = EncodingKey::from_rsa_pem(&pem).unwrap();
    c.bench_function("sign/jsonwebtoken_aws_lc_signer", |b| {
        b.iter(|| {
            let jwt_signer =
                (aws_lc::DEFAULT_PROVIDER.signer_factory)(&Algorithm::RS256, &encoding).unwrap();
            black_box(jwt_signer.try_sign(black_box(&input)).unwrap())
        })
    });

    c.bench_function("verify/access_token", |b| {
        b.iter(|| {
            black_box(
                f.ring
                    .verify(black_box(&token), Some(ISSUER), Some("Domino"), 5),
            )
            .unwrap()
        })
    });

    let base = f.access_claims();
    c.bench_function("mappers/six_over_a_user", |b| {
        b.iter(|| {
            let mut claims = base.clone();
            apply_all(
                &f.mappers,
                Output::Access,
                CLIENT,
                Some(&f.user),
                &mut claims,
            );
            black_box(claims)
        })
    });
    c.bench_function("mappers/base_clone_only", |b| {
        b.iter(|| black_box(base.clone()))
    });

    // The two store reads every client_credentials token makes besides
    // signing: the client (client authentication) and the mappers.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = format!("sqlite://{}", f._dir.path().join("idp.db").display());
    let store = rt.block_on(async {
        let store = domino_idp::store::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        for mapper in &f.mappers {
            domino_idp::app::mappers::create(store.as_ref(), &mapper.spec)
                .await
                .unwrap();
        }
        let spec: ClientSpec = serde_json::from_value(json!({
            "client_id": CLIENT, "grant_types": ["client_credentials"]
        }))
        .unwrap();
        domino_idp::app::clients::create(store.as_ref(), &spec)
            .await
            .unwrap();
        store
    });
    c.bench_function("store/mappers_load_six", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(domino_idp::app::mappers::load(store.as_ref()))
                    .unwrap(),
            )
        })
    });
    c.bench_function("store/get_client", |b| {
        b.iter(|| black_box(rt.block_on(store.get_client(CLIENT)).unwrap()))
    });

    let realm = Realm::new("http://127.0.0.1:8080", "/auth", "DominoRealm", 300);
    c.bench_function("jwks/render_documents", |b| {
        b.iter(|| black_box(realm.documents(&f.ring)))
    });
}

criterion_group!(hot_paths, benches);
criterion_main!(hot_paths);
