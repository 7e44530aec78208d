//! The directory as the daemon's second source (`[ldap]`, issue 16): one
//! task syncs the directory every `sync_interval`, and at once when the
//! reloader asks (at start, before the first publication, and when a new
//! revision names references the last answer lacks). A good answer whose
//! revision (digest) is new replaces the last good one — in memory, in
//! `directory.snapshot` (`directory_store`) and in the status — and, when
//! the task synced on its own, becomes a [`Trigger::Directory`]: the
//! reloader builds the repository's newest revision with it.
//!
//! An answer never replaces the last good one when the sync failed, timed
//! out (`[ldap] timeout`), or the hold-back rail (`rails::directory`) holds
//! it back; the daemon keeps building with the last good answer, the
//! status says since when it is stale, and each error or held-back answer
//! is logged once (a held-back one audited once, `result: "held-back"`),
//! as `repeats` does for a bad revision.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::{ArcSwap, ArcSwapOption};
use tokio::sync::{mpsc, oneshot, watch};

use super::{directory_store, state};
use crate::current::{Current, DirectoryStatus, HeldBack, ReloadResult, Trigger};
use crate::directory::{DirectorySnapshot, GroupAnswer, GroupRef};
use crate::rails::directory::{HoldBack, judge};

/// What one sync hands back: the whole answer, or why there is none
/// (never a password).
pub type SyncFuture = Pin<Box<dyn Future<Output = Result<DirectorySnapshot, String>> + Send>>;
/// One sync of the directory for these references (`ldap::sync`, wired by
/// `cmd::serve`).
pub type SyncFn = Arc<dyn Fn(Vec<GroupRef>) -> SyncFuture + Send + Sync>;

/// The daemon's `[ldap]` settings beyond the client's own.
#[derive(Clone)]
pub struct DirectorySettings {
    pub sync: SyncFn,
    /// How often the directory is synced (`sync_interval`).
    pub sync_interval: Duration,
    /// How long one sync may take, end to end (`[ldap] timeout` and a
    /// grace: the client bounds itself, this bounds the client).
    pub sync_timeout: Duration,
    /// The hold-back rail's bounds (live: SIGHUP changes them).
    pub hold_back: HoldBack,
    /// What the log and status call the directory (its first URL).
    pub name: String,
}

impl std::fmt::Debug for DirectorySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectorySettings")
            .field("sync_interval", &self.sync_interval)
            .field("sync_timeout", &self.sync_timeout)
            .field("hold_back", &self.hold_back)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The reloader's side: the last good answer, and the sync task's door.
pub(super) struct Directory {
    good: Arc<ArcSwapOption<DirectorySnapshot>>,
    /// The references of the newest revision read (the task syncs these).
    refs: Arc<Mutex<Vec<GroupRef>>>,
    hold_back: Arc<ArcSwap<HoldBack>>,
    requests: mpsc::Sender<oneshot::Sender<()>>,
    /// Whether the task synced since the daemon started.
    synced: bool,
}

impl Directory {
    /// Start the sync task: the last good answer is the state folder's
    /// stored one until the directory answers; a good answer the task
    /// found on its own is sent as `Trigger::Directory`.
    pub(super) fn start(
        settings: DirectorySettings,
        shared: Arc<Current>,
        state_dir: Option<PathBuf>,
        audit: Option<state::Audit>,
        (triggers, stop): (mpsc::UnboundedSender<Trigger>, watch::Receiver<bool>),
    ) -> Self {
        let stored = state_dir.as_deref().and_then(load_stored).map(Arc::new);
        let mut status = DirectoryStatus {
            url: settings.name.clone(),
            ..DirectoryStatus::default()
        };
        if let Some(s) = &stored {
            figures(&mut status, s);
        }
        shared.update(|s| s.directory = Some(status));
        let good = Arc::new(ArcSwapOption::new(stored));
        let refs: Arc<Mutex<Vec<GroupRef>>> = Arc::default();
        let hold_back = Arc::new(ArcSwap::from_pointee(settings.hold_back));
        let (requests, asked) = mpsc::channel(8);
        let syncer = Syncer {
            settings,
            good: good.clone(),
            refs: refs.clone(),
            hold_back: hold_back.clone(),
            shared,
            state_dir,
            audit,
            last_error: None,
            last_held: None,
        };
        tokio::spawn(syncer.run(asked, triggers, stop));
        Directory {
            good,
            refs,
            hold_back,
            requests,
            synced: false,
        }
    }

