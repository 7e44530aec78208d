//! The reload pipeline, `Reloader::reload`: the one place the daemon
//! reloads, one reload at a time.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::outcome::{self, Applied, Decision, Failure, Memberships, Outcome, Sources};
use super::recorder::{Job, QUEUE_BOUND, Recorder};
use super::reload_log::{self, Who};
use super::repeats::{self, Repeats, Seen};
use super::settings::Settings;
use super::{notice, state, triggers};
use crate::current::{Current, Trigger};
use crate::diag::Diagnostic;
use crate::publish::{Published, Staged, Target};
use crate::snapshot::{self, Snapshot};

/// What the reloader holds so that publishing stays safe: the state
/// folder's lock, the resolved access-file target, and what it needs to
/// re-bind the hook socket when the state folder is recreated.
pub(super) struct Guards {
    pub(super) lock: Option<state::Lock>,
    pub(super) target: Option<Target>,
    pub(super) triggers: mpsc::UnboundedSender<Trigger>,
    pub(super) stop: tokio::sync::watch::Receiver<bool>,
    /// Who pushed which revision, as the hooks said.
    pub(super) pushes: notice::Pushes,
    /// Judges the hooks' changes (`validate`; with a state folder).
    pub(super) validator: Option<super::validate::Validator>,
}

/// The access file of a new snapshot written beside the judge (`stage`):
/// its bytes, and the temporary file made of them (or why not), renamed
/// only if the snapshot is applied, removed otherwise (`discard`).
struct Stage {
    bytes: String,
    staged: Result<Staged, String>,
}

/// What a reload says of the daemon's freshness (systemd's `STATUS=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// The newest revision is served.
    Fresh,
    /// The head did not move: as fresh as before.
    Unmoved,
    /// The newest revision (when it could be read) is not served.
    Failed { revision: Option<String> },
}

/// The reload pipeline and what it remembers between reloads.
pub(super) struct Reloader {
    settings: Settings,
    shared: Arc<Current>,
    /// Writes state.json and the audit log, then the status, off the path.
    recorder: Recorder,
    persisted: state::Persisted,
    /// The files last read, so a backend can read only what changed
    /// (shared with the cache writer, which copies them off the reload's
    /// path and lets go; the next read takes them back, copying only
    /// when the writer still holds them).
    last_input: Option<Arc<snapshot::Input>>,
    /// What the last build computed, for `snapshot::build_cached` (every
    /// entry is keyed by content, so even one left by a panicked build is
    /// right).
    memo: Arc<std::sync::Mutex<snapshot::Memo>>,
    guards: Guards,
    /// The failure repeating now, so that a retried bad revision is
    /// logged and audited once.
    repeats: Repeats,
    /// Writes the cache of the applied revision's files for the hooks.
    cache: super::cache::CacheWriter,
    /// The fetch step, when following a remote.
    follower: Option<super::follow::Follower>,
    /// The directory synced (`[ldap]`): its last good answer, which every
    /// build is given.
    directory: Option<super::directory::Directory>,
    /// The directory answer the snapshot served was built with.
    served_directory: Option<String>,
}

impl Reloader {
    pub(super) fn new(
        settings: &Settings,
        shared: Arc<Current>,
        guards: Guards,
    ) -> anyhow::Result<Self> {
        let persisted = match &settings.state_dir {
            Some(dir) => state::load(dir)?,
            None => state::Persisted::default(),
        };
        // One audit log (one lock) for the recorder and the follower.
        let audit = (settings.state_dir.as_deref())
            .map(|dir| state::Audit::with_rotation(dir, settings.audit));
        let directory = settings.directory.clone().map(|d| {
            let triggers = (guards.triggers.clone(), guards.stop.clone());
            let dir = settings.state_dir.clone();
            super::directory::Directory::start(d, shared.clone(), dir, audit.clone(), triggers)
        });
        let validator = guards.validator.clone();
        Ok(Reloader {
            settings: settings.clone(),
            recorder: Recorder::start(shared.clone(), audit.clone(), QUEUE_BOUND),
            shared,
            persisted,
            last_input: None,
            memo: Arc::default(),
            guards,
            repeats: Repeats::default(),
            cache: super::cache::CacheWriter::with_validator(validator),
            follower: (settings.remote.clone()).map(|r| super::follow::Follower::new(r, audit)),
            directory,
            served_directory: None,
        })
    }

