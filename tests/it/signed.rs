//! Signed commits: `rolesync serve --require-signed --allowed-signers FILE`
//! on a real Git repository, with keys made by the real `ssh-keygen` and
//! commits signed by the real `git commit -S` (`gpg.format = ssh`). An
//! unsigned commit, one signed by a key the file does not list and one
//! changed after signing are refused (the previous access file stays);
//! a commit signed by a listed key is applied.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::daemon::{Daemon, wait_until};
use crate::util::{self, git};

const LIMIT: Duration = Duration::from_secs(20);
const USER_ROLES: &str = "Engineering/elibrary/.polarion/security/user-roles.xml";

/// A key pair made by `ssh-keygen` in `dir`; returns the private key's path.
fn key(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .output()
        .expect("ssh-keygen runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// An allowed-signers file listing `key` for `principal`.
fn allowed_signers(dir: &Path, principal: &str, key: &Path) -> PathBuf {
    let public = std::fs::read_to_string(key.with_extension("pub")).expect("public key");
    let path = dir.join("allowed_signers");
    std::fs::write(&path, format!("{principal} namespaces=\"git\" {public}")).expect("write");
    path
}

/// `git commit -a` of `from` → `to` in the user roles, signed with `key`
/// (unsigned when `None`); returns the commit id.
fn commit(work: &Path, key: Option<&Path>, from: &str, to: &str) -> String {
    util::edit(&work.join(USER_ROLES), from, to);
    let signing = key.map(|k| format!("user.signingkey={}", k.display()));
    let mut args = vec!["-c", "gpg.format=ssh"];
    if let Some(s) = &signing {
        args.extend(["-c", s.as_str(), "commit", "-q", "-S"]);
    } else {
        args.extend(["commit", "-q"]);
    }
    args.extend(["-am", "change elibrary's users"]);
    git(work, &args);
    git(work, &["rev-parse", "HEAD"])
}

/// A commit signed with `key` (made by `git commit-tree -S`, so no branch
/// ever points at it) whose message is then changed, its signature kept:
/// what someone who rewrites a signed commit makes. The branch is moved to
/// the forgery; returns its id.
fn forge(work: &Path, key: &Path, from: &str, to: &str) -> String {
    util::edit(&work.join(USER_ROLES), from, to);
    git(work, &["add", "-A"]);
    let tree = git(work, &["write-tree"]);
    let signing = format!("user.signingkey={}", key.display());
    let signed = git(
        work,
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &signing,
            "commit-tree",
            "-S",
            &tree,
            "-p",
            "HEAD",
            "-m",
            "change elibrary's users",
        ],
    );
    let object = git(work, &["cat-file", "commit", &signed]);
    let forged = object.replace("change elibrary's users", "an innocent message");
    assert_ne!(forged, object);
    let mut child = Command::new("git")
        .arg("-C")
        .arg(work)
        .args(["hash-object", "-t", "commit", "-w", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("git runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{forged}\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("git ends");
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    git(work, &["update-ref", "refs/heads/main", &id]);
    id
}

/// Wait until the daemon's last attempt is `revision`; the attempt's first
/// error code.
fn refused_with(d: &Daemon, revision: &str) -> String {
    wait_until(LIMIT, "the refusal", || {
        d.status()["attempted"]["revision"].as_str() == Some(revision)
    });
    let status = d.status();
    assert_eq!(status["attempted"]["result"], "failed", "{status}");
    status["attempted"]["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn only_commits_signed_by_an_allowed_key_are_applied() {
    let dir = tempfile::tempdir().expect("temp dir");
    let alice = key(dir.path(), "alice");
    let mallory = key(dir.path(), "mallory");
    let signers = allowed_signers(dir.path(), "alice@acme.example", &alice);
    let work = dir.path().join("config");
    util::copy_tree(&util::root().join("sample-repo"), &work);
    git(&work, &["init", "-q"]);
    git(&work, &["add", "-A"]);
    let first = commit(
        &work,
        Some(&alice),
        "<user name=\"dave\">",
        "<user name=\"erin\">",
    );
    let access = dir.path().join("access");
    let d = Daemon::start(
        &work,
        &access,
        &dir.path().join("state"),
        &[
            "--require-signed",
            "--allowed-signers",
            signers.to_str().expect("utf-8"),
        ],
    );
    wait_until(LIMIT, "the signed first commit", || {
        d.applied_revision().as_deref() == Some(first.as_str())
    });
    let served = std::fs::read_to_string(&access).expect("published");
    assert!(
        served.contains("elibrary-project_user = carol, erin\n"),
        "{served}"
    );

    let unsigned = commit(&work, None, "<user name=\"erin\">", "<user name=\"frank\">");
    assert_eq!(refused_with(&d, &unsigned), "commit-unsigned");
    let stranger = commit(
        &work,
        Some(&mallory),
        "<user name=\"frank\">",
        "<user name=\"grace\">",
    );
    assert_eq!(refused_with(&d, &stranger), "commit-signer-not-allowed");
    let forged = forge(
        &work,
        &alice,
        "<user name=\"grace\">",
        "<user name=\"heidi\">",
    );
    assert_eq!(refused_with(&d, &forged), "commit-signature-bad");
    assert_eq!(d.applied_revision().as_deref(), Some(first.as_str()));
    assert_eq!(std::fs::read_to_string(&access).expect("kept"), served);
    let (_, health) = d.http("GET", "/healthz", None);
    assert!(health.contains("degraded"), "{health}");

    let good = commit(
        &work,
        Some(&alice),
        "<user name=\"heidi\">",
        "<user name=\"alice\">",
    );
    wait_until(LIMIT, "the signed commit", || {
        d.applied_revision().as_deref() == Some(good.as_str())
    });
    let published = std::fs::read_to_string(&access).expect("published");
    assert!(
        published.contains("elibrary-project_user = alice, carol\n"),
        "{published}"
    );
    let audit = std::fs::read_to_string(dir.path().join("state/audit.jsonl")).expect("audit");
    assert!(audit.contains("commit-signer-not-allowed"), "{audit}");
}

#[test]
fn require_signed_without_allowed_signers_does_not_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("config");
    util::sample_repository(&work);
    let out = util::run([
        "serve",
        "--repo",
        work.to_str().expect("utf-8"),
        "--require-signed",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", util::stderr(&out));
    assert!(
        util::stderr(&out).contains("allowed_signers"),
        "{}",
        util::stderr(&out)
    );
}
