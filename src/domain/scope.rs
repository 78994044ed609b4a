//! Scopes: the OpenID Connect ones this provider understands, and what a
//! scope token may look like (RFC 6749 §3.3).

/// The OpenID Connect scopes this provider understands, besides users' own.
pub const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// A list of scope tokens (RFC 6749 §3.3), duplicates dropped.
pub fn tokens(what: &str, list: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for s in list {
        if s.is_empty()
            || s.len() > 256
            || !s
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        {
            return Err(format!(
                "{what} {s:?} is not a valid scope token (RFC 6749 §3.3)"
            ));
        }
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    Ok(out)
}
