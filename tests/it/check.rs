//! `rolesync check` and `rolesync explain`, the real binary on
//! `sample-repo/` and on `tests/data/policy/`: stdout, exit status, the
//! exact 403 body of a refused REST call, and the explained chain.

use crate::util;

const OBJ: &str = "com.polarion.persistence.object.";

/// Run `rolesync <cmd> --repo <repo> <args>`; (exit status, stdout, stderr).
fn run(cmd: &str, repo: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = util::rolesync()
        .arg(cmd)
        .arg("--repo")
        .arg(repo)
        .args(args)
        .output()
        .expect("rolesync runs");
    (
        out.status.code().expect("exited"),
        util::stdout(&out),
        util::stderr(&out),
    )
}

/// Each case is `(arguments, expected stdout)`; the exit status follows
/// the first line (0 allow, 1 deny), and `explain` ends in the same verdict.
fn check(repo: &std::path::Path, cases: &[(&str, &str)]) {
    for (args, expect) in cases {
        let argv = split(args);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let (status, stdout, stderr) = run("check", repo, &argv);
        assert_eq!(stdout, *expect, "check {args}\n{stderr}");
        let want = if stdout.starts_with("allow") { 0 } else { 1 };
        assert_eq!(status, want, "exit status of check {args}");
        let (status, chain, _) = run("explain", repo, &argv);
        assert_eq!(status, want, "exit status of explain {args}\n{chain}");
        let verdict = if want == 0 { "allow" } else { "deny" };
        assert!(
            chain.contains(&format!("decision: {verdict} (")),
            "explain {args} ends in another verdict:\n{chain}"
        );
    }
}

/// Split on spaces, keeping "quoted parts" together.
fn split(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, part) in args.split('"').enumerate() {
        if i % 2 == 1 {
            out.push(part.to_owned());
        } else {
            out.extend(part.split_whitespace().map(str::to_owned));
        }
    }
    out
}

fn sample() -> std::path::PathBuf {
    util::root().join("sample-repo")
}

fn rest_example() -> std::path::PathBuf {
    util::data("policy/rest-example")
}

const FORBIDDEN: &str = r#"{"errors":[{"status":"403","title":"Forbidden","detail":"Sorry, you do not have the necessary permissions to perform this operation. Please contact your Administrator if you need additional permissions.","source":null}]}"#;

