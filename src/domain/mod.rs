//! The rules: users and their names, passwords, and the claims a token carries.
//! Pure and testable; nothing here knows about HTTP or SQL.

pub mod apikey;
pub mod client;
pub mod domino;
pub mod lockout;
pub mod mapper;
pub mod opaque;
pub mod password;
pub mod role;
pub mod scope;
pub mod secret;
mod text;
pub mod token;
pub mod user;
