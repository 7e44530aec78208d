//! `rolesync fleet status` against real `rolesync serve` processes on
//! loopback: daemons that serve the same revision are ok (exit 0, also
//! with the token a daemon beyond loopback needs); one held on an old
//! revision is named `diverged` and a dead address `unreachable` (exit 1),
//! also among followers of one remote (`serve --remote`).
//! `/metrics` names the applied revision.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use crate::daemon::{Config, Daemon, wait_until};
use crate::follow::Follower;
use crate::util::{self, git};

const LIMIT: Duration = Duration::from_secs(20);

/// `rolesync fleet status ARGS…`, with `ROLESYNC_TOKEN` as given.
fn fleet(args: &[&str], token_env: Option<&str>) -> Output {
    let mut cmd = util::rolesync();
    cmd.args(["fleet", "status"]).args(args);
    match token_env {
        Some(t) => cmd.env("ROLESYNC_TOKEN", t),
        None => cmd.env_remove("ROLESYNC_TOKEN"),
    };
    cmd.output().expect("rolesync runs")
}

/// The line of `url` in the text output.
fn line_of<'a>(out: &'a str, url: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(&format!("{url} ")))
        .unwrap_or_else(|| panic!("no line for {url} in:\n{out}"))
}

/// A daemon on `repo` that listens on every address, with a token.
fn daemon_with_token(repo: &Path, dir: &Path, token: &Path) -> (Daemon, String) {
    let mut cmd = util::rolesync();
    cmd.arg("serve")
        .arg("--repo")
        .arg(repo)
        .arg("--state-dir")
        .arg(dir.join("state-t"))
        .args(["--listen", "0.0.0.0:0", "--poll-interval", "0s"])
        .arg("--token-file")
        .arg(token)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let d = Daemon::spawn(cmd);
    let port = d.addr.rsplit(':').next().expect("a port").to_owned();
    (d, format!("http://127.0.0.1:{port}"))
}

#[test]
fn daemons_on_the_same_revision_are_ok() {
    let cfg = Config::new();
    let head = cfg.head();
    let token = cfg.path("token");
    std::fs::write(&token, "s3cret\n").expect("token file");
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let a = Daemon::start(
        &cfg.work(),
        &cfg.path("access-a"),
        &cfg.path("state-a"),
        &[],
    );
    let (b, b_url) = daemon_with_token(&cfg.work(), cfg.dir.path(), &token);
    let a_url = format!("http://{}", a.addr);
    wait_until(LIMIT, "both daemons to apply the head", || {
        a.applied_revision().as_deref() == Some(head.as_str())
            && b.http("GET", "/v1/status", Some("s3cret"))
                .1
                .contains(&head)
    });
    let token_arg = token.to_str().expect("utf-8");
    let out = fleet(&[&a_url, &b_url, "--token-file", token_arg], None);
    let text = util::stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", util::stderr(&out));
    assert_eq!(text.lines().count(), 2, "{text}");
    for url in [&a_url, &b_url] {
        let line = line_of(&text, url);
        assert!(
            line.contains(&head[..12]) && line.ends_with(" ok"),
            "{line}"
        );
    }
    let json = fleet(&[&a_url, &b_url, "--format", "json"], Some("s3cret"));
    assert_eq!(json.status.code(), Some(0), "{}", util::stdout(&json));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(doc["revision"], head.as_str());
    assert_eq!(doc["servers"][1]["state"], "ok");

    // Without the token the daemon beyond loopback refuses to answer.
    let bare = fleet(&[&a_url, &b_url], None);
    assert_eq!(bare.status.code(), Some(1));
    let line = line_of(&util::stdout(&bare), &b_url).to_owned();
    assert!(
        line.contains("unreachable") && line.contains("401"),
        "{line}"
    );

    let (_, metrics) = a.http("GET", "/metrics", None);
    let series = format!("\nrolesync_applied_revision_info{{revision=\"{head}\"}} 1\n");
    assert!(metrics.contains(&series), "{metrics}");
}

