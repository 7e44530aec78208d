//! The daemon's log lines and audit log, on real Git repositories: one
//! `reload` line a reload at the default level, in text or JSON; a bad
//! revision polled again and again is logged and audited once; a real
//! push through the installed hooks names its pusher; the audit log
//! rotates by size without losing or splitting a record.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::daemon::{Config, Daemon, audit_line, wait_until};
use crate::util::{self, git};

const LIMIT: Duration = Duration::from_secs(20);

/// `rolesync serve` on `repo` into the config's `access` and `state`,
/// polling every `poll`, with the default log filter, and `extra` flags.
fn serve(cfg: &Config, repo: &Path, poll: &str, extra: &[&str]) -> Daemon {
    let mut cmd = util::rolesync();
    cmd.env_remove("ROLESYNC_LOG")
        .arg("serve")
        .args(extra)
        .arg("--repo")
        .arg(repo)
        .arg("--access-out")
        .arg(cfg.path("access"))
        .arg("--state-dir")
        .arg(cfg.path("state"))
        .args(["--listen", "127.0.0.1:0", "--poll-interval", poll])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    Daemon::spawn(cmd)
}

/// The daemon's log lines, each parsed as one JSON object (the address
/// line `rolesync: listening on …` is read before them).
fn json_lines(d: &Daemon) -> Vec<serde_json::Value> {
    d.log_lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l}")))
        .collect()
}

/// Wait until the stop line is read (the stderr reader lags the exit).
fn wait_for_stop(d: &Daemon) {
    wait_until(LIMIT, "the stop line", || {
        d.log_lines().iter().any(|l| l.contains("daemon stopped"))
    });
}

/// The `reload` lines among `lines` (JSON).
fn reloads(lines: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    lines.iter().filter(|v| v["message"] == "reload").collect()
}

/// Edit a login in elibrary's roles and commit: returns the commit.
fn role_change(cfg: &Config, to: &str) -> String {
    cfg.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"dave\">",
        &format!("<user name=\"{to}\">"),
        &format!("{to} joins elibrary"),
    )
}

