//! The validation socket (`rolesync-validate.sock` in the state folder):
//! a pre-commit / pre-receive hook sends the files its change touches
//! (`validate_wire`), and the daemon builds them on top of the revision it
//! applied last, with a memo of its own (never the reloader's) that holds
//! that revision's build, then judges them with the hook's own verdict
//! (`validate_verdict::check`) and answers what the hook prints. The
//! change costs its own build (≈ 17 ms on the 10,000-user tree) instead
//! of the hook's full build of the configuration in force. The validator
//! builds nothing until a hook first asks (that request builds the
//! applied revision, and may outlast the hook's wait, which then builds
//! itself); from then on it builds each applied revision as it comes.
//!
//! Nothing here can publish or change what the daemon serves: the
//! validator holds a copy of the applied revision's files and its own
//! build. A request is bounded (its bytes: `Limits::max_total_bytes` plus
//! `repo::cache::MAX_OVERHEAD_BYTES`; [`TIMEOUT`] to send it; one per
//! connection; [`MAX_VALIDATIONS`] at once, one building at a time); a
//! request that is malformed, of another source, limits or revision, or
//! beyond a bound is refused, and the hook builds itself.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::validate_verdict::{Named, Rails, check};
use super::validate_wire::{Answer, Request, VALIDATE_SOCKET};
use crate::snapshot::{self, Input, Memo};

/// Validations served at once; beyond, a connection is closed unanswered.
pub const MAX_VALIDATIONS: usize = 4;
/// How long a hook may take to send its request.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// The bound of one request: the files' bytes and the cache's overhead.
pub fn max_request_bytes(limits: &crate::limits::Limits) -> usize {
    (limits.max_total_bytes).saturating_add(crate::repo::cache::MAX_OVERHEAD_BYTES)
}

/// The applied revision, built with the validator's own memo.
#[derive(Default)]
struct Warm {
    /// The applied revision's files, its source's identity and its build.
    applied: Option<(Input, String, Option<snapshot::Snapshot>)>,
    target: Option<crate::rails::Target>,
    memo: Memo,
    /// A hook asked once: from then on each applied revision is built when
    /// it comes. Before, nothing is built (a daemon whose hooks never ask,
    /// e.g. Git's, holds no second model), and `unbuilt` says the first
    /// request builds it.
    asked: bool,
    /// `applied`'s build is not made yet.
    unbuilt: bool,
}

/// Judges the hooks' changes against the revision applied last.
#[derive(Clone, Default)]
pub struct Validator {
    warm: Arc<Mutex<Warm>>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator").finish_non_exhaustive()
    }
}

impl Validator {
    /// The daemon applied `input` (of `source`): build it with the
    /// validator's memo (blocking; only what changed since the last one),
    /// and judge the next requests against it.
    pub fn update(&self, source: &crate::repo::Source, input: Input) {
        let Ok(Some(identity)) = source.cache_identity() else {
            return;
        };
        let mut warm = self.lock();
        let built = if warm.asked {
            snapshot::build_cached(&input, &mut warm.memo).snapshot
        } else {
            None
        };
        warm.unbuilt = !warm.asked;
        let old = warm.applied.replace((input, identity, built));
        warm.target = Some(source.rails_target());
        drop(warm);
        drop(old);
    }