#[test]
fn a_daemon_held_on_an_old_revision_is_named() {
    let cfg = Config::new();
    let old = cfg.head();
    // A second repository that stays at the first commit.
    let held_repo = cfg.path("held");
    git(
        cfg.dir.path(),
        &["clone", "-q", cfg.work().to_str().expect("utf-8"), "held"],
    );
    let a = Daemon::start(
        &cfg.work(),
        &cfg.path("access-a"),
        &cfg.path("state-a"),
        &[],
    );
    let b = Daemon::start(
        &cfg.work(),
        &cfg.path("access-b"),
        &cfg.path("state-b"),
        &[],
    );
    let held = Daemon::start(&held_repo, &cfg.path("access-h"), &cfg.path("state-h"), &[]);
    let new = cfg.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"dave\">",
        "<user name=\"grace\">",
        "grace joins elibrary",
    );
    wait_until(LIMIT, "every daemon to apply its head", || {
        a.applied_revision().as_deref() == Some(new.as_str())
            && b.applied_revision().as_deref() == Some(new.as_str())
            && held.applied_revision().as_deref() == Some(old.as_str())
    });
    let dead = format!("http://127.0.0.1:{}", util::free_port());
    let urls: Vec<String> = [&a, &b, &held]
        .iter()
        .map(|d| format!("http://{}", d.addr))
        .chain([dead.clone()])
        .collect();
    let text = names_the_held(&urls, &old, &new);
    assert!(
        line_of(&text, &dead).contains("unreachable  cannot connect"),
        "{text}"
    );
}

/// Three followers of one remote (`serve --remote file://…`, polling
/// hourly): after a push the two that are notified apply it and the third
/// is held on the revision before; `fleet status` names it (exit 1).
#[test]
fn a_follower_held_on_an_old_revision_is_named() {
    let cfg = Config::new();
    let old = cfg.head();
    let bare = cfg.path("remote.git");
    let bare_arg = bare.to_str().expect("utf-8");
    git(&cfg.work(), &["clone", "-q", "--bare", ".", bare_arg]);
    git(&cfg.work(), &["remote", "add", "origin", bare_arg]);
    let url = format!("file://{bare_arg}");
    let dir = cfg.path("followers");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let followers: Vec<Follower> = (0..3)
        .map(|i| Follower::start(&dir, &format!("f{i}"), &url, &["--remote-poll", "1h"]))
        .collect();
    let applied = |f: &Follower| {
        f.status()["applied"]["revision"]
            .as_str()
            .map(str::to_owned)
    };
    wait_until(LIMIT, "every follower on the first revision", || {
        followers
            .iter()
            .all(|f| applied(f).as_deref() == Some(old.as_str()))
    });
    let new = cfg.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"dave\">",
        "<user name=\"grace\">",
        "grace joins elibrary",
    );
    git(&cfg.work(), &["push", "-q", "origin", "HEAD:main"]);
    followers[..2].iter().for_each(Follower::notify);
    wait_until(LIMIT, "the notified followers to apply the push", || {
        followers[..2]
            .iter()
            .all(|f| applied(f).as_deref() == Some(new.as_str()))
    });
    let urls: Vec<String> = followers
        .iter()
        .map(|f| format!("http://{}", f.addr))
        .collect();
    names_the_held(&urls, &old, &new);
}

/// `fleet status` of `urls` (the first two serve `new`, the third is held
/// on `old`; any further one is the caller's to check) exits 1, says ok for
/// the first two and names the third diverged; its text output.
fn names_the_held(urls: &[String], old: &str, new: &str) -> String {
    let args: Vec<&str> = urls.iter().map(String::as_str).collect();
    let out = fleet(&args, None);
    let text = util::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(line_of(&text, &urls[0]).ends_with(" ok"), "{text}");
    assert!(line_of(&text, &urls[1]).ends_with(" ok"), "{text}");
    let line = line_of(&text, &urls[2]);
    assert!(
        line.contains("diverged") && line.contains(&format!("serves {old}, the fleet {new}")),
        "{text}"
    );
    text
}
