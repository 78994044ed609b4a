//! The one integration-test binary: real HTTP on port-0 listeners, a temp
//! database (a SQLite file, or a Postgres database of its own when
//! `IDP_TEST_POSTGRES_URL` names a server) and real keys per test.
//!
//! What several tests share is written once, next to them (look there
//! before writing a setup again): `helpers` (the app, its database and the
//! grants every test makes), `process` (the binary as a server, its config
//! file), `oidc_flow` (the browser side of the code flow, the code grant),
//! `clients` (the client specs tests register), `resource` (userinfo,
//! introspection, realm roles), `keys` (JWKS verification, kids, the realm
//! key), `errors` (the error bodies), `piped` (a command fed on stdin),
//! `python` (the Python scripts and Chromium), `store_double` (the store
//! behind a switch, counting calls); for the scripts,
//! `console_common.py` (browser steps and reporting) and `client_checks.py`.

mod apikey_sessions;
mod apikeys;
mod attacks;
mod audit;
mod bench_cli;
mod browser;
mod brute_force;
mod certs;
mod cli;
mod client_scopes;
mod clients;
mod cluster_script;
mod concurrency;
mod config_cache;
mod console;
mod console_browser;
mod crash;
mod domino_api;
mod domino_proxy;
mod domino_run;
mod errors;
mod express_jwt;
mod hardening;
mod health;
mod helpers;
mod hostile_input;
mod hostile_tokens;
mod interop;
mod keep_login;
mod keep_login_input;
mod keepconfig;
mod key_store;
mod keycloak_connect;
mod keycloak_export;
mod keycloak_import;
mod keycloak_js;
mod keycloak_python;
mod keys;
mod log_format;
mod mappers;
mod metrics;
mod multi_instance;
mod node;
mod oidc_code;
mod oidc_flow;
mod oidc_input;
mod oidc_token;
mod oidc_tokens;
mod openapi;
mod pg_outage;
mod pg_tls;
mod piped;
mod process;
mod pyjwt;
mod python;
mod realm;
mod realm_cache;
mod refresh_jwt;
mod relative_path;
mod resource;
mod restart;
mod rotation;
mod seeded;
mod server_limits;
mod session_end;
mod shutdown;
mod store_double;
mod token_verify;
mod web_origins;
