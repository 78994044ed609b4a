//! What a `database_url` says beside what sqlx reads from it: the pool's
//! size and patience, which are not passed on to the server, and libpq's
//! `sslrootcert=system`, which sqlx 0.8 would take for a file's name.
//!
//! `sslrootcert=system` (libpq 16 and later) trusts the system's roots: the
//! store rustls-native-certs finds (`SSL_CERT_FILE` or `SSL_CERT_DIR` where
//! set, else the distribution's bundle), where a company's private CA is
//! installed. As in libpq, it makes `verify-full` the default `sslmode` and
//! refuses a weaker one, since a public root vouches only for a name.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;

use crate::store::StoreError;

const DEFAULT_MAX_CONNECTIONS: u32 = 10;
const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The settings a `database_url` carries, and the URL sqlx gets.
pub(super) struct UrlSettings {
    url: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// `sslrootcert=system`: the system's trusted roots.
    system_roots: bool,
}

fn bad(why: String) -> StoreError {
    StoreError::Open(format!("database_url: {why}"))
}

impl UrlSettings {
    pub fn parse(database_url: &str) -> Result<UrlSettings, StoreError> {
        let mut url = url::Url::parse(database_url).map_err(|e| bad(e.to_string()))?;
        let mut settings = UrlSettings {
            url: String::new(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            system_roots: false,
        };
        let mut kept = Vec::new();
        let mut sslmode = None;
        let mut taken = false;
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "max_connections" => {
                    taken = true;
                    settings.max_connections = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .ok_or_else(|| {
                            bad(format!(
                                "max_connections={value}: use a number from 1 to 1000"
                            ))
                        })?;
                }
                "acquire_timeout" => {
                    taken = true;
                    let secs: u64 = value
                        .parse()
                        .ok()
                        .filter(|s| (1..=300).contains(s))
                        .ok_or_else(|| {
                            bad(format!(
                                "acquire_timeout={value}: use seconds from 1 to 300"
                            ))
                        })?;
                    settings.acquire_timeout = Duration::from_secs(secs);
                }
                "sslrootcert" if value == "system" => {
                    taken = true;
                    settings.system_roots = true;
                }
                _ => {
                    if key == "sslmode" {
                        sslmode = Some(value.to_string());
                    }
                    kept.push((key.into_owned(), value.into_owned()));
                }
            }
        }
        if settings.system_roots {
            match sslmode.as_deref() {
                None => {
                    kept.push(("sslmode".into(), "verify-full".into()));
                    taken = true;
                }
                Some("verify-full") => {}
                // libpq's words, so that a search for them finds its docs.
                Some(weak) => {
                    return Err(bad(format!(
                        "weak sslmode \"{weak}\" may not be used with sslrootcert=system \
                         (use \"verify-full\")"
                    )));
                }
            }
        }
        // A URL without our settings reaches sqlx exactly as written.
        settings.url = if !taken {
            database_url.to_owned()
        } else if kept.is_empty() {
            url.set_query(None);
            url.into()
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
            url.into()
        };
        Ok(settings)
    }

    /// sqlx's options for the URL, with the system's roots where it asks
    /// for them (read now, once: each new connection uses this copy).
    pub fn options(&self) -> Result<PgConnectOptions, StoreError> {
        let options = PgConnectOptions::from_str(&self.url).map_err(|e| bad(format!("{e}")))?;
        Ok(if self.system_roots {
            options.ssl_root_cert_from_pem(system_roots()?)
        } else {
            options
        })
    }
}

/// The system's trusted roots as PEM, those rustls can use. sqlx adds them
/// to Mozilla's (webpki-roots), which it always starts from; a
/// distribution's bundle is that list, so in practice the sum is the
/// system's store.
fn system_roots() -> Result<Vec<u8>, StoreError> {
    let found = rustls_native_certs::load_native_certs();
    let total = found.certs.len();
    // sqlx refuses every connection if one certificate of the list is one
    // rustls cannot use as a root, so those are left out here.
    let usable: Vec<pem::Pem> = found
        .certs
        .into_iter()
        .filter(|cert| rustls::RootCertStore::empty().add(cert.clone()).is_ok())
        .map(|cert| pem::Pem::new("CERTIFICATE", cert.to_vec()))
        .collect();
    if usable.is_empty() {
        let why = found
            .errors
            .first()
            .map_or_else(|| "none found".to_owned(), ToString::to_string);
        return Err(bad(format!(
            "sslrootcert=system: no trusted roots on this system ({why}); \
             set SSL_CERT_FILE, or name a CA file in sslrootcert"
        )));
    }
    if usable.len() < total || !found.errors.is_empty() {
        tracing::warn!(
            usable = usable.len(),
            skipped = total - usable.len(),
            errors = found.errors.len(),
            "sslrootcert=system: some of the system's roots could not be read or used"
        );
    }
    Ok(pem::encode_many(&usable).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_settings_are_taken_out_of_the_url() {
        let s = UrlSettings::parse(
            "postgres://idp@db:5432/idp?max_connections=20&sslmode=disable&acquire_timeout=5",
        )
        .unwrap();
        assert_eq!(s.url, "postgres://idp@db:5432/idp?sslmode=disable");
        assert_eq!(s.max_connections, 20);
        assert_eq!(s.acquire_timeout, Duration::from_secs(5));
        let s = UrlSettings::parse("postgresql://idp@db/idp?max_connections=3").unwrap();
        assert_eq!(s.url, "postgresql://idp@db/idp");
        let plain = "postgres://idp:p%40ss@db/idp?options=-c%20search_path%3Didp";
        let s = UrlSettings::parse(plain).unwrap();
        assert_eq!(s.url, plain);
        assert_eq!(
            (s.max_connections, s.acquire_timeout, s.system_roots),
            (DEFAULT_MAX_CONNECTIONS, DEFAULT_ACQUIRE_TIMEOUT, false)
        );
        for bad in [
            "max_connections=0",
            "max_connections=x",
            "acquire_timeout=0",
        ] {
            let err = UrlSettings::parse(&format!("postgres://db/idp?{bad}"))
                .err()
                .unwrap();
            assert!(
                err.to_string().contains(bad.split('=').next().unwrap()),
                "{err}"
            );
        }
    }

    /// libpq's rules for `sslrootcert=system`: `verify-full` unless the URL
    /// says it, and nothing weaker.
    #[test]
    fn the_system_roots_come_with_verify_full() {
        let s = UrlSettings::parse("postgres://idp@db/idp?sslrootcert=system").unwrap();
        assert!(s.system_roots);
        assert_eq!(s.url, "postgres://idp@db/idp?sslmode=verify-full");
        let s = UrlSettings::parse(
            "postgres://idp@db/idp?sslmode=verify-full&sslrootcert=system&max_connections=4",
        )
        .unwrap();
        assert_eq!(s.url, "postgres://idp@db/idp?sslmode=verify-full");
        for weak in ["disable", "allow", "prefer", "require", "verify-ca"] {
            let err = UrlSettings::parse(&format!(
                "postgres://idp:hunter2@db/idp?sslrootcert=system&sslmode={weak}"
            ))
            .err()
            .unwrap()
            .to_string();
            assert!(
                err.contains(&format!("weak sslmode \"{weak}\"")),
                "{weak}: {err}"
            );
            assert!(!err.contains("hunter2"), "{err}");
        }
        // A file's name is sqlx's, as before.
        let file = "postgres://idp@db/idp?sslmode=verify-ca&sslrootcert=/etc/ca.pem";
        let s = UrlSettings::parse(file).unwrap();
        assert_eq!((s.url.as_str(), s.system_roots), (file, false));
    }
}
