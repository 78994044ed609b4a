//! Config loading: arbitrary TOML merged over the defaults as `--config`
//! would be, then `validate()` and the `check-config` rendering. Never panics.

#![no_main]

use domino_idp::config::Config;
use figment::Figment;
use figment::providers::{Format as _, Serialized, Toml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::string(text))
        .extract::<Config>();
    let Ok(config) = loaded else {
        return;
    };
    if config.validate().is_ok() {
        let _ = toml::to_string(&config);
        let _ = config.public_url_for("127.0.0.1:8080".parse().unwrap_or_else(|_| unreachable!()));
    }
});
