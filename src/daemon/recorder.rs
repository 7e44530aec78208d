//! The record step's writes, off the reload's path: one writer on the
//! blocking pool takes each reload's [`Job`] from a bounded queue, in the
//! order the reloads ended, and for each saves state.json, appends the
//! audit line (flushed to disk, as `state::Audit::append` always did) and
//! only then changes the status (`outcome::transition`). So the next
//! reload need not wait for the fsyncs, and still: records are never
//! reordered, dropped or written twice, and whoever sees a reload in the
//! status finds its audit line and state.json on disk. A full queue makes
//! the reload wait ([`Recorder::send`]); [`Recorder::finish`] (the daemon's
//! shutdown) writes what is queued before it returns.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;

use super::outcome::{self, Memberships, Outcome};
use super::state;
use crate::current::{Current, ReloadResult};
use crate::diag::Diagnostic;

/// How many reloads' records may wait for the writer (default of
/// `Recorder::start`'s `bound`): a reload that finds this many waiting
/// waits for the writer to take one, it never drops a record.
pub(super) const QUEUE_BOUND: usize = 64;

/// What the writer does for one reload, in this order.
#[derive(Debug)]
pub(super) struct Job {
    /// The state to save (state.json in the folder), when a revision was applied.
    pub save: Option<(PathBuf, state::Persisted)>,
    /// Whether to audit the outcome (an applied revision, or a failure not
    /// audited already).
    pub audit: bool,
    pub outcome: Outcome,
    /// When the reload ended: the record's `time` and the status's.
    pub at: SystemTime,
    /// How long the reload took.
    pub elapsed: Duration,
    /// Who pushed the revision, as a hook said (`notice`).
    pub pusher: Option<String>,
}

/// The writer and the queue to it.
pub(super) struct Recorder {
    queue: mpsc::Sender<Job>,
    writer: tokio::task::JoinHandle<()>,
}

impl Recorder {
    /// Start the writer (on the blocking pool): it writes the audit log
    /// `audit` (none: the records are only logged) and changes `shared`'s
    /// status; at most `bound` (at least 1) jobs wait for it.
    pub(super) fn start(shared: Arc<Current>, audit: Option<state::Audit>, bound: usize) -> Self {
        let (queue, mut jobs) = mpsc::channel::<Job>(bound.max(1));
        let writer = tokio::task::spawn_blocking(move || {
            while let Some(job) = jobs.blocking_recv() {
                write(job, &shared, audit.as_ref());
            }
        });
        Recorder { queue, writer }
    }

    /// Queue `job`, waiting while the queue is full.
    pub(super) async fn send(&self, job: Job) {
        if self.queue.send(job).await.is_err() {
            tracing::error!("the audit writer stopped; a record is lost");
        }
    }

    /// Close the queue and wait until the writer has written every job.
    pub(super) async fn finish(self) {
        drop(self.queue);
        if let Err(e) = self.writer.await {
            tracing::error!(error = %e, "the audit writer failed");
        }
    }
}

/// One job: state.json, the audit line, then the status.
fn write(mut job: Job, shared: &Current, audit: Option<&state::Audit>) {
    let started = std::time::Instant::now();
    if job.audit
        && let Outcome::Applied(a) = &mut job.outcome
        && matches!(a.changes, Memberships::EveryMember)
    {
        a.changes = Memberships::Changed(state::changes(None, &a.snapshot, None));
    }
    if let Some((dir, persisted)) = &job.save
        && let Err(e) = state::save(dir, persisted)
    {
        tracing::error!(error = %e, "cannot save the daemon state");
    }
    if job.audit
        && let Some(record) = record_of(&job.outcome, job.at, job.pusher.as_deref())
    {
        append(audit, &record);
    }
    if job.save.is_some() || job.audit {
        // A phase line of the reload's (its log target), though off its path.
        let us = started.elapsed().as_micros() as u64;
        tracing::debug!(target: "rolesync::daemon::reload", phase = "write", us, "reload phase");
    }
    let mut fresh_again = false;
    shared.update(|s| fresh_again = outcome::transition(s, job.outcome, job.at, job.elapsed));
    if fresh_again {
        tracing::info!("the newest revision is the applied one again; no longer degraded");
    }
}

/// The audit record of an applied revision (who gained or lost which
/// group, the diff of what the change did) or of a failure (its errors).
fn record_of<'a>(
    outcome: &'a Outcome,
    at: SystemTime,
    pusher: Option<&'a str>,
) -> Option<state::Record<'a>> {
    let time = humantime::format_rfc3339_seconds(at).to_string();
    match outcome {
        Outcome::Applied(a) => {
            let meta = a.snapshot.meta.as_ref();
            let (diff, diff_error) = state::diff_fields(&a.diff);
            // `write` expanded `EveryMember` before it asked for the record.
            let changes = match &a.changes {
                Memberships::Changed(c) => Some(c),
                Memberships::EveryMember => None,
            };
            Some(state::Record {
                author: meta.map(|m| m.author.as_str()),
                commit_time: meta.map(|m| m.time),
                diff,
                diff_error,
                gained: changes.map(|c| &c.gained),
                lost: changes.map(|c| &c.lost),
                pusher,
                warnings: a.warnings.iter().map(Diagnostic::to_json).collect(),
                time,
                source: a.source.moved,
                directory_revision: a.source.directory.as_deref(),
                ..state::Record::new(&a.snapshot.revision, ReloadResult::Applied)
            })
        }
        Outcome::Failed(f) => Some(state::Record {
            errors: f.errors.iter().map(Diagnostic::to_json).collect(),
            pusher,
            time,
            ..state::Record::new(f.revision.as_deref().unwrap_or(""), ReloadResult::Failed)
        }),
        Outcome::Unchanged { .. } | Outcome::HeadUnmoved => None,
    }
}

/// Log one audit record (serialised once) and append it to the audit log.
fn append(audit: Option<&state::Audit>, record: &state::Record) {
    let line = match serde_json::to_string(record) {
        Ok(line) => line,
        Err(e) => {
            tracing::error!(error = %e, "cannot serialise an audit record");
            return;
        }
    };
    tracing::debug!(target: "rolesync::audit", "{line}");
    if let Some(audit) = audit
        && let Err(e) = audit.append_line(&line)
    {
        tracing::error!(error = %e, "cannot write the audit log");
    }
}

#[cfg(test)]
#[path = "recorder_tests.rs"]
mod tests;
