//! Policy tests kept with the configuration (`.polarion/tests/*.toml`):
//! `rolesync test` on `sample-repo/`, and a change that breaks an
//! assertion refused by a real Git pre-receive hook and a real SVN
//! pre-commit hook (with the assertion's file:line on the pusher's
//! terminal) and not applied by the daemon.

use std::time::Duration;

use crate::daemon::{Config, Daemon, wait_until};
use crate::hooks::bare_with_hooks;
use crate::repo_safety::{assert_refused, validate};
use crate::svn::Svn;
use crate::util::{self, edit, git, git_output};

const LIMIT: Duration = Duration::from_secs(20);

/// Drive Pilot's user-roles.xml, and the edit that takes grace's approver
/// role there away: `sample-repo/.polarion/tests/access.toml` says she
/// writes `drivepilot:/safety`, which only approvers do.
const DRIVEPILOT_ROLES: &str = "Engineering/drivepilot/.polarion/security/user-roles.xml";
const APPROVER: &str = "        <role name=\"project_user\"/>\n        <role name=\"project_approver\"/>\n    </user>\n    <user name=\"carol\">";
const NO_APPROVER: &str =
    "        <role name=\"project_user\"/>\n    </user>\n    <user name=\"carol\">";
/// Where the broken assertion is.
const FAILED_AT: &str = ".polarion/tests/access.toml:13:1: error[policy-test-failed]";

#[test]
fn every_assertion_of_the_sample_repo_passes() {
    let out = util::run(
        ["test", "--repo"]
            .map(std::ffi::OsString::from)
            .into_iter()
            .chain([util::root().join("sample-repo").into()]),
    );
    let stdout = util::stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", util::stderr(&out));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 11, "{stdout}");
    assert!(
        lines[..10]
            .iter()
            .all(|l| l.starts_with("pass .polarion/tests/")),
        "{stdout}"
    );
    assert!(
        lines[0]
            .starts_with("pass .polarion/tests/access.toml:6:1 svn alice /elibrary/trunk is rw"),
        "{stdout}"
    );
    assert!(
        lines[10].starts_with("10 assertions: 10 passed, 0 failed (revision "),
        "{stdout}"
    );
    assert!(util::stderr(&out).is_empty(), "{}", util::stderr(&out));

    let out = util::run(
        ["test", "--format", "json", "--repo"]
            .map(std::ffi::OsString::from)
            .into_iter()
            .chain([util::root().join("sample-repo").into()]),
    );
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(
        (
            doc["valid"].clone(),
            doc["passed"].clone(),
            doc["failed"].clone()
        ),
        (true.into(), 10.into(), 0.into())
    );
    assert_eq!(doc["tests"][1]["file"], ".polarion/tests/access.toml");
    assert_eq!(doc["tests"][1]["line"], 13);
    assert_eq!(doc["tests"][1]["got"], "rw");
}

