//! Checked pieces of user input: the names a user is found and shown by
//! (username, login name, email, the parts of a Domino name), a password as
//! typed, and why one was refused.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use crate::domain::secret::Secret;

pub const MAX_USERNAME_CHARS: usize = 128;
pub const MAX_NAME_CHARS: usize = 256;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a piece of user input was refused. The text is safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

pub(super) fn invalid(msg: impl Into<String>) -> InvalidInput {
    InvalidInput(msg.into())
}

pub(super) fn check_text(field: &str, value: &str, max_chars: usize) -> Result<(), InvalidInput> {
    if value.trim().is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    if value.chars().count() > max_chars {
        return Err(invalid(format!(
            "{field} is too long (at most {max_chars} characters)"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

/// The comparison key for names: NFKC-normalised and lower-cased, so that
/// `Alice`, `ALICE` and the full-width `Ａｌｉｃｅ` are one user.
pub fn name_key(value: &str) -> String {
    value.trim().nfkc().collect::<String>().to_lowercase()
}

/// A login name: what `POST /auth` accepts as `username` (a username or an email).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginName(String);

impl LoginName {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        check_text("username", raw, MAX_EMAIL_CHARS.max(MAX_USERNAME_CHARS))?;
        Ok(LoginName(name_key(raw)))
    }
    /// The normalised key to look the user up by.
    pub fn key(&self) -> &str {
        &self.0
    }
}

/// A password as typed. Never printed.
#[derive(Clone)]
pub struct Password(Secret);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if raw.is_empty() {
            return Err(invalid("password must not be empty"));
        }
        if raw.len() > MAX_PASSWORD_BYTES {
            return Err(invalid(format!(
                "password is too long (at most {MAX_PASSWORD_BYTES} bytes)"
            )));
        }
        Ok(Password(Secret::new(raw)))
    }
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// A username as stored: display form plus comparison key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    display: String,
    key: String,
}

impl Username {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        check_text("username", raw, MAX_USERNAME_CHARS)?;
        let display: String = raw.trim().nfkc().collect();
        if display.contains('@') {
            return Err(invalid(
                "username must not contain '@' (emails log in through the email field)",
            ));
        }
        if display.chars().any(|c| matches!(c, '/' | '=' | '"' | '\\')) {
            return Err(invalid("username must not contain / = \" or \\"));
        }
        let key = name_key(&display);
        Ok(Username { display, key })
    }
    pub fn as_str(&self) -> &str {
        &self.display
    }
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// An email address, checked for shape only (one `@`, no spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        check_text("email", raw, MAX_EMAIL_CHARS)?;
        let value = raw.trim();
        let (local, domain) = value
            .split_once('@')
            .ok_or_else(|| invalid("email must look like name@example.com"))?;
        if local.is_empty()
            || domain.is_empty()
            || domain.contains('@')
            || value.chars().any(char::is_whitespace)
        {
            return Err(invalid("email must look like name@example.com"));
        }
        Ok(Email(value.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn key(&self) -> String {
        name_key(&self.0)
    }
}

/// Part of a Domino distinguished name (`cn` or `org`): no `/` or `=`.
pub(super) fn parse_dn_part(field: &str, raw: &str) -> Result<String, InvalidInput> {
    check_text(field, raw, MAX_NAME_CHARS)?;
    if raw.contains('/') || raw.contains('=') {
        return Err(invalid(format!(
            "{field} must not contain '/' or '=' (they separate the parts of a Domino name)"
        )));
    }
    Ok(raw.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::assert_refused;

    #[test]
    fn names_compare_case_and_width_insensitively() {
        assert_eq!(Username::parse("Alice").unwrap().key(), "alice");
        assert_eq!(Username::parse("ＡＬＩＣＥ").unwrap().key(), "alice");
        assert_eq!(LoginName::parse(" Alice ").unwrap().key(), "alice");
    }

    #[test]
    fn hostile_names_are_refused() {
        let long = "x".repeat(129);
        assert_refused(
            Username::parse,
            ["", "   ", "a\u{0}b", "a\nb", &long, "CN=x/O=y"],
        );
        for ok in ["Doctor Notes", "jörg"] {
            assert!(Username::parse(ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn email_shape() {
        assert!(Email::parse("doctor.notes@projectkeep.io").is_ok());
        assert_refused(Email::parse, ["no-at", "a@b@c", "a b@c"]);
    }
}
