//! The parser (one file → assertions and located diagnostics) and the
//! runner (through `snapshot::build`, on a small configuration).

use super::*;
use crate::snapshot::{self, Input, Report};

/// `parse` of one file: the assertions' kinds and the diagnostics as
/// `line:col code`.
fn parse_one(text: &str, limits: &Limits) -> (Vec<&'static str>, Vec<String>) {
    let src = Source::new(".polarion/tests/t.toml", text);
    let mut budget = limits.max_test_assertions;
    let (a, d) = parse::parse(&src, limits, &mut budget);
    let kinds = a
        .iter()
        .map(|a| match a.check {
            Check::Svn { .. } => "svn",
            Check::Permission { .. } => "permission",
            Check::Rest { .. } => "rest",
            Check::Group { .. } => "group",
        })
        .collect();
    let diags = d
        .iter()
        .map(|d| format!("{}:{} {}", d.line, d.col, d.code))
        .collect();
    (kinds, diags)
}

fn check_parse(text: &str, kinds: &[&str], diags: &[&str]) {
    let (k, d) = parse_one(text, &Limits::DEFAULT);
    let d: Vec<&str> = d.iter().map(String::as_str).collect();
    assert_eq!((k.as_slice(), d.as_slice()), (kinds, diags), "{text}");
}

#[test]
fn every_kind_parses_in_file_order() {
    check_parse(
        r#"
[[svn]]
user = "alice"
path = "/trunk"
repository = "elibrary"
access = "rw"

[[permission]]
user = "carol"
permission = "com.polarion.persistence.object.WorkItem.modify"
project = "lib"
object = { status = "open", assignee = ["a", "b"] }
expect = "allow"

[[group]]
name = "admin"
never_empty = true
has_member = "alice"
lacks_member = ["mallory"]

[[rest]]
user = "bob"
call = "GET /polarion/rest/v1/projects/lib"
expect = "deny"

[[svn]]
user = "bob"
path = "/"
access = "no"
"#,
        &["svn", "permission", "group", "rest", "svn"],
        &[],
    );
}

#[test]
fn syntax_errors_are_located() {
    check_parse("[[svn]]\nuser = alice\n", &[], &["2:8 policy-test-syntax"]);
}

#[test]
fn unknown_tables_and_keys_are_located_errors() {
    check_parse(
        "[[svm]]\nuser = \"a\"\n",
        &[],
        &["1:3 policy-test-unknown-key"],
    );
    check_parse(
        "[[svn]]\nuser = \"a\"\npath = \"/\"\naccess = \"r\"\nacess = \"rw\"\n",
        &[],
        &["5:1 policy-test-unknown-key"],
    );
}

#[test]
fn missing_keys_wrong_types_and_values_are_invalid() {
    // (text, diagnostics)
    let cases: &[(&str, &[&str])] = &[
        (
            "[[svn]]\nuser = \"a\"\naccess = \"r\"\n",
            &["1:1 policy-test-invalid"],
        ),
        (
            "[[svn]]\nuser = 3\npath = \"/\"\naccess = \"r\"\n",
            &["2:8 policy-test-invalid"],
        ),
        (
            "[[svn]]\nuser = \"a\"\npath = \"/\"\naccess = \"write\"\n",
            &["4:10 policy-test-invalid"],
        ),
        (
            "[[svn]]\nuser = \"a\"\npath = \"trunk\"\naccess = \"r\"\n",
            &["3:8 policy-test-invalid"],
        ),
        (
            "[[permission]]\nuser = \"a\"\npermission = \"p\"\nexpect = \"yes\"\n",
            &["4:10 policy-test-invalid"],
        ),
        (
            "[[permission]]\nuser = \"a\"\npermission = \"p\"\nobject = { n = 1 }\nexpect = \"allow\"\n",
            &["4:16 policy-test-invalid"],
        ),
        (
            "[[rest]]\nuser = \"a\"\ncall = \"GET /projects/../x\"\nexpect = \"allow\"\n",
            &["3:8 policy-test-invalid"],
        ),
        ("[[group]]\nname = \"g\"\n", &["1:1 policy-test-invalid"]),
        (
            "[[group]]\nname = \"g\"\nhas_member = [\"a\", 2]\n",
            &["3:20 policy-test-invalid"],
        ),
        ("svn = 1\n", &["1:7 policy-test-invalid"]),
    ];
    for (text, diags) in cases {
        check_parse(text, &[], diags);
    }
}

