//! `text_newtype!`: what a checked text value (`ClientId`, `RedirectUri`)
//! shares once it is built. Such a type wraps a `String` that its own
//! `parse(&str) -> Result<Self, $error>` checked; the macro adds the ways in
//! (`TryFrom<String>`, `FromStr`, both through `parse`) and out (`as_str`,
//! `String::from`, `Deref`/`AsRef`/`Borrow` to `str`), prints it as its text
//! (`Display`, and `Debug` as a string's, so messages that quote one with
//! `{:?}` read as they did when it was a `String`), and compares it with
//! text (`== "app"`, `== &str`, `== String`).

macro_rules! text_newtype {
    ($name:ident, $error:ty) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $error;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                $name::parse(&raw)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $error;
            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                $name::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Lets maps keyed by this type be looked up with a `&str` (the
        /// derived `Hash`/`Eq`/`Ord` are those of the text), and a list of
        /// them be `join`ed like strings.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

pub(crate) use text_newtype;

/// Text that no token-like value (a client id, a scope) accepts: empty,
/// spaced, quoted, non-ASCII, with a control character.
#[cfg(test)]
pub(crate) const NOT_TOKENS: [&str; 5] = ["", "has space", "quo\"te", "é", "tab\t"];

/// Asserts that `parse` refuses every one of `bad`.
#[cfg(test)]
pub(crate) fn assert_refused<'a, T: std::fmt::Debug, E>(
    parse: impl Fn(&str) -> Result<T, E>,
    bad: impl IntoIterator<Item = &'a str>,
) {
    for raw in bad {
        assert!(
            parse(raw).is_err(),
            "{raw:?} was accepted: {:?}",
            parse(raw).ok()
        );
    }
}
