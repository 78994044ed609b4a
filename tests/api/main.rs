//! The one integration-test binary: real HTTP on port-0 listeners, a temp
//! database (a SQLite file, or a Postgres database of its own when
//! `IDP_TEST_POSTGRES_URL` names a server) and real keys per test.

mod apikeys;
mod attacks;
mod audit;
mod bench_cli;
mod browser;
mod brute_force;
mod cli;
mod cluster_script;
mod concurrency;
mod crash;
mod domino_api;
mod domino_proxy;
mod domino_run;
mod hardening;
mod health;
mod helpers;
mod hostile_tokens;
mod interop;
mod keep_login;
mod keep_login_input;
mod keepconfig;
mod key_store;
mod keycloak_connect;
mod log_format;
mod mappers;
mod metrics;
mod multi_instance;
mod oidc_code;
mod oidc_flow;
mod oidc_input;
mod oidc_token;
mod oidc_tokens;
mod openapi;
mod pg_outage;
mod pg_tls;
mod process;
mod pyjwt;
mod realm;
mod realm_cache;
mod restart;
mod rotation;
mod server_limits;
mod shutdown;
mod token_verify;
