//! The Python scripts the suite drives: the interpreter (`IDP_TEST_PYTHON`,
//! which `scripts/test.sh` points at its venv; else `python3`), the Chromium
//! the browser scripts use (`IDP_TEST_CHROMIUM`; else Debian's), and running
//! a script off the async runtime.

use std::path::Path;
use std::process::{Command, Output};

pub fn python() -> String {
    std::env::var("IDP_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

pub fn chromium() -> String {
    std::env::var("IDP_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// `python()` running `tests/api/SCRIPT`; the caller adds the arguments.
pub fn python_script(script: &str) -> Command {
    let mut cmd = Command::new(python());
    cmd.arg(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/api")
            .join(script),
    );
    cmd
}

/// What `cmd` printed, waited for on a blocking thread; a Python that does
/// not start fails the test, naming what `scripts/test.sh` installs for it.
pub async fn output_of(mut cmd: Command, installs: &str) -> Output {
    tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| {
            panic!("python runs; use scripts/test.sh, which installs {installs}: {e:?}")
        })
}
