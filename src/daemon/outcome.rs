//! What a reload came to, as a value. [`decide`] turns a built report into
//! apply / unchanged / reject; [`transition`] is the one place an
//! [`Outcome`] changes the reload status. Both are pure: the clock is
//! passed in (tested on tokio's paused clock).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::state;
use crate::current::{Attempt, ReloadResult, Status};
use crate::diag::Diagnostic;
use crate::snapshot::{Report, Snapshot};

/// What to do with a built report.
#[derive(Debug)]
pub(super) enum Decision {
    /// A valid revision whose access file is not the applied one.
    Apply {
        snapshot: Box<Snapshot>,
        warnings: Vec<Diagnostic>,
        /// What the change does, as the guard-rails step diffed it.
        diff: state::ChangeDiff,
    },
    /// The applied revision again, with the same access file.
    Unchanged { revision: String },
    /// An invalid revision: nothing is published.
    Reject(Failure),
}

/// The decide step: apply, unchanged or reject, from the report alone and
/// the snapshot being served; an applied report keeps `diff`, the diff the
/// guard-rails step computed for it (it is not computed twice).
pub(super) fn decide(
    current: Option<&Snapshot>,
    report: Report,
    diff: state::ChangeDiff,
) -> Decision {
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = report
        .diagnostics
        .into_iter()
        .partition(Diagnostic::is_error);
    let Some(snapshot) = report.snapshot else {
        return Decision::Reject(Failure {
            revision: Some(report.revision),
            errors,
            message: None,
        });
    };
    if current.is_some_and(|c| c.revision == snapshot.revision && c.access == snapshot.access) {
        return Decision::Unchanged {
            revision: snapshot.revision,
        };
    }
    Decision::Apply {
        snapshot: Box::new(snapshot),
        warnings,
        diff,
    }
}

/// What one reload came to.
#[derive(Debug)]
pub(super) enum Outcome {
    /// The head has not moved from the applied revision: nothing was read.
    HeadUnmoved,
    /// The newest revision builds the access file already applied.
    Unchanged { revision: String },
    /// A new snapshot is published and served.
    Applied(Applied),
    /// The newest revision is invalid, or could not be read or published.
    Failed(Failure),
}

/// A published snapshot, with who gained or lost which group and what the
/// change did (the audit record's `diff`).
#[derive(Debug)]
pub(super) struct Applied {
    pub snapshot: Arc<Snapshot>,
    pub changes: Memberships,
    pub diff: state::ChangeDiff,
    pub warnings: Vec<Diagnostic>,
    /// What it was built from, and which source moved.
    pub source: Sources,
}

/// The two sources of a snapshot: the directory answer it was built with
/// (none without `[ldap]`) and which of the two caused the change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Sources {
    pub directory: Option<String>,
    /// `repository`, `directory` or `both` (none without a directory).
    pub moved: Option<&'static str>,
}

impl Sources {
    /// The sources of a snapshot of `revision` built with `directory`,
    /// replacing one of `served` built with `served_directory`.
    pub fn of(
        (served, revision): (Option<&str>, &str),
        (served_directory, directory): (Option<&str>, Option<&str>),
    ) -> Self {
        let moved = directory.map(|d| {
            let repository = served != Some(revision);
            match (repository, served_directory != Some(d)) {
                (true, true) => "both",
                (false, true) => "directory",
                (_, false) => "repository",
            }
        });
        Sources {
            directory: directory.map(str::to_owned),
            moved,
        }
    }
}

/// Who gained or lost which group in an applied reload.
#[derive(Debug)]
pub(super) enum Memberships {
    /// From the snapshot served before (the diff's list, or what the
    /// changed parts touch), computed on the reload's path.
    Changed(state::Changes),
    /// Nothing was served before (the daemon's start): every member of
    /// every role group gained it. Expanded by the recorder, off the
    /// reload's path (at 100,000 users it took seconds, which the first
    /// commit after the start waited for).
    EveryMember,
}

/// Why a reload failed: the revision (none when it could not be read), its
/// errors, or a message (a read or publish error).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Failure {
    pub revision: Option<String>,
    pub errors: Vec<Diagnostic>,
    pub message: Option<String>,
}

impl Failure {
    /// A failure that is only a message (the revision could not be read, or
    /// its access file not published).
    pub fn message(revision: Option<String>, message: String) -> Self {
        Failure {
            revision,
            errors: Vec::new(),
            message: Some(message),
        }
    }

    /// What identifies a failure in the audit log: a bad revision retried
    /// with the same errors is audited once.
    pub fn audit_key(&self) -> (String, Vec<String>) {
        let mut lines: Vec<String> = self.errors.iter().map(Diagnostic::one_line).collect();
        lines.extend(self.message.clone());
        (self.revision.clone().unwrap_or_default(), lines)
    }
}

/// The status after `outcome` at `now`, the reload having taken `elapsed`.
/// True when this ends a degraded spell (the newest revision is the
/// applied one again). An unmoved head counts nothing; only a failure
/// makes the status stale, and a later failure keeps the first one's time.
pub(super) fn transition(
    s: &mut Status,
    outcome: Outcome,
    now: SystemTime,
    elapsed: Duration,
) -> bool {
    let was_stale = s.stale_since.is_some();
    let attempt = |revision, result| Attempt {
        revision: Some(revision),
        at: now,
        result,
        errors: Vec::new(),
        message: None,
    };
    let attempt = match outcome {
        Outcome::HeadUnmoved => {
            s.stale_since = None;
            return was_stale;
        }
        Outcome::Unchanged { revision } => {
            s.stale_since = None;
            s.unchanged += 1;
            attempt(revision, ReloadResult::Unchanged)
        }
        Outcome::Applied(a) => {
            s.stale_since = None;
            s.applied_at = Some(now);
            if let Some(d) = s.directory.as_mut() {
                d.applied_revision.clone_from(&a.source.directory);
            }
            s.applied += 1;
            attempt(a.snapshot.revision.clone(), ReloadResult::Applied)
        }
        Outcome::Failed(f) => {
            s.stale_since.get_or_insert(now);
            s.failed += 1;
            Attempt {
                revision: f.revision,
                at: now,
                result: ReloadResult::Failed,
                errors: f.errors,
                message: f.message,
            }
        }
    };
    s.last_attempt = Some(attempt);
    s.last_duration = elapsed;
    s.reload_durations.0.observe(elapsed);
    was_stale && s.stale_since.is_none()
}

#[cfg(test)]
mod tests;
