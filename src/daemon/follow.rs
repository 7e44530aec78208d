//! The fetch step of a daemon that follows a remote (`serve --remote`):
//! before each reload reads the mirror, the remote's newest revision is
//! fetched into it (`repo::Remote::fetch`), and what came of it goes to
//! the status's `remote` (head, last fetch, unreachable since, error,
//! refused). A fetch that fails leaves the mirror, and so the revision
//! served, as it was: the daemon stays healthy and says since when the
//! remote is unreachable. A refused head (it would go back) is logged and
//! audited once (`result: "refused"`), never applied.
//!
//! A fetch runs on its own thread and the reload waits for it at most the
//! fetch time-out (plus a second): a remote that stops answering in the
//! middle of a transfer is left behind, and no second fetch starts while
//! it hangs, so a hostile remote holds at most one thread and one socket.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use super::state;
use crate::current::{Current, ReloadResult};
use crate::repo::{Fetched, Remote};

/// The remote followed, and what the step remembers between fetches.
pub(super) struct Follower {
    remote: Arc<Remote>,
    /// A fetch thread is running (it clears this when it ends).
    busy: Arc<AtomicBool>,
    audit: Option<state::Audit>,
    /// The last refusal audited and logged, and the last error logged.
    last_refused: Option<String>,
    last_error: Option<String>,
}

impl Follower {
    pub(super) fn new(remote: Arc<Remote>, audit: Option<state::Audit>) -> Self {
        Follower {
            remote,
            busy: Arc::default(),
            audit,
            last_refused: None,
            last_error: None,
        }
    }

    /// Fetch the remote into the mirror, never going back from `applied`,
    /// and record the result in `shared`'s status.
    pub(super) async fn fetch(&mut self, shared: &Current, applied: Option<String>) {
        let started = std::time::Instant::now();
        let result = self.run(applied).await;
        let now = SystemTime::now();
        tracing::debug!(target: "rolesync::daemon::reload", phase = "fetch", us = started.elapsed().as_micros() as u64, "reload phase");
        match result {
            Ok(fetched) => self.fetched(shared, fetched, now),
            Err(e) => self.failed(shared, e, now),
        }
    }

    /// The fetch on its own thread, waited for within the time-out.
    async fn run(&self, applied: Option<String>) -> Result<Fetched, String> {
        if self.busy.swap(true, Ordering::AcqRel) {
            return Err("the previous fetch has not ended (the remote stopped answering)".into());
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (remote, busy) = (self.remote.clone(), self.busy.clone());
        let spawned = std::thread::Builder::new()
            .name("rolesync-fetch".into())
            .spawn(move || {
                // Cleared however the fetch ends (a panic too).
                let _idle = Idle(busy);
                let _ = tx.send(remote.fetch(applied.as_deref()));
            });
        if let Err(e) = spawned {
            self.busy.store(false, Ordering::Release);
            return Err(format!("cannot start the fetch: {e}"));
        }
        let wait = self.remote.bounds.timeout + Duration::from_secs(1);
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("the fetch ended without an answer".into()),
            Err(_) => Err(format!(
                "the fetch took longer than {}",
                humantime::format_duration(self.remote.bounds.timeout)
            )),
        }
    }

    fn fetched(&mut self, shared: &Current, fetched: Fetched, now: SystemTime) {
        if self.last_error.take().is_some() {
            tracing::info!(url = %self.remote.url.display(), "the remote is reachable again");
        }
        if let Some(why) = &fetched.refused
            && self.last_refused.as_ref() != Some(why)
        {
            tracing::warn!(url = %self.remote.url.display(), result = "refused", "{why}");
            self.audit_refused(&fetched.head, why);
        }
        self.last_refused = fetched.refused.clone();
        shared.update(|s| {
            if let Some(r) = s.remote.as_mut() {
                r.head = Some(fetched.head);
                r.last_fetch_at = Some(now);
                r.unreachable_since = None;
                r.error = None;
                r.refused = fetched.refused;
            }
        });
    }

    fn failed(&mut self, shared: &Current, error: String, now: SystemTime) {
        if self.last_error.as_ref() != Some(&error) {
            tracing::warn!(url = %self.remote.url.display(), "cannot fetch the remote: {error}; serving the last revision fetched");
        }
        self.last_error = Some(error.clone());
        shared.update(|s| {
            if let Some(r) = s.remote.as_mut() {
                r.unreachable_since.get_or_insert(now);
                r.error = Some(error);
            }
        });
    }

    /// One audit line for a refused head (`result: "refused"`, `message`: why).
    fn audit_refused(&self, head: &str, why: &str) {
        let Some(audit) = &self.audit else {
            return;
        };
        let record = state::Record {
            result: "refused",
            message: Some(why),
            ..state::Record::new(head, ReloadResult::Failed)
        };
        let line = match serde_json::to_string(&record) {
            Ok(line) => line,
            Err(e) => return tracing::error!(error = %e, "cannot serialise an audit record"),
        };
        // Flushed to disk off the async workers.
        let audit = audit.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = audit.append_line(&line) {
                tracing::error!(error = %e, "cannot write the audit log");
            }
        });
    }
}

/// Clears the follower's `busy` flag when the fetch thread ends.
struct Idle(Arc<AtomicBool>);

impl Drop for Idle {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}
