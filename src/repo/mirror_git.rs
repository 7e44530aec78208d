//! The Git mirror of a followed remote: a private bare repository in the
//! state folder, fetched with git2 (`git://`, `http(s)://`, `ssh://`,
//! `file://`), the one branch only. The server is trusted as
//! `remote_trust.rs` says, and authenticated with the credentials file's
//! password or SSH key. The remote's
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

use std::cell::RefCell;

use super::remote::{Credentials, Fetched, Remote};

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

/// The callbacks of one connection: the credentials, the server's trust
/// (`remote_trust.rs`; why it was refused is kept in `refusal`, as
/// libgit2 replaces the callback's message), and the bounds (checked as
/// the pack arrives; a fetch past either is cancelled).
fn callbacks<'a>(
    remote: &'a Remote,
    started: Instant,
    refusal: &'a RefCell<Option<String>>,
) -> RemoteCallbacks<'a> {
    let mut cb = RemoteCallbacks::new();
    if let Some(c) = &remote.credentials {
        // Each kind asked again only when the remote refused it: then give up.
        let mut asked = git2::CredentialType::empty();
        cb.credentials(move |_, user, allowed| {
            let kind = allowed & !asked;
            asked |= allowed;
            credential(c, user, kind)
        });
    }
    let port = remote.url.port();
    cb.certificate_check(move |cert, host| {
        remote.trust.check(cert, host, port).map_err(|why| {
            let e = git2::Error::new(git2::ErrorCode::Certificate, git2::ErrorClass::Net, &why);
            *refusal.borrow_mut() = Some(why);
            e
        })
    });
    let bounds = remote.bounds;
    cb.transfer_progress(move |p| {
        p.received_bytes() as u64 <= bounds.max_bytes && started.elapsed() <= bounds.timeout
    });
    cb
}

/// The credential of `kind` (those the remote allows, not yet refused):
/// an SSH key (the URL's user, else `username`), a user name, or a user
/// name and password.
fn credential(
    c: &Credentials,
    url_user: Option<&str>,
    kind: git2::CredentialType,
) -> Result<git2::Cred, git2::Error> {
    use git2::CredentialType as Kind;
    let user = url_user.unwrap_or(&c.username);
    if kind.contains(Kind::SSH_KEY)
        && let Some(key) = &c.ssh_key
    {
        let passphrase =
            (!c.ssh_key_passphrase.is_empty()).then_some(c.ssh_key_passphrase.as_str());
        return git2::Cred::ssh_key(user, None, key, passphrase);
    }
    if kind.contains(Kind::USERNAME) {
        return git2::Cred::username(user);
    }
    if kind.contains(Kind::USER_PASS_PLAINTEXT) && !c.password.is_empty() {
        return git2::Cred::userpass_plaintext(&c.username, &c.password);
    }
    Err(git2::Error::from_str(
        "the remote refused the credentials (or asks for a kind the credentials file does not hold)",
    ))
}

/// Fetch the branch and move the mirror to it unless that goes back from
/// `applied`.
pub(super) fn fetch(remote: &Remote, applied: Option<&str>) -> Result<Fetched, String> {
    let msg = |e: git2::Error| e.message().to_owned();
    let started = Instant::now();
    let refusal = RefCell::new(None);
    let failed = |e| failed(e, remote, started, &refusal);
    let repo = Repository::open_bare(remote.mirror()).map_err(msg)?;
    let mut origin = repo.remote_anonymous(remote.url.as_str()).map_err(msg)?;
    let mut conn = origin
        .connect_auth(
            Direction::Fetch,
            Some(callbacks(remote, started, &refusal)),
            None,
        )
        .map_err(failed)?;
    let (branch, head) = listed(&conn, remote)?;
    // One connection: listed, then (only when the mirror lacks the head:
    // a poll of an unmoved or refused head downloads nothing) downloaded.
    if repo.find_commit(head).is_err() {
        let mut options = FetchOptions::new();
        options.remote_callbacks(callbacks(remote, started, &refusal));
        options.download_tags(git2::AutotagOption::None);
        conn.remote()
            .download(&[format!("refs/heads/{branch}")], Some(&mut options))
            .map_err(failed)?;
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

/// A fetch error, saying which bound stopped it when one did, or why the
/// server was not trusted.
fn failed(
    e: git2::Error,
    remote: &Remote,
    started: Instant,
    refusal: &RefCell<Option<String>>,
) -> String {
    if let Some(why) = refusal.borrow_mut().take() {
        return why;
    }
    // libgit2 passes its own TLS verdict on as a generic SSL error.
    let tls = e.class() == git2::ErrorClass::Ssl && e.message().contains("certificate");
    if e.code() == git2::ErrorCode::Certificate || tls {
        return untrusted(&e, remote);
    }
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

/// libgit2's refusal of a server it does not trust, saying how to trust it.
fn untrusted(e: &git2::Error, remote: &Remote) -> String {
    let how = if remote.url.as_str().starts_with("ssh") {
        "the server's SSH host key is unknown or changed (not as listed in ~/.ssh/known_hosts); list it in remote_known_hosts"
    } else {
        "the server's certificate is not trusted (not by the system's CA store or SSL_CERT_FILE); give its CA in remote_ca_file"
    };
    format!("{how} ({})", e.message())
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