#[test]
fn assertions_beyond_the_limits_are_refused() {
    let text = "[[group]]\nname = \"g\"\nnever_empty = true\n".repeat(3);
    let limits = Limits {
        max_test_assertions_per_file: 2,
        ..Limits::DEFAULT
    };
    let (k, d) = parse_one(&text, &limits);
    assert_eq!(k, ["group", "group"]);
    assert_eq!(d, ["7:1 policy-tests-too-many"]);
    let limits = Limits {
        max_test_assertions: 1,
        ..Limits::DEFAULT
    };
    let (k, d) = parse_one(&text, &limits);
    assert_eq!(
        (k.len(), d.as_slice()),
        (1, &["4:1 policy-tests-too-many".to_owned()][..])
    );
}

#[test]
fn test_files_are_told_from_other_files_under_the_folder() {
    assert_eq!(is_test_file(".polarion/tests/a.toml"), Some(true));
    assert_eq!(is_test_file(".polarion/tests/.toml"), Some(false));
    assert_eq!(is_test_file(".polarion/tests/a/b.toml"), Some(false));
    assert_eq!(is_test_file(".polarion/tests/a.txt"), Some(false));
    assert_eq!(is_test_file(".polarion/access"), None);
}

const USER_ROLES: &str = r#"<user-roles>
    <user name="alice"><role name="admin"/><role name="user"/></user>
    <user name="bob"><role name="user"/></user>
    <user name="carol"><role name="user"/></user>
</user-roles>"#;
const PROJECT_ROLES: &str = r#"<user-roles>
    <user name="bob"><role name="project_admin"/></user>
    <user name="carol"><role name="project_user"/></user>
</user-roles>"#;
const PERMISSIONS: &str = r#"<permissions>
    <permission name="com.polarion">
        <role name="project_admin">
            <grant permission="persistence.object.WorkItem.modify"/>
        </role>
    </permission>
</permissions>"#;
const ACCESS: &str = "[groups]\nops = @lib-project_admin, dave\n\n[/]\n@admin = rw\n\n[/lib]\n@lib-project_admin = rw\n@lib-project_user = r\n\n[lib:/secret]\n@lib-project_user =\n";

/// `build` of the small configuration with the test file `tests` (and
/// more files).
fn build(tests: &str, more: &[(&str, &str)]) -> Report {
    let mut files: Vec<(&str, &str)> = vec![
        (snapshot::USER_ROLES, USER_ROLES),
        (snapshot::PERMISSIONS, PERMISSIONS),
        (snapshot::ACCESS_FILE, ACCESS),
        ("lib/.polarion/polarion-project.xml", "<project/>"),
        ("lib/.polarion/security/user-roles.xml", PROJECT_ROLES),
        (".polarion/tests/t.toml", tests),
    ];
    files.extend_from_slice(more);
    let input = Input {
        revision: "7".into(),
        files: files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).into()))
            .collect(),
        ..Input::default()
    };
    snapshot::build(&input)
}

/// The outcomes as `pass|fail got`, and the diagnostics as `line code`.
fn run_one(tests: &str) -> (Vec<String>, Vec<String>) {
    let report = build(tests, &[]);
    let outcomes = report
        .tests
        .iter()
        .map(|o| format!("{} {}", if o.passed { "pass" } else { "fail" }, o.got))
        .collect();
    let diags = report
        .diagnostics
        .iter()
        .filter(|d| d.file.starts_with(TESTS_DIR))
        .map(|d| format!("{} {}", d.line, d.code))
        .collect();
    (outcomes, diags)
}

fn check_run(tests: &str, outcomes: &[&str], diags: &[&str]) {
    let (o, d) = run_one(tests);
    let o: Vec<&str> = o.iter().map(String::as_str).collect();
    let d: Vec<&str> = d.iter().map(String::as_str).collect();
    assert_eq!((o.as_slice(), d.as_slice()), (outcomes, diags), "{tests}");
}

#[test]
fn svn_assertions_are_answered_from_the_rendered_access_file() {
    let svn = |user: &str, repo: &str, path: &str, access: &str| {
        format!("[[svn]]\nuser = \"{user}\"\npath = \"{path}\"\n{repo}access = \"{access}\"\n")
    };
    check_run(&svn("alice", "", "/lib/x", "rw"), &["pass rw"], &[]);
    check_run(&svn("bob", "", "/lib", "rw"), &["pass rw"], &[]);
    check_run(&svn("carol", "", "/lib", "r"), &["pass r"], &[]);
    check_run(&svn("carol", "", "/", "no"), &["pass no"], &[]);
    check_run(
        &svn("carol", "repository = \"lib\"\n", "/secret/a", "no"),
        &["pass no"],
        &[],
    );
    check_run(
        &svn("carol", "", "/lib", "rw"),
        &["fail r"],
        &["1 policy-test-failed"],
    );
}

