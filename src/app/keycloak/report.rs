//! What an import did: how many users, clients and mappers it created or
//! found already there, and every part of the file it did not carry over,
//! each with its JSON path, so nothing is dropped silently.

use std::fmt;

/// One part of the export that was not (or not fully) carried over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// JSON path into the export, e.g. `$.users[3].credentials[1]`.
    pub path: String,
    /// What is there, e.g. `otp` or a user's name; may be empty.
    pub what: String,
    /// What happened to it and why, e.g. `not imported: ...`.
    pub outcome: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.what.is_empty() {
            write!(f, "{}: {}", self.path, self.outcome)
        } else {
            write!(f, "{} ({}): {}", self.path, self.what, self.outcome)
        }
    }
}

/// Created and already-present counts of one kind of object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub created: usize,
    pub present: usize,
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} created, {} already present (left as they are)",
            self.created, self.present
        )
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub realm: String,
    pub users: Tally,
    pub clients: Tally,
    pub mappers: Tally,
    pub roles: Tally,
    /// Role grants added (to users, groups, service accounts).
    pub grants: usize,
    pub findings: Vec<Finding>,
    /// Secrets generated for confidential clients whose export had none
    /// (masked): shown once by the CLI, never logged.
    pub generated_secrets: Vec<(String, String)>,
}

impl Report {
    pub fn note(
        &mut self,
        path: impl Into<String>,
        what: impl Into<String>,
        outcome: impl Into<String>,
    ) {
        self.findings.push(Finding {
            path: path.into(),
            what: what.into(),
            outcome: outcome.into(),
        });
    }

    /// The summary and the findings, one per line, without secrets.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![
            format!("realm {}", self.realm),
            format!("users: {}", self.users),
            format!("clients: {}", self.clients),
            format!("mappers: {}", self.mappers),
            format!("roles: {}", self.roles),
            format!("role grants: {} added", self.grants),
        ];
        if !self.findings.is_empty() {
            out.push(format!("{} findings:", self.findings.len()));
            out.extend(self.findings.iter().map(|f| format!("  {f}")));
        }
        out
    }
}
