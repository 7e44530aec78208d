//! The three parts on small configurations: each test edits a base
//! configuration and names the changes it expects, one a line.

use std::collections::BTreeMap;

use super::*;
use crate::snapshot::{self, Input};

const ROLES: &str = r#"<roles><role id="project_tester" scope="project"/></roles>"#;

const GROUPS: &str =
    r#"<user-groups><group id="qa"><user name="erin"/><user name="frank"/></group></user-groups>"#;

const USER_ROLES: &str = r#"<user-roles>
  <user name="alice"><role name="admin"/><role name="user"/></user>
  <user name="bob"><role name="user"/></user>
  <user name="carol"><role name="user"/></user>
  <group name="qa"><role name="user"/></group>
</user-roles>"#;

const PROJECT_ROLES: &str = r#"<user-roles>
  <user name="bob"><role name="project_user"/></user>
  <group name="qa"><role name="project_tester"/></group>
</user-roles>"#;

const PERMISSIONS: &str = r#"<permissions>
  <permission name="com.polarion">
    <role name="project_user"><grant permission="persistence.object.WorkItem.modify"/></role>
    <role name="project_tester"><grant permission="persistence.object.TestRun.modify"/></role>
  </permission>
</permissions>"#;

const ACCESS: &str =
    "[/]\n@admin = rw\n\n[/lib]\n@lib-project_user = rw\n@lib-project_tester = r\n";

const LOGINS: &[&str] = &["alice", "bob", "carol", "erin", "frank"];

pub(super) fn base() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut put = |p: &str, t: &str| files.insert(p.to_owned(), t.to_owned());
    put(snapshot::ROLES, ROLES);
    put(snapshot::GROUPS, GROUPS);
    put(snapshot::USER_ROLES, USER_ROLES);
    put(snapshot::PERMISSIONS, PERMISSIONS);
    put(snapshot::ACCESS_FILE, ACCESS);
    put("lib/.polarion/polarion-project.xml", "<project/>");
    put("lib/.polarion/security/user-roles.xml", PROJECT_ROLES);
    for login in LOGINS {
        put(&user_file(login), "<user/>");
    }
    files
}

fn user_file(login: &str) -> String {
    format!("{}{login}/user.xml", snapshot::USERS_DIR)
}

fn snap(files: &BTreeMap<String, String>) -> Snapshot {
    let input = Input {
        revision: "r".into(),
        files: files
            .iter()
            .map(|(p, t)| (p.clone(), t.as_str().into()))
            .collect(),
        ..Input::default()
    };
    let report = snapshot::build(&input);
    let errors: Vec<String> = report.diagnostics.iter().map(|d| d.one_line()).collect();
    report.snapshot.unwrap_or_else(|| panic!("{errors:#?}"))
}

/// The full list of the diff from the base to the edited base.
fn check(edit: impl FnOnce(&mut BTreeMap<String, String>), expect: &[&str]) -> Diff {
    let old = base();
    let mut new = old.clone();
    edit(&mut new);
    let d = diff(&snap(&old), &snap(&new)).expect("diff");
    let lines = lines(&d);
    assert_eq!(lines, expect, "{}", d.render());
    d
}

fn lines(d: &Diff) -> Vec<String> {
    d.render()
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.contains(": +"))
        .map(str::to_owned)
        .collect()
}

fn replace(files: &mut BTreeMap<String, String>, path: &str, from: &str, to: &str) {
    let text = files.get_mut(path).expect("file");
    assert!(text.contains(from), "{from} not in {path}");
    *text = text.replace(from, to);
}

#[test]
fn nothing_changes_when_nothing_changed() {
    let d = check(|_| {}, &[]);
    assert!(d.is_empty());
    assert!(d.summary().contains("no change"));
}

#[test]
fn a_direct_assignment_joins_the_group_and_gives_its_access() {
    check(
        |f| {
            replace(
                f,
                "lib/.polarion/security/user-roles.xml",
                "<user name=\"bob\">",
                "<user name=\"carol\"><role name=\"project_user\"/></user><user name=\"bob\">",
            )
        },
        &[
            "carol joined lib-project_user (direct assignment)",
            "carol /lib: no -> rw",
            "carol com.polarion.persistence.object.WorkItem.modify in lib: deny -> allow",
        ],
    );
}

#[test]
fn joining_a_user_group_joins_the_groups_it_holds() {
    check(
        |f| {
            replace(
                f,
                snapshot::GROUPS,
                "<user name=\"erin\"/>",
                "<user name=\"erin\"/><user name=\"carol\"/>",
            )
        },
        &[
            "carol joined lib-project_tester (through group qa)",
            "carol /lib: no -> r",
            "carol com.polarion.persistence.object.TestRun.modify in lib: deny -> allow",
        ],
    );
}

#[test]
fn a_disabled_account_leaves_every_group_and_loses_login() {
    let d = check(
        |f| {
            f.insert(
                user_file("bob"),
                "<user><field id=\"disabled\">true</field></user>".into(),
            );
        },
        &[
            "bob left everyone (account disabled)",
            "bob left lib-project_user (account disabled)",
            "bob left user (account disabled)",
            "bob /lib: rw -> no",
            "bob com.polarion.security.login in global: allow -> deny",
            "bob com.polarion.persistence.object.WorkItem.modify in lib: allow -> deny",
        ],
    );
    assert_eq!(d.logins_losing_access(), ["bob".to_owned()].into());
}