    /// Where the directory's last good answer is kept (with `[ldap]`).
    pub(super) fn directory_answers(&self) -> Option<super::run::Answers> {
        self.directory
            .as_ref()
            .map(super::directory::Directory::answers)
    }

    /// Recreate a deleted state folder, with a new lock and hook socket.
    fn ensure_state_dir(&mut self) {
        let Some(dir) = self.settings.state_dir.clone() else {
            return;
        };
        if dir.is_dir() {
            return;
        }
        tracing::warn!(dir = %dir.display(), "the state folder was deleted; recreating it with its lock and hook socket");
        if let Err(e) = fs_err::create_dir_all(&dir) {
            tracing::error!(error = %e, "cannot recreate the state folder");
            return;
        }
        match state::lock(&dir) {
            Ok(lock) => self.guards.lock = Some(lock),
            Err(e) => tracing::error!(error = %e, "cannot lock the recreated state folder"),
        }
        if let Err(e) = triggers::spawn_hook_socket(
            &dir,
            self.guards.triggers.clone(),
            self.guards.pushes.clone(),
            self.guards.stop.clone(),
        ) {
            tracing::error!(error = %e, "cannot re-bind the hook socket; hooks cannot notify the daemon");
        }
        if let Some(v) = self.guards.validator.clone() {
            let max = super::validate::max_request_bytes(&self.settings.limits);
            if let Err(e) = super::validate::spawn_socket(&dir, v, max, self.guards.stop.clone()) {
                tracing::error!(error = %e, "cannot re-bind the validation socket; hooks build themselves");
            }
        }
    }

    /// Whether the newest revision is `revision` (a cheap check: a head
    /// that did not move needs no rebuild).
    async fn head_is(&self, revision: &str) -> bool {
        let source = self.settings.source.clone();
        matches!(
            tokio::task::spawn_blocking(move || source.newest_revision()).await,
            Ok(Ok(Some(head))) if head == revision
        )
    }

