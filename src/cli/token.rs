//! `domino-idp token verify`: check a JWT the way a consumer would.

use std::io::Read as _;

use clap::Subcommand;

use super::keys::load;
use super::{Failure, Outcome};
use crate::config::Config;
use crate::realm::Realm;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Verify a JWT against this issuer's keys; exit 0 only when valid
    Verify {
        /// The JWT, or - to read it from stdin
        token: String,
        /// Expected issuer (default: this issuer)
        #[arg(long)]
        issuer: Option<String>,
        /// Expected audience (default: the configured audience)
        #[arg(long = "expect-audience")]
        expect_audience: Option<String>,
    },
}

pub async fn run_token(cmd: TokenCommand, config: &Config) -> Outcome {
    match cmd {
        TokenCommand::Verify {
            token,
            issuer,
            expect_audience,
        } => {
            let token = if token == "-" {
                let mut buf = String::new();
                std::io::stdin()
                    .read_to_string(&mut buf)
                    .map_err(|e| Failure::new(format!("cannot read the token from stdin: {e}")))?;
                buf.trim().to_owned()
            } else {
                token.trim().to_owned()
            };
            let ring = load(config)?;
            let issuer = issuer.unwrap_or_else(|| {
                Realm::issuer_for(&config.public_url_for(config.listen), &config.realm)
            });
            let audience = expect_audience.unwrap_or_else(|| config.audience.clone());
            let (kid, claims) = ring
                .verify(&token, Some(&issuer), Some(&audience), config.leeway)
                .map_err(|e| Failure::new(format!("invalid token: {e}")))?;
            println!(
                "{}",
                serde_json::to_string_pretty(&claims).map_err(Failure::new)?
            );
            eprintln!("valid: signed by kid {kid}, issuer {issuer}, audience {audience}");
            Ok(())
        }
    }
}