#[test]
fn a_deleted_account_is_named_as_deleted() {
    check(
        |f| {
            f.remove(&user_file("frank"));
        },
        &[
            "frank left everyone (account deleted)",
            "frank left lib-project_tester (account deleted)",
            "frank left user (account deleted)",
            "frank /lib: r -> no",
            "frank com.polarion.security.login in global: allow -> deny",
            "frank com.polarion.persistence.object.TestRun.modify in lib: allow -> deny",
        ],
    );
}

#[test]
fn a_changed_rule_section_is_asked_for_every_login() {
    check(
        |f| {
            replace(
                f,
                snapshot::ACCESS_FILE,
                "@lib-project_tester = r\n",
                "@lib-project_tester = r\n* = r\n\n[/lib/secret]\n* =\n",
            )
        },
        &[
            "alice /lib: rw -> r",
            "carol /lib: no -> r",
            "alice /lib/secret: rw -> no",
            "bob /lib/secret: rw -> no",
            "erin /lib/secret: r -> no",
            "frank /lib/secret: r -> no",
        ],
    );
}

#[test]
fn a_path_below_a_changed_section_is_asked_too() {
    check(
        |f| {
            replace(
                f,
                snapshot::ACCESS_FILE,
                "[/lib]\n",
                "[/lib/docs]\n@qa = rw\n\n[/lib]\n",
            );
            replace(
                f,
                snapshot::ACCESS_FILE,
                "[/]\n",
                "[groups]\nqa = erin\n\n[/]\n",
            );
        },
        &["erin /lib/docs: r -> rw"],
    );
}

#[test]
fn an_inverted_entry_of_a_group_that_empties_is_dropped_for_everybody() {
    // Subversion drops `~@g = r` when g is empty: bob, carol and erin,
    // who are not in it, lose what the line gave them; alice (admin) gets
    // the root's `rw` back; frank, who was in it, had nothing and keeps it.
    let access = "[groups]\nhelpers = frank\n\n[/]\n@admin = rw\n\n[/lib]\n~@helpers = r\n";
    let old = {
        let mut f = base();
        f.insert(snapshot::ACCESS_FILE.into(), access.into());
        f
    };
    let mut new = old.clone();
    replace(
        &mut new,
        snapshot::ACCESS_FILE,
        "helpers = frank",
        "helpers =",
    );
    let d = diff(&snap(&old), &snap(&new)).expect("diff");
    let mut got = lines(&d);
    got.sort();
    assert_eq!(
        got,
        [
            "alice /lib: r -> rw",
            "bob /lib: r -> no",
            "carol /lib: r -> no",
            "erin /lib: r -> no"
        ],
        "{}",
        d.render()
    );
}

#[test]
fn a_changed_permission_rule_is_decided_for_the_role_holders() {
    check(
        |f| {
            replace(
                f,
                snapshot::PERMISSIONS,
                "<grant permission=\"persistence.object.TestRun.modify\"/>",
                "<grant permission=\"persistence.object.TestRun.modify\"/><grant permission=\"persistence.object.Plan.create\"/>",
            )
        },
        &[
            "erin com.polarion.persistence.object.Plan.create in lib: deny -> allow",
            "frank com.polarion.persistence.object.Plan.create in lib: deny -> allow",
        ],
    );
}

#[test]
fn the_lists_are_bounded_and_every_change_is_counted() {
    let old = base();
    let mut new = old.clone();
    new.insert(
        user_file("bob"),
        "<user><field id=\"disabled\">true</field></user>".into(),
    );
    let bounds = Bounds {
        max_listed: 1,
        ..Bounds::default()
    };
    let d = diff_within(&snap(&old), &snap(&new), &bounds).expect("diff");
    assert_eq!((d.groups.listed.len(), d.groups.total), (1, 3));
    assert!(d.render().contains("... and 2 more"), "{}", d.render());
    assert!(d.is_complete());
}

#[test]
fn evaluations_beyond_the_bound_are_counted_not_made() {
    let old = base();
    let mut new = old.clone();
    replace(&mut new, snapshot::ACCESS_FILE, "@admin = rw", "@admin = r");
    let bounds = Bounds {
        max_evaluations: 2,
        ..Bounds::default()
    };
    let d = diff_within(&snap(&old), &snap(&new), &bounds).expect("diff");
    assert!(!d.is_complete());
    assert!(d.paths.unevaluated > 0);
    assert!(d.summary().contains("not evaluated"), "{}", d.summary());
}

#[test]
fn the_json_shape_is_versioned() {
    let old = base();
    let mut new = old.clone();
    new.remove(&user_file("frank"));
    let d = diff(&snap(&old), &snap(&new)).expect("diff");
    let v = serde_json::to_value(json::to_json(&d)).expect("json");
    assert_eq!(v["version"], 1);
    assert_eq!(v["losing"], serde_json::json!(["frank"]));
    assert_eq!(
        v["groups"]["changes"][0]["reasons"],
        serde_json::json!(["account-deleted"])
    );
    assert_eq!(v["paths"]["changes"][0]["from"], "r");
}