    /// The read and build steps: read the newest revision (only what
    /// changed since the last read), give it the directory's answer
    /// (`directory_answer`) and build its report; a `Failure` is why it
    /// could not be read or given a whole answer.
    async fn read_and_build(&mut self) -> Result<snapshot::Report, Failure> {
        let (mut input, refused) = self.read().await.map_err(|m| Failure::message(None, m))?;
        if let Some(refused) = refused {
            self.last_input = Some(Arc::new(input));
            return Ok(refused);
        }
        if let Err(message) = self.directory_answer(&mut input).await {
            let revision = input.revision.clone();
            self.last_input = Some(Arc::new(input));
            return Err(Failure::message(Some(revision), message));
        }
        let memo = Arc::clone(&self.memo);
        let built = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let mut memo = memo
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let report = snapshot::build_cached(&input, &mut memo);
            phase("build", started);
            (input, report)
        })
        .await;
        match built {
            Ok((input, report)) => {
                self.last_input = Some(Arc::new(input));
                Ok(report)
            }
            Err(e) => Err(Failure::message(None, format!("reload task: {e}"))),
        }
    }

    /// The read step: the newest revision's files, and the report of a
    /// commit no trusted key signed (rejected unbuilt).
    async fn read(&mut self) -> Result<(snapshot::Input, Option<snapshot::Report>), String> {
        let source = self.settings.source.clone();
        let limits = self.settings.limits;
        let prev = self.last_input.take();
        let trust = self.settings.trust.clone();
        let read = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let prev = prev.map(|p| Arc::try_unwrap(p).unwrap_or_else(|p| (*p).clone()));
            source.read_newest(prev, limits).map(|input| {
                phase("read", started);
                let refused =
                    crate::repo::signature::refused(&source, &input.revision, trust.as_ref());
                (input, refused)
            })
        })
        .await;
        match read {
            Ok(Ok(read)) => Ok(read),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("reload task: {e}")),
        }
    }

    /// The directory step (with `[ldap]`): the last good answer, synced
    /// first when it lacks a reference of `input` (`Directory::answer_for`).
    async fn directory_answer(&mut self, input: &mut snapshot::Input) -> Result<(), String> {
        let Some(directory) = &mut self.directory else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        let refs = snapshot::directory_refs(input);
        let answer = directory.answer_for(refs, &self.shared).await;
        phase("directory", started);
        input.directory = Some(answer?);
        Ok(())
    }

    /// One reload, in named steps: (following a remote: fetch, `follow`) →
    /// read → build (`read_and_build`) →
    /// guard rails (`judge`) → decide (`outcome::decide`) → publish → record. Every step before
    /// the record only computes the [`Outcome`]; the record is the one
    /// place it reaches the status, state.json and the audit log (through
    /// the `Recorder`, which writes them after this returns, in order).
    pub(super) async fn reload(&mut self, force: bool) -> Verdict {
        let started = Instant::now();
        let outcome = self.attempt(force).await;
        let verdict = match &outcome {
            Outcome::HeadUnmoved => Verdict::Unmoved,
            Outcome::Unchanged { .. } | Outcome::Applied(_) => Verdict::Fresh,
            Outcome::Failed(f) => Verdict::Failed {
                revision: f.revision.clone(),
            },
        };
        self.record(outcome, started).await;
        verdict
    }

    /// Take over the settings SIGHUP re-read (limits and publication
    /// options from the next reload on).
    pub(super) fn set_live(&mut self, live: &super::reconfig::Live) {
        self.settings.limits = live.limits;
        self.settings.publish = live.publish;
        self.settings.poll_interval = live.poll_interval;
        self.settings.debounce = live.debounce;
        self.settings.token = live.token.clone();
        if let (Some(d), Some(bounds)) = (&self.directory, live.hold_back) {
            d.set_hold_back(bounds);
        }
    }

    /// Wait until every record queued is written (at shutdown).
    pub(super) async fn finish(self) {
        self.recorder.finish().await;
    }

    /// Read, build, decide and publish: the outcome of this reload.
    async fn attempt(&mut self, force: bool) -> Outcome {
        if let Some(follower) = &mut self.follower {
            let applied = self
                .shared
                .revision()
                .or(self.persisted.applied_revision.clone());
            follower.fetch(&self.shared, applied).await;
        }
        let current = self.shared.snapshot.load_full();
        if !force
            && let Some(cur) = &current
            && self.head_is(&cur.revision).await
        {
            return Outcome::HeadUnmoved;
        }
        let report = match self.read_and_build().await {
            Ok(report) => report,
            Err(failure) => return Outcome::Failed(failure),
        };
        let built_with = (self.last_input.as_ref())
            .and_then(|i| i.directory.as_ref())
            .map(|d| d.revision.clone());
        // The new access file is written and fsynced beside the judge; only
        // an applied snapshot's is renamed into place.
        let staging = self.stage(&report);
        let judged = self.judge(current.as_ref(), report).await;
        let stage = match staging {
            Some(task) => Some(task.await.unwrap_or_else(|e| Stage {
                bytes: String::new(),
                staged: Err(format!("publish task: {e}")),
            })),
            None => None,
        };
        let (report, diff) = match judged {
            Ok(judged) => judged,
            Err(failure) => {
                discard(stage).await;
                return Outcome::Failed(failure);
            }
        };
        // A new directory answer is applied even when the access file is
        // the same: the snapshot served (its model, `explain`) is rebuilt.
        let moved = built_with != self.served_directory;
        match outcome::decide(current.as_deref().filter(|_| !moved), report, diff) {
            Decision::Apply {
                snapshot,
                warnings,
                diff,
            } => {
                let outcome = self
                    .publish(current, (snapshot, stage), warnings, diff, built_with)
                    .await;
                if let Outcome::Applied(a) = &outcome {
                    self.served_directory.clone_from(&a.source.directory);
                }
                outcome
            }
            Decision::Unchanged { revision } => {
                discard(stage).await;
                Outcome::Unchanged { revision }
            }
            Decision::Reject(failure) => {
                discard(stage).await;
                // A daemon that starts on a bad head serves the last applied
                // revision, if the state folder remembers one.
                if current.is_none() {
                    self.recover_last_applied().await;
                }
                Outcome::Failed(failure)
            }
        }
    }

    /// The access file of a valid report's snapshot written and fsynced
    /// as a temporary file beside the target, on the blocking pool (none
    /// without `--access-out` or a snapshot).
    fn stage(&self, report: &snapshot::Report) -> Option<tokio::task::JoinHandle<Stage>> {
        let target = self.guards.target.clone()?;
        let bytes = report.snapshot.as_ref()?.access.clone();
        let options = self.settings.publish;
        Some(tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let staged = target.stage(bytes.as_bytes(), &options);
            phase("stage", started);
            Stage {
                bytes,
                staged: staged.map_err(|e| e.to_string()),
            }
        }))
    }

    /// The publish step: the access file in place (by rename of the file
    /// staged beside the judge), then the new snapshot swapped in, its
    /// warnings first (whoever sees the new snapshot sees its warnings).
    async fn publish(
        &self,
        current: Option<Arc<Snapshot>>,
        (snapshot, stage): (Box<Snapshot>, Option<Stage>),
        warnings: Vec<Diagnostic>,
        diff: state::ChangeDiff,
        directory: Option<String>,
    ) -> Outcome {
        let snapshot: Arc<Snapshot> = Arc::from(snapshot);
        let source = Sources::of(
            (
                current.as_ref().map(|c| c.revision.as_str()),
                &snapshot.revision,
            ),
            (self.served_directory.as_deref(), directory.as_deref()),
        );
        let started = std::time::Instant::now();
        if let Err(e) = self.put_in_place(&snapshot, stage).await {
            return Outcome::Failed(Failure::message(Some(snapshot.revision.clone()), e));
        }
        phase("publish", started);
        let started = std::time::Instant::now();
        let computed = diff.as_ref().and_then(|d| d.as_deref().ok());
        let changes = match current.as_deref() {
            Some(old) => Memberships::Changed(state::changes(Some(old), &snapshot, computed)),
            None => Memberships::EveryMember,
        };
        phase("changes", started);
        let applied_warnings = warnings.clone();
        self.shared.update(|s| s.warnings = applied_warnings);
        let previous = self.shared.snapshot.swap(Some(snapshot.clone()));
        drop_off_path((previous, current));
        Outcome::Applied(Applied {
            snapshot,
            changes,
            diff,
            warnings,
            source,
        })
    }

    /// The record step: what state.json and the audit log get for this
    /// outcome, queued (waiting while the queue is full) for the
    /// `Recorder`, which writes them and then changes the status
    /// (`outcome::transition`).
    async fn record(&mut self, outcome: Outcome, started: Instant) {
        let elapsed = started.elapsed();
        let recording = std::time::Instant::now();
        let (save, audit) = match &outcome {
            Outcome::Applied(a) => (self.record_applied(a), true),
            Outcome::Failed(f) => (None, self.record_failure(f)),
            // The newest revision is the applied one (e.g. a branch reset or
            // force-pushed back to it): whatever failed since is no longer newest.
            Outcome::Unchanged { .. } | Outcome::HeadUnmoved => {
                repeats::log_ended(self.repeats.ended());
                (None, false)
            }
        };
        let (author, pusher) = self.who(&outcome);
        let who = Who {
            author: author.as_deref(),
            pusher: pusher.as_deref(),
        };
        let repeated = matches!(outcome, Outcome::Failed(_)) && !audit;
        reload_log::log(&outcome, who, elapsed, repeated);
        let applied = matches!(outcome, Outcome::Applied(_));
        let at = SystemTime::now();
        let job = Job {
            save,
            audit,
            outcome,
            at,
            elapsed,
            pusher,
        };
        self.recorder.send(job).await;
        if applied {
            phase("record", recording);
        }
    }

    /// The author and the pusher of the outcome's revision, where known:
    /// the author from the revision read, the pusher from the hooks'
    /// notifications (`notice`) or, in SVN, the author (who committed it).
    fn who(&self, outcome: &Outcome) -> (Option<String>, Option<String>) {
        let (revision, meta) = match outcome {
            Outcome::Applied(a) => (a.snapshot.revision.as_str(), a.snapshot.meta.as_ref()),
            Outcome::Unchanged { revision } => (revision.as_str(), None),
            Outcome::Failed(Failure {
                revision: Some(r), ..
            }) => (r.as_str(), None),
            Outcome::Failed(_) | Outcome::HeadUnmoved => return (None, None),
        };
        let read = (self.last_input.as_deref())
            .filter(|i| i.revision == revision)
            .and_then(|i| i.meta.as_ref());
        let author = meta.or(read).map(|m| m.author.clone());
        let pusher = match self.settings.source.kind() {
            crate::repo::Kind::Svn => author.clone(),
            _ => self.guards.pushes.pusher_of(revision),
        };
        (author, pusher)
    }

    /// Remember the applied revision (the state to save) and write the
    /// cache of its files for the hooks.
    fn record_applied(&mut self, a: &Applied) -> Option<(std::path::PathBuf, state::Persisted)> {
        let revision = &a.snapshot.revision;
        self.persisted.applied_revision = Some(revision.clone());
        self.ensure_state_dir();
        if let (Some(dir), Some(input)) = (&self.settings.state_dir, &self.last_input)
            && input.revision == *revision
        {
            self.cache.write(&self.settings.source, dir, input);
        }
        for w in &a.warnings {
            tracing::warn!(%revision, "{}", w.one_line());
        }
        repeats::log_ended(self.repeats.ended());
        let dir = self.settings.state_dir.clone()?;
        Some((dir, self.persisted.clone()))
    }

    /// Whether to log and audit a failure: once however often the same one
    /// is retried (`repeats`), with a "still failing" line now and then.
    fn record_failure(&mut self, f: &Failure) -> bool {
        match self.repeats.failed(f.audit_key(), SystemTime::now()) {
            Seen::Again { summary } => {
                if let Some(s) = summary {
                    repeats::log_summary(f.revision.as_deref().unwrap_or("?"), s);
                }
                false
            }
            Seen::New { ended } => {
                repeats::log_ended(ended);
                self.ensure_state_dir();
                true
            }
        }
    }

    /// The guard rails step (`rails::apply`, on the blocking pool): a
    /// valid report is judged against the snapshot being served or, at
    /// start, the revision the state folder last applied; the rails'
    /// diagnostics join it, and a refusal leaves it invalid, so that the
    /// decide step rejects it with the rails' errors. The diff of the two
    /// (`diff::diff`, the one the mass-change rail counts) is computed here,
    /// once, and returned for the audit record; a diff that fails is the
    /// record's `diff_error`, never the reload's failure. The diff runs on
    /// a second thread beside the rails that do not read it
    /// (`validate_verdict::apply_diffing`).
    async fn judge(
        &self,
        current: Option<&Arc<Snapshot>>,
        mut report: snapshot::Report,
    ) -> Result<(snapshot::Report, state::ChangeDiff), Failure> {
        let Some(new) = &report.snapshot else {
            return Ok((report, None));
        };
        let in_force = match current {
            Some(c) => Some(c.clone()),
            None => self.last_applied(&new.revision).await,
        };
        let target = self.settings.source.rails_target();
        let revision = report.revision.clone();
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let (_, diff) = super::validate_verdict::apply_diffing(
                &mut report,
                in_force.as_deref(),
                &target,
                |old, new| {
                    let started = std::time::Instant::now();
                    let diff = crate::diff::diff(old, new)
                        .map(Box::new)
                        .map_err(|e| e.to_string());
                    phase("diff", started);
                    diff
                },
                |d| d.as_deref().ok(),
            );
            // The diff and the rails side by side: this is the longer.
            phase("rails", started);
            (report, diff)
        })
        .await
        .map_err(|e| Failure::message(Some(revision), format!("guard rails task: {e}")))
    }

    /// The snapshot of the revision the state folder last applied, unless
    /// that is `newest` (then nothing changes) or it no longer builds.
    async fn last_applied(&self, newest: &str) -> Option<Arc<Snapshot>> {
        let rev = self
            .persisted
            .applied_revision
            .clone()
            .filter(|r| r != newest)?;
        let source = self.settings.source.clone();
        let limits = self.settings.limits;
        let directory = self.directory.as_ref().and_then(|d| d.good());
        let built = tokio::task::spawn_blocking(move || {
            let input = source.read(Some(&rev), limits).ok()?;
            let input = snapshot::Input { directory, ..input };
            snapshot::build(&input).snapshot
        });
        built.await.ok().flatten().map(Arc::new)
    }

    async fn recover_last_applied(&mut self) {
        let Some(rev) = self.persisted.applied_revision.clone() else {
            return;
        };
        let source = self.settings.source.clone();
        let limits = self.settings.limits;
        let wanted = rev.clone();
        let directory = self.directory.as_ref().and_then(|d| d.good());
        if self.directory.is_some() && directory.is_none() {
            // Never a file built without the directory it needs.
            tracing::warn!(revision = %rev, "the branch head is invalid and the directory has not answered; nothing is served yet");
            return;
        }
        let served_directory = directory.as_ref().map(|d| d.revision.clone());
        let built = tokio::task::spawn_blocking(move || {
            source
                .read(Some(&wanted), limits)
                .map(|input| snapshot::build(&snapshot::Input { directory, ..input }))
        })
        .await;
        match built {
            Ok(Ok(report)) => match report.snapshot {
                Some(snapshot) => {
                    let snapshot = Arc::new(snapshot);
                    if let Err(e) = self.write_access_file(&snapshot).await {
                        tracing::error!(error = %e, "cannot publish the last applied revision");
                        return;
                    }
                    tracing::warn!(revision = %rev, "the branch head is invalid; serving the last applied revision");
                    let warnings: Vec<Diagnostic> = report
                        .diagnostics
                        .into_iter()
                        .filter(|d| !d.is_error())
                        .collect();
                    self.shared.update(|s| s.warnings = warnings);
                    self.shared.snapshot.store(Some(snapshot));
                    self.served_directory = served_directory;
                    self.shared
                        .update(|s| s.applied_at = Some(SystemTime::now()));
                }
                None => {
                    tracing::error!(revision = %rev, "the last applied revision is no longer valid")
                }
            },
            Ok(Err(e)) => {
                tracing::error!(revision = %rev, error = %e, "cannot read the last applied revision")
            }
            Err(e) => tracing::error!(error = %e, "reload task"),
        }
    }

    /// Put the access file of `snapshot` in place: rename the file staged
    /// of its very bytes, else write it (`write_access_file`).
    async fn put_in_place(
        &self,
        snapshot: &Arc<Snapshot>,
        stage: Option<Stage>,
    ) -> Result<(), String> {
        let (Some(target), Some(stage)) = (self.guards.target.clone(), stage) else {
            return self.write_access_file(snapshot).await;
        };
        if stage.bytes != snapshot.access {
            discard(Some(stage)).await;
            return self.write_access_file(snapshot).await;
        }
        let staged = stage.staged?;
        let revision = snapshot.revision.clone();
        match tokio::task::spawn_blocking(move || staged.commit_to(&target)).await {
            Ok(Ok(published)) => {
                log_published(&revision, published);
                Ok(())
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("publish task: {e}")),
        }
    }

    /// Write the access file of `snapshot` (by rename; none without `--access-out`).
    async fn write_access_file(&self, snapshot: &Arc<Snapshot>) -> Result<(), String> {
        let Some(target) = self.guards.target.clone() else {
            return Ok(());
        };
        let bytes = snapshot.access.clone();
        let revision = snapshot.revision.clone();
        let options = self.settings.publish;
        match tokio::task::spawn_blocking(move || target.publish(bytes.as_bytes(), &options)).await
        {
            Ok(Ok(published)) => {
                log_published(&revision, published);
                Ok(())
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("publish task: {e}")),
        }
    }
}

/// The `debug` line of a publication.
fn log_published(revision: &str, published: Published) {
    match published {
        Published::Written => tracing::debug!(%revision, "access file published"),
        Published::Unchanged => tracing::debug!(%revision, "access file unchanged"),
    }
}

/// Remove the temporary file of a stage that is not applied (a refused,
/// failed or unchanged revision), on the blocking pool, before the
/// reload's outcome is known to anybody.
async fn discard(stage: Option<Stage>) {
    if let Some(stage) = stage {
        // A task that failed to run dropped the stage, and its file, itself.
        let _ = tokio::task::spawn_blocking(move || drop(stage)).await;
    }
}

/// Drop `value` (the snapshot replaced, with its model, index and access
/// file: milliseconds at scale) on the blocking pool, off the reload's
/// path; whoever still reads it keeps it until they are done.
fn drop_off_path<T: Send + 'static>(value: T) {
    tokio::task::spawn_blocking(move || drop(value));
}

/// A `debug` line with how long one phase of a reload took (from
/// `started`), for finding where a slow reload spends its time.
fn phase(name: &'static str, started: std::time::Instant) {
    tracing::debug!(
        phase = name,
        us = started.elapsed().as_micros() as u64,
        "reload phase"
    );
}
