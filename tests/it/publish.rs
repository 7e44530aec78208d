//! Safe publishing and state that heals, against the real daemon and real
//! Git: a folder writable by others cannot redirect the daemon's writes,
//! the access file keeps its owner, group and mode, a symlinked output is
//! followed (never replaced), one daemon per state folder, leftovers and
//! deleted folders are cleaned up and recreated, a corrupt state file is
//! set aside, "degraded" clears, and warnings reach status and metrics.
//! The tests run as root, so they can hand files to nobody:nogroup.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::daemon::{Config, Daemon, wait_until};
use crate::util::{self, git};

const LIMIT: Duration = Duration::from_secs(20);

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn chown(spec: &str, path: &Path, no_dereference: bool) {
    let mut cmd = Command::new("chown");
    if no_dereference {
        cmd.arg("-h");
    }
    let ok = cmd.arg(spec).arg(path).status().expect("chown runs");
    assert!(ok.success(), "chown {spec} {}", path.display());
}

fn gid_of(group: &str) -> u32 {
    let out = Command::new("getent")
        .args(["group", group])
        .output()
        .expect("getent runs");
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    line.split(':')
        .nth(2)
        .and_then(|g| g.trim().parse().ok())
        .unwrap_or_else(|| panic!("no group {group}: {line:?}"))
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .expect("stat")
        .permissions()
        .mode()
        & 0o7777
}

/// Commit a change that moves grace into elibrary; returns the commit.
fn commit_grace(cfg: &Config) -> String {
    cfg.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"dave\">",
        "<user name=\"grace\">",
        "grace joins elibrary",
    )
}

/// Wait until the daemon serves `rev` (its access file is then in place).
fn wait_for_revision(d: &Daemon, rev: &str) {
    wait_until(LIMIT, &format!("the daemon at {rev}"), || {
        d.applied_revision().as_deref() == Some(rev)
    });
}

