//! Where the daemon's reload loop and the HTTP API meet: the current
//! snapshot (swapped whole), the reload status and the sender of reload
//! triggers. A leaf: it knows neither the loop nor the router.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;
use tokio::sync::mpsc;

use crate::diag::Diagnostic;
use crate::snapshot::Snapshot;

/// Why a reload was asked for. All of them take the same path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Startup,
    /// A file event that may matter once quiet: a plain folder's change,
    /// or a head file written in place.
    Watch,
    /// A file event that moved the head: a ref (Git) or `db/current` (SVN)
    /// replaced by rename (`repo::Meaning::Moved`).
    Head,
    /// The post-receive / post-commit hook.
    Hook,
    Poll,
    /// SIGHUP.
    Signal,
    /// `POST /v1/reload`.
    Http,
    /// The directory (`[ldap]`) answered with a new revision: the
    /// revision in force is built again with it.
    Directory,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Startup => "startup",
            Trigger::Watch => "watch",
            Trigger::Head => "head",
            Trigger::Hook => "hook",
            Trigger::Poll => "poll",
            Trigger::Signal => "signal",
            Trigger::Http => "http",
            Trigger::Directory => "directory",
        }
    }

    /// Whether this trigger rebuilds even when the head did not move.
    pub fn forces(self) -> bool {
        matches!(
            self,
            Trigger::Signal | Trigger::Http | Trigger::Startup | Trigger::Directory
        )
    }

    /// Whether this trigger ends its burst at once: the head moved (or a
    /// hook says so, after the commit), so a reload now reads the whole
    /// commit and nothing is gained by waiting for quiet.
    pub fn ends_burst(self) -> bool {
        matches!(self, Trigger::Head | Trigger::Hook)
    }
}

/// One reload attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub revision: Option<String>,
    pub at: SystemTime,
    pub result: ReloadResult,
    /// Errors of a rejected revision (or the read error, as a message).
    pub errors: Vec<Diagnostic>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadResult {
    /// A new snapshot was published.
    Applied,
    /// The revision was the one already applied.
    Unchanged,
    /// The revision is invalid, or could not be read or published.
    Failed,
}

impl ReloadResult {
    pub fn as_str(self) -> &'static str {
        match self {
            ReloadResult::Applied => "applied",
            ReloadResult::Unchanged => "unchanged",
            ReloadResult::Failed => "failed",
        }
    }
}

/// Counters and the last attempt, for `/v1/status`, `/healthz`, `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub applied_at: Option<SystemTime>,
    pub last_attempt: Option<Attempt>,
    pub applied: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub last_duration: Duration,
    /// Every reload's duration (what `last_duration` was each time).
    pub reload_durations: crate::histogram::ReloadDurations,
    /// Since when the newest revision has been bad (None while fresh).
    pub stale_since: Option<SystemTime>,
    pub started_at: Option<SystemTime>,
    /// Triggers received, by kind.
    pub triggers: std::collections::BTreeMap<&'static str, u64>,
    /// The warnings of the applied revision (its report's non-errors).
    pub warnings: Vec<Diagnostic>,
    /// The remote followed (`serve --remote`), or none.
    pub remote: Option<RemoteStatus>,
    /// The directory synchronised (`[ldap]`), or none.
    pub directory: Option<DirectoryStatus>,
}

/// What the daemon knows of the directory it synchronises (`[ldap]`):
/// `/v1/status`'s `directory` and the `rolesync_directory_*` metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DirectoryStatus {
    /// The directory's first URL (never credentials).
    pub url: String,
    /// The last good answer's revision (its digest), kept until a good
    /// answer replaces it.
    pub revision: Option<String>,
    /// The directory revision the snapshot served was built with.
    pub applied_revision: Option<String>,
    /// When the last good answer was taken.
    pub last_sync_at: Option<SystemTime>,
    /// When the last sync ended, and whether it gave a good answer.
    pub last_attempt_at: Option<SystemTime>,
    pub last_sync_ok: Option<bool>,
    /// How long the last sync took.
    pub last_sync_duration: Option<Duration>,
    /// Since when every sync has failed (None while reachable).
    pub unreachable_since: Option<SystemTime>,
    /// The last sync's error (never a password), None after a success.
    pub error: Option<String>,
    /// An answer held back by the hold-back rail, and why.
    pub held_back: Option<HeldBack>,
    /// The last good answer's figures: references answered, memberships,
    /// accounts (None: no account state).
    pub groups: u64,
    pub members: u64,
    pub accounts: Option<u64>,
}

/// A directory answer the hold-back rail did not let replace the last
/// good one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBack {
    pub revision: String,
    pub since: SystemTime,
    pub reason: String,
}

impl DirectoryStatus {
    /// Since when the answer in force is not the directory's newest: every
    /// sync failed, or an answer was held back (the earlier of the two).
    pub fn stale_since(&self) -> Option<SystemTime> {
        let held = self.held_back.as_ref().map(|h| h.since);
        match (self.unreachable_since, held) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// What the daemon knows of the remote it follows: `/v1/status`'s
/// `remote` and the `rolesync_remote_*` metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteStatus {
    /// The URL, without user information.
    pub url: String,
    /// The remote's head at the last successful fetch.
    pub head: Option<String>,
    pub last_fetch_at: Option<SystemTime>,
    /// Since when every fetch has failed (None while reachable).
    pub unreachable_since: Option<SystemTime>,
    /// The last fetch's error (the password redacted), None after a success.
    pub error: Option<String>,
    /// The remote's head refused, and why (it would go back).
    pub refused: Option<String>,
}

/// What the HTTP API and the reload loop share.
#[derive(Debug)]
pub struct Current {
    /// The snapshot being served (none until the first good reload).
    pub snapshot: ArcSwapOption<Snapshot>,
    pub status: Mutex<Status>,
    pub triggers: mpsc::UnboundedSender<Trigger>,
    /// The bearer token in force: `api::Config::token` when the router is
    /// made, then whatever SIGHUP re-reads from the token file.
    pub token: ArcSwapOption<String>,
}

impl Current {
    /// Nothing loaded yet; `started_at` is now.
    pub fn new(triggers: mpsc::UnboundedSender<Trigger>) -> Self {
        Current {
            snapshot: ArcSwapOption::empty(),
            status: Mutex::new(Status {
                started_at: Some(SystemTime::now()),
                ..Status::default()
            }),
            triggers,
            token: ArcSwapOption::empty(),
        }
    }

    /// A copy of the status (the lock is never held across an await).
    pub fn status(&self) -> Status {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Change the status in place.
    pub fn update(&self, f: impl FnOnce(&mut Status)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }

    /// The revision being served.
    pub fn revision(&self) -> Option<String> {
        self.snapshot.load().as_ref().map(|s| s.revision.clone())
    }
}
