//! API keys: long random secrets a user holds for scripts and Domino runs
//! (`X-Domino-Api-Key`, or exchanged for a Domino Token). A key is `dik_`
//! plus 43 base64url characters (256 random bits): recognisable in a leaked
//! log or a secret scanner, shown once, and stored only as its SHA-256
//! digest, as refresh tokens are. A fast hash is right for a high-entropy
//! secret: there is nothing to brute-force.

use crate::domain::opaque;
use crate::domain::user::InvalidInput;

/// What every key starts with.
pub const PREFIX: &str = "dik_";
/// A key's length: the prefix and an opaque credential.
pub const KEY_CHARS: usize = PREFIX.len() + 43;
pub const MAX_NAME_CHARS: usize = 64;
/// The name of a key created without `--name`.
pub const DEFAULT_NAME: &str = "default";
/// The longest lifetime a key may be given: ten years.
pub const MAX_EXPIRES_IN: u64 = 10 * 366 * 86_400;

/// How finely a key's last use is kept, in seconds: Domino's own UI shows
/// it to the minute, so a key used again within this of its recorded use
/// costs no write.
pub const LAST_USE_GRANULARITY: i64 = 60;

/// Whether a use at `now` is worth recording over the recorded `last_used`
/// (Unix seconds): the first use, or one at least `LAST_USE_GRANULARITY`
/// later. A clock that went back records nothing.
pub fn use_worth_recording(last_used: Option<i64>, now: i64) -> bool {
    last_used.is_none_or(|at| now.saturating_sub(at) >= LAST_USE_GRANULARITY)
}

/// A fresh key.
pub fn generate() -> String {
    format!("{PREFIX}{}", opaque::generate())
}

/// The stored form of a presented key, or `None` when it cannot be one of
/// ours (wrong prefix, length or alphabet): such a value is refused without
/// a lookup.
pub fn digest(presented: &str) -> Option<String> {
    let body = presented.strip_prefix(PREFIX)?;
    let well_formed = presented.len() == KEY_CHARS
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then(|| opaque::digest(presented))
}

/// A key's name: what its holder calls it (`ci`, `laptop`), not unique.
pub fn parse_name(raw: Option<&str>) -> Result<String, InvalidInput> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_NAME.to_owned());
    };
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(InvalidInput(format!(
            "the key name must be 1-{MAX_NAME_CHARS} characters without control characters"
        )));
    }
    Ok(name.to_owned())
}

/// When a key created at `now` with `expires_in` seconds expires.
pub fn expiry(now: i64, expires_in: Option<u64>) -> Result<Option<i64>, InvalidInput> {
    match expires_in {
        None => Ok(None),
        Some(secs) if (1..=MAX_EXPIRES_IN).contains(&secs) => Ok(Some(
            now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX)),
        )),
        Some(secs) => Err(InvalidInput(format!(
            "--expires-in {secs}: use a number of seconds from 1 to {MAX_EXPIRES_IN} (ten years), or omit it for a key that does not expire"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_recognised_and_others_are_not() {
        let key = generate();
        assert!(key.starts_with("dik_"));
        assert_eq!(key.len(), KEY_CHARS);
        assert_ne!(key, generate());
        assert_eq!(digest(&key), Some(opaque::digest(&key)));
        let body = &key[PREFIX.len()..];
        for bogus in [
            String::new(),
            body.to_owned(),
            format!("dik_{}", &body[1..]),
            format!("{key}x"),
            format!("dik_{}!", &body[1..]),
            format!("DIK_{body}"),
            format!("dik_{}é", &body[2..]),
        ] {
            assert_eq!(digest(&bogus), None, "{bogus}");
        }
    }

    #[test]
    fn a_use_is_recorded_at_most_once_a_minute() {
        assert!(use_worth_recording(None, 0));
        assert!(!use_worth_recording(Some(1_000), 1_000));
        assert!(!use_worth_recording(Some(1_000), 1_059));
        assert!(use_worth_recording(Some(1_000), 1_060));
        assert!(
            !use_worth_recording(Some(1_000), 900),
            "the clock went back"
        );
    }

    #[test]
    fn names_and_expiry() {
        assert_eq!(parse_name(None).unwrap(), "default");
        assert_eq!(parse_name(Some(" ci ")).unwrap(), "ci");
        assert!(parse_name(Some("")).is_err());
        assert!(parse_name(Some("a\nb")).is_err());
        assert!(parse_name(Some(&"x".repeat(65))).is_err());
        assert_eq!(expiry(100, None).unwrap(), None);
        assert_eq!(expiry(100, Some(60)).unwrap(), Some(160));
        assert!(expiry(100, Some(0)).is_err());
        assert!(expiry(100, Some(MAX_EXPIRES_IN + 1)).is_err());
    }
}
