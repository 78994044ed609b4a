//! Changes to the key set on disk: the first key, `keys rotate`, `keys
//! retire`, automatic rotation, and archiving retired keys. Blocking (RSA key
//! generation, file I/O): async callers run these in `spawn_blocking`.

use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::RsaKeyPair;

use super::key::{Parsed, SigningKey};
use super::lifecycle::{self, KeyDates, KeyState};
use super::ring::{KeyRing, read_dir};
use super::{KeyError, KeySettings, cert, file};

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub kid: String,
    /// When the new key starts signing.
    pub activates_at: u64,
    /// The key it takes over from, and when that one stops being published.
    pub supersedes: Option<(String, u64)>,
}

/// Adds a new RSA-2048 key that is published at once and signs from
/// `now + lead` (at once if the directory was empty). Refuses while another
/// key is still waiting to activate, unless `force`.
pub fn rotate(settings: &KeySettings, lead: u64, force: bool) -> Result<Rotation, KeyError> {
    let dir_io = |source| KeyError::Io {
        path: settings.dir.clone(),
        source,
    };
    file::ensure_dir(&settings.dir).map_err(dir_io)?;
    let _lock = file::DirLock::acquire(&settings.dir).map_err(dir_io)?;
    rotate_locked(settings, lead, force)
}

fn rotate_locked(settings: &KeySettings, lead: u64, force: bool) -> Result<Rotation, KeyError> {
    let now = super::now();
    let existing: Vec<SigningKey> = read_dir(&settings.dir, Some(&settings.cert_name))?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    if !force {
        refuse_if_pending(&existing, now, settings.retirement_delay)?;
    }
    let activates_at = activation(&existing, now, lead);
    let new = generate(settings, now, activates_at)?;
    let kid = new.kid().to_owned();

    let mut all = existing;
    all.push(new);
    let dates: Vec<&KeyDates> = all.iter().map(|k| &k.dates).collect();
    let pins = lifecycle::repin(&dates, settings.retirement_delay);
    let mut supersedes = None;
    for (key, pin) in all.iter().zip(pins) {
        let Some(pin) = pin else { continue };
        if pin.superseded_at == Some(activates_at) {
            supersedes = Some((
                key.kid().to_owned(),
                pin.retire_after.unwrap_or(activates_at),
            ));
        }
        key.store_dates(&pin)?;
    }
    Ok(Rotation {
        kid,
        activates_at,
        supersedes,
    })
}

/// Refuses a rotation while one of `keys` is still waiting to sign.
pub(super) fn refuse_if_pending(keys: &[SigningKey], now: u64, delay: u64) -> Result<(), KeyError> {
    let dates: Vec<&KeyDates> = keys.iter().map(|k| &k.dates).collect();
    let statuses = lifecycle::schedule(&dates, now, delay);
    match keys
        .iter()
        .zip(&statuses)
        .find(|(_, s)| s.state == KeyState::Next)
    {
        Some((k, _)) => Err(KeyError::Pending {
            kid: k.kid().to_owned(),
            activates_at: k.dates.activates_at,
        }),
        None => Ok(()),
    }
}

/// When a new key added to `existing` starts signing: at once when it is
/// the first, else `lead` from now, rounded up so that it is published for
/// at least `lead` seconds.
pub(super) fn activation(existing: &[SigningKey], now: u64, lead: u64) -> u64 {
    if existing.is_empty() {
        now
    } else {
        super::now_ceil().saturating_add(lead)
    }
}

/// Logs what an automatic rotation (of the key set signed by `replaces`)
/// did; another instance (or the CLI) rotating first is no failure.
pub(super) fn log_auto_rotation(rotated: Result<Rotation, KeyError>, replaces: &str) {
    match rotated {
        Ok(r) => tracing::info!(
            target: "audit",
            event = "key.rotated",
            kid = %r.kid,
            activates_at = %lifecycle::format_time(r.activates_at),
            replaces = %replaces,
            "automatic key rotation (key_rotation_period): new key published, signs from activates_at"
        ),
        Err(KeyError::Pending { .. }) => {}
        Err(e) => tracing::warn!(error = %e, "automatic key rotation failed; will retry"),
    }
}

/// A key just generated, not yet stored anywhere.
pub(super) struct Fresh {
    /// Its `path` is what `location` said for its kid.
    pub key: SigningKey,
    /// PKCS#8 DER and the same as PEM.
    pub pkcs8: Vec<u8>,
    pub pem: String,
    pub cert_der: Vec<u8>,
}

/// Generates an RSA-2048 key that signs from `activates_at`, with its
/// self-signed certificate. Blocking (key generation).
pub(super) fn fresh_key(
    cert_name: &str,
    location: impl FnOnce(&str) -> PathBuf,
    now: u64,
    activates_at: u64,
) -> Result<Fresh, KeyError> {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
    let der = pair.as_der().map_err(|_| KeyError::Generate)?;
    let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()));
    let parsed = Parsed::from_pem(Path::new("new key"), &pem)?;
    let kid = parsed.public.kid.clone();
    let path = location(&kid);
    let dates = KeyDates {
        activates_at,
        ..KeyDates::active_since(&kid, now)
    };
    let cert_der =
        cert::self_signed(&parsed.pkcs8, cert_name, &kid, now).map_err(|why| KeyError::BadKey {
            path: path.clone(),
            why: format!("cannot make its certificate: {why}"),
        })?;
    let mut public = parsed.public;
    public.cert_der = Some(cert_der.clone());
    Ok(Fresh {
        key: SigningKey {
            public,
            encoding: parsed.encoding,
            path,
            dates,
        },
        pkcs8: parsed.pkcs8,
        pem,
        cert_der,
    })
}

