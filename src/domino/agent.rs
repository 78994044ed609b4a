//! `domino-idp agent`: keeps a token file (`DOMINO_TOKEN_FILE`) fresh. Each
//! token is written atomically (a temp file in the same folder, mode 0600,
//! fsync, rename, fsync of the folder), so a reader polling the file never
//! sees it empty or half-written. It refreshes at 80% of the token's life
//! (or every `refresh_interval`), keeps the old file and backs off while the
//! issuer is unreachable, and stops cleanly when asked to.

use std::future::Future;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::source::{SourceError, TokenSource};

pub struct AgentSettings {
    pub token_file: PathBuf,
    /// Refresh this often instead of at 80% of the token's life.
    pub refresh_interval: Option<Duration>,
    /// Write one token and return.
    pub once: bool,
}

/// The longest pause between attempts while the issuer is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Writes `contents` to `path` so that a reader sees the old file or the
/// new one, never a part: a temp file beside it (0600), fsync, rename, and
/// an fsync of the folder so the rename survives a crash.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "token".into());
    let tmp = dir.join(format!(
        ".{name}.{}.{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Runs until `stop` completes (or once). Returns the last error when
/// `once` fails, or when the key is refused and nothing was ever written.
pub async fn run(
    source: &TokenSource,
    settings: &AgentSettings,
    stop: impl Future<Output = ()>,
) -> Result<(), String> {
    tokio::pin!(stop);
    let mut backoff = Duration::from_secs(1);
    loop {
        let pause = match source.fetch().await {
            Ok(token) => {
                write_atomically(&settings.token_file, token.value.as_bytes())
                    .map_err(|e| format!("cannot write {}: {e}", settings.token_file.display()))?;
                tracing::info!(
                    file = %settings.token_file.display(),
                    expires_in = token.lifetime.as_secs(),
                    "token file refreshed"
                );
                if settings.once {
                    return Ok(());
                }
                backoff = Duration::from_secs(1);
                settings
                    .refresh_interval
                    .unwrap_or(token.lifetime.mul_f64(0.8))
                    .max(Duration::from_secs(1))
            }
            Err(e) => {
                if settings.once {
                    return Err(e.to_string());
                }
                let level_transient = e.is_transient();
                match &e {
                    SourceError::Refused(_) => {
                        tracing::error!(error = %e, retry_in = backoff.as_secs(), "the issuer refused the API key; the token file is left as it is")
                    }
                    _ => {
                        tracing::warn!(error = %e, retry_in = backoff.as_secs(), transient = level_transient, "no new token; the token file is left as it is")
                    }
                }
                let pause = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                pause
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = &mut stop => {
                tracing::info!("agent stopping");
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("token")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
