//! The `[server]` table: limits the HTTP server enforces below the router
//! (connections, header size and count, slow clients, per-request time) and
//! how long a shutdown waits for in-flight requests.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::validate::in_range;

/// Server limits. Durations are whole seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// On SIGTERM/SIGINT: how long in-flight requests may take to finish
    /// before their connections are closed (0 = close at once).
    pub shutdown_grace: u64,
    /// Longest a request may take, body upload included: 503 (or 408 while
    /// the client is still sending its body) with `Retry-After` past it.
    pub request_timeout: u64,
    /// Longest a client may take to send a request's headers, and to start
    /// its next request on a kept-alive connection (against slowloris).
    pub header_read_timeout: u64,
    /// Largest request line plus headers, in bytes: 431 above it.
    pub max_header_bytes: usize,
    /// Most header fields in one request: 431 above it.
    pub max_headers: usize,
    /// Most connections served at once; further clients wait to be accepted.
    pub max_connections: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            shutdown_grace: 30,
            request_timeout: 30,
            header_read_timeout: 10,
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            max_connections: 1024,
        }
    }
}

/// hyper refuses a read buffer smaller than this (it panics).
const MIN_HEADER_BYTES: usize = 8 * 1024;

impl ServerSettings {
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout)
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout)
    }

    /// Appends a problem, with its fix, for every setting out of range.
    pub(super) fn check(&self, problems: &mut Vec<String>) {
        let ranges: [(&str, u64, u64, u64); 6] = [
            ("shutdown_grace", self.shutdown_grace, 0, 3600),
            ("request_timeout", self.request_timeout, 1, 3600),
            ("header_read_timeout", self.header_read_timeout, 1, 300),
            (
                "max_header_bytes",
                self.max_header_bytes as u64,
                MIN_HEADER_BYTES as u64,
                1024 * 1024,
            ),
            ("max_headers", self.max_headers as u64, 16, 1000),
            ("max_connections", self.max_connections as u64, 1, 1_000_000),
        ];
        for (name, value, min, max) in ranges {
            let advice = format!(
                "use a value between {min} and {max} (see [server] in docs/configuration.md)"
            );
            in_range(
                problems,
                &format!("server.{name}"),
                value,
                min..=max,
                &advice,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let mut problems = Vec::new();
        ServerSettings::default().check(&mut problems);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn out_of_range_is_named() {
        let settings = ServerSettings {
            max_header_bytes: 1024,
            request_timeout: 0,
            ..ServerSettings::default()
        };
        let mut problems = Vec::new();
        settings.check(&mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("server.request_timeout"));
        assert!(problems[1].contains("server.max_header_bytes"));
    }
}
