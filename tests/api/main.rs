//! The one integration-test binary: real HTTP on port-0 listeners, a temp
//! SQLite file and real keys per test.

mod cli;
mod concurrency;
mod health;
mod helpers;
mod keep_login;
mod keep_login_input;
mod pyjwt;
mod realm;
mod restart;
