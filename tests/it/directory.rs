//! `rolesync serve` with a directory (`[ldap]`, issue 16) against a real
//! slapd (`slapd.rs`): a change in the directory reaches the access file
//! within one sync interval, named in the status, the audit and the reload
//! line; a locked account leaves every group; a
//! stopped directory keeps the last good file and reports stale, a commit
//! meanwhile is built on the last good answer, then it converges; a mass
//! removal is held back (file untouched, audited once) until SIGHUP raises
//! the share; a restart with the directory down builds the same file from
//! the stored answer.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::daemon::{Config, Daemon};
use crate::slapd::{self, Options, Slapd};
use crate::util::git;

/// Every account of `sample-repo` (the directory decides which are active).
const PEOPLE: [&str; 8] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
];
const LIMIT: Duration = Duration::from_secs(30);
/// The sync interval of these tests.
const INTERVAL: Duration = Duration::from_secs(1);

/// The directory: every sample account, and `cn=qa` with `members`.
fn directory(members: &[&str]) -> Slapd {
    let mut ldif: String = PEOPLE.iter().map(|p| slapd::person(p, "")).collect();
    let dns: Vec<String> = members.iter().map(|m| slapd::person_dn(m)).collect();
    ldif.push_str(&slapd::group("qa", &dns));
    Slapd::new(Options::default(), &ldif)
}

/// The sample configuration with `qa-team` (project_tester in elibrary)
/// taken from `cn=qa` instead of its local members.
fn configuration() -> Config {
    let config = Config::new();
    let groups = config.work().join(".polarion/user-management/groups.xml");
    let text = std::fs::read_to_string(&groups).expect("groups.xml");
    let local = "<group id=\"qa-team\" description=\"Quality assurance\">\n        <user name=\"erin\"/>\n        <user name=\"frank\"/>\n        <user name=\"dave\"/>\n    </group>";
    assert!(text.contains(local), "{text}");
    let ldap = format!(
        "<group id=\"qa-team\" description=\"Quality assurance\" ldap=\"{}\"/>",
        slapd::group_dn("qa")
    );
    std::fs::write(&groups, text.replace(local, &ldap)).expect("write groups.xml");
    git(
        &config.work(),
        &["commit", "-q", "-am", "qa-team from the directory"],
    );
    config
}

/// A daemon on `config` syncing `server` every second, `extra` lines in
/// its `[ldap]` table.
struct Setup {
    config: Config,
    daemon: Daemon,
    toml: PathBuf,
}

impl Setup {
    fn start(config: Config, server: &Slapd, extra: &str) -> Setup {
        let toml = config.path("rolesync.toml");
        write_config(&toml, server, extra);
        let daemon = start_daemon(&config, &toml);
        Setup {
            config,
            daemon,
            toml,
        }
    }

    fn access(&self) -> PathBuf {
        self.config.path("access")
    }

    fn state(&self) -> PathBuf {
        self.config.path("state")
    }

    /// The members of the access file's `elibrary-project_tester` group.
    fn testers(&self) -> Vec<String> {
        members_of(&read(&self.access()), "elibrary-project_tester")
    }

    /// The last good answer's revision.
    fn revision(&self) -> String {
        let d = self.directory_status();
        d["revision"].as_str().expect("a revision").to_owned()
    }

    fn directory_status(&self) -> serde_json::Value {
        self.daemon.status()["directory"].clone()
    }

    /// Until the answer in force is the one the served snapshot was built with.
    fn wait_applied(&self, what: &str) {
        self.wait(what, || {
            let d = self.directory_status();
            d["revision"].is_string() && d["revision"] == d["applied_revision"]
        });
    }

