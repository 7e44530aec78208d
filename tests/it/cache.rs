//! Cache-friendly output (issue 13, item 3): the access file names no
//! revision, so a commit that changes nothing the file holds leaves the
//! published file untouched — inode, mtime and bytes — and Subversion
//! keeps its parsed copy, while `/v1/status`, state.json and the audit log
//! name the applied revision. A commit that changes a role group does
//! rewrite it.

use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::time::Duration;

use crate::daemon::{Config, Daemon, wait_until};

const LIMIT: Duration = Duration::from_secs(20);

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Inode and mtime (seconds, nanoseconds) of `path`.
fn stamp(path: &Path) -> (u64, i64, i64) {
    let m = std::fs::metadata(path).expect("stat");
    (m.ino(), m.mtime(), m.mtime_nsec())
}

#[test]
fn a_permissions_only_commit_leaves_the_published_file_untouched() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let state = cfg.path("state");
    let d = Daemon::start(&cfg.work(), &access, &state, &[]);
    let first = cfg.head();
    wait_until(LIMIT, "the first publication", || {
        d.applied_revision().as_deref() == Some(first.as_str())
    });
    let bytes = read(&access);
    let before = stamp(&access);
    // What the file costs Subversion to load: 8 users named × 7 rule sections.
    let (_, metrics) = d.http("GET", "/metrics", None);
    assert!(
        metrics.contains("\nrolesync_access_file_cost 56\n"),
        "{metrics}"
    );
    // Held open so that its inode number cannot be handed to a
    // replacement: a new number means a new file.
    let _held = std::fs::File::open(&access).expect("open");

    let permissions = cfg.commit_edit(
        ".polarion/security/permissions.xml",
        "            <grant permission=\"persistence.object.TestRun.comment\"/>\n",
        "",
        "testers may no longer comment on test runs",
    );
    wait_until(LIMIT, "the permissions commit to be applied", || {
        d.applied_revision().as_deref() == Some(permissions.as_str())
    });
    assert_eq!(read(&access), bytes, "the bytes changed");
    assert_eq!(stamp(&access), before, "the file was rewritten");
    // The status is recorded a moment after the snapshot is swapped in.
    wait_until(LIMIT, "the status to record the attempt", || {
        d.status()["attempted"]["revision"] == permissions.as_str()
    });
    let status = d.status();
    assert_eq!(status["status"], "ok", "{status}");
    assert_eq!(status["attempted"]["result"], "applied", "{status}");
    let saved: serde_json::Value =
        serde_json::from_str(&read(&state.join("state.json"))).expect("state.json");
    assert_eq!(saved["applied_revision"], permissions.as_str());
    wait_until(LIMIT, "the audit line", || {
        read(&state.join("audit.jsonl"))
            .lines()
            .any(|l| l.contains(&permissions) && l.contains("\"applied\""))
    });

    // A commit that changes a role group rewrites the file.
    let roles = cfg.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"dave\">",
        "<user name=\"grace\">",
        "grace joins elibrary",
    );
    wait_until(LIMIT, "the roles commit to be applied", || {
        d.applied_revision().as_deref() == Some(roles.as_str())
    });
    let after = read(&access);
    assert!(
        after.contains("elibrary-project_user = carol, grace\n"),
        "{after}"
    );
    assert_ne!(after, bytes);
    assert_ne!(stamp(&access).0, before.0, "the file was not replaced");
}
