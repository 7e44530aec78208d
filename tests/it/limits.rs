//! Bounds on configuration input (`snapshot::Limits`), each attack of
//! issue 9 reproduced against the real binary: nesting that used to
//! overflow the stack, inputs that used to take gigabytes, names that used
//! to blow up the access file, look-alike ids, and an empty `--repo`.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::daemon::{Config, Daemon, wait_until};
use crate::util::{self, git};

const UR: &str = r#"<user-roles><user name="alice"><role name="admin"/></user></user-roles>"#;
const USER_ROLES: &str = ".polarion/security/user-roles.xml";
const PERMISSIONS: &str = ".polarion/security/permissions.xml";

/// A temporary configuration folder holding `files`.
fn tree(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("a parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }
    dir
}

/// `rolesync validate --repo dir extra…`, under an address-space limit of
/// 1 GiB, so that a blow-up fails instead of swapping.
fn validate(dir: &Path, extra: &[&str]) -> Output {
    std::process::Command::new("prlimit")
        .arg(format!("--as={}", 1u64 << 30))
        .arg(env!("CARGO_BIN_EXE_rolesync"))
        .arg("validate")
        .arg("--repo")
        .arg(dir)
        .args(extra)
        .env_remove("ROLESYNC_LOG")
        .output()
        .expect("prlimit (util-linux) runs rolesync")
}

/// The run ended with exit 1 (not a signal) and reported `code` as an error.
fn refused(out: &Output, code: &str) -> String {
    let stdout = util::stdout(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1 with {code}; stdout:\n{}\nstderr:\n{}",
        stdout.chars().take(2000).collect::<String>(),
        util::stderr(out).chars().take(2000).collect::<String>()
    );
    assert!(
        stdout.contains(&format!("error[{code}]")),
        "no {code}:\n{}",
        stdout.chars().take(2000).collect::<String>()
    );
    stdout
}

fn nested_query(depth: usize) -> String {
    let q = format!("{}status:a{}", "(".repeat(depth), ")".repeat(depth));
    format!(
        r#"<permissions><customset id="S" title="t">com.polarion.persistence.object.WorkItem({q})</customset><role name="user"><grant permission="@S.read"/></role></permissions>"#
    )
}

#[test]
fn a_query_with_5000_nested_parentheses_is_refused_not_a_stack_overflow() {
    let dir = tree(&[(USER_ROLES, UR.into()), (PERMISSIONS, nested_query(5000))]);
    let out = refused(&validate(dir.path(), &[]), "query-too-deep");
    assert!(
        out.contains(".polarion/security/permissions.xml:1:"),
        "{out}"
    );
    // NOT chains nest too.
    let q = format!("{}status:a", "NOT ".repeat(5000));
    let dir = tree(&[
        (USER_ROLES, UR.into()),
        (
            PERMISSIONS,
            format!(
                r#"<permissions><customset id="S">com.polarion.persistence.object.WorkItem({q})</customset></permissions>"#
            ),
        ),
    ]);
    refused(&validate(dir.path(), &[]), "query-too-deep");
}

#[test]
fn ten_thousand_nested_permission_elements_are_refused() {
    let text = format!(
        "<permissions>\n{}{}</permissions>",
        "<permission name=\"a\">\n".repeat(10_000),
        "</permission>".repeat(10_000)
    );
    let dir = tree(&[(USER_ROLES, UR.into()), (PERMISSIONS, text)]);
    let out = refused(&validate(dir.path(), &[]), "xml-too-deep");
    // The element that is one too deep: line 65 (the root is line 1).
    assert!(
        out.contains(".polarion/security/permissions.xml:65:2: error[xml-too-deep]"),
        "{out}"
    );
}

#[test]
fn fifty_thousand_nested_elements_are_refused() {
    let text = format!(
        "<user-roles>{}{}</user-roles>",
        "<x>".repeat(50_000),
        "</x>".repeat(50_000)
    );
    let dir = tree(&[(USER_ROLES, text)]);
    refused(&validate(dir.path(), &[]), "xml-too-deep");
}

#[test]
fn a_1mb_permissions_file_with_wrapped_grants_is_linear() {
    // 60 nested wrappers with long names, 40,000 grants inside: every
    // grant's joined name used to be 12 KB (a gigabyte for this file).
    let name = "n".repeat(200);
    let text = format!(
        "<permissions>\n{}<role name=\"user\">\n{}</role>{}</permissions>",
        format!("<permission name=\"{name}\">\n").repeat(60),
        "<grant permission=\"p\"/>\n".repeat(40_000),
        "</permission>".repeat(60)
    );
    assert!(text.len() > 900_000);
    let dir = tree(&[(USER_ROLES, UR.into()), (PERMISSIONS, text)]);
    let start = Instant::now();
    let out = refused(&validate(dir.path(), &[]), "name-too-long");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    // Reported once, at the wrapper that makes the name too long, not once per grant.
    assert_eq!(out.matches("error[name-too-long]").count(), 1, "{out}");
}

#[test]
fn a_1mb_permissions_file_on_one_line_is_linear() {
    // 45,000 grants on one line: every location used to count the line's
    // characters from its start.
    let text = format!(
        "<permissions>{}</permissions>",
        "<role name=\"user\"><grant permission=\"com.polarion.p\"/></role>".repeat(20_000)
            + &"<role name=\"nobody_knows\"><grant permission=\"x\"/></role>".repeat(2_000)
    );
    let dir = tree(&[(USER_ROLES, UR.into()), (PERMISSIONS, text)]);
    let start = Instant::now();
    let out = validate(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    assert!(util::stdout(&out).contains("warning[unknown-role]"));
}

#[test]
fn a_100kb_login_with_2000_roles_is_refused_and_nothing_is_rendered() {
    let login = "a".repeat(100_000);
    let roles: String = (0..2000)
        .map(|i| format!("<role name=\"r{i}\"/>"))
        .collect();
    let dir = tree(&[(
        USER_ROLES,
        format!("<user-roles><user name=\"{login}\">{roles}</user></user-roles>"),
    )]);
    refused(&validate(dir.path(), &[]), "value-too-long");
    // Below the value bound, the name bound refuses it.
    let login = "a".repeat(300);
    let dir = tree(&[(
        USER_ROLES,
        format!("<user-roles><user name=\"{login}\">{roles}</user></user-roles>"),
    )]);
    let stdout = refused(&validate(dir.path(), &[]), "name-too-long");
    assert!(
        stdout.contains(".polarion/security/user-roles.xml:1:25: error[name-too-long]"),
        "{stdout}"
    );
    let out_file = dir.path().join("out");
    let out = util::rolesync()
        .arg("render")
        .arg("--repo")
        .arg(dir.path())
        .arg("-o")
        .arg(&out_file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(!out_file.exists(), "render wrote a file");
}

#[test]
fn a_group_with_many_members_and_roles_stops_at_max_access_bytes() {
    // 2,000 members × 500 roles: 1,000,000 group entries from 60 KB of XML.
    let members: String = (0..2000)
        .map(|i| format!("<user name=\"u{i}\"/>"))
        .collect();
    let roles: String = (0..500).map(|i| format!("<role name=\"r{i}\"/>")).collect();
    let dir = tree(&[
        (
            ".polarion/user-management/groups.xml",
            format!("<user-groups><group id=\"g\">{members}</group></user-groups>"),
        ),
        (
            USER_ROLES,
            format!("<user-roles><group name=\"g\">{roles}</group></user-roles>"),
        ),
        (".polarion/access", "[/]\n* = r\n".into()),
    ]);
    let out = refused(
        &validate(dir.path(), &["--max-access-bytes", "1000000"]),
        "access-file-too-large",
    );
    assert!(out.contains("1000000"), "{out}");
    let ok = validate(dir.path(), &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", util::stdout(&ok));
}

#[test]
fn the_files_of_a_revision_together_are_bounded() {
    let out = refused(
        &validate(
            &util::root().join("sample-repo"),
            &["--max-total-bytes", "2000"],
        ),
        "input-too-large",
    );
    assert!(out.contains("2000"), "{out}");
}

#[test]
fn ids_with_bidi_zero_width_or_look_alike_characters_are_refused() {
    let roles = |name: &str| {
        format!("<user-roles><user name=\"alice\"><role name=\"{name}\"/></user></user-roles>")
    };
    for (name, what) in [
        ("admin\u{202E}nimda", "U+202E"),
        ("ad\u{200B}min", "U+200B"),
        ("\u{FEFF}admin", "U+FEFF"),
        ("\u{2066}admin", "U+2066"),
        ("\u{0430}dmin", "U+0430"),
    ] {
        let dir = tree(&[
            (USER_ROLES, roles(name)),
            (".polarion/access", "[/]\n".into()),
        ]);
        let out = refused(&validate(dir.path(), &[]), "confusable-id");
        assert!(out.contains(what), "{name:?}: {out}");
    }
    // A project folder with a zero-width joiner in its name.
    let dir = tree(&[
        (USER_ROLES, UR.into()),
        (
            "lib\u{200D}/.polarion/polarion-project.xml",
            "<project/>".into(),
        ),
    ]);
    refused(&validate(dir.path(), &[]), "confusable-id");
    // Non-ASCII letters pass with the option; bidi controls never do.
    let dir = tree(&[
        (USER_ROLES, roles("рецензент")),
        (".polarion/access", "[/]\n".into()),
    ]);
    let out = validate(dir.path(), &["--allow-non-ascii-ids"]);
    assert_eq!(out.status.code(), Some(0), "{}", util::stdout(&out));
    let dir = tree(&[
        (USER_ROLES, roles("admin\u{202E}x")),
        (".polarion/access", "[/]\n".into()),
    ]);
    refused(
        &validate(dir.path(), &["--allow-non-ascii-ids"]),
        "confusable-id",
    );
}

#[test]
fn a_folder_without_configuration_is_an_error_and_renders_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("README"), "not a configuration").expect("write");
    let out = refused(&validate(dir.path(), &[]), "no-configuration");
    assert!(!out.contains("access-file-missing"), "{out}");
    let out_file = dir.path().join("access");
    let out = util::rolesync()
        .arg("render")
        .arg("--repo")
        .arg(dir.path())
        .arg("-o")
        .arg(&out_file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(util::stderr(&out).contains("error[no-configuration]"));
    assert!(!out_file.exists(), "render wrote a file");
}

#[test]
fn the_daemon_survives_a_nested_query_and_keeps_the_last_good_file() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let state = cfg.path("state");
    let limit = Duration::from_secs(30);
    let mut d = Daemon::start(&cfg.work(), &access, &state, &[]);
    wait_until(limit, "the first publication", || {
        !std::fs::read_to_string(&access)
            .unwrap_or_default()
            .is_empty()
    });
    let good = std::fs::read_to_string(&access).expect("published");
    std::fs::write(cfg.work().join(PERMISSIONS), nested_query(5000)).expect("write");
    git(
        &cfg.work(),
        &["commit", "-q", "-am", "a deeply nested query"],
    );
    let bad = cfg.head();
    wait_until(limit, "the failed attempt", || {
        d.status()["attempted"]["revision"] == bad.as_str()
    });
    assert_eq!(
        d.status()["attempted"]["errors"][0]["code"],
        "query-too-deep"
    );
    assert!(
        d.child.try_wait().expect("wait").is_none(),
        "the daemon died"
    );
    assert_eq!(std::fs::read_to_string(&access).expect("read"), good);
    // And a restart on that head does not crash either.
    assert!(d.terminate().success());
    let d = Daemon::start(&cfg.work(), &access, &state, &[]);
    wait_until(limit, "the failed attempt after the restart", || {
        d.status()["reloads"]["failed"] == 1
    });
    assert_eq!(std::fs::read_to_string(&access).expect("read"), good);
}

#[test]
fn the_daemon_keeps_the_last_good_file_when_the_configuration_disappears() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config");
    util::copy_tree(&util::root().join("sample-repo"), &config);
    let (access, state) = (dir.path().join("access"), dir.path().join("state"));
    let limit = Duration::from_secs(30);
    let d = Daemon::start(&config, &access, &state, &[]);
    wait_until(limit, "the first publication", || {
        std::fs::read_to_string(&access).is_ok_and(|t| t.contains("[/]"))
    });
    let good = std::fs::read_to_string(&access).expect("published");
    // A wrong or emptied folder: the project folders stay, the global
    // configuration (user-roles.xml and the access file) is gone.
    std::fs::rename(config.join(".polarion"), dir.path().join("moved")).expect("move");
    wait_until(limit, "the failed attempt", || {
        d.status()["attempted"]["errors"][0]["code"] == "no-configuration"
    });
    assert_eq!(d.status()["attempted"]["result"], "failed");
    assert_eq!(std::fs::read_to_string(&access).expect("read"), good);
}

#[test]
fn the_daemon_takes_its_limits_from_the_config_file() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let toml = cfg.path("rolesync.toml");
    std::fs::write(&toml, "max_access_bytes = 100\nmax_xml_depth = 8\n").expect("config file");
    let d = Daemon::start(
        &cfg.work(),
        &access,
        &cfg.path("state"),
        &["--config", toml.to_str().expect("UTF-8 path")],
    );
    wait_until(Duration::from_secs(30), "the refused first reload", || {
        d.status()["attempted"]["errors"][0]["code"] == "access-file-too-large"
    });
    assert!(!access.exists(), "nothing may be published");
}

