//! `rolesync access` as a user runs it: the real binary on files in a
//! temporary folder.

use std::path::Path;
use std::process::{Command, Output};

fn rolesync(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rolesync"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the rolesync binary runs")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("temp folder is writable");
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const AUTHZ: &str = "[groups]\ng = harry\n[/]\n* = r\n[/a]\n@g = rw\n[r1:/a]\nharry = r\n";

#[test]
fn access_prints_the_answer() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "authz", AUTHZ);
    for (args, want) in [
        (&["--user", "harry", "--path", "/a/x"][..], "rw\n"),
        (
            &["--user", "harry", "--path", "/a", "--repository", "r1"][..],
            "r\n",
        ),
        (&["--path", "/a"][..], "r\n"),
        (&["--user", "sally", "--path", "/a"][..], "r\n"),
    ] {
        let mut all = vec!["access"];
        all.extend_from_slice(args);
        all.push("authz");
        let o = rolesync(dir.path(), &all);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), want, "{args:?}");
    }
}

#[test]
fn access_with_groups_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "authz", "[/]\n@g = rw\n");
    write(dir.path(), "groups", "[groups]\ng = harry\n");
    let o = rolesync(
        dir.path(),
        &[
            "access",
            "--user",
            "harry",
            "--path",
            "/",
            "--groups-file",
            "groups",
            "authz",
        ],
    );
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), "rw\n".to_owned()),
        "{}",
        stderr(&o)
    );
}

#[test]
fn invalid_file_gives_located_errors_and_exit_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "authz", "[/]\nh = w\n[x]\n");
    let o = rolesync(dir.path(), &["access", "--path", "/", "authz"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert!(
        err.contains("authz:2:5: error[authz-invalid-access]: "),
        "{err}"
    );
    assert!(
        err.contains("authz:3:1: error[authz-invalid-section]: "),
        "{err}"
    );
}

#[test]
fn invalid_groups_file_is_located_in_the_groups_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "authz", "[/]\n@g = rw\n");
    write(dir.path(), "groups", "[groups]\ng = @nope\n");
    let o = rolesync(
        dir.path(),
        &["access", "--path", "/", "--groups-file", "groups", "authz"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("groups:2:5: error[authz-undefined-group]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn warnings_go_to_stderr_and_keep_exit_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "authz", "[groups]\ne =\n[/]\n* = r\n@e = rw\n");
    let o = rolesync(
        dir.path(),
        &["access", "--user", "x", "--path", "/", "authz"],
    );
    assert_eq!((o.status.code(), stdout(&o)), (Some(0), "r\n".to_owned()));
    assert!(
        stderr(&o).contains("authz:5:1: warning[authz-empty-group-rule]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_file_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = rolesync(dir.path(), &["access", "--path", "/", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope"), "{}", stderr(&o));
}

#[test]
fn recursive_needs_a_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "authz", AUTHZ);
    let o = rolesync(dir.path(), &["access", "-R", "authz"]);
    assert_eq!(o.status.code(), Some(2));
    // Without a path: the highest access anywhere, as svnauthz.
    let o = rolesync(dir.path(), &["access", "--username", "harry", "authz"]);
    assert_eq!((o.status.code(), stdout(&o)), (Some(0), "rw\n".to_owned()));
}

#[test]
fn is_tests_the_access_and_exits_3_on_a_mismatch() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "authz", AUTHZ);
    for (is, code) in [("rw", 0), ("r", 3), ("no", 3)] {
        let o = rolesync(
            dir.path(),
            &[
                "access",
                "--username",
                "harry",
                "--path",
                "/a",
                "--is",
                is,
                "authz",
            ],
        );
        assert_eq!(o.status.code(), Some(code), "--is {is}: {}", stderr(&o));
        assert_eq!(stdout(&o), "", "--is prints nothing");
    }
    let o = rolesync(dir.path(), &["access", "--is", "w", "--path", "/", "authz"]);
    assert_eq!(o.status.code(), Some(2), "a bad --is value");
}

#[test]
fn authz_validate_locates_errors_and_exits_like_svnauthz() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "good", AUTHZ);
    write(dir.path(), "bad", "[/]\nh = w\n[x]\n");
    write(dir.path(), "g.authz", "[/]\n@g = rw\n");
    write(dir.path(), "groups", "[groups]\ng = @nope\n");
    let o = rolesync(dir.path(), &["authz", "validate", "good"]);
    assert_eq!((o.status.code(), stderr(&o)), (Some(0), String::new()));
    let o = rolesync(dir.path(), &["authz", "validate", "bad"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("bad:2:5: error[authz-invalid-access]: "),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("bad:3:1: error[authz-invalid-section]: "),
        "{}",
        stderr(&o)
    );
    let o = rolesync(
        dir.path(),
        &["authz", "validate", "--groups-file", "groups", "g.authz"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("groups:2:5: error[authz-undefined-group]"),
        "{}",
        stderr(&o)
    );
    let o = rolesync(dir.path(), &["authz", "validate", "g.authz"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "@g is undefined without the groups file"
    );
    let o = rolesync(dir.path(), &["authz", "validate", "nope"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn list_shows_the_sections_that_apply() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "authz", AUTHZ);
    let o = rolesync(
        dir.path(),
        &[
            "access",
            "--user",
            "harry",
            "--list",
            "--repository",
            "r1",
            "authz",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "r   authz:3  [/]\n\
         rw  authz:5  [/a]  (replaced by [r1:/a], which applies too)\n\
         r   authz:7  [r1:/a]\n"
    );
}
