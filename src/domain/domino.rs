//! How the Domino Data Lab API shows a user: first and last name, as its
//! `/v4/users` objects and the Domino Token's `given_name` / `family_name`
//! carry them.

use crate::domain::user::User;

/// The attribute that gives the first name, when the user has it.
pub const GIVEN_NAME: &str = "given_name";
/// The attribute that gives the last name, when the user has it.
pub const FAMILY_NAME: &str = "family_name";

/// (first name, last name): the attributes `given_name` and `family_name`
/// when present, else the common name split at its last space ("Doctor
/// Notes" → "Doctor", "Notes"; a single word is a first name alone).
pub fn names(user: &User) -> (String, String) {
    let attribute = |name: &str| {
        user.attributes
            .get(name)
            .and_then(|values| values.first())
            .filter(|v| !v.trim().is_empty())
            .cloned()
    };
    let cn = user.cn.trim();
    let (first, last) = cn.rsplit_once(' ').unwrap_or((cn, ""));
    (
        attribute(GIVEN_NAME).unwrap_or_else(|| first.trim_end().to_owned()),
        attribute(FAMILY_NAME).unwrap_or_else(|| last.to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(cn: &str, attributes: &[(&str, &str)]) -> User {
        User {
            id: "u".into(),
            username: "jack-london".into(),
            email: None,
            cn: cn.into(),
            attributes: attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
                .collect(),
            ..User::sample()
        }
    }

    #[test]
    fn names_come_from_attributes_else_the_common_name() {
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(names(&user("Jack London", &[])), pair("Jack", "London"));
        assert_eq!(
            names(&user("Mary Ann Evans", &[])),
            pair("Mary Ann", "Evans")
        );
        assert_eq!(names(&user("Cher", &[])), pair("Cher", ""));
        assert_eq!(
            names(&user("George Eliot", &[("given_name", "Mary Ann")])),
            pair("Mary Ann", "Eliot")
        );
        assert_eq!(
            names(&user(
                "x",
                &[("given_name", "Jack"), ("family_name", "London")]
            )),
            pair("Jack", "London")
        );
    }
}
