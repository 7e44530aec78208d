//! The guard rails end to end: a real `git push` through the installed
//! pre-receive hook, a real `svn commit` through pre-commit, and the daemon
//! on a repository committed to without any hook.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::daemon::{Config, Daemon, wait_until};
use crate::hooks::bare_with_hooks;
use crate::svn::{Svn, run};
use crate::util::{git, git_output};

const LIMIT: Duration = Duration::from_secs(20);
const USER_ROLES: &str = ".polarion/security/user-roles.xml";
const ADMIN_ROLE: &str = "<role name=\"admin\"/>";

/// The sample configuration in Git without its policy tests
/// (`.polarion/tests/`), which assert an admin and alice's access too: the
/// rails are what these tests exercise.
fn config() -> Config {
    let cfg = Config::new();
    git(&cfg.work(), &["rm", "-r", "-q", ".polarion/tests"]);
    git(&cfg.work(), &["commit", "-q", "-m", "no policy tests"]);
    cfg
}

/// The same in SVN (revision 2 is the removal), with the hooks installed.
fn svn_config() -> Svn {
    let svn = Svn::new();
    run(Command::new("svn")
        .args(["rm", "-q"])
        .arg(svn.wc().join(".polarion/tests")));
    let out = svn_commit(&svn, "no policy tests");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    svn.install_hooks();
    svn
}

/// Replace `from` by `to` in `file` of the work tree `dir`.
fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