    /// The answer to build a revision naming `refs` with: synced first at
    /// the daemon's start, when the last good answer lacks one of `refs`,
    /// or while an answer is held back; `Err` when the directory has never
    /// answered for all of them (nothing is built on an incomplete answer).
    pub(super) async fn answer_for(
        &mut self,
        refs: Vec<GroupRef>,
        shared: &Current,
    ) -> Result<Arc<DirectorySnapshot>, String> {
        let held = shared
            .status()
            .directory
            .is_some_and(|d| d.held_back.is_some());
        let lacking = |good: Option<&DirectorySnapshot>| {
            (refs.iter())
                .filter(|r| !good.is_some_and(|g| g.groups.contains_key(*r)))
                .count()
        };
        let before = self.good.load_full();
        let sync = !self.synced || held || before.is_none() || lacking(before.as_deref()) > 0;
        if let Ok(mut r) = self.refs.lock() {
            r.clone_from(&refs);
        }
        if sync {
            let (done, wait) = oneshot::channel();
            if self.requests.send(done).await.is_ok() {
                let _ = wait.await;
            }
            self.synced = true;
        }
        let good = self.good.load_full();
        let lacks = lacking(good.as_deref());
        match good {
            Some(good) if lacks == 0 => Ok(good),
            Some(good) => Err(format!(
                "the directory's last good answer lacks {lacks} of this revision's {} directory \
                 references (first: {}); nothing is built on an incomplete answer",
                refs.len(),
                first_lacking(&refs, &good),
            )),
            None => Err(
                "the directory has not answered yet, and no answer is stored; nothing is \
                 built until it does"
                    .to_owned(),
            ),
        }
    }

    /// Where the last good answer is kept (`/v1/diff` builds with it).
    pub(super) fn answers(&self) -> Arc<ArcSwapOption<DirectorySnapshot>> {
        self.good.clone()
    }

    /// The last good answer.
    pub(super) fn good(&self) -> Option<Arc<DirectorySnapshot>> {
        self.good.load_full()
    }

    /// Take over the hold-back rail's bounds SIGHUP re-read.
    pub(super) fn set_hold_back(&self, bounds: HoldBack) {
        self.hold_back.store(Arc::new(bounds));
    }
}

fn first_lacking(refs: &[GroupRef], good: &DirectorySnapshot) -> String {
    match refs.iter().find(|r| !good.groups.contains_key(*r)) {
        Some(GroupRef::Dn(dn)) => dn.clone(),
        Some(GroupRef::Search { base, filter }) => format!("{filter} below {base}"),
        None => String::new(),
    }
}

/// The stored answer of the state folder, if it is whole.
fn load_stored(dir: &std::path::Path) -> Option<DirectorySnapshot> {
    match directory_store::load(dir) {
        Ok(s) => {
            tracing::info!(
                revision = short(&s.revision),
                "the last directory answer stored is read; it is used until the directory answers"
            );
            Some(s)
        }
        Err(directory_store::StoreError::Io(e)) => {
            tracing::debug!(error = %e, "no stored directory answer");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "the stored directory answer is not used");
            None
        }
    }
}

/// A revision as the log shows it: its first 12 hex digits.
pub(super) fn short(revision: &str) -> &str {
    revision.get(..12).unwrap_or(revision)
}

/// The last good answer's figures in the status.
fn figures(status: &mut DirectoryStatus, s: &DirectorySnapshot) {
    status.revision = Some(s.revision.clone());
    status.groups = s.groups.len() as u64;
    status.members = (s.groups.values())
        .map(|a| match a {
            GroupAnswer::Members(m) => m.len() as u64,
            GroupAnswer::NotFound => 0,
        })
        .sum();
    status.accounts = s.accounts.as_ref().map(|a| a.len() as u64);
}

/// The sync task's state.
struct Syncer {
    settings: DirectorySettings,
    good: Arc<ArcSwapOption<DirectorySnapshot>>,
    refs: Arc<Mutex<Vec<GroupRef>>>,
    hold_back: Arc<ArcSwap<HoldBack>>,
    shared: Arc<Current>,
    state_dir: Option<PathBuf>,
    audit: Option<state::Audit>,
    /// The last error logged, and the last answer held back (logged and
    /// audited once each).
    last_error: Option<String>,
    last_held: Option<String>,
}

/// What one sync came to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Synced {
    /// A new good answer replaced the last good one.
    New,
    /// The last good answer again.
    Same,
    HeldBack,
    Failed,
}

