//! One broken configuration tree per diagnostic code (`tests/data/diag/<code>/`),
//! run through the real binary; the output is kept as a snapshot.

use rolesync::diag::{Code, Severity};

use crate::util;

/// `validate` on the tree of `code` (with the extra arguments of its `ARGS`
/// file, if any): the exit status and the diagnostics. A tree whose code
/// only another subcommand can produce names that command line in its
/// `COMMAND` file; it runs in the tree, and its diagnostics are on stderr.
fn validate(code: Code) -> (i32, String) {
    let tree = util::data(&format!("diag/{}", code.as_str()));
    assert!(
        tree.is_dir(),
        "tests/data/diag/{code} is missing: every code needs a broken tree"
    );
    if let Ok(command) = std::fs::read_to_string(tree.join("COMMAND")) {
        let out = util::rolesync()
            .args(command.split_whitespace())
            .current_dir(&tree)
            .output()
            .expect("rolesync runs");
        return (out.status.code().expect("exited"), util::stderr(&out));
    }
    let extra = std::fs::read_to_string(tree.join("ARGS")).unwrap_or_default();
    // In the tree, so that ARGS may name a folder of it (`--previous previous`).
    let out = util::rolesync()
        .current_dir(&tree)
        .arg("validate")
        .arg("--repo")
        .arg(&tree)
        .args(extra.split_whitespace())
        .output()
        .expect("rolesync runs");
    (out.status.code().expect("exited"), util::stdout(&out))
}

/// Codes only a Git history can produce (a tree of `tests/data` holds no
/// commits), or only a directory's answer, each with the test file whose
/// tests produce and assert it.
const PRODUCED_BY_HISTORY: &[(Code, &str, &str)] = &[
    (
        Code::LdapUnknownGroup,
        "../../src/snapshot/directory.rs",
        include_str!("../../src/snapshot/directory.rs"),
    ),
    (
        Code::LdapInvalidMember,
        "../../src/snapshot/directory.rs",
        include_str!("../../src/snapshot/directory.rs"),
    ),
    (Code::CommitUnsigned, "signed.rs", include_str!("signed.rs")),
    (
        Code::CommitSignerNotAllowed,
        "signed.rs",
        include_str!("signed.rs"),
    ),
    (
        Code::CommitSignatureBad,
        "signed.rs",
        include_str!("signed.rs"),
    ),
    (
        Code::CommitSignatureUnchecked,
        "signed.rs",
        include_str!("signed.rs"),
    ),
];

#[test]
fn every_code_has_a_tree_that_produces_it() {
    for &code in Code::ALL {
        if let Some((_, file, text)) = PRODUCED_BY_HISTORY.iter().find(|(c, ..)| *c == code) {
            let quoted = format!("\"{code}\"");
            assert!(
                text.contains(&quoted),
                "tests/it/{file} never asserts {code}"
            );
            continue;
        }
        let (status, out) = validate(code);
        let marker = format!("{}[{}]", code.severity().as_str(), code.as_str());
        assert!(
            out.contains(&marker),
            "tree for {code} does not produce it:\n{out}"
        );
        let has_errors = out.lines().any(|l| l.contains(": error["));
        assert_eq!(
            status,
            i32::from(has_errors),
            "exit status for {code}:\n{out}"
        );
        if code.severity() == Severity::Error {
            assert_eq!(status, 1, "{code} is an error, so the tree is invalid");
        }
        insta::assert_snapshot!(code.as_str(), format!("exit {status}\n{out}"));
    }
}

#[test]
fn render_refuses_invalid_configuration_and_prints_nothing() {
    let tree = util::data("diag/xml-malformed");
    let out = util::run(
        ["render", "--repo"]
            .map(std::ffi::OsString::from)
            .into_iter()
            .chain([tree.into()]),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "render printed an access file for an invalid configuration"
    );
    assert!(util::stderr(&out).contains("error[xml-malformed]"));
}

#[test]
fn json_format_lists_every_diagnostic_with_location() {
    let tree = util::data("diag/invalid-login");
    let out = util::rolesync()
        .args(["validate", "--format", "json", "--repo"])
        .arg(&tree)
        .output()
        .expect("rolesync runs");
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["valid"], false);
    let diags: Vec<&serde_json::Value> = doc["diagnostics"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert_eq!(diags.len(), 2);
    assert_eq!(diags[0]["code"], "invalid-login");
    assert_eq!(diags[0]["file"], ".polarion/security/user-roles.xml");
    assert_eq!(diags[0]["line"], 3);
    assert_eq!(diags[0]["column"], 17);
}

#[test]
fn a_missing_repository_could_not_run() {
    let out = util::run(["validate", "--repo", "/nonexistent/rolesync-test"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(util::stderr(&out).contains("/nonexistent/rolesync-test"));
}
