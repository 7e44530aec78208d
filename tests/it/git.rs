//! The Git backend with real repositories made by the `git` CLI: the
//! committed tree is read, never the work tree; bare repositories and
//! `--rev` work.

use crate::util::{self, git, sample_repository};

fn render(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = util::rolesync()
        .arg("render")
        .args(args)
        .output()
        .expect("rolesync runs");
    (out.status.code().expect("exited"), util::stdout(&out))
}

#[test]
fn renders_the_committed_tree_as_the_folder_renders_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let commit = sample_repository(dir.path());
    let (status, text) = render(&["--repo".as_ref(), dir.path().as_os_str()]);
    assert_eq!(status, 0);
    // The access file names no revision: its bytes depend on its content only.
    assert!(!text.contains(&commit), "{text}");
    let (_, folder) = render(&[
        "--repo".as_ref(),
        util::root().join("sample-repo").as_os_str(),
    ]);
    assert_eq!(text, folder);
}

#[test]
fn uncommitted_edits_are_ignored() {
    let dir = tempfile::tempdir().expect("temp dir");
    sample_repository(dir.path());
    let (_, before) = render(&["--repo".as_ref(), dir.path().as_os_str()]);
    std::fs::write(
        dir.path().join(".polarion/security/user-roles.xml"),
        "<broken",
    )
    .expect("edit");
    let (status, after) = render(&["--repo".as_ref(), dir.path().as_os_str()]);
    assert_eq!(status, 0);
    assert_eq!(before, after);
}

#[test]
fn bare_repositories_and_older_revisions_are_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("work");
    let first = sample_repository(&work);
    let roles = work.join("Engineering/elibrary/.polarion/security/user-roles.xml");
    let text = std::fs::read_to_string(&roles).expect("read");
    std::fs::write(
        &roles,
        text.replace("<user name=\"dave\">", "<user name=\"grace\">"),
    )
    .expect("edit");
    git(&work, &["commit", "-q", "-am", "grace joins elibrary"]);
    let bare = dir.path().join("config.git");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().expect("utf-8 path"),
            bare.to_str().expect("utf-8 path"),
        ],
    );

    let (status, head) = render(&["--repo".as_ref(), bare.as_os_str()]);
    assert_eq!(status, 0);
    assert!(
        head.contains("elibrary-project_user = carol, grace\n"),
        "{head}"
    );
    let (status, old) = render(&[
        "--repo".as_ref(),
        bare.as_os_str(),
        "--rev".as_ref(),
        first.as_ref(),
    ]);
    assert_eq!(status, 0);
    assert!(old.contains("elibrary-project_user = carol\n"), "{old}");
}

#[test]
fn an_unknown_revision_could_not_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    sample_repository(dir.path());
    let out = util::rolesync()
        .args(["validate", "--rev", "no-such-branch", "--repo"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        util::stderr(&out).contains("no-such-branch"),
        "{}",
        util::stderr(&out)
    );
}

#[test]
fn rev_on_a_plain_folder_could_not_run() {
    let out = util::rolesync()
        .args(["validate", "--rev", "HEAD", "--repo"])
        .arg(util::root().join("sample-repo"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}
