//! `rolesync hook …` installed into a real bare repository, exercised by a
//! real `git push`.

use std::time::Duration;

use crate::daemon::{Config, Daemon, wait_until};
use crate::util::{self, git, git_output};

/// A bare `config.git` cloned from a sample configuration, with the hooks
/// installed, and a clone `work` to push from.
pub fn bare_with_hooks(cfg: &Config) -> (std::path::PathBuf, std::path::PathBuf) {
    let bare = cfg.path("config.git");
    let clone = cfg.path("clone");
    git(
        cfg.dir.path(),
        &["clone", "-q", "--bare", "config", "config.git"],
    );
    let out = util::rolesync()
        .args(["hook", "install", "--repo"])
        .arg(&bare)
        .arg("--state-dir")
        .arg(cfg.path("state"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    git(cfg.dir.path(), &["clone", "-q", "config.git", "clone"]);
    (bare, clone)
}

#[test]
fn a_push_with_broken_xml_is_refused_and_the_pusher_sees_path_line_col() {
    let cfg = Config::new();
    let (bare, clone) = bare_with_hooks(&cfg);
    let before = git(&bare, &["rev-parse", "main"]);
    let file = clone.join(".polarion/security/user-roles.xml");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(
        &file,
        text.replace("<user name=\"bob\">", "<user name=\"bob\" >\n<role>"),
    )
    .expect("break");
    git(&clone, &["commit", "-q", "-am", "broken"]);
    let out = git_output(&clone, &["push", "origin", "main"]);
    assert!(!out.status.success(), "the push must be refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("remote: .polarion/security/user-roles.xml:")
            && stderr.contains("error[xml-malformed]"),
        "{stderr}"
    );
    let line = stderr
        .lines()
        .find(|l| l.contains("error[xml-malformed]"))
        .expect("a diagnostic line");
    let location = line
        .trim_start_matches("remote: ")
        .split(": ")
        .next()
        .expect("location");
    assert_eq!(
        location.split(':').count(),
        3,
        "path:line:col, got {location}"
    );
    assert_eq!(
        git(&bare, &["rev-parse", "main"]),
        before,
        "the branch must not move"
    );
}

#[test]
fn a_good_push_is_accepted_and_notifies_the_daemon() {
    let cfg = Config::new();
    let (bare, clone) = bare_with_hooks(&cfg);
    let access = cfg.path("access");
    let d = Daemon::start(&bare, &access, &cfg.path("state"), &[]);
    wait_until(Duration::from_secs(20), "the first publication", || {
        access.exists()
    });
    let file = clone.join("Engineering/elibrary/.polarion/security/user-roles.xml");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(
        &file,
        text.replace("<user name=\"dave\">", "<user name=\"heidi\">"),
    )
    .expect("edit");
    git(&clone, &["commit", "-q", "-am", "heidi joins"]);
    let out = git_output(&clone, &["push", "origin", "main"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = git(&bare, &["rev-parse", "main"]);
    wait_until(Duration::from_secs(20), "the pushed commit", || {
        d.applied_revision().as_deref() == Some(head.as_str())
    });
    wait_until(Duration::from_secs(20), "the hook's notification", || {
        d.status()["triggers"]["hook"].as_u64() >= Some(1)
    });
}

#[test]
fn install_is_idempotent_and_chains_an_existing_hook() {
    let cfg = Config::new();
    let bare = cfg.path("config.git");
    git(
        cfg.dir.path(),
        &["clone", "-q", "--bare", "config", "config.git"],
    );
    let hook = bare.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho chained-hook-ran >&2\ncat >/dev/null\nexit 0\n",
    )
    .expect("existing hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let install = || {
        let out = util::rolesync()
            .args(["hook", "install", "--repo"])
            .arg(&bare)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
        std::fs::read_to_string(&hook).expect("hook")
    };
    let first = install();
    let second = install();
    assert_eq!(first, second);
    assert!(bare.join("hooks/pre-receive.chained").exists());
    git(cfg.dir.path(), &["clone", "-q", "config.git", "clone"]);
    let clone = cfg.path("clone");
    let file = clone.join(".polarion/security/roles.xml");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replace("scope=\"global\"", "scope=\"galaxy\"")).expect("break");
    git(&clone, &["commit", "-q", "-am", "bad scope"]);
    let out = git_output(&clone, &["push", "origin", "main"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("chained-hook-ran"),
        "the old hook runs first: {stderr}"
    );
    assert!(stderr.contains("error[xml-invalid-value]"), "{stderr}");
}