#[test]
fn the_pre_receive_hook_refuses_a_nested_query_and_a_look_alike_id() {
    let cfg = Config::new();
    let bare = cfg.path("config.git");
    let clone = cfg.path("clone");
    git(
        cfg.dir.path(),
        &["clone", "-q", "--bare", "config", "config.git"],
    );
    let out = util::rolesync()
        .args(["hook", "install", "--repo"])
        .arg(&bare)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    git(cfg.dir.path(), &["clone", "-q", "config.git", "clone"]);
    let before = git(&bare, &["rev-parse", "main"]);
    for (file, text, code) in [
        (PERMISSIONS, nested_query(5000), "query-too-deep"),
        (
            USER_ROLES,
            "<user-roles><user name=\"alice\"><role name=\"\u{0430}dmin\"/></user></user-roles>"
                .to_owned(),
            "confusable-id",
        ),
    ] {
        git(&clone, &["reset", "-q", "--hard", &before]);
        std::fs::write(clone.join(file), text).expect("write");
        git(&clone, &["commit", "-q", "-am", code]);
        let out = util::git_output(&clone, &["push", "origin", "main"]);
        assert!(!out.status.success(), "the push must be refused");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("error[{code}]")), "{stderr}");
        assert_eq!(git(&bare, &["rev-parse", "main"]), before);
    }
}