#[test]
fn a_failing_assertion_exits_1_with_its_location_and_explanation() {
    let dir = tempfile::tempdir().expect("temp dir");
    util::copy_tree(&util::root().join("sample-repo"), dir.path());
    edit(&dir.path().join(DRIVEPILOT_ROLES), APPROVER, NO_APPROVER);
    let out = util::rolesync()
        .args(["test", "--repo"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let (stdout, stderr) = (util::stdout(&out), util::stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "FAIL .polarion/tests/access.toml:13:1 svn grace drivepilot:/safety is rw (got r)\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("10 assertions: 9 passed, 1 failed"),
        "{stdout}"
    );
    assert!(stderr.contains(FAILED_AT), "{stderr}");
    // The explanation names the section that decided, with its line.
    assert!(
        stderr.contains("  note:   r  [drivepilot:/safety] (.polarion/access:"),
        "{stderr}"
    );
    let validate = util::rolesync()
        .args(["validate", "--repo"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(validate.status.code(), Some(1));
    assert!(util::stdout(&validate).contains(FAILED_AT));
}

#[test]
fn a_push_that_breaks_an_assertion_is_refused_with_its_file_and_line() {
    let cfg = Config::new();
    let (bare, clone) = bare_with_hooks(&cfg);
    let before = git(&bare, &["rev-parse", "main"]);
    edit(&clone.join(DRIVEPILOT_ROLES), APPROVER, NO_APPROVER);
    git(&clone, &["commit", "-q", "-am", "grace no longer approves"]);
    let out = git_output(&clone, &["push", "origin", "main"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the push must be refused: {stderr}");
    assert!(stderr.contains(&format!("remote: {FAILED_AT}")), "{stderr}");
    assert!(
        stderr.contains("remote:   note:   r  [drivepilot:/safety]"),
        "the pusher sees the explanation: {stderr}"
    );
    assert_eq!(
        git(&bare, &["rev-parse", "main"]),
        before,
        "the branch must not move"
    );

    // Changing the assertion in the same commit makes the change acceptable.
    edit(
        &clone.join(".polarion/tests/access.toml"),
        "repository = \"drivepilot\"\naccess = \"rw\"",
        "repository = \"drivepilot\"\naccess = \"r\"",
    );
    git(
        &clone,
        &[
            "commit",
            "-q",
            "-a",
            "--amend",
            "-m",
            "grace no longer approves; she reads safety",
        ],
    );
    let out = git_output(&clone, &["push", "origin", "main"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_svn_commit_that_breaks_an_assertion_is_refused_with_its_file_and_line() {
    let svn = Svn::new();
    svn.install_hooks();
    let before = svn.youngest();
    let out = svn.commit_edit(DRIVEPILOT_ROLES, APPROVER, NO_APPROVER);
    let stderr = util::stderr(&out);
    assert!(
        !out.status.success(),
        "the commit must be refused: {stderr}"
    );
    assert!(stderr.contains(FAILED_AT), "{stderr}");
    assert!(
        stderr.contains("  note:   r  [drivepilot:/safety]"),
        "{stderr}"
    );
    assert_eq!(svn.youngest(), before, "no revision was made");
}

#[test]
fn the_daemon_keeps_the_last_good_revision_when_an_assertion_fails() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let d = Daemon::start(&cfg.work(), &access, &cfg.path("state"), &[]);
    let read = || std::fs::read_to_string(&access).unwrap_or_default();
    wait_until(LIMIT, "the first publication", || !read().is_empty());
    let good = read();
    let good_revision = cfg.head();
    let bad = cfg.commit_edit(
        DRIVEPILOT_ROLES,
        APPROVER,
        NO_APPROVER,
        "grace no longer approves",
    );
    wait_until(LIMIT, "the failed attempt", || {
        d.status()["attempted"]["revision"] == bad.as_str()
    });
    let status = d.status();
    assert_eq!(status["status"], "degraded");
    let error = &status["attempted"]["errors"][0];
    assert_eq!(
        (
            error["code"].as_str(),
            error["file"].as_str(),
            error["line"].as_u64()
        ),
        (
            Some("policy-test-failed"),
            Some(".polarion/tests/access.toml"),
            Some(13)
        ),
        "{error}"
    );
    assert_eq!(
        read(),
        good,
        "a failing assertion must not touch the access file"
    );
    assert_eq!(
        d.applied_revision().as_deref(),
        Some(good_revision.as_str()),
        "the last good revision stays"
    );
}

/// Every `[[svn]]` answer `rolesync test` gives is what `svnauthz accessof`
/// answers on the rendered access file: for the sample repository and for
/// the change that breaks one of its assertions.
#[test]
fn svn_answers_are_what_svnauthz_accessof_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken");
    util::copy_tree(&util::root().join("sample-repo"), &broken);
    edit(&broken.join(DRIVEPILOT_ROLES), APPROVER, NO_APPROVER);
    let mut checked = 0;
    for (n, repo) in [util::root().join("sample-repo"), broken]
        .iter()
        .enumerate()
    {
        // The access file as rendered without the tests (a revision whose
        // test fails renders nothing).
        let untested = dir.path().join(format!("untested-{n}"));
        util::copy_tree(repo, &untested);
        std::fs::remove_dir_all(untested.join(".polarion/tests")).expect("rm");
        let out = util::rolesync()
            .args(["render", "--repo"])
            .arg(&untested)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
        let rendered = dir.path().join(format!("access-{n}"));
        std::fs::write(&rendered, util::stdout(&out)).expect("write");
        let out = util::rolesync()
            .args(["test", "--format", "json", "--repo"])
            .arg(repo)
            .output()
            .expect("runs");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        for t in doc["tests"].as_array().expect("tests") {
            let what = t["what"].as_str().expect("what");
            let Some(rest) = what.strip_prefix("svn ") else {
                continue;
            };
            let words: Vec<&str> = rest.split(' ').collect();
            let (user, place) = (words[0], words[1]);
            let (repository, path) = match place.split_once(":/") {
                Some((r, p)) => (Some(r), format!("/{p}")),
                None => (None, place.to_owned()),
            };
            let mut cmd = std::process::Command::new("svnauthz");
            cmd.args(["accessof", "--username", user, "--path", &path]);
            if let Some(r) = repository {
                cmd.args(["--repository", r]);
            }
            let svn = cmd.arg(&rendered).output().expect("svnauthz runs");
            assert_eq!(
                svn.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&svn.stderr)
            );
            let want = String::from_utf8_lossy(&svn.stdout).trim().to_owned();
            assert_eq!(t["got"].as_str(), Some(want.as_str()), "{what}");
            checked += 1;
        }
    }
    assert_eq!(checked, 6, "three [[svn]] assertions, two revisions");
}

#[test]
fn a_link_where_the_tests_or_a_test_file_belong_is_refused() {
    let cfg = Config::new();
    let work = cfg.work();
    let good = cfg.head();
    // The tests folder as a link to a folder outside the configuration.
    let outside = cfg.path("outside");
    util::copy_tree(&work.join(".polarion/tests"), &outside);
    git(&work, &["rm", "-q", "-r", ".polarion/tests"]);
    std::os::unix::fs::symlink(&outside, work.join(".polarion/tests")).expect("symlink");
    git(&work, &["add", ".polarion/tests"]);
    git(&work, &["commit", "-q", "-m", "tests elsewhere"]);
    assert_refused(&validate(&work, &[]), ".polarion/tests");

    // One test file as a link.
    git(&work, &["reset", "-q", "--hard", &good]);
    let file = work.join(".polarion/tests/access.toml");
    std::fs::remove_file(&file).expect("rm");
    std::os::unix::fs::symlink("/etc/hostname", &file).expect("symlink");
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "a test elsewhere"]);
    assert_refused(&validate(&work, &[]), ".polarion/tests/access.toml");
}
