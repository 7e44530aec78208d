//! The Git mirror of a followed remote: a private bare repository in the
//! state folder, fetched with git2, the one branch only. The remote's
//! branch is listed first (a poll that finds it unmoved downloads
//! nothing), then downloaded on the same connection and kept as
//! `refs/rolesync/fetched`; the
//! mirror's branch moves to it only when it descends from the applied
//! commit (or rewinds are allowed). Every fetch is bounded in bytes
//! received and in time by the transfer's progress callback; a remote
//! that stops answering altogether is left behind by the daemon's
//! time-out (`daemon::follow`: one fetch at a time, so a hung one holds
//! one thread and one socket, no more). libgit2's own socket time-outs
//! are process-wide `unsafe` settings, which the crate forbids.

use std::path::Path;
use std::time::Instant;

use git2::{Direction, FetchOptions, Oid, RemoteCallbacks, Repository};

use super::remote::{Fetched, Remote};

/// Where a fetch lands before it is judged.
const FETCHED_REF: &str = "refs/rolesync/fetched";

/// Create the bare mirror at `path` unless it is there; its HEAD names
/// `branch` when one is configured.
pub(super) fn init(path: &Path, branch: Option<&str>) -> Result<(), String> {
    if path.join("HEAD").is_file() {
        return Ok(());
    }
    let repo = Repository::init_bare(path).map_err(|e| e.message().to_owned())?;
    if let Some(b) = branch {
        repo.set_head(&format!("refs/heads/{b}"))
            .map_err(|e| e.message().to_owned())?;
    }
    Ok(())
}

/// The callbacks of one connection: the credentials, and the bounds
/// (checked as the pack arrives; a fetch past either is cancelled).
fn callbacks(remote: &Remote, started: Instant) -> RemoteCallbacks<'_> {
    let mut cb = RemoteCallbacks::new();
    if let Some(c) = &remote.credentials {
        // Asked again only when the remote refused them: then give up.
        let mut asked = false;
        cb.credentials(move |_, _, _| {
            if std::mem::replace(&mut asked, true) {
                return Err(git2::Error::from_str("the remote refused the credentials"));
            }
            git2::Cred::userpass_plaintext(&c.username, &c.password)
        });
    }
    let bounds = remote.bounds;
    cb.transfer_progress(move |p| {
        p.received_bytes() as u64 <= bounds.max_bytes && started.elapsed() <= bounds.timeout
    });
    cb
}

/// Fetch the branch and move the mirror to it unless that goes back from
/// `applied`.
pub(super) fn fetch(remote: &Remote, applied: Option<&str>) -> Result<Fetched, String> {
    let msg = |e: git2::Error| e.message().to_owned();
    let started = Instant::now();
    let repo = Repository::open_bare(remote.mirror()).map_err(msg)?;
    let mut origin = repo.remote_anonymous(remote.url.as_str()).map_err(msg)?;
    let mut conn = origin
        .connect_auth(Direction::Fetch, Some(callbacks(remote, started)), None)
        .map_err(|e| bounded(e, remote, started))?;
    let (branch, head) = listed(&conn, remote)?;
    // One connection: listed, then (only when the mirror lacks the head:
    // a poll of an unmoved or refused head downloads nothing) downloaded.
    if repo.find_commit(head).is_err() {
        let mut options = FetchOptions::new();
        options.remote_callbacks(callbacks(remote, started));
        options.download_tags(git2::AutotagOption::None);
        conn.remote()
            .download(&[format!("refs/heads/{branch}")], Some(&mut options))
            .map_err(|e| bounded(e, remote, started))?;
        repo.reference(FETCHED_REF, head, true, "rolesync: fetched")
            .map_err(msg)?;
    }
    drop(conn);
    repo.find_commit(head)
        .map_err(|_| format!("the remote's {branch} ({head}) is no commit"))?;
    let refused = judge(&repo, head, applied, remote.allow_rewind);
    if refused.is_none() {
        let name = format!("refs/heads/{branch}");
        repo.reference(&name, head, true, "rolesync: fetched")
            .map_err(msg)?;
        let head_names = repo
            .find_reference("HEAD")
            .ok()
            .and_then(|h| h.symbolic_target().ok().flatten().map(|t| t == name));
        if head_names != Some(true) {
            repo.set_head(&name).map_err(msg)?;
        }
    }
    Ok(Fetched {
        head: head.to_string(),
        refused,
    })
}

/// The branch to follow (the configured one, else the remote's HEAD
/// branch) and the commit the remote lists for it.
fn listed(
    conn: &git2::RemoteConnection<'_, '_, '_>,
    remote: &Remote,
) -> Result<(String, Oid), String> {
    let branch = match &remote.branch {
        Some(b) => b.clone(),
        None => {
            let head = conn.default_branch().map_err(|e| {
                format!(
                    "the remote names no HEAD branch ({}); give --branch",
                    e.message()
                )
            })?;
            let head = head.as_str().unwrap_or_default();
            head.strip_prefix("refs/heads/").unwrap_or(head).to_owned()
        }
    };
    let name = format!("refs/heads/{branch}");
    let listed = conn
        .list()
        .map_err(|e| e.message().to_owned())?
        .iter()
        .find(|h| h.name() == name)
        .map(|h| h.oid())
        .ok_or_else(|| format!("the remote has no branch {branch}"))?;
    Ok((branch, listed))
}

/// A fetch error, saying which bound stopped it when one did.
fn bounded(e: git2::Error, remote: &Remote, started: Instant) -> String {
    if started.elapsed() > remote.bounds.timeout {
        return format!("the fetch took longer than {:?}", remote.bounds.timeout);
    }
    // The progress callback stopped it (libgit2 reports that as the
    // indexer's callback error, or as a user error).
    if e.code() == git2::ErrorCode::User || e.message().contains("progress callback") {
        return format!(
            "the remote sent more than {} bytes (the fetch bound)",
            remote.bounds.max_bytes
        );
    }
    e.message().to_owned()
}

/// Why `head` is refused (it does not descend from `applied`), or `None`.
fn judge(
    repo: &Repository,
    head: Oid,
    applied: Option<&str>,
    allow_rewind: bool,
) -> Option<String> {
    let applied = applied?;
    if allow_rewind || applied == head.to_string() {
        return None;
    }
    let descends = Oid::from_str(applied)
        .ok()
        .and_then(|a| repo.graph_descendant_of(head, a).ok())
        .unwrap_or(false);
    (!descends).then(|| {
        format!(
            "{head}: not a descendant of the applied commit {applied} (a force-push back or elsewhere); set allow_rewind = true to apply it"
        )
    })
}
