//! The directory as the reason of a change (issue 16): two models built
//! from the same files with two directory answers.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::directory::{AccountState, DirectorySnapshot, GroupAnswer, GroupRef, Member};
use crate::snapshot::{self, Input};

const QA: &str = "cn=qa,ou=groups,dc=example,dc=org";
const INNER: &str = "cn=inner,ou=groups,dc=example,dc=org";

/// The base of `tests.rs`, its `qa` group filled by the directory's `cn=qa`.
fn files() -> BTreeMap<String, String> {
    let mut files = super::tests::base();
    let groups = format!(r#"<user-groups><group id="qa" ldap="{QA}"/></user-groups>"#);
    files.insert(snapshot::GROUPS.to_owned(), groups);
    files
}

/// `cn=qa` with `members` (`(login, via)`), every login of `accounts`
/// active unless `locked`.
fn answer(members: &[(&str, &[&str])], accounts: &[&str], locked: &[&str]) -> DirectorySnapshot {
    let members = (members.iter())
        .map(|(login, via)| Member {
            login: (*login).to_owned(),
            via: via.iter().map(|v| (*v).to_owned()).collect(),
        })
        .collect();
    let groups = BTreeMap::from([(GroupRef::Dn(QA.to_owned()), GroupAnswer::Members(members))]);
    let state = |l: &str| match locked.contains(&l) {
        true => AccountState::Locked {
            by: "pwdAccountLockedTime".to_owned(),
        },
        false => AccountState::Active,
    };
    let accounts = (accounts.iter().map(|l| ((*l).to_owned(), state(l)))).collect();
    DirectorySnapshot::new(groups, Some(accounts))
}

fn snap(answer: DirectorySnapshot) -> Snapshot {
    let input = Input {
        revision: "r".into(),
        files: (files().iter())
            .map(|(p, t)| (p.clone(), t.as_str().into()))
            .collect(),
        directory: Some(Arc::new(answer)),
        ..Input::default()
    };
    let report = snapshot::build(&input);
    let errors: Vec<String> = report.diagnostics.iter().map(|d| d.one_line()).collect();
    report.snapshot.unwrap_or_else(|| panic!("{errors:#?}"))
}

const EVERYBODY: &[&str] = &["alice", "bob", "carol", "erin", "frank"];

/// The role-group lines of the text form.
fn group_lines(d: &Diff) -> Vec<String> {
    d.groups
        .listed
        .iter()
        .map(super::text::group_line)
        .collect()
}

fn short(s: &DirectorySnapshot) -> &str {
    &s.revision[..12]
}

#[test]
fn a_login_the_directory_adds_joins_with_the_directory_named() {
    let before = answer(&[("erin", &[])], EVERYBODY, &[]);
    let after = answer(&[("erin", &[]), ("frank", &[INNER])], EVERYBODY, &[]);
    let rev = short(&after).to_owned();
    let d = diff(&snap(before), &snap(after)).expect("diff");
    let why = format!(
        "through group qa: member of {QA} through {INNER} in the directory, snapshot {rev}"
    );
    assert_eq!(
        group_lines(&d),
        [
            format!("frank joined lib-project_tester ({why})"),
            format!("frank joined user ({why})"),
        ],
        "{}",
        d.render()
    );
    assert!(d.render().contains(&format!("frank joined user ({why})")));
    let json = serde_json::to_value(json::to_json(&d)).expect("json");
    let change = &json["groups"]["changes"][0];
    assert_eq!(change["reasons"], serde_json::json!(["group:qa"]));
    assert_eq!(
        change["directory"]["member_of"],
        serde_json::json!([{"group": "qa", "reference": QA, "via": [INNER]}])
    );
    assert_eq!(change["directory"]["account"], serde_json::Value::Null);
    assert_eq!(
        change["directory"]["snapshot"].as_str().map(|s| &s[..12]),
        Some(&*rev)
    );
}

#[test]
fn a_login_the_directory_drops_leaves_with_the_old_membership_named() {
    let before = answer(&[("erin", &[]), ("frank", &[])], EVERYBODY, &[]);
    let after = answer(&[("erin", &[])], EVERYBODY, &[]);
    let rev = short(&before).to_owned();
    let d = diff(&snap(before), &snap(after)).expect("diff");
    let why = format!("through group qa: member of {QA} in the directory, snapshot {rev}");
    assert_eq!(
        group_lines(&d),
        [
            format!("frank left lib-project_tester ({why})"),
            format!("frank left user ({why})"),
        ]
    );
}

#[test]
fn an_account_the_directory_locks_leaves_every_role_group_it_held() {
    let members: &[(&str, &[&str])] = &[("erin", &[]), ("frank", &[])];
    let before = answer(members, EVERYBODY, &[]);
    let after = answer(members, EVERYBODY, &["alice", "frank"]);
    let rev = short(&after).to_owned();
    let d = diff(&snap(before.clone()), &snap(after.clone())).expect("diff");
    let why = format!("account locked in the directory (pwdAccountLockedTime), snapshot {rev}");
    assert_eq!(
        group_lines(&d),
        [
            format!("alice left admin ({why})"),
            format!("alice left everyone ({why})"),
            format!("frank left everyone ({why})"),
            format!("frank left lib-project_tester ({why})"),
            format!("alice left user ({why})"),
            format!("frank left user ({why})"),
        ],
        "{}",
        d.render()
    );
    assert!(d.losing.contains("alice") && d.losing.contains("frank"));
    let json = serde_json::to_value(json::to_json(&d)).expect("json");
    let change = &json["groups"]["changes"][0];
    assert_eq!(change["reasons"], serde_json::json!(["directory-locked"]));
    assert_eq!(change["directory"]["account"], "locked");
    assert_eq!(change["directory"]["locked_by"], "pwdAccountLockedTime");
    // Unlocked again: the same role groups, joined.
    let back = diff(&snap(after), &snap(before)).expect("diff");
    let joined: Vec<&str> = (back.groups.listed.iter())
        .map(|c| {
            assert_eq!(c.direction, Direction::Joined);
            assert!(
                matches!(c.reasons[..], [Reason::ActiveInDirectory { .. }]),
                "{c:?}"
            );
            c.login.as_str()
        })
        .collect();
    assert_eq!(
        joined,
        ["alice", "alice", "frank", "frank", "alice", "frank"]
    );
}

#[test]
fn an_account_the_directory_no_longer_lists_leaves_every_role_group_it_held() {
    let before = answer(&[("erin", &[])], EVERYBODY, &[]);
    let after = answer(&[("erin", &[])], &["alice", "carol", "erin", "frank"], &[]);
    let rev = short(&after).to_owned();
    let d = diff(&snap(before), &snap(after)).expect("diff");
    let why = format!("account not in the directory, snapshot {rev}");
    assert_eq!(
        group_lines(&d),
        [
            format!("bob left everyone ({why})"),
            format!("bob left lib-project_user ({why})"),
            format!("bob left user ({why})"),
        ],
        "{}",
        d.render()
    );
    assert_eq!(
        serde_json::to_value(json::to_json(&d)).expect("json")["groups"]["changes"][0]["directory"]
            ["account"],
        "absent"
    );
}

#[test]
fn the_same_answer_changes_nothing_and_a_change_without_the_directory_has_no_directory_key() {
    let a = answer(&[("erin", &[])], EVERYBODY, &[]);
    assert!(
        diff(&snap(a.clone()), &snap(a.clone()))
            .expect("diff")
            .is_empty()
    );
    let mut files = files();
    let roles = files
        .get_mut("lib/.polarion/security/user-roles.xml")
        .expect("file");
    *roles = roles.replace(
        "<user name=\"bob\">",
        "<user name=\"carol\"><role name=\"project_user\"/></user><user name=\"bob\">",
    );
    let input = Input {
        revision: "r2".into(),
        files: (files.iter())
            .map(|(p, t)| (p.clone(), t.as_str().into()))
            .collect(),
        directory: Some(Arc::new(a.clone())),
        ..Input::default()
    };
    let new = snapshot::build(&input).snapshot.expect("valid");
    let d = diff(&snap(a), &new).expect("diff");
    assert_eq!(
        group_lines(&d),
        ["carol joined lib-project_user (direct assignment)"]
    );
    let json = serde_json::to_value(json::to_json(&d)).expect("json");
    assert!(
        json["groups"]["changes"][0].get("directory").is_none(),
        "{json}"
    );
}

#[test]
fn revisions_built_without_the_answer_they_need_say_so_in_a_note() {
    let build = |directory| {
        let input = Input {
            revision: "r".into(),
            files: (files().iter())
                .map(|(p, t)| (p.clone(), t.as_str().into()))
                .collect(),
            directory,
            ..Input::default()
        };
        snapshot::build(&input).snapshot.expect("valid")
    };
    let without = build(None);
    let d = diff(&without, &without).expect("diff");
    assert_eq!(d.notes, [NO_ANSWER_NOTE], "{}", d.render());
    assert!(
        d.render()
            .contains("note: groups.xml names directory groups")
    );
    let with = build(Some(Arc::new(answer(&[("erin", &[])], EVERYBODY, &[]))));
    assert!(diff(&with, &with).expect("diff").notes.is_empty());
    // Without directory groups there is nothing to say.
    let plain = super::tests::base();
    let input = Input {
        files: (plain.iter())
            .map(|(p, t)| (p.clone(), t.as_str().into()))
            .collect(),
        ..Input::default()
    };
    let s = snapshot::build(&input).snapshot.expect("valid");
    assert!(diff(&s, &s).expect("diff").notes.is_empty());
}
