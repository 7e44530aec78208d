//! The Git mirror against a real bare repository (`file://`): a fetch
//! moves the mirror forward, and a force-push back is refused unless
//! rewinds are allowed; libgit2 counts a local pack's bytes too, so the
//! byte bound stops a `file://` fetch as it does a network one.

use std::path::Path;
use std::process::Command;

use git2::Repository;

use super::remote::{Remote, RemoteKind, RemoteUrl};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=A", "-c", "user.email=a@example"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A work tree with commits `one` and `two` on main, pushed to a bare
/// `origin.git`; the remote of it, mirrored in `state`.
fn two_commits(dir: &Path) -> (Remote, String, String) {
    let work = dir.join("work");
    std::fs::create_dir_all(work.join(".polarion")).expect("mkdir");
    git(&work, &["init", "-q"]);
    let mut ids = Vec::new();
    for n in ["one", "two"] {
        std::fs::write(work.join(".polarion/access"), n).expect("write");
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", n]);
        ids.push(git(&work, &["rev-parse", "HEAD"]));
    }
    let bare = dir.join("origin.git");
    git(
        &work,
        &["clone", "-q", "--bare", ".", &bare.display().to_string()],
    );
    let url = RemoteUrl::parse(&format!("file://{}", bare.display())).expect("url");
    let remote = Remote::new(url, RemoteKind::Git, None, &dir.join("state"));
    remote.init_mirror().expect("mirror");
    (remote, ids[0].clone(), ids[1].clone())
}

#[test]
fn a_fetch_moves_forward_and_a_force_push_back_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut remote, one, two) = two_commits(dir.path());
    let fetched = remote.fetch(None).expect("fetch");
    assert_eq!(
        (fetched.head.as_str(), fetched.refused),
        (two.as_str(), None)
    );
    assert_eq!(git(remote.mirror(), &["rev-parse", "refs/heads/main"]), two);
    let bare = dir.path().join("origin.git");
    git(&bare, &["update-ref", "refs/heads/main", &one]);
    let fetched = remote.fetch(Some(&two)).expect("fetch");
    assert_eq!(fetched.head, one);
    let why = fetched.refused.expect("refused");
    assert!(
        why.contains("not a descendant of the applied commit"),
        "{why}"
    );
    assert_eq!(git(remote.mirror(), &["rev-parse", "refs/heads/main"]), two);
    remote.allow_rewind = true;
    assert_eq!(remote.fetch(Some(&two)).expect("fetch").refused, None);
    assert_eq!(git(remote.mirror(), &["rev-parse", "refs/heads/main"]), one);
}

#[test]
fn a_file_fetch_past_the_byte_bound_is_stopped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut remote, _, _) = two_commits(dir.path());
    remote.bounds.max_bytes = 10;
    let err = remote.fetch(None).expect_err("past the bound");
    assert!(err.contains("more than 10 bytes"), "{err}");
    let mirror = Repository::open_bare(remote.mirror()).expect("mirror");
    assert!(
        mirror.find_reference("refs/heads/main").is_err(),
        "nothing moved"
    );
}