#[test]
fn a_symlink_planted_at_the_old_temporary_name_is_never_followed() {
    let cfg = Config::new();
    let out = cfg.path("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let access = out.join("access");
    let victim = cfg.path("victim");
    std::fs::write(&victim, "precious\n").expect("write");
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let d = Daemon::start(&cfg.work(), &access, &cfg.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    // Whoever can write the output folder plants the name the daemon used
    // to write through (`.access.rolesync-<pid>.tmp`).
    let planted = out.join(format!(".access.rolesync-{}.tmp", d.child.id()));
    std::os::unix::fs::symlink(&victim, &planted).expect("plant");
    let rev = commit_grace(&cfg);
    wait_until(LIMIT, "the new revision to be published or refused", || {
        let s = d.status();
        s["attempted"]["revision"] == rev.as_str() || read(&victim) != "precious\n"
    });
    assert_eq!(
        read(&victim),
        "precious\n",
        "the daemon wrote through a planted link"
    );
    assert_eq!(
        mode(&victim),
        0o600,
        "the daemon chmodded through a planted link"
    );
    wait_for_revision(&d, &rev);
    assert!(
        std::fs::symlink_metadata(&access)
            .expect("stat")
            .file_type()
            .is_file(),
        "the access file is a regular file"
    );
}

#[test]
fn owner_group_and_mode_of_the_previous_file_are_kept() {
    let cfg = Config::new();
    let access = cfg.path("access");
    std::fs::write(&access, "[/]\n* = r\n").expect("write");
    chown("nobody:nogroup", &access, false);
    std::fs::set_permissions(&access, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let before = std::fs::metadata(&access).expect("stat");
    // Held open so that its inode number cannot be reused by a replacement
    // (ext4 hands a freed inode out again): a new number means a new file.
    let _original = std::fs::File::open(&access).expect("open");
    let d = Daemon::start(&cfg.work(), &access, &cfg.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || {
        d.applied_revision().is_some()
    });
    let rev = commit_grace(&cfg);
    wait_for_revision(&d, &rev);
    let after = std::fs::metadata(&access).expect("stat");
    assert_ne!(before.ino(), after.ino(), "the file was replaced");
    assert_eq!(
        (after.uid(), after.gid(), mode(&access)),
        (before.uid(), before.gid(), 0o640)
    );
    drop(d);
}

#[test]
fn access_mode_and_access_group_set_a_new_file_from_the_config_file_and_flags() {
    let cfg = Config::new();
    let access = cfg.path("out/access");
    let toml = cfg.path("rolesync.toml");
    std::fs::write(
        &toml,
        format!(
            "repo = {:?}\naccess_out = {:?}\nstate_dir = {:?}\npoll_interval = \"0s\"\nlisten = \"127.0.0.1:0\"\naccess_mode = \"0640\"\naccess_group = \"nogroup\"\n",
            cfg.work(),
            access,
            cfg.path("state")
        ),
    )
    .expect("config file");
    let mut child = util::rolesync()
        .arg("serve")
        .arg("--config")
        .arg(&toml)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    let meta = std::fs::metadata(&access).expect("stat");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!((meta.gid(), mode(&access)), (gid_of("nogroup"), 0o640));

    // `render -o` takes the same options, a gid as well as a name.
    let rendered = cfg.path("rendered");
    let o = util::rolesync()
        .args(["render", "--access-mode", "600", "--access-group"])
        .arg(gid_of("nogroup").to_string())
        .arg("--repo")
        .arg(cfg.work())
        .arg("-o")
        .arg(&rendered)
        .output()
        .expect("render");
    assert!(o.status.success(), "{}", util::stderr(&o));
    let meta = std::fs::metadata(&rendered).expect("stat");
    assert_eq!((meta.gid(), mode(&rendered)), (gid_of("nogroup"), 0o600));

    // A mode beyond the permission bits or a group that does not exist is
    // refused before anything is written.
    for (flag, value) in [
        ("--access-mode", "4755"),
        ("--access-mode", "rw-r-----"),
        ("--access-group", "no-such-group-here"),
    ] {
        let o = util::rolesync()
            .args(["render", flag, value, "--repo"])
            .arg(cfg.work())
            .arg("-o")
            .arg(cfg.path("refused"))
            .output()
            .expect("render");
        assert_eq!(o.status.code(), Some(2), "{flag} {value}");
        assert!(util::stderr(&o).contains(value), "{}", util::stderr(&o));
        assert!(!cfg.path("refused").exists());
    }
}

#[test]
fn a_symlinked_access_out_is_followed_and_a_redirected_link_is_refused() {
    let cfg = Config::new();
    let real = cfg.path("svn-conf");
    std::fs::create_dir_all(&real).expect("mkdir");
    let target = real.join("access");
    let link = cfg.path("access");
    std::os::unix::fs::symlink(&target, &link).expect("link");
    let d = Daemon::start(&cfg.work(), &link, &cfg.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || !read(&target).is_empty());
    let rev = commit_grace(&cfg);
    wait_for_revision(&d, &rev);
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("lstat")
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    let good = read(&target);

    // The link now points elsewhere: publishing is refused, nothing moves.
    let elsewhere = cfg.path("elsewhere");
    std::fs::write(&elsewhere, "keep me\n").expect("write");
    std::fs::remove_file(&link).expect("rm");
    std::os::unix::fs::symlink(&elsewhere, &link).expect("relink");
    let bad = cfg.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"grace\">",
        "<user name=\"heidi\">",
        "heidi instead of grace",
    );
    wait_until(LIMIT, "the refused publication", || {
        d.status()["attempted"]["revision"] == bad.as_str()
    });
    let status = d.status();
    assert_eq!(status["attempted"]["result"], "failed", "{status}");
    let message = status["attempted"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("points"), "{message}");
    assert_eq!(read(&elsewhere), "keep me\n");
    assert_eq!(read(&target), good);
}

#[test]
fn a_symlinked_access_out_owned_by_another_user_is_refused_at_start() {
    let cfg = Config::new();
    let victim = cfg.path("victim");
    std::fs::write(&victim, "precious\n").expect("write");
    let link = cfg.path("access");
    std::os::unix::fs::symlink(&victim, &link).expect("link");
    chown("nobody:nogroup", &link, true);
    let out = run_with_timeout(
        util::rolesync()
            .arg("serve")
            .arg("--repo")
            .arg(cfg.work())
            .arg("--access-out")
            .arg(&link)
            .args(["--listen", "127.0.0.1:0", "--poll-interval", "0s"]),
    );
    assert_eq!(out.status.code(), Some(2), "{}", util::stderr(&out));
    assert!(
        util::stderr(&out).contains("symlink"),
        "{}",
        util::stderr(&out)
    );
    assert_eq!(read(&victim), "precious\n");
}

/// Run to the end, or kill after `LIMIT` and fail.
fn run_with_timeout(cmd: &mut Command) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "still running after {LIMIT:?}; stderr: {}",
                util::stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_second_daemon_on_the_same_state_folder_refuses_to_start() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let state = cfg.path("state");
    let d = Daemon::start(&cfg.work(), &access, &state, &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    let out = run_with_timeout(
        util::rolesync()
            .arg("serve")
            .arg("--repo")
            .arg(cfg.work())
            .arg("--access-out")
            .arg(cfg.path("other-access"))
            .arg("--state-dir")
            .arg(&state)
            .args(["--listen", "127.0.0.1:0", "--poll-interval", "0s"]),
    );
    let err = util::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("pid {}", d.child.id())), "{err}");
    assert!(!cfg.path("other-access").exists());
    // The first daemon still owns its hook socket.
    assert_hook_reaches(&d, &state);
}