/// Commit everything in the clone and push it: (accepted, stderr).
fn commit_and_push(clone: &Path, message: &str) -> (bool, String) {
    git(clone, &["add", "-A"]);
    git(clone, &["commit", "-q", "-m", message]);
    let out = git_output(clone, &["push", "origin", "main"]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Commit and push what the clone holds, which the hook must refuse with
/// `code`: the branch stays where it was; returns the line of `code`.
fn refused_push(bare: &Path, clone: &Path, message: &str, code: &str) -> String {
    let before = git(bare, &["rev-parse", "main"]);
    let (accepted, stderr) = commit_and_push(clone, message);
    assert!(!accepted, "the push must be refused:\n{stderr}");
    assert_eq!(
        git(bare, &["rev-parse", "main"]),
        before,
        "the branch moved"
    );
    stderr
        .lines()
        .find(|l| l.contains(&format!("error[{code}]")))
        .unwrap_or_else(|| panic!("no {code} line:\n{stderr}"))
        .to_owned()
}

/// A bare repository with the hooks and a clone, whose first pushed
/// commit adds `.polarion/rolesync.toml` with `rails`.
fn with_rails(cfg: &Config, rails: &str) -> (PathBuf, PathBuf) {
    let (bare, clone) = bare_with_hooks(cfg);
    std::fs::write(clone.join(".polarion/rolesync.toml"), rails).expect("write rolesync.toml");
    let (accepted, stderr) = commit_and_push(&clone, "guard rails");
    assert!(accepted, "{stderr}");
    (bare, clone)
}

/// Disable the account `login` in the work tree `dir`.
fn disable(dir: &Path, login: &str) {
    let file = format!(".polarion/user-management/users/{login}/user.xml");
    edit(
        dir,
        &file,
        "</user>",
        "    <field id=\"disabled\">true</field>\n</user>",
    );
}

#[test]
fn a_push_removing_the_last_admin_is_refused_with_the_reason() {
    let cfg = config();
    let (bare, clone) = bare_with_hooks(&cfg);
    edit(&clone, USER_ROLES, ADMIN_ROLE, "");
    let line = refused_push(&bare, &clone, "alice is no admin", "rail-last-admin");
    assert!(
        line.starts_with("remote: .polarion/security/user-roles.xml:1:1:")
            && line.contains("(it had: alice)"),
        "{line}"
    );
}

#[test]
fn a_push_that_disables_every_maintainer_is_refused_and_an_emptied_group_is_reported() {
    let cfg = config();
    let (bare, clone) = with_rails(&cfg, "[rails]\nmaintainers = [\"bob\", \"carol\"]\n");
    disable(&clone, "bob");
    disable(&clone, "carol");
    let line = refused_push(
        &bare,
        &clone,
        "bob and carol leave",
        "rail-maintainer-lockout",
    );
    assert!(
        line.starts_with("remote: .polarion/rolesync.toml:1:1:") && line.contains("bob, carol"),
        "{line}"
    );

    // One maintainer stays: accepted. Emptying the elibrary approvers
    // (whom rules name) is reported to the pusher, not refused.
    git(&clone, &["reset", "-q", "--hard", "origin/main"]);
    disable(&clone, "bob");
    let approvers = "Engineering/elibrary/.polarion/security/user-roles.xml";
    let text = std::fs::read_to_string(clone.join(approvers)).expect("read");
    let emptied = text.replace("<role name=\"project_approver\"/>", "");
    assert_ne!(text, emptied, "the sample has approvers in elibrary");
    std::fs::write(clone.join(approvers), emptied).expect("write");
    let (accepted, stderr) = commit_and_push(&clone, "bob leaves, no approvers");
    assert!(accepted, "{stderr}");
    assert!(
        stderr.contains("warning[rail-emptied-group]")
            && stderr.contains("@elibrary-project_approver"),
        "{stderr}"
    );
}

/// `svn commit` of the working copy with `message`.
fn svn_commit(svn: &Svn, message: &str) -> std::process::Output {
    run(Command::new("svn")
        .args(["commit", "-m", message])
        .arg(svn.wc())
        .arg("--config-dir")
        .arg(svn.path("client")))
}

#[test]
fn svn_pre_commit_refuses_a_lockout_and_removing_the_last_admin() {
    let svn = svn_config();
    // alice holds `rw` on / (through @admin) and is the only one.
    edit(&svn.wc(), ".polarion/access", "@admin = rw", "@admin = r");
    let out = svn_commit(&svn, "read-only for everybody");
    assert!(!out.status.success(), "the commit must be refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".polarion/access:1:1: error[rail-maintainer-lockout]")
            && stderr.contains("(config:/)")
            && stderr.contains(": alice"),
        "{stderr}"
    );
    assert_eq!(svn.youngest(), "2");
    run(Command::new("svn")
        .args(["revert", "-R", "-q"])
        .arg(svn.wc()));

    edit(&svn.wc(), USER_ROLES, ADMIN_ROLE, "");
    let out = svn_commit(&svn, "alice is no admin");
    assert!(!out.status.success(), "the commit must be refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".polarion/security/user-roles.xml:1:1: error[rail-last-admin]"),
        "{stderr}"
    );
    assert_eq!(svn.youngest(), "2");
}

/// The codes of the daemon's last attempt's errors.
fn attempt_codes(status: &serde_json::Value) -> Vec<String> {
    status["attempted"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["code"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn the_daemon_does_not_apply_a_revision_that_breaks_a_rail() {
    let cfg = config();
    let access = cfg.path("access");
    let d = Daemon::start(&cfg.work(), &access, &cfg.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || {
        !std::fs::read_to_string(&access)
            .unwrap_or_default()
            .is_empty()
    });
    let good = std::fs::read_to_string(&access).expect("published");
    let stamp = |m: std::fs::Metadata| (m.ino(), m.mtime(), m.mtime_nsec());
    let published = stamp(std::fs::metadata(&access).expect("stat"));
    // Committed straight into the repository the daemon reads: no hook.
    let bad = cfg.commit_edit(USER_ROLES, ADMIN_ROLE, "", "alice is no admin");
    wait_until(LIMIT, "the refused attempt", || {
        d.status()["attempted"]["revision"] == bad.as_str()
    });
    // Its access file was written beside the judge: refused, it is gone,
    // and the published file is the very one it was.
    let folder = access.parent().expect("folder");
    let temporary: Vec<_> = std::fs::read_dir(folder)
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .filter(|n| rolesync::publish::is_temp_name(access.file_name().expect("name"), n))
        .collect();
    assert!(temporary.is_empty(), "left behind: {temporary:?}");
    assert_eq!(stamp(std::fs::metadata(&access).expect("stat")), published);
    let status = d.status();
    assert_eq!(status["status"], "degraded", "{status}");
    assert_eq!(status["attempted"]["result"], "failed", "{status}");
    assert_eq!(attempt_codes(&status), ["rail-last-admin"], "{status}");
    assert_eq!(
        std::fs::read_to_string(&access).expect("read"),
        good,
        "the access file must not change"
    );
    let audit = std::fs::read_to_string(cfg.path("state/audit.jsonl")).expect("audit log");
    let line = audit
        .lines()
        .find(|l| l.contains(&bad))
        .unwrap_or_else(|| panic!("no audit line for {bad}:\n{audit}"));
    assert!(
        line.contains("\"result\":\"failed\"") && line.contains("error[rail-last-admin]"),
        "{line}"
    );
    // Giving the role back is applied.
    let fixed = cfg.commit_edit(
        USER_ROLES,
        "<user name=\"bob\">",
        "<user name=\"bob\">\n        <role name=\"admin\"/>",
        "bob is admin",
    );
    wait_until(LIMIT, "the fixed revision", || {
        d.applied_revision().as_deref() == Some(fixed.as_str())
    });
}

/// Take the global `user` role from every holder in the work tree `dir`
/// (seven accounts and the qa-team group in the sample).
fn remove_every_user_role(dir: &Path) {
    let path = dir.join(USER_ROLES);
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace("<role name=\"user\"/>", "")).expect("write");
}

#[test]
fn a_mass_removal_is_refused_then_accepted_with_the_trailer_and_the_pusher_sees_the_diff() {
    let cfg = config();
    let (bare, clone) = with_rails(&cfg, "[rails]\nmass_change_logins = 3\n");
    remove_every_user_role(&clone);
    let line = refused_push(&bare, &clone, "nobody is a user", "rail-mass-change");
    assert!(
        line.contains("more than the limit of 3")
            && line.contains("add the line `Rolesync-Allow: mass-change`"),
        "{line}"
    );

    git(
        &clone,
        &[
            "commit",
            "-q",
            "--amend",
            "-m",
            "nobody is a user\n\nRolesync-Allow: mass-change",
        ],
    );
    let out = git_output(&clone, &["push", "origin", "main"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("remote: rolesync: what commit ")
            && stderr.contains("remote:   rolesync diff ")
            && stderr.contains("role groups"),
        "the pusher sees the diff summary:\n{stderr}"
    );
}

#[test]
fn svn_pre_commit_refuses_a_mass_removal_until_the_log_carries_the_trailer() {
    let svn = svn_config();
    std::fs::write(
        svn.wc().join(".polarion/rolesync.toml"),
        "[rails]\nmass_change_logins = 3\n",
    )
    .expect("write rolesync.toml");
    run(Command::new("svn")
        .args(["add", "-q"])
        .arg(svn.wc().join(".polarion/rolesync.toml")));
    let out = svn_commit(&svn, "at most three at once");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    remove_every_user_role(&svn.wc());
    let out = svn_commit(&svn, "nobody is a user");
    assert!(!out.status.success(), "the commit must be refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error[rail-mass-change]")
            && stderr.contains("Rolesync-Allow: mass-change"),
        "{stderr}"
    );
    assert_eq!(svn.youngest(), "3");
    let out = svn_commit(&svn, "nobody is a user\n\nRolesync-Allow: mass-change\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(svn.youngest(), "4");
}

#[test]
fn a_restarted_daemon_judges_the_head_against_the_revision_it_last_applied() {
    let cfg = config();
    let access = cfg.path("access");
    let state = cfg.path("state");
    let mut d = Daemon::start(&cfg.work(), &access, &state, &[]);
    wait_until(LIMIT, "the first publication", || {
        !std::fs::read_to_string(&access)
            .unwrap_or_default()
            .is_empty()
    });
    assert!(d.terminate().success());
    let good = std::fs::read_to_string(&access).expect("published");
    let good_revision = cfg.head();
    // While no daemon runs, a commit without any hook removes the admin.
    let bad = cfg.commit_edit(USER_ROLES, ADMIN_ROLE, "", "alice is no admin");
    let d = Daemon::start(&cfg.work(), &access, &state, &[]);
    wait_until(LIMIT, "the refused attempt", || {
        d.status()["attempted"]["revision"] == bad.as_str()
    });
    let status = d.status();
    assert_eq!(status["status"], "degraded", "{status}");
    assert_eq!(attempt_codes(&status), ["rail-last-admin"], "{status}");
    assert_eq!(
        status["applied"]["revision"].as_str(),
        Some(good_revision.as_str()),
        "the last applied revision is served"
    );
    assert_eq!(std::fs::read_to_string(&access).expect("read"), good);
}

#[test]
fn an_svn_commit_that_empties_a_group_is_committed_and_the_committer_sees_the_warning() {
    let svn = svn_config();
    let approvers = "Engineering/elibrary/.polarion/security/user-roles.xml";
    edit(
        &svn.wc(),
        approvers,
        "<role name=\"project_approver\"/>",
        "",
    );
    let out = svn_commit(&svn, "no approvers in elibrary");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert_eq!(svn.youngest(), "3", "the commit is in:\n{shown}");
    // Subversion shows a post-commit hook's output only when it exits 1,
    // on stdout.
    assert!(
        shown.contains("post-commit hook failed (exit code 1)")
            && shown.contains("warning[rail-emptied-group]")
            && shown.contains("@elibrary-project_approver")
            && shown.contains("rolesync diff 2 -> 3"),
        "{shown}"
    );
}