impl Syncer {
    async fn run(
        mut self,
        mut asked: mpsc::Receiver<oneshot::Sender<()>>,
        triggers: mpsc::UnboundedSender<Trigger>,
        mut stop: watch::Receiver<bool>,
    ) {
        let every = self.settings.sync_interval;
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                request = asked.recv() => match request {
                    Some(done) => {
                        self.sync().await;
                        let _ = done.send(());
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    if self.sync().await == Synced::New && triggers.send(Trigger::Directory).is_err() {
                        break;
                    }
                }
            }
        }
    }

    /// One sync of the references in force, judged and recorded.
    async fn sync(&mut self) -> Synced {
        let refs = self.refs.lock().map(|r| r.clone()).unwrap_or_default();
        let started = std::time::Instant::now();
        let answer = tokio::time::timeout(self.settings.sync_timeout, (self.settings.sync)(refs));
        let result = match answer.await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "the sync did not end within {} (the [ldap] timeout and a grace)",
                humantime::format_duration(self.settings.sync_timeout)
            )),
        };
        let elapsed = started.elapsed();
        let now = SystemTime::now();
        self.shared.update(|s| {
            if let Some(d) = s.directory.as_mut() {
                d.last_attempt_at = Some(now);
                d.last_sync_ok = Some(result.is_ok());
                d.last_sync_duration = Some(elapsed);
            }
        });
        let new = match result {
            Ok(new) => new,
            Err(e) => {
                self.failed(e, now);
                return Synced::Failed;
            }
        };
        self.reachable();
        let old = self.good.load_full();
        if old.as_ref().is_some_and(|o| o.revision == new.revision) {
            self.update(|d| {
                d.last_sync_at = Some(now);
                d.held_back = None;
            });
            self.last_held = None;
            return Synced::Same;
        }
        match judge(old.as_deref(), &new, **self.hold_back.load()) {
            Ok(()) => {
                self.take(new, now, elapsed).await;
                Synced::New
            }
            Err(refusal) => {
                self.held_back(&new.revision, refusal.to_string(), now);
                Synced::HeldBack
            }
        }
    }

    fn update(&self, f: impl FnOnce(&mut DirectoryStatus)) {
        self.shared.update(|s| {
            if let Some(d) = s.directory.as_mut() {
                f(d);
            }
        });
    }

    fn failed(&mut self, error: String, now: SystemTime) {
        if self.last_error.as_ref() != Some(&error) {
            let directory = self.settings.name.as_str();
            tracing::warn!(
                directory,
                "cannot sync the directory: {error}; building with the last good answer"
            );
        }
        self.last_error = Some(error.clone());
        self.update(|d| {
            d.unreachable_since.get_or_insert(now);
            d.error = Some(error);
        });
    }

    fn reachable(&mut self) {
        if self.last_error.take().is_some() {
            tracing::info!(
                directory = self.settings.name.as_str(),
                "the directory answers again"
            );
        }
        self.update(|d| {
            d.unreachable_since = None;
            d.error = None;
        });
    }

    /// A good answer in place: in memory, on disk, in the status.
    async fn take(&mut self, new: DirectorySnapshot, now: SystemTime, elapsed: Duration) {
        let new = Arc::new(new);
        tracing::info!(
            directory = self.settings.name.as_str(),
            revision = short(&new.revision),
            groups = new.groups.len() as u64,
            ms = elapsed.as_millis() as u64,
            "directory synced: a new answer"
        );
        self.good.store(Some(new.clone()));
        self.last_held = None;
        self.update(|d| {
            figures(d, &new);
            d.last_sync_at = Some(now);
            d.held_back = None;
        });
        let Some(dir) = self.state_dir.clone() else {
            return;
        };
        let stored = tokio::task::spawn_blocking(move || directory_store::store(&dir, &new)).await;
        match stored {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot store the directory answer; a restart syncs afresh and hooks build without it")
            }
            Err(e) => tracing::error!(error = %e, "directory store task"),
        }
    }

    /// An answer the rail held back: in the status; logged and audited once.
    fn held_back(&mut self, revision: &str, reason: String, now: SystemTime) {
        if self.last_held.as_deref() != Some(revision) {
            tracing::warn!(
                directory = self.settings.name.as_str(),
                revision = short(revision),
                result = "held-back",
                "{reason}; building with the last good answer"
            );
            self.audit_held_back(revision, &reason);
        }
        self.last_held = Some(revision.to_owned());
        self.update(|d| {
            let since = d.held_back.as_ref().map_or(now, |h| h.since);
            d.held_back = Some(HeldBack {
                revision: revision.to_owned(),
                since,
                reason,
            });
        });
    }

    /// One audit line for a held-back answer: the repository revision in
    /// force, `source: "directory"`, the answer's revision and why.
    fn audit_held_back(&self, revision: &str, reason: &str) {
        let Some(audit) = self.audit.clone() else {
            return;
        };
        let in_force = self.shared.revision().unwrap_or_default();
        let record = state::Record {
            result: "held-back",
            message: Some(reason),
            source: Some("directory"),
            directory_revision: Some(revision),
            ..state::Record::new(&in_force, ReloadResult::Failed)
        };
        let line = match serde_json::to_string(&record) {
            Ok(line) => line,
            Err(e) => return tracing::error!(error = %e, "cannot serialise an audit record"),
        };
        tokio::task::spawn_blocking(move || {
            if let Err(e) = audit.append_line(&line) {
                tracing::error!(error = %e, "cannot write the audit log");
            }
        });
    }
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;