    /// Until `cond` holds; on a time-out the panic shows the status, the
    /// file's testers and the log's tail.
    fn wait(&self, what: &str, mut cond: impl FnMut() -> bool) {
        let start = Instant::now();
        while !cond() {
            if start.elapsed() > LIMIT {
                let log = self.daemon.log_lines();
                let tail = &log[log.len().saturating_sub(15)..];
                panic!(
                    "timed out waiting for {what}; testers {:?}; status {}; log:\n{}",
                    self.testers(),
                    self.daemon.status(),
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn write_config(toml: &Path, server: &Slapd, extra: &str) {
    let ldap = server.settings_toml(&format!(
        "sync_interval = \"1s\"\ntimeout = \"5s\"\n{extra}"
    ));
    std::fs::write(toml, format!("[ldap]\n{ldap}")).expect("write the config file");
}

fn start_daemon(config: &Config, toml: &Path) -> Daemon {
    let toml = toml.to_str().expect("a UTF-8 path");
    Daemon::start(
        &config.work(),
        &config.path("access"),
        &config.path("state"),
        &["--config", toml],
    )
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The members of `group` in an access file's `[groups]`, sorted.
fn members_of(access: &str, group: &str) -> Vec<String> {
    let line = access
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{group} = ")));
    let mut members: Vec<String> = line
        .map(|l| l.split(',').map(|m| m.trim().to_owned()).collect())
        .unwrap_or_default();
    members.retain(|m| !m.is_empty());
    members.sort();
    members
}

fn audit_records(state: &Path) -> Vec<serde_json::Value> {
    (read(&state.join("audit.jsonl")).lines())
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect()
}

fn add_member(server: &Slapd, uid: &str) {
    server.modify(&format!(
        "dn: {}\nchangetype: modify\nadd: member\nmember: {}\n",
        slapd::group_dn("qa"),
        slapd::person_dn(uid)
    ));
}

fn remove_members(server: &Slapd, uids: &[&str]) {
    let lines: String = (uids.iter())
        .map(|u| format!("member: {}\n", slapd::person_dn(u)))
        .collect();
    server.modify(&format!(
        "dn: {}\nchangetype: modify\ndelete: member\n{lines}",
        slapd::group_dn("qa")
    ));
}

#[test]
fn a_directory_change_is_applied_within_one_sync_interval_and_named_in_status_and_audit() {
    let server = directory(&["erin", "frank"]);
    let s = Setup::start(configuration(), &server, "");
    s.wait_applied("the first answer applied");
    assert_eq!(s.testers(), ["erin", "frank"], "the directory's members");
    let good = s.revision();
    add_member(&server, "grace");
    let changed = Instant::now();
    s.wait("the new answer applied", || {
        let d = s.directory_status();
        d["revision"] != good.as_str() && d["revision"] == d["applied_revision"]
    });
    let took = changed.elapsed();
    // One interval, and the reload after it (a loaded CI machine: slack).
    assert!(took < INTERVAL + Duration::from_secs(3), "{took:?}");
    assert_eq!(
        s.testers(),
        ["erin", "frank", "grace"],
        "in the access file"
    );
    let status = s.daemon.status();
    let d = &status["directory"];
    let new = d["revision"].as_str().expect("a revision");
    assert_eq!(
        (d["stale"].as_bool(), d["members"].as_u64()),
        (Some(false), Some(3))
    );
    assert!(
        status["triggers"]["directory"].as_u64() >= Some(1),
        "{status}"
    );
    let state = s.state();
    s.wait("the directory's audit record", || {
        audit_records(&state)
            .iter()
            .any(|r| r["directory_revision"] == new)
    });
    let records = audit_records(&state);
    let last = records
        .iter()
        .rfind(|r| r["directory_revision"] == new)
        .expect("a record");
    assert_eq!(
        (last["result"].as_str(), last["source"].as_str()),
        (Some("applied"), Some("directory"))
    );
    assert_eq!(
        last["gained"]["grace"][0], "elibrary-project_tester",
        "{last}"
    );
    assert_eq!(
        last["revision"], status["applied"]["revision"],
        "the revision in force, again"
    );
    assert_eq!(
        records[0]["source"], "both",
        "the first publication: {}",
        records[0]
    );
    assert_eq!(records[0]["directory_revision"], good.as_str());
    let line = s
        .daemon
        .log_lines()
        .into_iter()
        .rfind(|l| l.contains("result=\"applied\""));
    let line = line.expect("a reload line");
    assert!(
        line.contains("source=\"directory\"") && line.contains(&new[..12]),
        "{line}"
    );
}

#[test]
fn a_stopped_directory_keeps_the_last_good_file_and_reports_stale_then_converges() {
    let mut server = directory(&["erin", "frank"]);
    let s = Setup::start(configuration(), &server, "");
    s.wait_applied("the first answer applied");
    let (good, before) = (s.revision(), read(&s.access()));
    server.stop();
    s.wait("stale", || s.directory_status()["stale"] == true);
    let d = s.directory_status();
    assert!(
        d["unreachable_since"].is_string() && d["error"].is_string(),
        "{d}"
    );
    assert!(!d.to_string().contains(slapd::READER_PASSWORD));
    assert_eq!(
        (s.daemon.status()["status"].as_str(), d["revision"].as_str()),
        (Some("ok"), Some(good.as_str()))
    );
    std::thread::sleep(INTERVAL * 2);
    assert_eq!(read(&s.access()), before, "the last good file, untouched");
    // A commit meanwhile is built with the last good answer.
    let commit = s.config.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"carol\">\n        <role name=\"project_user\"/>",
        "<user name=\"carol\">\n        <role name=\"project_user\"/>\n        <role name=\"project_tester\"/>",
        "carol tests too",
    );
    s.wait("the commit applied", || {
        s.daemon.applied_revision().as_deref() == Some(commit.as_str())
    });
    assert!(
        s.testers().contains(&"carol".to_owned()),
        "{}",
        read(&s.access())
    );
    let record = crate::daemon::audit_line(&s.state(), &commit);
    assert_eq!(
        (
            record["source"].as_str(),
            record["directory_revision"].as_str()
        ),
        (Some("repository"), Some(good.as_str()))
    );
    let lines = s.daemon.log_lines();
    let told = lines
        .iter()
        .filter(|l| l.contains("cannot sync the directory"))
        .count();
    assert_eq!(told, 1, "logged once: {lines:#?}");
    server.start();
    add_member(&server, "heidi");
    s.wait("the directory's change applied", || {
        let d = s.directory_status();
        d["revision"] != good.as_str()
            && d["revision"] == d["applied_revision"]
            && d["stale"] == false
    });
    let d = s.directory_status();
    assert_eq!(
        (d["error"].is_null(), d["members"].as_u64()),
        (true, Some(3)),
        "{d}"
    );
    assert!(
        s.daemon
            .log_lines()
            .iter()
            .any(|l| l.contains("the directory answers again"))
    );
}

#[test]
fn a_mass_removal_is_held_back_until_the_share_is_raised() {
    let server = directory(&["dave", "erin", "frank", "grace", "heidi"]);
    let rail = "max_removed_share = 0.2\nmax_removed_floor = 1\n";
    let s = Setup::start(configuration(), &server, rail);
    s.wait_applied("the first answer applied");
    let (good, before) = (s.revision(), read(&s.access()));
    remove_members(&server, &["dave", "erin", "frank"]);
    s.wait("held back", || {
        s.directory_status()["held_back"].is_object()
    });
    let d = s.directory_status();
    let held = d["held_back"]["revision"]
        .as_str()
        .expect("a revision")
        .to_owned();
    let reason = d["held_back"]["reason"].as_str().unwrap_or("");
    assert!(reason.contains("removes 3 of 5 memberships"), "{d}");
    assert_eq!(
        (d["stale"].as_bool(), d["revision"].as_str()),
        (Some(true), Some(good.as_str()))
    );
    // Two more intervals: still the last good file, one audit record.
    std::thread::sleep(INTERVAL * 2);
    assert_eq!(read(&s.access()), before);
    assert_eq!(s.directory_status()["applied_revision"], good.as_str());
    let held_records: Vec<_> = (audit_records(&s.state()).into_iter())
        .filter(|r| r["result"] == "held-back")
        .collect();
    assert_eq!(held_records.len(), 1, "{held_records:?}");
    assert_eq!(held_records[0]["directory_revision"], held.as_str());
    assert_eq!(held_records[0]["source"], "directory");
    // The operator lets it in: a wider share, SIGHUP.
    write_config(
        &s.toml,
        &server,
        "max_removed_share = 0.8\nmax_removed_floor = 1\n",
    );
    let pid = s.daemon.child.id().to_string();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status();
    assert!(hup.expect("kill runs").success());
    s.wait("the removal let in", || {
        let d = s.directory_status();
        d["applied_revision"] == held.as_str() && d["held_back"].is_null()
    });
    assert_eq!(s.directory_status()["members"], 2);
}

#[test]
fn a_restart_with_the_directory_down_builds_on_the_stored_answer() {
    let mut server = directory(&["erin", "frank"]);
    let mut s = Setup::start(configuration(), &server, "");
    s.wait_applied("the first answer applied");
    let (good, before) = (s.revision(), read(&s.access()));
    assert!(s.state().join("directory.snapshot").is_file());
    s.daemon.terminate();
    server.stop();
    // The access file is gone too: the restart must build it again.
    std::fs::remove_file(s.access()).expect("remove the access file");
    s.daemon = start_daemon(&s.config, &s.toml);
    s.wait_applied("the stored answer applied");
    assert_eq!(
        read(&s.access()),
        before,
        "the same file, from the stored answer"
    );
    let d = s.directory_status();
    assert_eq!(
        (d["revision"].as_str(), d["stale"].as_bool()),
        (Some(good.as_str()), Some(true)),
        "{d}"
    );
}

#[test]
fn a_locked_account_leaves_every_group() {
    let server = directory(&["carol", "erin", "frank"]);
    let s = Setup::start(configuration(), &server, "");
    s.wait_applied("the first answer applied");
    assert_eq!(s.testers(), ["carol", "erin", "frank"]);
    // carol also holds roles of her own, from the repository.
    let holds = |access: &str| groups_naming(access, "carol");
    let before = read(&s.access());
    assert!(holds(&before).len() > 2, "{before}");
    server.modify(&format!(
        "dn: {}\nchangetype: modify\nadd: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n",
        slapd::person_dn("carol")
    ));
    s.wait("carol out of qa", || s.testers() == ["erin", "frank"]);
    let access = read(&s.access());
    assert_eq!(holds(&access), Vec::<String>::new(), "{access}");
    let state = s.state();
    s.wait("the lock's audit record", || {
        audit_records(&state).len() >= 2
    });
    let record = audit_records(&state).pop().expect("a record");
    assert_eq!(record["source"], "directory", "{record}");
    // The diff names her as losing access, and every role group she held
    // as left because the directory locked her (so do the audit's `lost`).
    let losing = record["diff"]["losing"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(losing, ["carol"], "{record}");
    let mut lost: Vec<String> = (record["lost"]["carol"]
        .as_array()
        .cloned()
        .unwrap_or_default())
    .iter()
    .filter_map(|g| g.as_str().map(str::to_owned))
    .collect();
    lost.sort();
    let mut held = holds(&before);
    held.sort();
    assert_eq!(lost, held, "{record}");
    let changes = record["diff"]["groups"]["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!changes.is_empty(), "{record}");
    for c in &changes {
        assert_eq!(
            (c["login"].as_str(), c["change"].as_str()),
            (Some("carol"), Some("left")),
            "{c}"
        );
        assert_eq!(c["reasons"], serde_json::json!(["directory-locked"]), "{c}");
        assert_eq!(c["directory"]["locked_by"], "pwdAccountLockedTime", "{c}");
    }
}

/// The `[groups]` lines whose members name `login`.
fn groups_naming(access: &str, login: &str) -> Vec<String> {
    (access.lines())
        .filter_map(|l| l.split_once(" = "))
        .filter(|(_, members)| members.split(',').any(|m| m.trim() == login))
        .map(|(group, _)| group.to_owned())
        .collect()
}
