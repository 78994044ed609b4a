//! Where each key is in its life (SPEC §6): the dates kept beside its PEM and
//! the state those dates imply at a given moment. Pure: no files, no clock.
//!
//! A key is `next` until its `activates_at`; the newest key whose activation
//! has passed is `active` and signs; an older activated key was superseded
//! when its successor activated and stays published (`retiring`) until every
//! token it signed has expired, then it is `retired` and no longer published.

use serde::{Deserialize, Serialize};

/// A key's dates, kept in `<stem>.json` beside `<stem>.pem` so that the CLI,
/// the server and other instances agree. Times are Unix seconds, stored as
/// RFC 3339 so an operator can read (and, in an emergency, edit) them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyDates {
    pub kid: String,
    #[serde(with = "rfc3339")]
    pub created: u64,
    /// From then on the key signs (unless a newer key has activated too).
    #[serde(with = "rfc3339")]
    pub activates_at: u64,
    /// The successor's activation, pinned by the rotation that scheduled it.
    #[serde(default, with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub superseded_at: Option<u64>,
    /// `superseded_at` + the longest token lifetime + leeway, pinned with it.
    #[serde(default, with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub retire_after: Option<u64>,
}

impl KeyDates {
    /// A key that signs from `at` on: a new first key, or one from before
    /// key dates were recorded (its file time stands in).
    pub fn active_since(kid: &str, at: u64) -> Self {
        KeyDates {
            kid: kid.to_owned(),
            created: at,
            activates_at: at,
            superseded_at: None,
            retire_after: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// Published, not yet signing.
    Next,
    /// Signs new tokens; published.
    Active,
    /// Superseded; published until its last token has expired.
    Retiring,
    /// No longer published.
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retiring => "retiring",
            KeyState::Retired => "retired",
        }
    }

    pub fn is_published(self) -> bool {
        self != KeyState::Retired
    }
}

impl std::fmt::Display for KeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One key's state at a moment, and when it is (or will be) superseded and
/// retired, once a successor exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub state: KeyState,
    pub superseded_at: Option<u64>,
    pub retires_at: Option<u64>,
}

/// Activation order: oldest first; ties broken by creation, then kid, so
/// every process orders the same files the same way.
pub fn activation_order(dates: &[&KeyDates]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..dates.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (dates[a], dates[b]);
        (a.activates_at, a.created, &a.kid).cmp(&(b.activates_at, b.created, &b.kid))
    });
    order
}

/// The state of each key at `now`, index for index.
///
/// A key is superseded when the key after it in activation order activates.
/// Its retirement is the pinned `retire_after` when the pin was made for that
/// same successor, else `superseded_at + retirement_delay`. If no key has
/// activated yet (hand-edited dates), the earliest one signs: something must.
pub fn schedule(dates: &[&KeyDates], now: u64, retirement_delay: u64) -> Vec<Status> {
    let order = activation_order(dates);
    let active_pos = order
        .iter()
        .rposition(|&i| dates[i].activates_at <= now)
        .unwrap_or(0);
    let mut statuses = vec![
        Status {
            state: KeyState::Next,
            superseded_at: None,
            retires_at: None,
        };
        dates.len()
    ];
    for (pos, &i) in order.iter().enumerate() {
        // Dates are planned as soon as a successor exists, so that the active
        // key shows when it will retire; the state follows from `now`.
        let planned = order.get(pos + 1).map(|&next| {
            let superseded_at = dates[next].activates_at;
            let retires_at = match (dates[i].superseded_at, dates[i].retire_after) {
                (Some(pinned), Some(retire)) if pinned == superseded_at => retire,
                _ => superseded_at.saturating_add(retirement_delay),
            };
            (superseded_at, retires_at)
        });
        let state = match (pos.cmp(&active_pos), planned) {
            (std::cmp::Ordering::Equal, _) => KeyState::Active,
            (std::cmp::Ordering::Greater, _) => KeyState::Next,
            (std::cmp::Ordering::Less, Some((_, retires_at))) if now < retires_at => {
                KeyState::Retiring
            }
            (std::cmp::Ordering::Less, _) => KeyState::Retired,
        };
        statuses[i] = Status {
            state,
            superseded_at: planned.map(|p| p.0),
            retires_at: planned.map(|p| p.1),
        };
    }
    statuses
}

/// The first moment after `now` at which some state changes.
pub fn next_change(dates: &[&KeyDates], statuses: &[Status], now: u64) -> Option<u64> {
    dates
        .iter()
        .zip(statuses)
        .filter_map(|(d, s)| match s.state {
            KeyState::Next => Some(d.activates_at),
            KeyState::Retiring => s.retires_at,
            _ => None,
        })
        .filter(|&t| t > now)
        .min()
}

