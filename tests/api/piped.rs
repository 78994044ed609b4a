//! Running a command with `input` written to its stdin (a secret or a token
//! the command must not take from argv), collecting what it printed.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

/// Spawns `cmd` with piped stdio, writes `input` to its stdin, closes it and
/// waits. Unlike `cli.rs`'s `run_with_stdin`, a command that exits without
/// reading its stdin fails the test here.
pub fn output_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}