#[test]
fn rest_worked_example_global_and_a_allowed_b_refused_with_the_exact_body() {
    let refused = format!("deny\n{FORBIDDEN}\n");
    check(
        &rest_example(),
        &[
            (
                r#"--user u --rest "GET /polarion/rest/v1/projects""#,
                "allow\n",
            ),
            (
                r#"--user u --rest "GET /polarion/rest/v1/projects/A/workitems""#,
                "allow\n",
            ),
            // Endpoint (3): B overrides the custom global role's GET (its
            // permissions.xml); without that override GET would be allowed
            // there (docs/permissions.md). The other verbs are refused.
            (
                r#"--user u --rest "GET /polarion/rest/v1/projects/B/workitems""#,
                &refused,
            ),
            (
                r#"--user u --rest "PATCH /polarion/rest/v1/projects/B/workitems""#,
                &refused,
            ),
            (
                r#"--user u --rest "POST /polarion/rest/v1/projects/B/workitems""#,
                &refused,
            ),
            (
                r#"--user u --rest "DELETE /polarion/rest/v1/projects/B/workitems""#,
                &refused,
            ),
            (
                r#"--user u --rest "DELETE /polarion/rest/v1/projects""#,
                &refused,
            ),
            (r#"--user root --rest "DELETE /projects/B""#, "allow\n"),
            (r#"--user v --rest "GET /projects""#, &refused),
        ],
    );
}

fn rest_layers() -> std::path::PathBuf {
    util::data("policy/rest-layers")
}

/// 000/001, "REST operations require two sets of permissions": the
/// endpoint layer, then the item layer, each refusing with its own body
/// (the item body: "Polarion Resource-Based-Permissions (Item level)",
/// `GET /polarion/rest/v1/projects/A`). `tests/data/policy/rest-layers` is
/// the worked example with item permissions: `u` is project_admin in A
/// (reads the project, reads and modifies work items), `w` is
/// project_user in A (GET granted globally, reads nothing).
#[test]
fn rest_calls_decide_two_layers() {
    let item = |detail: &str| {
        format!(
            "deny\n{{\"errors\":[{{\"status\":\"403\",\"title\":\"Forbidden\",\"detail\":\"{detail}\"}}]}}\n"
        )
    };
    let endpoint = format!("deny\n{FORBIDDEN}\n");
    check(
        &rest_layers(),
        &[
            (
                r#"--user u --rest "GET /polarion/rest/v1/projects/A""#,
                "allow\n",
            ),
            (
                r#"--user w --rest "GET /polarion/rest/v1/projects/A""#,
                &item("You do not have permission to view Project 'A'."),
            ),
            (
                r#"--user u --rest "PATCH /polarion/rest/v1/projects/A/workitems/A-2" --object expanded:linked=false"#,
                "allow\n",
            ),
            (
                r#"--user u --rest "DELETE /polarion/rest/v1/projects/A/workitems/A-2" --object expanded:linked=false"#,
                &item("You do not have permission to delete Work Item 'A-2'."),
            ),
            (
                r#"--user u --rest "POST /polarion/rest/v1/projects/A/workitems" --object expanded:linked=false"#,
                &item("You do not have permission to create Work Item in Project 'A'."),
            ),
            // (Work items need the expansion of the `linked` set, below.)
            // The endpoint layer refuses first: w has GET only.
            (
                r#"--user w --rest "PATCH /polarion/rest/v1/projects/A/workitems/A-2" --object expanded:linked=false"#,
                &endpoint,
            ),
            // A list: the server filters it; the endpoint layer decides.
            (
                r#"--user w --rest "GET /polarion/rest/v1/projects/A/workitems""#,
                "allow\n",
            ),
            (
                r#"--user root --rest "DELETE /polarion/rest/v1/projects/A""#,
                "allow\n",
            ),
        ],
    );
    let (status, out, _) = run(
        "explain",
        &rest_layers(),
        &["--user", "w", "--rest", "GET /polarion/rest/v1/projects/A"],
    );
    assert_eq!(status, 1, "{out}");
    for want in [
        "endpoint layer: allow",
        "item layer: com.polarion.persistence.object.Project.read in project A",
        "decision: deny (refused by the item layer: You do not have permission to view Project 'A'.)",
    ] {
        assert!(out.contains(want), "{want}:\n{out}");
    }
}

/// 002, "Custom Set Permissions", Scenario 2 (comma lists are
/// alternatives), and 003, "Defining Permissions for Artifact Sets" (query
/// expanders): an expander the caller did not expand is refused (exit 2,
/// saying so), never a silent non-match; `expanded:<set>` carries the
/// caller's expansion, and explain says it stood for the expander.
#[test]
fn comma_lists_and_query_expanders() {
    let content = format!("{OBJ}Module.modifyContent");
    let modify = format!("{OBJ}WorkItem.modify");
    let cases = [
        (
            format!(
                "--user w --permission {content} --project A --object document.type=requirements_specification --object status=reviewed"
            ),
            "deny\n",
        ),
        (
            format!(
                "--user w --permission {content} --project A --object document.type=requirements_specification --object status=draft"
            ),
            "allow\n",
        ),
        (
            format!(
                "--user u --permission {modify} --project A --object id=A-2 --object expanded:linked=true"
            ),
            "deny\n",
        ),
        (
            format!(
                "--user u --permission {modify} --project A --object id=A-2 --object expanded:linked.1=false"
            ),
            "allow\n",
        ),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(a, e)| (a.as_str(), *e)).collect();
    check(&rest_layers(), &cases);
    for cmd in ["check", "explain"] {
        let (status, out, err) = run(
            cmd,
            &rest_layers(),
            &["--user", "u", "--permission", &modify, "--project", "A"],
        );
        assert_eq!(status, 2, "{cmd}: {out}{err}");
        assert!(
            err.contains("linkedWorkItems:A-1") && err.contains("expanded:linked.1"),
            "{cmd}: {err}"
        );
    }
    let (_, out, _) = run(
        "explain",
        &rest_layers(),
        &[
            "--user",
            "u",
            "--permission",
            &modify,
            "--project",
            "A",
            "--object",
            "expanded:linked=true",
        ],
    );
    assert!(
        out.contains("query expander linkedWorkItems:A-1 cannot be evaluated without Polarion's database: the caller's expanded:linked=true stands for it"),
        "{out}"
    );
    // Through REST: the item layer reads the same expansion.
    let (status, out, _) = run(
        "check",
        &rest_layers(),
        &[
            "--user",
            "u",
            "--rest",
            "PATCH /polarion/rest/v1/projects/A/workitems/A-2",
            "--object",
            "expanded:linked=true",
        ],
    );
    assert_eq!(status, 1, "{out}");
}

#[test]
fn sample_repo_decisions() {
    let modify = format!("{OBJ}WorkItem.modify");
    let cases = [
        // project_user may modify work items, but not approved ones.
        (
            format!("--user carol --permission {modify} --project elibrary"),
            "allow\n",
        ),
        (
            format!(
                "--user carol --permission {modify} --project elibrary --object status=approved"
            ),
            "deny\n",
        ),
        // drivepilot has its own permissions.xml and custom sets.
        (
            format!(
                "--user grace --permission {OBJ}Module.modifyContent --project drivepilot --object status=draft"
            ),
            "allow\n",
        ),
        (
            format!(
                "--user grace --permission {OBJ}Module.modifyContent --project drivepilot --object status=reviewed"
            ),
            "deny\n",
        ),
        (
            format!(
                "--user heidi --permission {OBJ}Module.resolveComment --project drivepilot --object status=approved"
            ),
            "allow\n",
        ),
        // the severity field is read-only for project users; salary is hidden from auditors.
        (
            format!(
                "--user carol --permission {OBJ}WorkItem.field.severity.modify --project elibrary"
            ),
            "deny\n",
        ),
        (
            format!("--user heidi --permission {OBJ}WorkItem.field.salary.read"),
            "deny\n",
        ),
        // test runs: the QA group's project_tester role in elibrary; comment falls back to modify.
        (
            format!("--user erin --permission {OBJ}TestRun.comment --project elibrary"),
            "allow\n",
        ),
        (
            format!("--user erin --permission {OBJ}TestRun.comment --project qa-tools"),
            "deny\n",
        ),
        // admin is allowed everything; a disabled account nothing.
        (
            format!(
                "--user alice --permission {modify} --project elibrary --object status=approved"
            ),
            "allow\n",
        ),
        (
            "--user dave --permission com.polarion.security.login".to_owned(),
            "deny\n",
        ),
        (
            "--user bob --permission com.polarion.security.login".to_owned(),
            "allow\n",
        ),
        (
            "--user frank --permission com.polarion.security.login".to_owned(),
            "allow\n",
        ),
        (
            "--user mallory --permission com.polarion.security.login".to_owned(),
            "deny\n",
        ),
        // REST: auditors GET global endpoints; elibrary's project_admin may
        // call PATCH there, but modifying the work item is the item layer
        // (000, "REST operations require two sets of permissions"), and
        // sample-repo grants project_admin no WorkItem.modify.
        (
            r#"--user heidi --rest "GET /polarion/rest/v1/projects""#.to_owned(),
            "allow\n",
        ),
        (
            r#"--user bob --rest "PATCH /polarion/rest/v1/projects/elibrary/workitems/EL-1""#
                .to_owned(),
            "deny\n{\"errors\":[{\"status\":\"403\",\"title\":\"Forbidden\",\"detail\":\"You do not have permission to modify Work Item 'EL-1'.\"}]}\n",
        ),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(a, e)| (a.as_str(), *e)).collect();
    check(&sample(), &cases);
}

#[test]
fn explain_prints_the_chain_with_files_lines_and_revision() {
    let (status, out, _) = run(
        "explain",
        &sample(),
        &[
            "--user",
            "carol",
            "--permission",
            &format!("{OBJ}WorkItem.modify"),
            "--project",
            "drivepilot",
            "--object",
            "status=approved",
        ],
    );
    assert_eq!(status, 1);
    let out = out
        .lines()
        .map(|l| match l.strip_prefix("revision: folder-") {
            Some(_) => "revision: folder-REV",
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(out);
}

#[test]
fn explain_shows_group_and_dynamic_roles() {
    let (status, out, _) = run(
        "explain",
        &sample(),
        &[
            "--user",
            "erin",
            "--permission",
            &format!("{OBJ}TestRun.comment"),
            "--project",
            "elibrary",
            "--object",
            "author=erin",
        ],
    );
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("erin → group qa-team → project_tester [project elibrary] (Engineering/elibrary/.polarion/security/user-roles.xml:"),
        "{out}"
    );
    assert!(
        out.contains("erin → author [object: author] → not set"),
        "{out}"
    );
    assert!(
        out.contains("grant com.polarion.persistence.object.TestRun.comment (.polarion/security/permissions.xml:"),
        "{out}"
    );
}

#[test]
fn could_not_run_exits_2() {
    let cases: [(&std::path::Path, &[&str], &str); 4] = [
        (
            &sample(),
            &["--user", "bob", "--permission", "x", "--project", "nope"],
            "there is no project `nope`",
        ),
        (
            &sample(),
            &["--user", "bob", "--rest", "PUT /projects"],
            "no REST verb",
        ),
        (
            &util::data("diag/xml-malformed"),
            &["--user", "bob", "--permission", "x"],
            "invalid",
        ),
        (
            &sample(),
            &["--user", "bob", "--permission", "x", "--object", "novalue"],
            "key=value",
        ),
    ];
    for (repo, args, msg) in cases {
        for cmd in ["check", "explain"] {
            let (status, stdout, stderr) = run(cmd, repo, args);
            assert_eq!(status, 2, "{cmd} {args:?}: {stdout}{stderr}");
            assert!(stderr.contains(msg), "{cmd} {args:?}: {stderr}");
            assert!(stdout.is_empty(), "{cmd} {args:?}: {stdout}");
        }
    }
}

#[test]
fn a_git_revision_is_checked_as_committed() {
    let cfg = crate::daemon::Config::new();
    let first = cfg.head();
    cfg.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"dave\">",
        "<user name=\"grace\">",
        "grace replaces dave in elibrary",
    );
    let args = |rev: &str| {
        vec![
            "--rev".to_owned(),
            rev.to_owned(),
            "--user".to_owned(),
            "grace".to_owned(),
            "--permission".to_owned(),
            format!("{OBJ}WorkItem.create"),
            "--project".to_owned(),
            "elibrary".to_owned(),
        ]
    };
    for (rev, expect) in [(first.as_str(), "deny\n"), ("HEAD", "allow\n")] {
        let a = args(rev);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let (_, out, err) = run("check", &cfg.work(), &a);
        assert_eq!(out, expect, "at {rev}: {err}");
    }
}