/// The pins a rotation writes: for each key that has a successor, the
/// successor's activation and the retirement that follows from it. `None`
/// where the stored pin already says so (nothing to write).
pub fn repin(dates: &[&KeyDates], retirement_delay: u64) -> Vec<Option<KeyDates>> {
    let order = activation_order(dates);
    let mut out = vec![None; dates.len()];
    for pair in order.windows(2) {
        let (i, next) = (pair[0], pair[1]);
        let superseded_at = dates[next].activates_at;
        if dates[i].superseded_at == Some(superseded_at) && dates[i].retire_after.is_some() {
            continue;
        }
        out[i] = Some(KeyDates {
            superseded_at: Some(superseded_at),
            retire_after: Some(superseded_at.saturating_add(retirement_delay)),
            ..dates[i].clone()
        });
    }
    out
}

/// Unix seconds as RFC 3339, for people and for the sidecar files.
pub fn format_time(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

fn parse_time(text: &str) -> Result<u64, String> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{text:?} is not an RFC 3339 time: {e}"))?;
    u64::try_from(t.unix_timestamp()).map_err(|_| format!("{text:?} is before 1970"))
}

mod rfc3339 {
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(secs: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_time(*secs))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_time(&text).map_err(serde::de::Error::custom)
    }
}

mod rfc3339_opt {
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(secs: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match secs {
            Some(secs) => s.serialize_str(&super::format_time(*secs)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| super::parse_time(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, activates_at: u64) -> KeyDates {
        KeyDates {
            created: activates_at.saturating_sub(10),
            ..KeyDates::active_since(kid, activates_at)
        }
    }

    fn states(keys: &[KeyDates], now: u64, delay: u64) -> Vec<KeyState> {
        let refs: Vec<&KeyDates> = keys.iter().collect();
        schedule(&refs, now, delay)
            .into_iter()
            .map(|s| s.state)
            .collect()
    }

    use KeyState::*;

    #[test]
    fn a_rotation_walks_through_every_state() {
        let keys = [key("a", 100), key("b", 200)];
        assert_eq!(states(&keys, 150, 50), [Active, Next]);
        assert_eq!(states(&keys, 200, 50), [Retiring, Active]);
        assert_eq!(states(&keys, 249, 50), [Retiring, Active]);
        assert_eq!(states(&keys, 250, 50), [Retired, Active]);
    }

    #[test]
    fn a_pin_for_the_same_successor_wins_over_the_local_delay() {
        let mut a = key("a", 100);
        a.superseded_at = Some(200);
        a.retire_after = Some(1000);
        let keys = [a.clone(), key("b", 200)];
        assert_eq!(states(&keys, 300, 50), [Retiring, Active]);
        // A pin made for another successor (that key was removed) is ignored.
        a.superseded_at = Some(150);
        let keys = [a, key("b", 200)];
        assert_eq!(states(&keys, 300, 50), [Retired, Active]);
    }

    #[test]
    fn nothing_activated_yet_means_the_earliest_signs() {
        let keys = [key("b", 300), key("a", 200)];
        assert_eq!(states(&keys, 100, 50), [Next, Active]);
    }

    #[test]
    fn ties_are_broken_the_same_way_everywhere() {
        let keys = [key("b", 100), key("a", 100)];
        assert_eq!(states(&keys, 100, 50), [Active, Retiring]);
        let keys = [key("a", 100), key("b", 100)];
        assert_eq!(states(&keys, 100, 50), [Retiring, Active]);
    }

    #[test]
    fn next_change_is_the_earliest_pending_date() {
        let keys = [key("a", 100), key("b", 200), key("c", 300)];
        let refs: Vec<&KeyDates> = keys.iter().collect();
        let s = schedule(&refs, 210, 50);
        assert_eq!(
            s.iter().map(|s| s.state).collect::<Vec<_>>(),
            [Retiring, Active, Next]
        );
        assert_eq!(next_change(&refs, &s, 210), Some(250));
        let s = schedule(&refs, 260, 50);
        assert_eq!(next_change(&refs, &s, 260), Some(300));
    }

    #[test]
    fn repin_writes_only_what_changed() {
        let keys = [key("a", 100), key("b", 200)];
        let refs: Vec<&KeyDates> = keys.iter().collect();
        let pins = repin(&refs, 50);
        let a = pins[0].clone().expect("a gets a pin");
        assert_eq!((a.superseded_at, a.retire_after), (Some(200), Some(250)));
        assert!(pins[1].is_none());
        let keys = [a, key("b", 200)];
        let refs: Vec<&KeyDates> = keys.iter().collect();
        assert!(repin(&refs, 50).iter().all(Option::is_none));
    }

    #[test]
    fn dates_round_trip_as_rfc3339() {
        let mut d = key("k", 1_700_000_000);
        d.superseded_at = Some(1_700_000_100);
        d.retire_after = Some(1_700_000_200);
        let text = serde_json::to_string(&d).unwrap();
        assert!(
            text.contains("\"activates_at\":\"2023-11-14T22:13:20Z\""),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<KeyDates>(&text).unwrap(), d);
        let bare = KeyDates::active_since("k", 5);
        let text = serde_json::to_string(&bare).unwrap();
        assert!(!text.contains("retire_after"), "{text}");
        assert_eq!(serde_json::from_str::<KeyDates>(&text).unwrap(), bare);
    }
}
