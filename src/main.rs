use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    fixed_mmap_threshold();
    let cli = domino_idp::cli::Cli::parse();
    let logs = domino_idp::cli::Logs::init();
    domino_idp::cli::run(cli, &logs)
}

/// glibc serves an allocation of 128 KiB or more with its own mapping and
/// returns it to the system when freed, but after the first such free it
/// raises that threshold to the freed size (up to 32 MiB), so the next
/// argon2 block (19 MiB) comes from a per-thread heap that keeps it for
/// ever. A fixed threshold keeps big blocks mapped, so an idle worker's
/// memory really goes back (see `domain::password::workers`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fixed_mmap_threshold() {
    // SAFETY: mallopt only changes allocator tuning; it is called once,
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fixed_mmap_threshold() {}
