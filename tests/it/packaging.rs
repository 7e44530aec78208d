//! What packaging/ ships, checked with the real tools: the unit file by
//! `systemd-analyze verify`, the man pages by `man -l`, the bash
//! completion by sourcing it in bash. (The Debian package itself is built,
//! installed and purged by packaging/check-deb.sh, from scripts/test.sh.)

use std::path::Path;
use std::process::Command;

use crate::util;

const UNIT: &str = include_str!("../../packaging/rolesync.service");

/// The unit with its ExecStart on the binary under test (verify checks
/// that the program exists; the package installs it as /usr/bin/rolesync).
fn unit_for_test() -> String {
    let bin = env!("CARGO_BIN_EXE_rolesync");
    assert!(UNIT.contains("ExecStart=/usr/bin/rolesync serve"));
    UNIT.replace("ExecStart=/usr/bin/rolesync", &format!("ExecStart={bin}"))
}

/// `systemd-analyze verify` of `unit`, with the man pages its
/// Documentation= names on MANPATH; its exit status and stderr.
fn verify(dir: &Path, unit: &str) -> (bool, String) {
    let man1 = dir.join("man/man1");
    let out = util::run(["man".as_ref(), "--out-dir".as_ref(), man1.as_os_str()]);
    assert!(out.status.success(), "{}", util::stderr(&out));
    let path = dir.join("rolesync.service");
    std::fs::write(&path, unit).expect("unit file");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .env("MANPATH", dir.join("man"))
        .env("SYSTEMD_LOG_LEVEL", "notice")
        .output()
        .expect("systemd-analyze runs (Debian's systemd package)");
    (out.status.success(), util::stderr(&out))
}

#[test]
fn the_unit_file_passes_systemd_analyze_verify() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, stderr) = verify(dir.path(), &unit_for_test());
    assert!(ok && stderr.trim().is_empty(), "{stderr}");
}

#[test]
fn systemd_analyze_verify_refuses_a_broken_unit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = unit_for_test().replace("Type=notify", "Type=notfy");
    let (_, stderr) = verify(dir.path(), &broken);
    assert!(stderr.contains("notfy"), "{stderr}");
    let missing = UNIT.replace(
        "ExecStart=/usr/bin/rolesync",
        "ExecStart=/nonexistent/rolesync",
    );
    let (ok, stderr) = verify(dir.path(), &missing);
    assert!(!ok, "{stderr}");
}

#[test]
fn the_unit_is_a_hardened_notify_service_that_reloads_with_sighup() {
    for line in [
        "Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "User=rolesync",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/rolesync -/srv/svn/authz",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectHome=yes",
        "WatchdogSec=30s",
    ] {
        assert!(UNIT.lines().any(|l| l == line), "{line}");
    }
    let example = include_str!("../../packaging/rolesync.toml.example");
    // The example's paths are the ones the unit lets it write.
    assert!(example.contains("state_dir = \"/var/lib/rolesync\""));
    assert!(example.contains("access_out = \"/srv/svn/authz/access\""));
}

#[test]
fn the_bash_completion_registers_and_completes_subcommands() {
    let out = util::run(["completions", "bash"]);
    assert!(out.status.success());
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("rolesync.bash");
    std::fs::write(&script, out.stdout).expect("write");
    let probe = format!(
        "source {}; complete -p rolesync; COMP_WORDS=(rolesync compl); COMP_CWORD=1; _rolesync rolesync compl rolesync; echo \"${{COMPREPLY[*]}}\"",
        script.display()
    );
    let out = Command::new("bash")
        .args(["-c", &probe])
        .output()
        .expect("bash");
    let text = util::stdout(&out);
    assert!(text.contains("-F _rolesync rolesync"), "{text}");
    assert!(text.lines().any(|l| l == "completions"), "{text}");
}

#[test]
fn zsh_and_fish_completions_name_the_subcommands() {
    let zsh = util::stdout(&util::run(["completions", "zsh"]));
    assert!(zsh.starts_with("#compdef rolesync"), "{zsh:.80}");
    let fish = util::stdout(&util::run(["completions", "fish"]));
    assert!(fish.contains("complete -c rolesync") && fish.contains("serve"));
    let bad = util::run(["completions", "powershell"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn the_man_page_renders_with_man() {
    let out = util::run(["man"]);
    assert!(out.status.success());
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("rolesync.1");
    std::fs::write(&page, out.stdout).expect("write");
    let out = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "80")
        .env("MAN_KEEP_FORMATTING", "0")
        .output()
        .expect("man runs (man-db)");
    let text = without_overstrike(&util::stdout(&out));
    assert!(
        text.contains("SUBCOMMANDS") && text.contains("serve"),
        "{text}"
    );
}

/// `man`'s output without its bold and underline (`c\x08c`, `_\x08c`).
fn without_overstrike(text: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if chars.peek() == Some(&'\x08') {
            chars.next();
            continue;
        }
        out.push(c);
    }
    out.into_iter().collect()
}