    /// The applied revision built, if the first request finds it unbuilt.
    fn build_in_force(warm: &mut Warm) {
        warm.asked = true;
        if !std::mem::take(&mut warm.unbuilt) {
            return;
        }
        if let Some((input, _, built)) = warm.applied.as_mut() {
            *built = snapshot::build_cached(input, &mut warm.memo).snapshot;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Warm> {
        self.warm
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Judge one request (blocking): the answer, then what to let go of
    /// off the answer's path (the change's build).
    fn judge(&self, bytes: &[u8]) -> (Answer, Option<snapshot::Report>) {
        let mut warm = self.lock();
        Self::build_in_force(&mut warm);
        let Warm {
            applied,
            target,
            memo,
            ..
        } = &mut *warm;
        let (Some((input, identity, in_force)), Some(target)) = (applied.as_ref(), target) else {
            return (refused("", "the daemon has applied no revision yet"), None);
        };
        let change = Request::decode(bytes)
            .map_err(|e| e.to_string())
            .and_then(|mut req| change_of(input, identity, &mut req).map(|c| (c, req)));
        let (change, req) = match change {
            Ok(c) => c,
            Err(why) => return (refused(&input.revision, &why), None),
        };
        let mut report = Ok(snapshot::build_cached(&change, memo));
        let name = Named {
            what: &req.what,
            invalid: &req.invalid,
        };
        let rails = Rails {
            in_force: in_force.as_ref(),
            target: target.clone(),
        };
        let mut messages = Vec::new();
        let verdict = check(&mut messages, &name, &mut report, req.warn, Some(&rails));
        let answer = Answer {
            revision: input.revision.clone(),
            verdict: verdict.map_err(|e| e.to_string()),
            messages,
        };
        (answer, report.ok())
    }

    /// Build the applied revision again with the memo, so that the next
    /// request's build costs its own change only.
    fn rewarm(&self) {
        let mut warm = self.lock();
        let Warm { applied, memo, .. } = &mut *warm;
        if let Some((input, ..)) = applied.as_ref() {
            let built = snapshot::build_cached(input, memo);
            drop(warm);
            drop(built);
        }
    }
}

fn refused(revision: &str, why: &str) -> Answer {
    Answer {
        revision: revision.to_owned(),
        verdict: Err(why.to_owned()),
        messages: Vec::new(),
    }
}

/// The change `req` makes to the applied revision `input`, or why it is
/// refused: of another source, limits or revision, a path that is no
/// configuration file, a file or a whole over the limits. What `req`
/// names the change with stays in it.
fn change_of(input: &Input, identity: &str, req: &mut Request) -> Result<Input, String> {
    if req.identity != identity {
        return Err("of another source".to_owned());
    }
    if req.limits != format!("{:?}", input.limits) {
        return Err("under other limits".to_owned());
    }
    if req.base != input.revision {
        return Err(format!("the daemon applied revision {}", input.revision));
    }
    let mut change = input.clone();
    change.revision = std::mem::take(&mut req.revision);
    change.meta = req.meta.take();
    for (path, bytes) in std::mem::take(&mut req.changed) {
        if !snapshot::is_classified(&path) {
            return Err("a path that is no configuration file".to_owned());
        }
        match bytes {
            Some(b) if b.len() > input.limits.max_file_bytes => {
                return Err("a file over the limit".to_owned());
            }
            Some(b) => change.files.insert(path, b.into()),
            None => change.files.remove(&path),
        };
    }
    let total: usize = change.files.values().map(|b| b.len()).sum();
    if total > input.limits.max_total_bytes {
        return Err("files over the total limit".to_owned());
    }
    Ok(change)
}

/// Serve the validation socket in the state folder `dir` (mode 0600)
/// until `stop`; `max_bytes` bounds a request.
pub fn spawn_socket(
    dir: &Path,
    validator: Validator,
    max_bytes: usize,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(VALIDATE_SOCKET);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let listener = tokio::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let permits = Arc::new(tokio::sync::Semaphore::new(MAX_VALIDATIONS));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                conn = listener.accept() => match conn {
                    Ok((stream, _)) => match permits.clone().try_acquire_owned() {
                        Ok(permit) => {
                            let validator = validator.clone();
                            tokio::spawn(async move {
                                serve(stream, validator, max_bytes).await;
                                drop(permit);
                            });
                        }
                        Err(_) => tracing::warn!("validation socket: too many validations at once; one is closed unanswered"),
                    },
                    Err(e) => tracing::warn!(error = %e, "validation socket"),
                },
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        let _ = std::fs::remove_file(&path);
    });
    Ok(())
}

/// One connection: read the request (at most `max_bytes`, within
/// [`TIMEOUT`]), judge it, answer, then build the applied revision again.
async fn serve(mut stream: tokio::net::UnixStream, validator: Validator, max_bytes: usize) {
    let mut bytes = Vec::new();
    let limit = u64::try_from(max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut limited = (&mut stream).take(limit);
    let read = limited.read_to_end(&mut bytes);
    let answer = match tokio::time::timeout(TIMEOUT, read).await {
        Ok(Ok(_)) if bytes.len() <= max_bytes => {
            let v = validator.clone();
            let judged = tokio::task::spawn_blocking(move || v.judge(&bytes)).await;
            match judged {
                Ok((answer, report)) => {
                    tokio::task::spawn_blocking(move || drop(report));
                    answer
                }
                Err(e) => refused("", &format!("validation task: {e}")),
            }
        }
        Ok(Ok(_)) => refused("", "request over the bound"),
        Ok(Err(e)) => refused("", &format!("reading the request: {e}")),
        Err(_) => refused("", "request not sent in time"),
    };
    let refusal = answer.verdict.as_ref().err().cloned();
    let encoded = answer.encode();
    let _ = tokio::time::timeout(TIMEOUT, stream.write_all(&encoded)).await;
    drop(stream);
    match refusal {
        Some(why) => tracing::debug!(why, "validation refused"),
        None => {
            let _ = tokio::task::spawn_blocking(move || validator.rewarm()).await;
        }
    }
}