#[test]
fn leftover_temporary_files_are_removed_at_start_and_nothing_else() {
    let cfg = Config::new();
    let out = cfg.path("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let access = out.join("access");
    let victim = cfg.path("victim");
    std::fs::write(&victim, "precious\n").expect("write");
    let ours = [
        ".access.rolesync-4242.tmp",
        ".access.rolesync-0123456789abcdef.tmp",
    ];
    for name in ours {
        std::fs::write(out.join(name), "half a file").expect("write");
    }
    let link = out.join(".access.rolesync-feedface.tmp");
    std::os::unix::fs::symlink(&victim, &link).expect("link");
    let others = [
        ".access.other.tmp",
        "notes.rolesync-1.tmp",
        ".access.rolesync-1.tmp.keep",
        ".other.rolesync-1.tmp",
    ];
    for name in others {
        std::fs::write(out.join(name), "not ours").expect("write");
    }
    let _d = Daemon::start(&cfg.work(), &access, &cfg.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    for name in ours {
        assert!(!out.join(name).exists(), "{name} is left over");
    }
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "the planted link is removed"
    );
    assert_eq!(read(&victim), "precious\n", "its target is not");
    for name in others {
        assert_eq!(read(&out.join(name)), "not ours", "{name} is not ours");
    }
}

#[test]
fn deleted_output_and_state_folders_are_recreated() {
    let cfg = Config::new();
    let out = cfg.path("out");
    let access = out.join("access");
    let state = cfg.path("state");
    let d = Daemon::start(&cfg.work(), &access, &state, &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    // The audit line comes after state.json: removing the folder between
    // the two would race the daemon's append.
    wait_until(LIMIT, "the state file and the audit line", || {
        state.join("state.json").exists() && !read(&state.join("audit.jsonl")).is_empty()
    });
    std::fs::remove_dir_all(&out).expect("rm out");
    // The hooks' cache (`last-good.files`) is written on the blocking pool
    // after the publication, so a file can appear while the folder is being
    // removed: removed again until it is gone.
    wait_until(LIMIT, "the state folder removed", || {
        std::fs::remove_dir_all(&state).is_ok() || !state.exists()
    });
    let rev = commit_grace(&cfg);
    wait_for_revision(&d, &rev);
    wait_until(LIMIT, "the state file again", || {
        read(&state.join("state.json")).contains(&rev)
    });
    wait_until(LIMIT, "the hook socket again", || {
        state.join("rolesync.sock").exists()
    });
    assert_hook_reaches(&d, &state);
}

#[test]
fn degraded_clears_when_the_branch_is_reset_to_the_applied_commit() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let d = Daemon::start(&cfg.work(), &access, &cfg.path("state"), &[]);
    wait_until(LIMIT, "ok", || d.status()["status"] == "ok");
    let good = cfg.head();
    let bad = cfg.commit_edit(
        ".polarion/security/user-roles.xml",
        "<user name=\"carol\">",
        "<user name=\"carol smith\">",
        "a broken login",
    );
    wait_until(LIMIT, "degraded", || {
        d.status()["attempted"]["revision"] == bad.as_str()
    });
    assert_eq!(d.status()["status"], "degraded");
    // The branch is put back (as a force-push back to the good commit would).
    git(&cfg.work(), &["reset", "-q", "--hard", &good]);
    wait_until(LIMIT, "ok again", || d.status()["status"] == "ok");
    let status = d.status();
    assert_eq!(status["stale_since"], serde_json::Value::Null, "{status}");
    assert_eq!(status["applied"]["revision"], good.as_str());
}

#[test]
fn an_empty_or_corrupt_state_file_is_set_aside_and_rebuilt() {
    for junk in ["", "{\"applied_revision\": tru"] {
        let cfg = Config::new();
        let access = cfg.path("access");
        let state = cfg.path("state");
        std::fs::create_dir_all(&state).expect("mkdir");
        std::fs::write(state.join("state.json"), junk).expect("write");
        let _d = Daemon::start(&cfg.work(), &access, &state, &[]);
        wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
        let head = cfg.head();
        wait_until(LIMIT, "a rebuilt state file", || {
            read(&state.join("state.json")).contains(&head)
        });
        let aside: Vec<String> = std::fs::read_dir(&state)
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("state.json.corrupt-"))
            .collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert_eq!(read(&state.join(&aside[0])), junk);
    }
}