/// The first `policy-test-failed` of a report.
fn failure(report: &Report) -> &crate::diag::Diagnostic {
    report
        .diagnostics
        .iter()
        .find(|d| d.code == Code::PolicyTestFailed)
        .expect("a failure")
}

#[test]
fn a_failed_svn_assertion_names_the_sections_that_decided() {
    let report = build(
        "[[svn]]\nuser = \"carol\"\npath = \"/lib/src\"\naccess = \"rw\"\n",
        &[],
    );
    let d = failure(&report);
    assert_eq!(
        d.message,
        "carol has `r` on /lib/src, the test expects `rw`"
    );
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("r  [/lib] (.polarion/access:7)")),
        "{:#?}",
        d.notes
    );
    assert!(
        !report.is_valid(),
        "a failing assertion refuses the revision"
    );
}

#[test]
fn permission_and_rest_assertions_are_decided_by_the_policy_index() {
    let perm = |user: &str, expect: &str| {
        format!(
            "[[permission]]\nuser = \"{user}\"\npermission = \"com.polarion.persistence.object.WorkItem.modify\"\nproject = \"lib\"\nexpect = \"{expect}\"\n"
        )
    };
    check_run(&perm("bob", "allow"), &["pass allow"], &[]);
    check_run(&perm("carol", "deny"), &["pass deny"], &[]);
    check_run(&perm("alice", "allow"), &["pass allow"], &[]);
    check_run(
        &perm("carol", "allow"),
        &["fail deny"],
        &["1 policy-test-failed"],
    );
    let rest = |user: &str, expect: &str| {
        format!(
            "[[rest]]\nuser = \"{user}\"\ncall = \"GET /polarion/rest/v1/projects/lib/workitems\"\nexpect = \"{expect}\"\n"
        )
    };
    check_run(&rest("bob", "allow"), &["pass allow"], &[]);
    check_run(&rest("carol", "deny"), &["pass deny"], &[]);
}

#[test]
fn a_failed_permission_assertion_carries_the_explanation() {
    let report = build(
        "[[permission]]\nuser = \"carol\"\npermission = \"com.polarion.persistence.object.WorkItem.modify\"\nproject = \"lib\"\nexpect = \"allow\"\n",
        &[],
    );
    let d = failure(&report);
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("carol → project_user [project lib]")),
        "{:#?}",
        d.notes
    );
    assert!(
        d.notes.iter().any(|n| n.starts_with("decision: deny")),
        "{:#?}",
        d.notes
    );
}

#[test]
fn group_assertions_see_role_groups_and_hand_written_ones() {
    let group = |name: &str, claim: &str| format!("[[group]]\nname = \"{name}\"\n{claim}\n");
    check_run(
        &group("admin", "never_empty = true"),
        &["pass 1 member"],
        &[],
    );
    check_run(
        &group("ops", "has_member = [\"bob\", \"dave\"]"),
        &["pass 2 members"],
        &[],
    );
    check_run(
        &group("ops", "lacks_member = \"carol\""),
        &["pass 2 members"],
        &[],
    );
    check_run(
        &group("lib-project_approver", "never_empty = true"),
        &["fail empty"],
        &["1 policy-test-failed"],
    );
    check_run(
        &group("ops", "lacks_member = \"bob\""),
        &["fail 2 members"],
        &["3 policy-test-failed"],
    );
    check_run(
        &group("ops", "lacks_member = \"mallroy\""),
        &["pass 2 members"],
        &["3 policy-test-unknown-name"],
    );
    check_run(
        &group("nosuch", "never_empty = true"),
        &["fail empty"],
        &["1 policy-test-failed", "2 policy-test-unknown-name"],
    );
}

#[test]
fn unknown_names_warn_and_unknown_projects_are_errors() {
    check_run(
        "[[svn]]\nuser = \"zed\"\npath = \"/\"\naccess = \"no\"\n",
        &["pass no"],
        &["2 policy-test-unknown-name"],
    );
    check_run(
        "[[permission]]\nuser = \"bob\"\npermission = \"com.polarion.nothing\"\nexpect = \"deny\"\n",
        &["pass deny"],
        &["3 policy-test-unknown-name"],
    );
    check_run(
        "[[permission]]\nuser = \"bob\"\npermission = \"com.polarion.persistence.object.WorkItem.modify\"\nproject = \"nope\"\nexpect = \"deny\"\n",
        &[],
        &["4 policy-test-unknown-project"],
    );
    check_run(
        "[[rest]]\nuser = \"bob\"\ncall = \"GET /polarion/rest/v1/projects/nope\"\nexpect = \"deny\"\n",
        &[],
        &["3 policy-test-unknown-project"],
    );
}

