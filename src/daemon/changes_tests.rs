//! `changes` (from what changed) equals the expansion of every role group
//! of both snapshots, over a sequence of edits of the sample repository.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::snapshot::{self, Input};

/// The definition: every role group of both snapshots expanded, compared
/// login by login.
fn expanded(old: Option<&Snapshot>, new: &Snapshot) -> Changes {
    let members = |s: &Snapshot| -> BTreeMap<String, BTreeSet<String>> {
        let mut by_login: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for g in s.model.role_groups() {
            for m in &g.members {
                by_login
                    .entry(m.to_string())
                    .or_default()
                    .insert(g.name.clone());
            }
        }
        by_login
    };
    let before = old.map(members).unwrap_or_default();
    let after = members(new);
    let mut out = Changes::default();
    let empty = BTreeSet::new();
    for login in before.keys().chain(after.keys()) {
        let b = before.get(login).unwrap_or(&empty);
        let a = after.get(login).unwrap_or(&empty);
        let gained: BTreeSet<String> = a.difference(b).cloned().collect();
        let lost: BTreeSet<String> = b.difference(a).cloned().collect();
        if !gained.is_empty() {
            out.gained.insert(login.clone(), gained);
        }
        if !lost.is_empty() {
            out.lost.insert(login.clone(), lost);
        }
    }
    out
}

fn sample() -> snapshot::Files {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-repo");
    let source = crate::repo::Source::open(&root, &crate::repo::Options::default()).expect("open");
    let mut files = source
        .read(None, snapshot::Limits::default())
        .expect("read")
        .files;
    // The policy tests expect the sample's access; the edits change it.
    files.retain(|path, _| !path.starts_with(".polarion/tests/"));
    files
}

fn build(files: &snapshot::Files) -> Snapshot {
    let input = Input {
        revision: "r".into(),
        files: files.clone(),
        ..Input::default()
    };
    let report = snapshot::build(&input);
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.one_line())
        .collect();
    report.snapshot.unwrap_or_else(|| panic!("{errors:#?}"))
}

const ELIB: &str = "Engineering/elibrary/.polarion/security/user-roles.xml";
const GLOBAL: &str = ".polarion/security/user-roles.xml";
const GROUPS: &str = ".polarion/user-management/groups.xml";

/// (file, text, replacement; `None`: delete the file) applied one after
/// the other.
const EDITS: &[(&str, &str, Option<&str>)] = &[
    (ELIB, "<user name=\"dave\">", Some("<user name=\"frank\">")),
    (
        GROUPS,
        "<user name=\"erin\"/>",
        Some("<user name=\"grace\"/>"),
    ),
    (
        ELIB,
        "<role name=\"project_user\"/>",
        Some("<role name=\"project_admin\"/>"),
    ),
    (
        ".polarion/user-management/users/carol/user.xml",
        "</user>",
        Some("<field id=\"disabled\">true</field></user>"),
    ),
    (".polarion/user-management/users/bob/user.xml", "", None),
    (
        GLOBAL,
        "<user-roles>",
        Some("<user-roles><user name=\"heidi\"><role name=\"admin\"/></user>"),
    ),
    (GROUPS, "<user name=\"dave\"/>", Some("")),
    (
        ELIB,
        "<group name=\"qa-team\">",
        Some("<group name=\"nobody-group\">"),
    ),
];

#[test]
fn changes_equal_the_expansion_of_every_role_group() {
    let mut files = sample();
    let mut old = build(&files);
    let mut changing = 0;
    assert_eq!(changes(None, &old, None), expanded(None, &old));
    for (i, (path, from, to)) in EDITS.iter().enumerate() {
        match to {
            Some(to) => {
                let text = String::from_utf8(files[*path].to_vec()).expect("utf-8");
                assert!(text.contains(from), "edit {i}: {from} not in {path}");
                files.insert(path.to_string(), text.replacen(from, to, 1).into());
            }
            None => {
                files.remove(*path);
            }
        }
        let new = build(&files);
        let fast = changes(Some(&old), &new, None);
        assert_eq!(fast, expanded(Some(&old), &new), "edit {i}");
        let diff = crate::diff::diff(&old, &new).expect("diff");
        assert_eq!(
            changes(Some(&old), &new, Some(&diff)),
            fast,
            "edit {i} from the diff"
        );
        changing += usize::from(!fast.gained.is_empty() || !fast.lost.is_empty());
        // And back: the reverse change.
        assert_eq!(
            changes(Some(&new), &old, None),
            expanded(Some(&new), &old),
            "edit {i} reversed"
        );
        old = new;
    }
    assert!(changing >= 6, "{changing} of the edits change a group");
}
