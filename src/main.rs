use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = domino_idp::cli::Cli::parse();
    let logs = domino_idp::cli::Logs::init();
    domino_idp::cli::run(cli, &logs)
}
