//! `oidc::Params::parse`, the OAuth parameter parser every form body and
//! query goes through: never panics, and what it accepts keeps its promises.

#![no_main]

use domino_idp::app::oidc::Params;
use domino_idp::app::oidc::params::MAX_VALUE_CHARS;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = Params::parse(data) else {
        return;
    };
    for (key, _) in url::form_urlencoded::parse(data) {
        if let Some(value) = params.get(&key) {
            assert!(!value.is_empty(), "an empty value counts as absent");
            assert!(value.chars().count() <= MAX_VALUE_CHARS);
            assert!(!value.chars().any(char::is_control), "{value:?}");
        }
    }
});