#[test]
fn tests_do_not_run_on_a_configuration_with_errors() {
    let report = build(
        "[[svn]]\nuser = \"alice\"\npath = \"/\"\naccess = \"rw\"\n",
        &[("lib/.polarion/security/roles.xml", "<roles")],
    );
    assert!(report.tests.is_empty());
    assert!(!report.is_valid());
}

#[test]
fn other_files_under_the_tests_folder_are_warned_of_and_too_many_files_refused() {
    let report = build("", &[(".polarion/tests/README.md", "notes")]);
    let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert!(codes.contains(&"policy-test-ignored-file"), "{codes:?}");
    assert!(report.is_valid());
    let mut input = Input {
        limits: Limits {
            max_test_files: 1,
            ..Limits::DEFAULT
        },
        ..Input::default()
    };
    for (p, t) in [
        (snapshot::ACCESS_FILE, "[/]\n* = r\n"),
        (".polarion/tests/a.toml", ""),
        (".polarion/tests/b.toml", ""),
    ] {
        input.files.insert(p.into(), t.into());
    }
    let report = snapshot::build(&input);
    let too_many: Vec<&str> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::PolicyTestsTooMany)
        .map(|d| d.file.as_str())
        .collect();
    assert_eq!(too_many, [".polarion/tests/b.toml"]);
}

#[test]
fn a_rule_path_covers_itself_and_what_is_below_it() {
    // (section, path, covers)
    let cases = [
        ("/", "/a", true),
        ("/a", "/a", true),
        ("/a", "/a/b", true),
        ("/a", "/ab", false),
        ("repo:/a", "/a/b", true),
        ("repo:/", "/x", true),
        ("repo:/a/", "/a/b", true),
        ("/a/b", "/a", false),
        (":glob:/**/tags/**", "/x", true),
    ];
    for (section, path, expect) in cases {
        assert_eq!(names::covers(section, path), expect, "[{section}] {path}");
    }
}

#[test]
fn group_members_are_resolved_through_groups_and_aliases() {
    let names = names::AccessNames::of(
        "[aliases]\nci = svc-jenkins\n[groups]\na = x, @b\nb = y, &ci, @c\nc = z\n[repo:/p]\nw = r\n",
    );
    let members = |g: &str| names.members(g).map(|m| m.into_iter().collect::<Vec<_>>());
    assert_eq!(
        members("a"),
        Some(vec![
            "svc-jenkins".to_owned(),
            "x".into(),
            "y".into(),
            "z".into()
        ])
    );
    assert_eq!(members("nosuch"), None);
    assert!(names.repositories.contains("repo"));
    assert!(names.users.contains("w") && names.users.contains("svc-jenkins"));
}

#[test]
fn a_broken_test_file_is_reported_on_a_broken_configuration_too() {
    let report = build(
        "[[svn]]\nuser = alice\n",
        &[("lib/.polarion/security/roles.xml", "<roles")],
    );
    let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert!(codes.contains(&"policy-test-syntax"), "{codes:?}");
}

/// The TOML reader nests arrays, inline tables and dotted keys up to its
/// own limit (80 levels) and refuses deeper ones; at and beyond that
/// limit, a test file is read (and dropped) on a 256 KiB stack, the size
/// `snapshot::fuzz` holds every reader to.
#[test]
fn deeply_nested_toml_is_read_on_a_small_stack() {
    let mut texts = Vec::new();
    for n in [39usize, 40, 79, 80, 81, 10_000] {
        texts.push("a".to_owned() + &".a".repeat(n) + " = 1\n");
        texts.push(format!("[{}]\nb = 1\n", vec!["a"; n].join(".")));
        texts.push("a = ".to_owned() + &"{a = ".repeat(n) + "1" + &"}".repeat(n) + "\n");
        texts.push("a = ".to_owned() + &"[".repeat(n) + &"]".repeat(n) + "\n");
        texts.push("a = ".to_owned() + &"[{a = ".repeat(n) + "1" + &"}]".repeat(n) + "\n");
        texts.push("[[svn]]\nuser = ".to_owned() + &"[".repeat(n) + &"]".repeat(n) + "\n");
    }
    let codes = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            texts
                .iter()
                .map(|t| {
                    let report = build(t, &[]);
                    let d = report
                        .diagnostics
                        .iter()
                        .find(|d| d.file.starts_with(TESTS_DIR));
                    d.map(|d| d.code)
                })
                .collect::<Vec<_>>()
        })
        .expect("spawn a thread")
        .join()
        .expect("no panic, no overflow");
    // Every text is refused: an unknown table `a`, an `svn` of the wrong
    // shape, or nesting beyond the reader's limit.
    assert!(codes.iter().all(Option::is_some), "{codes:?}");
    assert!(codes.contains(&Some(Code::PolicyTestSyntax)), "{codes:?}");
}