/// Generates an RSA-2048 key and writes it as `<kid>.pem` (mode 0600) with
/// its dates and certificate. The companions go first: a PEM without its
/// dates would count as active since its file time.
fn generate(settings: &KeySettings, now: u64, activates_at: u64) -> Result<SigningKey, KeyError> {
    let fresh = fresh_key(
        &settings.cert_name,
        |kid| settings.dir.join(format!("{kid}.pem")),
        now,
        activates_at,
    )?;
    let key = fresh.key;
    let path = key.path.clone();
    key.store_dates(&key.dates)?;
    let crt = key.companion("crt");
    file::write_public(&crt, cert::to_pem(&fresh.cert_der).as_bytes())
        .map_err(|source| KeyError::Io { path: crt, source })?;
    file::write_private(&path, fresh.pem.as_bytes()).map_err(|source| KeyError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(key)
}

/// Takes `kid` out of the JWKS now and archives its files: for a key that
/// leaked, or to cancel a pending rotation. Tokens it signed stop verifying.
/// The active key cannot be retired: rotate first.
pub fn retire(settings: &KeySettings, kid: &str) -> Result<PathBuf, KeyError> {
    let dir_io = |source| KeyError::Io {
        path: settings.dir.clone(),
        source,
    };
    let _lock = file::DirLock::acquire(&settings.dir).map_err(dir_io)?;
    let ring = KeyRing::load_with(settings)?;
    let (entry, dates) = ring.retirement(kid, super::now())?;
    entry.key.store_dates(&dates)?;
    archive(settings, &entry.key)
}

/// Moves retired keys out of `keys_dir` into `keys_dir/retired/`.
pub(super) fn archive_retired(settings: &KeySettings, ring: &KeyRing) {
    for entry in ring.entries() {
        if entry.status.state != KeyState::Retired {
            continue;
        }
        match archive(settings, &entry.key) {
            Ok(to) => {
                tracing::info!(kid = %entry.key.kid(), to = %to.display(), "retired key archived: no longer published")
            }
            Err(e) => {
                tracing::warn!(kid = %entry.key.kid(), error = %e, "could not archive a retired key")
            }
        }
    }
}

fn archive(settings: &KeySettings, key: &SigningKey) -> Result<PathBuf, KeyError> {
    let to = settings.archive_dir();
    file::move_into(&to, &key.files()).map_err(|source| KeyError::Io {
        path: to.clone(),
        source,
    })?;
    Ok(to.join(key.path.file_name().unwrap_or_default()))
}

/// Reads `keys_dir` as a server does: creates the first key if there is
/// none, fills in missing dates and certificates, rotates when the period
/// says so, and archives retired keys.
pub fn refresh(settings: &KeySettings) -> Result<KeyRing, KeyError> {
    let now = super::now();
    let ring = match KeyRing::load_and_fill_in(settings, now) {
        Err(KeyError::NoKeys(_)) => {
            create_first(settings)?;
            KeyRing::load_and_fill_in(settings, super::now())?
        }
        other => other?,
    };
    let ring = match auto_rotation_due(settings, &ring) {
        false => ring,
        true => {
            let rotated = rotate(settings, settings.rotation_lead, false);
            log_auto_rotation(rotated, ring.signer().kid());
            KeyRing::load_and_fill_in(settings, super::now())?
        }
    };
    archive_retired(settings, &ring);
    Ok(ring)
}

/// Generates the first key, active at once, unless another process (an
/// instance starting beside this one) did so meanwhile.
fn create_first(settings: &KeySettings) -> Result<(), KeyError> {
    let dir_io = |source| KeyError::Io {
        path: settings.dir.clone(),
        source,
    };
    file::ensure_dir(&settings.dir).map_err(dir_io)?;
    let _lock = file::DirLock::acquire(&settings.dir).map_err(dir_io)?;
    if read_dir(&settings.dir, None)?.is_empty() {
        let now = super::now();
        let key = generate(settings, now, now)?;
        tracing::info!(kid = %key.kid(), path = %key.path.display(), "generated a new RSA-2048 signing key");
    }
    Ok(())
}

/// The active key has signed for a whole period and no successor is waiting.
pub(super) fn auto_rotation_due(settings: &KeySettings, ring: &KeyRing) -> bool {
    settings.rotation_period > 0
        && !ring
            .entries()
            .iter()
            .any(|e| e.status.state == KeyState::Next)
        && ring
            .signer()
            .dates
            .activates_at
            .saturating_add(settings.rotation_period)
            <= ring.as_of()
}
