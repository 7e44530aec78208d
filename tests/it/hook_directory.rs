//! The hooks, `rolesync diff` and `GET /v1/diff` with the daemon's
//! directory answer (issue 16): a daemon syncing a real slapd (`slapd.rs`)
//! stores it (`directory.snapshot` in the state folder); a Git pre-receive
//! hook given that folder judges a push with the daemon's members, and
//! `rolesync diff --state-dir` / `--directory-snapshot` compare with them.

use std::path::Path;
use std::time::Duration;

use crate::daemon::{Config, Daemon, wait_until};
use crate::slapd::{self, Options, Slapd};
use crate::util::{self, git, git_output};

const LIMIT: Duration = Duration::from_secs(30);

/// The directory: the sample accounts, `cn=admins` holding alice.
fn directory() -> Slapd {
    let people = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    ];
    let mut ldif: String = people.iter().map(|p| slapd::person(p, "")).collect();
    ldif.push_str(&slapd::group("admins", &[slapd::person_dn("alice")]));
    Slapd::new(Options::default(), &ldif)
}

const ADMINS_ROLE: &str =
    "    <group name=\"admins\">\n        <role name=\"admin\"/>\n    </group>\n";

/// The sample configuration whose only admin, alice, is one through the
/// user group `admins`, filled by the directory's `cn=admins` (its policy
/// tests, which name alice an admin, left out: the guard rail is what is
/// judged). Returns the commit before.
fn admins_from_directory(config: &Config) -> String {
    let before = config.head();
    let work = config.work();
    let edit = |file: &str, from: &str, to: &str| {
        let path = work.join(file);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
    };
    let ldap = format!(
        "    <group id=\"admins\" ldap=\"{}\"/>\n</user-groups>",
        slapd::group_dn("admins")
    );
    edit(
        ".polarion/user-management/groups.xml",
        "</user-groups>",
        &ldap,
    );
    let roles = ".polarion/security/user-roles.xml";
    edit(roles, "        <role name=\"admin\"/>\n", "");
    edit(
        roles,
        "</user-roles>",
        &format!("{ADMINS_ROLE}</user-roles>"),
    );
    git(&work, &["rm", "-q", ".polarion/tests/access.toml"]);
    git(&work, &["commit", "-q", "-am", "admins from the directory"]);
    before
}

/// A daemon on `repo` syncing `server`, its state folder `state`.
fn daemon(config: &Config, repo: &Path, server: &Slapd) -> Daemon {
    let toml = config.path("rolesync.toml");
    let ldap = server.settings_toml("sync_interval = \"1s\"\ntimeout = \"5s\"\n");
    std::fs::write(&toml, format!("[ldap]\n{ldap}")).expect("write the config file");
    let toml = toml.to_str().expect("a UTF-8 path");
    let d = Daemon::start(
        repo,
        &config.path("access"),
        &config.path("state"),
        &["--config", toml],
    );
    wait_until(LIMIT, "the directory's answer applied", || {
        let s = d.status()["directory"].clone();
        s["revision"].is_string() && s["revision"] == s["applied_revision"]
    });
    d
}

fn commit_and_push(clone: &Path, file: &str, from: &str, to: &str) -> (bool, String) {
    let path = clone.join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
    git(clone, &["commit", "-q", "-am", "a change"]);
    let out = git_output(clone, &["push", "origin", "main"]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn diff(args: &[&str]) -> String {
    let out = util::rolesync()
        .arg("diff")
        .args(args)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    util::stdout(&out)
}

#[test]
fn a_push_is_judged_and_a_diff_made_with_the_daemons_directory_answer() {
    let server = directory();
    let config = Config::new();
    let initial = admins_from_directory(&config);
    let set_up = config.head();
    let (bare, clone) = crate::hooks::bare_with_hooks(&config);
    let d = daemon(&config, &bare, &server);
    let state = config.path("state");
    assert!(state.join("directory.snapshot").is_file());
    let revision = d.status()["directory"]["revision"]
        .as_str()
        .expect("a revision")
        .to_owned();

    // Accepted as the daemon would: alice is an admin, nothing unknown.
    let (ok, stderr) = commit_and_push(
        &clone,
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"dave\">",
        "<user name=\"heidi\">",
    );
    assert!(ok, "{stderr}");
    assert!(
        !stderr.contains("ldap-members-unknown"),
        "judged with the daemon's answer:\n{stderr}"
    );

    // Refused as the daemon would: the last admin, one through the directory.
    let roles = ".polarion/security/user-roles.xml";
    let (ok, stderr) = commit_and_push(&clone, roles, ADMINS_ROLE, "");
    assert!(!ok, "the last admin removed must be refused:\n{stderr}");
    assert!(
        stderr.contains("error[rail-last-admin]") && stderr.contains("alice"),
        "{stderr}"
    );

    // The refused commit's diff names the directory with --state-dir …
    let (old, new) = (
        git(&clone, &["rev-parse", "HEAD~1"]),
        git(&clone, &["rev-parse", "HEAD"]),
    );
    let repo = clone.to_str().expect("UTF-8");
    let state_arg = state.to_str().expect("UTF-8");
    let text = diff(&["--repo", repo, "--state-dir", state_arg, &old, &new]);
    let why = format!(
        "alice left admin (through group admins: member of {} in the directory, snapshot {})",
        slapd::group_dn("admins"),
        &revision[..12]
    );
    assert!(text.contains(&why), "{text}");
    assert!(
        !text.contains("note: groups.xml names directory groups"),
        "{text}"
    );
    // … and with the file itself, in JSON.
    let file = state.join("directory.snapshot");
    let json = diff(&[
        "--repo",
        repo,
        "--format",
        "json",
        "--directory-snapshot",
        file.to_str().expect("UTF-8"),
        &old,
        &new,
    ]);
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let admin = (json["groups"]["changes"]
        .as_array()
        .expect("changes")
        .iter())
    .find(|c| c["group"] == "admin")
    .expect("alice leaves admin")
    .clone();
    assert_eq!(admin["directory"]["snapshot"], revision.as_str(), "{admin}");
    assert_eq!(
        admin["directory"]["member_of"][0]["group"], "admins",
        "{admin}"
    );
    // Without an answer: alice is no admin on either side, and a note says why.
    let text = diff(&["--repo", repo, &old, &new]);
    assert!(!text.contains("alice left admin"), "{text}");
    assert!(
        text.contains("note: groups.xml names directory groups, but no directory answer"),
        "{text}"
    );

    // /v1/diff builds with the daemon's answer: alice stays an admin.
    let (code, body) = d.http("GET", &format!("/v1/diff?from={initial}&to={set_up}"), None);
    assert_eq!(code, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let changes = json["groups"]["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!changes.iter().any(|c| c["group"] == "admin"), "{json}");
    assert_eq!(json["notes"], serde_json::json!([]), "{json}");
}
