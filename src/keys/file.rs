//! Key files on disk: private keys as PKCS#8 PEM, mode 0600, and their
//! public companions (certificate, dates), all written atomically (temp file
//! + fsync + rename + directory fsync).

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};

/// Creates the keys directory (mode 0700) if it is missing.
pub fn ensure_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir)
}

/// Writes `contents` to `path` readable by the owner only, never leaving a
/// half-written key behind.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomic(path, contents, 0o600)
}

/// Writes a public file (certificate, key dates) atomically, replacing any.
pub fn write_public(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomic(path, contents, 0o644)
}

/// Writes a public file only if none exists yet: the first writer wins, so
/// two processes filling in the same missing file cannot flip it back and forth.
/// `Ok(false)` when the file was already there.
pub fn create_public(path: &Path, contents: &[u8]) -> std::io::Result<bool> {
    let tmp = stage(path, contents, 0o644)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(path)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    let tmp = stage(path, contents, mode)?;
    let result = fs::rename(&tmp, path).and_then(|()| sync_dir(path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A fully written and synced temp file beside `path`.
fn stage(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<PathBuf> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        uuid::Uuid::new_v4().simple()
    ));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(mode);
    #[cfg(not(unix))]
    let _ = mode;
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::File::open(dir)?.sync_all()
}

/// Moves `files` (those that exist) into `archive`, created mode 0700 if
/// needed. Never deletes: a retired private key stays on disk.
pub fn move_into(archive: &Path, files: &[PathBuf]) -> std::io::Result<()> {
    ensure_dir(archive)?;
    for file in files {
        let Some(name) = file.file_name() else {
            continue;
        };
        match fs::rename(file, archive.join(name)) {
            Ok(()) => {}
            // Another process moved it first.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    fs::File::open(archive)?.sync_all()
}

/// Held while one process changes the key set (rotate, retire), so two
/// instances rotating at the same moment cannot both add a key. Released on drop.
#[derive(Debug)]
pub struct DirLock {
    /// Held open: the OS lock lives as long as the handle, and the kernel
    /// releases it when the process dies, however it dies.
    _file: fs::File,
}

/// How long `acquire` waits for another process to finish.
const LOCK_WAIT: Duration = Duration::from_secs(5);

impl DirLock {
    /// Takes the lock, waiting (blocking) up to a few seconds for another
    /// process to release it.
    pub fn acquire(dir: &Path) -> std::io::Result<DirLock> {
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match Self::try_acquire(dir) {
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
                other => return other,
            }
        }
    }

    /// An exclusive OS lock (flock) on `keys_dir/.rotate.lock`. The file is
    /// never deleted, so there is no window in which two processes lock two
    /// different files; a crashed holder leaves nothing behind to clean up.
    fn try_acquire(dir: &Path) -> std::io::Result<DirLock> {
        let path = dir.join(".rotate.lock");
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => Err(std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!(
                    "{} is locked: another process is changing the keys; retry in a moment",
                    path.display()
                ),
            )),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

/// True when group or others may read the file.
pub fn too_open(path: &Path) -> bool {
    #[cfg(unix)]
    {
        fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_lock_excludes_and_a_leftover_file_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        // What a killed holder leaves behind: the file, but no OS lock.
        std::fs::write(dir.path().join(".rotate.lock"), "4242\n").unwrap();
        let held = DirLock::try_acquire(dir.path()).unwrap();
        let second = DirLock::try_acquire(dir.path()).err().unwrap();
        assert_eq!(second.kind(), std::io::ErrorKind::WouldBlock);
        drop(held);
        DirLock::try_acquire(dir.path()).unwrap();
    }
}