#[test]
fn warnings_of_the_applied_revision_reach_status_metrics_and_audit() {
    let cfg = Config::new();
    let rev = cfg.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<role name=\"project_user\"/>",
        "<role name=\"project_usr\"/>",
        "a misspelt role",
    );
    let access = cfg.path("access");
    let state = cfg.path("state");
    let d = Daemon::start(&cfg.work(), &access, &state, &[]);
    wait_for_revision(&d, &rev);
    wait_until(LIMIT, "the applied reload", || {
        d.status()["reloads"]["applied"] == 1
    });
    let status = d.status();
    let warnings = status["applied"]["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("no warnings in {status}"));
    // The misspelt role leaves the group its grants name empty.
    let code = "authz-empty-group-rule";
    let w = warnings
        .iter()
        .find(|w| w["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {status}"));
    assert_eq!(w["file"], ".polarion/access");
    assert!(w["line"].as_u64().is_some_and(|l| l > 1), "{w}");
    assert!(w["column"].as_u64().is_some(), "{w}");
    assert!(
        w["text"]
            .as_str()
            .is_some_and(|t| t.contains("elibrary-project_user")),
        "{w}"
    );
    let count = warnings.iter().filter(|w| w["code"] == code).count();
    let (_, metrics) = d.http("GET", "/metrics", None);
    assert!(
        metrics.contains(&format!("rolesync_warnings{{code=\"{code}\"}} {count}\n")),
        "{metrics}"
    );
    let line = crate::daemon::audit_line(&state, &rev);
    // Each warning in the one JSON shape of a diagnostic (as in /v1/status).
    let audited = line["warnings"]
        .as_array()
        .and_then(|ws| ws.iter().find(|a| a["code"] == code))
        .unwrap_or_else(|| panic!("no {code} in {line}"));
    assert_eq!(audited, w, "the audit log and /v1/status differ");
}

#[test]
fn a_failed_revision_is_audited_once_however_often_it_is_retried() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let state = cfg.path("state");
    let d = Daemon::start(&cfg.work(), &access, &state, &[]);
    wait_until(LIMIT, "ok", || d.status()["status"] == "ok");
    let bad = cfg.commit_edit(
        ".polarion/security/user-roles.xml",
        "<user name=\"carol\">",
        "<user name=\"carol smith\">",
        "a broken login",
    );
    let failed = || d.status()["reloads"]["failed"].as_u64().unwrap_or(0);
    wait_until(LIMIT, "the failure", || failed() >= 1);
    for _ in 0..2 {
        let before = failed();
        let pid = d.child.id().to_string();
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill runs");
        wait_until(LIMIT, "the retry", || failed() > before);
    }
    let failed = read(&state.join("audit.jsonl"))
        .lines()
        .filter(|l| l.contains(&bad) && l.contains("\"failed\""))
        .count();
    assert_eq!(failed, 1);
}

#[test]
fn a_symlink_planted_at_the_access_file_is_refused_not_followed() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let victim = cfg.path("victim");
    std::fs::write(&victim, "precious\n").expect("write");
    let d = Daemon::start(&cfg.work(), &access, &cfg.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    std::fs::remove_file(&access).expect("rm");
    std::os::unix::fs::symlink(&victim, &access).expect("plant");
    let rev = commit_grace(&cfg);
    wait_until(LIMIT, "the refused publication", || {
        d.status()["attempted"]["revision"] == rev.as_str()
    });
    let status = d.status();
    assert_eq!(status["attempted"]["result"], "failed", "{status}");
    assert!(
        status["attempted"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("symlink")),
        "{status}"
    );
    assert_eq!(read(&victim), "precious\n");
    assert_eq!(status["status"], "degraded");
}

/// `hook post-receive` on `state` reaches the daemon `d` (it owns the
/// hook socket): its hook trigger count goes to 1.
fn assert_hook_reaches(d: &Daemon, state: &std::path::Path) {
    let hook = util::rolesync()
        .args(["hook", "post-receive", "--state-dir"])
        .arg(state)
        .stdin(Stdio::null())
        .output()
        .expect("hook");
    assert!(hook.status.success(), "{}", util::stderr(&hook));
    wait_until(LIMIT, "the hook trigger", || {
        d.status()["triggers"]["hook"] == 1
    });
}