#[test]
fn each_reload_is_one_json_line_by_default_with_author_result_and_groups() {
    let cfg = Config::new();
    let mut d = serve(&cfg, &cfg.work(), "0s", &["--log-format", "json"]);
    let first = cfg.head();
    wait_until(LIMIT, "the first reload", || {
        d.applied_revision().as_deref() == Some(first.as_str())
    });
    let commit = role_change(&cfg, "grace");
    wait_until(LIMIT, "the commit", || {
        d.applied_revision().as_deref() == Some(commit.as_str())
    });
    d.terminate();
    wait_for_stop(&d);
    let lines = json_lines(&d);
    for v in &lines {
        for key in ["timestamp", "level", "target", "message"] {
            assert!(v[key].is_string(), "{key} in {v}");
        }
    }
    let messages: Vec<&str> = lines.iter().filter_map(|v| v["message"].as_str()).collect();
    assert_eq!(messages.first(), Some(&"daemon started"), "{messages:?}");
    assert_eq!(messages.last(), Some(&"daemon stopped"), "{messages:?}");
    let reloads = reloads(&lines);
    assert_eq!(reloads.len(), 2, "{reloads:?}");
    let last = reloads[1];
    assert_eq!(last["level"], "INFO");
    assert_eq!(last["target"], "rolesync::daemon::reload");
    assert_eq!(last["result"], "applied");
    assert_eq!(last["revision"], commit.as_str());
    assert_eq!(last["author"], "Admin");
    // grace joins elibrary's user group; dave (disabled) was in none.
    assert_eq!(
        (last["groups"].as_u64(), last["added"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(last["removed"], 0);
    assert!(last["ms"].is_u64(), "{last}");
}

#[test]
fn the_text_format_shows_the_reload_line_without_v() {
    let cfg = Config::new();
    let d = serve(&cfg, &cfg.work(), "0s", &[]);
    let head = cfg.head();
    wait_until(LIMIT, "the reload line", || {
        d.log_lines()
            .iter()
            .any(|l| l.contains(" INFO ") && l.contains("reload result=\"applied\""))
    });
    let line = d
        .log_lines()
        .into_iter()
        .find(|l| l.contains("reload result"))
        .expect("a line");
    assert!(line.contains(&format!("revision=\"{head}\"")), "{line}");
}

#[test]
fn rolesync_log_overrides_the_default_filter() {
    let cfg = Config::new();
    let mut cmd = util::rolesync();
    cmd.env("ROLESYNC_LOG", "warn,rolesync::daemon::run=info")
        .arg("serve")
        .arg("--repo")
        .arg(cfg.work())
        .arg("--state-dir")
        .arg(cfg.path("state"))
        .args(["--listen", "127.0.0.1:0", "--poll-interval", "0s"])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let mut d = Daemon::spawn(cmd);
    let head = cfg.head();
    wait_until(LIMIT, "the first reload", || {
        d.applied_revision().as_deref() == Some(head.as_str())
    });
    d.terminate();
    wait_for_stop(&d);
    let lines = d.log_lines();
    assert!(lines[0].contains("daemon started"), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("reload")), "{lines:?}");
}

/// The audit records of `state`'s log (`audit.jsonl` only).
fn audit(state: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(state.join("audit.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON record"))
        .collect()
}

#[test]
fn a_bad_revision_polled_again_and_again_is_logged_and_audited_once() {
    let cfg = Config::new();
    let d = serve(&cfg, &cfg.work(), "50ms", &["--log-format", "json"]);
    let state = cfg.path("state");
    audit_line(&state, &cfg.head());
    let bad = cfg.commit_edit(
        ".polarion/security/user-roles.xml",
        "<user name=\"carol\">",
        "<user name=\"carol smith\">",
        "a broken login",
    );
    wait_until(LIMIT, "ten failed polls", || {
        d.status()["reloads"]["failed"].as_u64() >= Some(10)
    });
    let records: Vec<_> = audit(&state)
        .into_iter()
        .filter(|r| r["revision"] == bad.as_str())
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["result"], "failed");
    assert_eq!(records[0]["errors"][0]["code"], "invalid-login");
    let lines = json_lines(&d);
    let failed: Vec<_> = reloads(&lines)
        .into_iter()
        .filter(|v| v["result"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["code"], "invalid-login");
    assert!(
        failed[0]["at"]
            .as_str()
            .is_some_and(|a| a.starts_with(".polarion/security/user-roles.xml:")),
        "{}",
        failed[0]
    );
    let errors = lines.iter().filter(|v| v["level"] == "ERROR").count();
    assert_eq!(errors, 1, "each error of the failure once");

    let fix = cfg.commit_edit(
        ".polarion/security/user-roles.xml",
        "<user name=\"carol smith\">",
        "<user name=\"carol\">",
        "fixed",
    );
    assert_eq!(audit_line(&state, &fix)["result"], "applied");
    let lines = json_lines(&d);
    let ended = lines
        .iter()
        .find(|v| {
            v["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("the repeated failure ended"))
        })
        .expect("the end of the spell is logged");
    assert!(ended["attempts"].as_u64() >= Some(10), "{ended}");
    let records = audit(&state);
    assert_eq!(
        records.iter().filter(|r| r["result"] == "failed").count(),
        1
    );
}

/// `git push origin main` from `clone` with `env` set for the hooks.
fn push(clone: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(clone)
        .args(["push", "-q", "origin", "main"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("git push runs")
}

#[test]
fn a_real_push_names_its_pusher_beside_the_author_in_the_audit_and_the_log() {
    let cfg = Config::new();
    let (bare, clone) = crate::hooks::bare_with_hooks(&cfg);
    let d = serve(&cfg, &bare, "0s", &["--log-format", "json"]);
    let state = cfg.path("state");
    audit_line(&state, &git(&bare, &["rev-parse", "main"]));
    let edit = |to: &str| {
        util::edit(
            &clone.join("Engineering/elibrary/.polarion/security/user-roles.xml"),
            "<user name=\"dave\">",
            &format!("<user name=\"{to}\">"),
        );
        git(&clone, &["commit", "-q", "-am", to]);
        git(&clone, &["rev-parse", "HEAD"])
    };
    let commit = edit("heidi");
    let out = push(&clone, &[("REMOTE_USER", "pat the pusher")]);
    assert!(out.status.success(), "{}", util::stderr(&out));
    let record = audit_line(&state, &commit);
    assert_eq!(
        (&record["author"], &record["pusher"]),
        (&"Admin".into(), &"pat the pusher".into())
    );
    wait_until(LIMIT, "the reload line", || {
        reloads(&json_lines(&d))
            .iter()
            .any(|v| v["revision"] == commit.as_str())
    });
    let lines = json_lines(&d);
    let line = reloads(&lines)
        .into_iter()
        .find(|v| v["revision"] == commit.as_str())
        .expect("line");
    assert_eq!(line["pusher"], "pat the pusher");

    // A name with a control character is not sent: the pusher is unknown.
    util::edit(
        &clone.join("Engineering/elibrary/.polarion/security/user-roles.xml"),
        "<user name=\"heidi\">",
        "<user name=\"dave\">",
    );
    git(&clone, &["commit", "-q", "-am", "back"]);
    let back = git(&clone, &["rev-parse", "HEAD"]);
    let out = push(&clone, &[("REMOTE_USER", "evil\u{1b}[31m")]);
    assert!(out.status.success(), "{}", util::stderr(&out));
    assert!(
        util::stderr(&out).contains("not sent"),
        "{}",
        util::stderr(&out)
    );
    let record = audit_line(&state, &back);
    assert_eq!(record["pusher"], serde_json::Value::Null, "{record}");
}

#[test]
fn pre_receive_names_the_pusher_before_the_branch_moves() {
    let cfg = Config::new();
    let (bare, clone) = crate::hooks::bare_with_hooks(&cfg);
    // Only pre-receive tells: the file watch's reload must find the pusher.
    std::fs::remove_file(bare.join("hooks/post-receive")).expect("no post-receive");
    let d = serve(&cfg, &bare, "0s", &[]);
    let state = cfg.path("state");
    audit_line(&state, &git(&bare, &["rev-parse", "main"]));
    util::edit(
        &clone.join("Engineering/elibrary/.polarion/security/user-roles.xml"),
        "<user name=\"dave\">",
        "<user name=\"heidi\">",
    );
    git(&clone, &["commit", "-q", "-am", "heidi"]);
    let commit = git(&clone, &["rev-parse", "HEAD"]);
    let out = push(&clone, &[("GL_USER", "gitolite-user"), ("REMOTE_USER", "")]);
    assert!(out.status.success(), "{}", util::stderr(&out));
    assert_eq!(audit_line(&state, &commit)["pusher"], "gitolite-user");
    assert_eq!(d.status()["triggers"]["hook"], serde_json::Value::Null);
}

#[test]
fn hostile_notifications_are_ignored_with_a_warning_and_still_reload() {
    use std::io::Write as _;
    let cfg = Config::new();
    let d = serve(&cfg, &cfg.work(), "0s", &["--log-format", "json"]);
    let state = cfg.path("state");
    audit_line(&state, &cfg.head());
    let socket = state.join("rolesync.sock");
    let send = |bytes: &[u8]| {
        let mut s = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
        let _ = s.write_all(bytes);
    };
    let long = format!("reload pusher={}\n", "x".repeat(10_000));
    let hostile: [&[u8]; 5] = [
        long.as_bytes(),
        b"reload pusher=a%0Ab rev=abc\n",
        b"\xff\xfe\x00\n",
        b"reload colour=red\n",
        b"",
    ];
    for bytes in hostile {
        send(bytes);
    }
    wait_until(LIMIT, "a reload for each notification", || {
        d.status()["triggers"]["hook"].as_u64() >= Some(hostile.len() as u64)
    });
    // The log is read from the daemon's stderr by another thread: the
    // lines may arrive after the status counted the reloads.
    let warnings = || {
        json_lines(&d)
            .into_iter()
            .filter(|v| {
                v["level"] == "WARN"
                    && v["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with("hook socket"))
            })
            .count()
    };
    wait_until(LIMIT, "a warning for each hostile line", || warnings() >= 4);
    assert_eq!(warnings(), 4, "{:?}", d.log_lines());
    assert_eq!(d.http("GET", "/healthz", None).0, 200, "still serving");
}

#[test]
fn the_audit_log_rotates_by_size_with_every_record_whole() {
    let cfg = Config::new();
    let toml = cfg.path("rolesync.toml");
    let keys = "audit_max_bytes = 3000\naudit_keep = 20\nlog_format = \"json\"\n";
    std::fs::write(&toml, keys).expect("config");
    let config = format!("--config={}", toml.display());
    // The config file's `log_format` makes the lines JSON (`json_lines`).
    let d = serve(&cfg, &cfg.work(), "0s", &[&config]);
    let state = cfg.path("state");
    let mut commits = vec![cfg.head()];
    // The start's record first (a commit before it would be applied instead).
    audit_line(&state, &commits[0]);
    let mut login = "dave";
    for name in ["grace", "heidi", "ivan", "judy"] {
        let commit = cfg.commit_edit(
            "Engineering/elibrary/.polarion/security/user-roles.xml",
            &format!("<user name=\"{login}\">"),
            &format!("<user name=\"{name}\">"),
            name,
        );
        login = name;
        wait_until(LIMIT, "the commit", || {
            d.applied_revision().as_deref() == Some(commit.as_str())
        });
        commits.push(commit);
    }
    let last = commits.last().expect("a commit").clone();
    audit_line(&state, &last);
    // Every record is whole and found once, in order, across the files.
    let mut revisions = Vec::new();
    for n in (0..=20).rev() {
        let name = match n {
            0 => "audit.jsonl".to_owned(),
            n => format!("audit.jsonl.{n}"),
        };
        let Ok(text) = std::fs::read_to_string(state.join(&name)) else {
            continue;
        };
        assert!(text.len() <= 3000 || text.lines().count() == 1, "{name}");
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("a whole record");
            revisions.push(v["revision"].as_str().expect("revision").to_owned());
        }
    }
    assert!(state.join("audit.jsonl.1").exists(), "rotated");
    assert_eq!(revisions, commits);
    let lines = json_lines(&d);
    assert!(lines.iter().any(|v| v["message"] == "audit log rotated"));
}
