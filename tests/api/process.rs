//! The real binary as a server process, for tests that signal or kill it.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::helpers::idp_command;

/// Writes `toml` to `dir/idp.toml`, the config file a server or CLI run is
/// given; returns its path.
pub fn write_config(dir: &Path, toml: &str) -> PathBuf {
    let path = dir.join("idp.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// A `domino-idp serve` child process on a port-0 listener.
pub struct ServerProcess {
    pub child: Child,
    pub addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts `domino-idp --config <config> serve` in `dir` and waits for its
    /// "listening on" line.
    pub fn start(dir: &Path, config: &Path) -> ServerProcess {
        let mut cmd = idp_command(dir);
        cmd.env("RUST_LOG", "info")
            .arg("--config")
            .arg(config)
            .args(["serve", "--listen", "127.0.0.1:0"]);
        let (child, addr, log) = spawn_until_listening(cmd, "listening on ");
        ServerProcess { child, addr, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends `signal` (TERM, KILL, ...) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server still running after {limit:?}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Everything the server has logged so far but its "listening on" line.
    pub fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }
}

/// Spawns `cmd` (stderr piped) and waits for the stderr line that contains
/// `marker` followed by an address; returns the child, that address and
/// the log, which a thread keeps reading.
pub fn spawn_until_listening(
    mut cmd: Command,
    marker: &str,
) -> (Child, String, Arc<Mutex<Vec<String>>>) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("process starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    let addr = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!("exited before listening:\n{}", seen.join("\n"));
        };
        if let Some(rest) = line.split(marker).nth(1) {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
        seen.push(line);
    };
    let log = Arc::new(Mutex::new(seen));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().expect("log").push(line);
        }
    });
    (child, addr, log)
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
