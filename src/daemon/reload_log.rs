//! The one log line of each reload (message `reload`, target
//! `rolesync::daemon::reload`), shown by default: `result` (applied,
//! unchanged or failed), `revision`, `author` and `pusher` where known,
//! `ms`, and for an applied revision `groups` (role groups whose members
//! changed), `added` and `removed` (memberships gained and lost; absent at
//! the daemon's start, when every member is new), with a directory
//! (`[ldap]`) `source` (`repository`, `directory` or `both`: what moved)
//! and `directory` (the answer's revision, 12 digits), for a failure `errors`,
//! the first one's `code` and `at` (`file:line:col`), or `reason` (a read
//! or publish error). A
//! failure's line is a `warn`, each of its errors an `error` line before
//! it; a failure repeated unchanged (`repeats`) logs its line at `debug`.
//! An unmoved head (the poll finding nothing new) logs nothing.

use std::time::Duration;

use super::outcome::{Failure, Memberships, Outcome};
use super::state::Changes;

/// The reload line's target (that of the reload's phase lines).
const TARGET: &str = "rolesync::daemon::reload";

/// Who made and who pushed the revision of a reload, where known.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Who<'a> {
    pub author: Option<&'a str>,
    pub pusher: Option<&'a str>,
}

/// Log `outcome`'s line; `repeated`: the same failure as the last one.
pub(super) fn log(outcome: &Outcome, who: Who<'_>, elapsed: Duration, repeated: bool) {
    let ms = elapsed.as_millis() as u64;
    let (author, pusher) = (who.author, who.pusher);
    match outcome {
        Outcome::HeadUnmoved => {}
        Outcome::Failed(f) if repeated => {
            let revision = f.revision.as_deref().unwrap_or("?");
            tracing::debug!(target: TARGET, result = "failed", revision, repeated, ms, "reload");
        }
        Outcome::Failed(f) => log_failed(f, who, ms),
        Outcome::Unchanged { revision } => {
            tracing::info!(target: TARGET, result = "unchanged", revision, author, pusher, ms, "reload");
        }
        Outcome::Applied(a) => {
            let revision = a.snapshot.revision.as_str();
            let counts = match &a.changes {
                Memberships::Changed(c) => Some(counts(c)),
                Memberships::EveryMember => None,
            };
            let (groups, added, removed) = match counts {
                Some((g, a, r)) => (Some(g), Some(a), Some(r)),
                None => (None, None, None),
            };
            let directory = a.source.directory.as_deref().map(super::directory::short);
            tracing::info!(
                target: TARGET,
                result = "applied",
                revision,
                source = a.source.moved,
                directory,
                author,
                pusher,
                ms,
                groups,
                added,
                removed,
                "reload"
            );
        }
    }
}

/// Each error of a failure, then its reload line.
fn log_failed(f: &Failure, who: Who<'_>, ms: u64) {
    let revision = f.revision.as_deref().unwrap_or("?");
    for d in &f.errors {
        tracing::error!(revision, "{}", d.one_line());
    }
    let first = f.errors.first();
    let code = first.map(|d| d.code.to_string());
    let at = first.map(|d| format!("{}:{}:{}", d.file, d.line, d.col));
    let at = at.as_deref().map(crate::diag::escape_controls);
    tracing::warn!(
        target: TARGET,
        result = "failed",
        revision,
        author = who.author,
        pusher = who.pusher,
        ms,
        errors = f.errors.len() as u64,
        code = code.as_deref(),
        at = at.as_deref(),
        reason = f.message.as_deref(),
        "reload"
    );
}

/// The role groups whose members changed, the memberships gained and lost.
fn counts(c: &Changes) -> (u64, u64, u64) {
    let groups: std::collections::BTreeSet<&String> =
        c.gained.values().chain(c.lost.values()).flatten().collect();
    let sum = |m: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>| {
        m.values().map(|s| s.len() as u64).sum::<u64>()
    };
    (groups.len() as u64, sum(&c.gained), sum(&c.lost))
}
