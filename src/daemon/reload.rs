//! The reload pipeline, `Reloader::reload`: the one place the daemon
//! reloads, one reload at a time.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tokio::sync::mpsc;

use super::settings::Settings;
use super::{state, triggers};
use crate::current::{Attempt, Current, ReloadResult, Trigger};
use crate::diag::Diagnostic;
use crate::publish::{Published, Target};
use crate::snapshot::{self, Snapshot};

/// What the reloader holds so that publishing stays safe: the state
/// folder's lock, the resolved access-file target, and what it needs to
/// re-bind the hook socket when the state folder is recreated.
pub(super) struct Guards {
    pub(super) lock: Option<state::Lock>,
    pub(super) target: Option<Target>,
    pub(super) triggers: mpsc::UnboundedSender<Trigger>,
    pub(super) stop: tokio::sync::watch::Receiver<bool>,
}

/// The reload pipeline and what it remembers between reloads.
pub(super) struct Reloader {
    settings: Settings,
    shared: Arc<Current>,
    audit: Option<state::Audit>,
    persisted: state::Persisted,
    /// The files last read, so a backend can read only what changed.
    last_input: Option<snapshot::Input>,
    guards: Guards,
    /// The last failure written to the audit log (revision and error
    /// lines), so that a retried bad revision is audited once.
    last_failure: Option<(String, Vec<String>)>,
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
        Ok(Reloader {
            settings: settings.clone(),
            shared,
            audit: settings.state_dir.as_deref().map(state::Audit::new),
            persisted,
            last_input: None,
            guards,
            last_failure: None,
        })
    }

    /// The newest revision is the applied one (e.g. a branch reset or
    /// force-pushed back to it): whatever failed since is no longer newest.
    fn fresh_again(&mut self) {
        self.last_failure = None;
        self.shared.update(|s| {
            if s.stale_since.take().is_some() {
                tracing::info!("the newest revision is the applied one again; no longer degraded");
            }
        });
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
            self.guards.stop.clone(),
        ) {
            tracing::error!(error = %e, "cannot re-bind the hook socket; hooks cannot notify the daemon");
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

    /// Read the newest revision (only what changed since the last read)
    /// and build its report; an `Err` is why it could not be read.
    async fn build_newest(&mut self) -> Result<snapshot::Report, String> {
        let source = self.settings.source.clone();
        let limits = self.settings.limits;
        let prev = self.last_input.take();
        let built = tokio::task::spawn_blocking(move || {
            source.read_newest(prev.as_ref(), limits).map(|input| {
                let report = snapshot::build(&input);
                (input, report)
            })
        })
        .await;
        match built {
            Ok(Ok((input, report))) => {
                self.last_input = Some(input);
                Ok(report)
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("reload task: {e}")),
        }
    }

    pub(super) async fn reload(&mut self, force: bool) {
        let started = Instant::now();
        let current = self.shared.snapshot.load_full();
        if !force
            && let Some(cur) = &current
            && self.head_is(&cur.revision).await
        {
            self.fresh_again();
            return;
        }
        let report = match self.build_newest().await {
            Ok(report) => report,
            Err(message) => return self.failed(None, Vec::new(), Some(message), started),
        };
        let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = report
            .diagnostics
            .into_iter()
            .partition(Diagnostic::is_error);
        let Some(snapshot) = report.snapshot else {
            // A daemon that starts on a bad head serves the last applied
            // revision, if the state folder remembers one.
            if current.is_none() {
                self.recover_last_applied().await;
            }
            return self.failed(Some(report.revision), errors, None, started);
        };
        if current
            .as_ref()
            .is_some_and(|c| c.revision == snapshot.revision && c.access == snapshot.access)
        {
            self.fresh_again();
            self.finish(
                ReloadResult::Unchanged,
                Some(snapshot.revision.clone()),
                started,
            );
            return;
        }
        self.apply(current, snapshot, warnings, started).await;
    }

    /// Publish a new snapshot, then swap it in, save the state and audit.
    async fn apply(
        &mut self,
        current: Option<Arc<Snapshot>>,
        snapshot: Snapshot,
        warnings: Vec<Diagnostic>,
        started: Instant,
    ) {
        let snapshot = Arc::new(snapshot);
        if let Err(e) = self.publish(&snapshot).await {
            return self.failed(
                Some(snapshot.revision.clone()),
                Vec::new(),
                Some(e),
                started,
            );
        }
        let changes = state::changes(current.as_deref(), &snapshot);
        // The warnings first: whoever sees the new snapshot sees its warnings.
        let applied_warnings = warnings.clone();
        self.shared.update(|s| s.warnings = applied_warnings);
        self.shared.snapshot.store(Some(snapshot.clone()));
        self.persisted.applied_revision = Some(snapshot.revision.clone());
        self.ensure_state_dir();
        if let Some(dir) = &self.settings.state_dir
            && let Err(e) = state::save(dir, &self.persisted)
        {
            tracing::error!(error = %e, "cannot save the daemon state");
        }
        for w in &warnings {
            tracing::warn!(revision = %snapshot.revision, "{}", w.one_line());
        }
        self.audit(
            &snapshot.revision,
            snapshot.meta.as_ref(),
            ReloadResult::Applied,
            Some(&changes),
            &[],
            &warnings,
        );
        self.last_failure = None;
        self.shared.update(|s| {
            s.applied_at = Some(SystemTime::now());
            s.stale_since = None;
        });
        self.finish(
            ReloadResult::Applied,
            Some(snapshot.revision.clone()),
            started,
        );
    }

    async fn recover_last_applied(&mut self) {
        let Some(rev) = self.persisted.applied_revision.clone() else {
            return;
        };
        let source = self.settings.source.clone();
        let limits = self.settings.limits;
        let wanted = rev.clone();
        let built = tokio::task::spawn_blocking(move || {
            source
                .read(Some(&wanted), limits)
                .map(|input| snapshot::build(&input))
        })
        .await;
        match built {
            Ok(Ok(report)) => match report.snapshot {
                Some(snapshot) => {
                    let snapshot = Arc::new(snapshot);
                    if let Err(e) = self.publish(&snapshot).await {
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

    async fn publish(&self, snapshot: &Arc<Snapshot>) -> Result<(), String> {
        let Some(target) = self.guards.target.clone() else {
            return Ok(());
        };
        let bytes = snapshot.access.clone();
        let revision = snapshot.revision.clone();
        let options = self.settings.publish;
        match tokio::task::spawn_blocking(move || target.publish(bytes.as_bytes(), &options)).await
        {
            Ok(Ok(Published::Written)) => {
                tracing::info!(%revision, "access file published");
                Ok(())
            }
            Ok(Ok(Published::Unchanged)) => {
                tracing::info!(%revision, "access file unchanged");
                Ok(())
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("publish task: {e}")),
        }
    }

    fn failed(
        &mut self,
        revision: Option<String>,
        errors: Vec<Diagnostic>,
        message: Option<String>,
        started: Instant,
    ) {
        for d in &errors {
            tracing::error!(
                revision = revision.as_deref().unwrap_or("?"),
                "{}",
                d.one_line()
            );
        }
        if let Some(m) = &message {
            tracing::error!(
                revision = revision.as_deref().unwrap_or("?"),
                "reload failed: {m}"
            );
        }
        let rev = revision.clone().unwrap_or_default();
        let mut lines: Vec<String> = errors.iter().map(Diagnostic::one_line).collect();
        lines.extend(message.clone());
        let failure = (rev, lines);
        if self.last_failure.as_ref() != Some(&failure) {
            self.ensure_state_dir();
            self.audit(&failure.0, None, ReloadResult::Failed, None, &errors, &[]);
            self.last_failure = Some(failure);
        }
        self.shared.update(|s| {
            s.stale_since.get_or_insert_with(SystemTime::now);
            s.last_attempt = Some(Attempt {
                revision,
                at: SystemTime::now(),
                result: ReloadResult::Failed,
                errors,
                message,
            });
            s.failed += 1;
            s.last_duration = started.elapsed();
        });
    }

    fn finish(&self, result: ReloadResult, revision: Option<String>, started: Instant) {
        let elapsed = started.elapsed();
        tracing::info!(
            result = result.as_str(),
            revision = revision.as_deref().unwrap_or("?"),
            ms = elapsed.as_millis() as u64,
            "reload"
        );
        self.shared.update(|s| {
            s.last_attempt = Some(Attempt {
                revision,
                at: SystemTime::now(),
                result,
                errors: Vec::new(),
                message: None,
            });
            match result {
                ReloadResult::Applied => s.applied += 1,
                ReloadResult::Unchanged => s.unchanged += 1,
                ReloadResult::Failed => s.failed += 1,
            }
            s.last_duration = elapsed;
        });
    }

    fn audit(
        &self,
        revision: &str,
        meta: Option<&snapshot::RevisionMeta>,
        result: ReloadResult,
        changes: Option<&state::Changes>,
        errors: &[Diagnostic],
        warnings: &[Diagnostic],
    ) {
        let record = state::Record {
            author: meta.map(|m| m.author.as_str()),
            commit_time: meta.map(|m| m.time),
            errors: errors.iter().map(Diagnostic::to_json).collect(),
            gained: changes.map(|c| &c.gained),
            lost: changes.map(|c| &c.lost),
            result: result.as_str(),
            revision,
            time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            warnings: warnings.iter().map(Diagnostic::to_json).collect(),
        };
        let line = serde_json::to_string(&record).unwrap_or_default();
        tracing::info!(target: "rolesync::audit", "{line}");
        if let Some(audit) = &self.audit
            && let Err(e) = audit.append(&record)
        {
            tracing::error!(error = %e, "cannot write the audit log");
        }
    }
}