#[test]
fn the_directory_references_of_groups_xml_are_bounded_by_their_flags() {
    let groups = |attrs: &str| {
        format!(
            "<user-groups><group id=\"qa\" {attrs}><user name=\"alice\"/></group></user-groups>"
        )
    };
    let groups_xml = ".polarion/user-management/groups.xml";
    let dn = "cn=quality-assurance,ou=groups,dc=example,dc=org";
    let dir = tree(&[
        (USER_ROLES, UR.into()),
        (groups_xml, groups(&format!("ldap=\"{dn}\""))),
    ]);
    let ok = validate(dir.path(), &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", util::stdout(&ok));
    let out = refused(
        &validate(dir.path(), &["--max-dn-bytes", "20"]),
        "ldap-invalid-dn",
    );
    assert!(out.contains("20"), "{out}");
    let filter = "(&amp;(|(department=QA)(department=Test))(objectClass=person))";
    let dir = tree(&[
        (USER_ROLES, UR.into()),
        (
            groups_xml,
            groups(&format!(
                "ldap-base=\"dc=example,dc=org\" ldap-filter=\"{filter}\""
            )),
        ),
    ]);
    let ok = validate(dir.path(), &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", util::stdout(&ok));
    refused(
        &validate(dir.path(), &["--max-ldap-filter-depth", "2"]),
        "ldap-invalid-filter",
    );
    refused(
        &validate(dir.path(), &["--max-ldap-filter-bytes", "30"]),
        "ldap-invalid-filter",
    );
}
