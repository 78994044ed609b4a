//! The brute-force rule: how failures turn into lockouts. The counters live
//! in the store; `crate::app::login` applies the rule to every password check.

/// How one more failure moves a counter; times in milliseconds. From the
/// `max_failures`-th failure on, the lockout is
/// `min(wait_increment * 2^(failures - max_failures), max_wait)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockPolicy {
    pub max_failures: u32,
    pub wait_increment_ms: i64,
    pub max_wait_ms: i64,
    /// A counter whose last failure is older than this starts again at one.
    pub failure_reset_ms: i64,
    /// Two failures closer than this (0: never) lock for `quick_wait_ms`.
    pub quick_check_ms: i64,
    pub quick_wait_ms: i64,
}
