//! The `everyone` group of the access file. Seed 003, "Synchronizing
//! Roles with Repository": the synchronisation "ensures that access
//! file contains group for every user role"; seed 003, "Creating User
//! Accounts": "By default, a new user is assigned the role everyone".
//! So `everyone` is a group like any role's, and its members are every
//! active account (docs/permissions.md, "Role groups in the access
//! file", says what "active" is when there is no users folder).

use super::*;

const USER_ROLES_XML: &str = r#"<user-roles>
<user name="alice"><role name="user"/></user>
<user name="bob"><role name="user"/><role name="everyone"/></user>
<user name="dave"><role name="user"/></user>
<group name="qa-team"><role name="user"/></group>
</user-roles>"#;
const GROUPS_XML: &str = r#"<user-groups>
<group id="qa-team"><user name="erin"/></group>
<group id="idle"><user name="frank"/></group>
</user-groups>"#;
const PROJECT_XML: &str = r#"<project><field id="lead">grace</field></project>"#;
const PROJECT_ROLES_XML: &str =
    r#"<user-roles><user name="heidi"><role name="project_user"/></user></user-roles>"#;

fn user_xml(disabled: bool) -> String {
    format!("<user><field id=\"disabled\">{disabled}</field></user>")
}

/// The `everyone =` line that `build` renders for `files`.
fn everyone(files: &[(&str, String)]) -> String {
    let mut input = Input {
        revision: "1".into(),
        ..Input::default()
    };
    input
        .files
        .insert(ACCESS_FILE.into(), b"[/]\n@everyone = r\n".into());
    for (path, text) in files {
        input.files.insert((*path).into(), text.as_str().into());
    }
    let report = build(&input);
    let snapshot = report
        .snapshot
        .unwrap_or_else(|| panic!("{:?}", report.diagnostics));
    // The bound counted before the groups are built covers them,
    // `everyone` included.
    let built: usize = snapshot
        .model
        .role_groups()
        .iter()
        .map(|g| {
            g.name.len()
                + 4
                + g.members
                    .iter()
                    .map(|m| m.as_str().len() + 2)
                    .sum::<usize>()
        })
        .sum();
    let counted = snapshot.model.role_groups_size(usize::MAX).unwrap_or(0);
    assert!(counted >= built, "counted {counted} < built {built}");
    snapshot
        .access
        .lines()
        .find(|l| l.starts_with("everyone ="))
        .unwrap_or_else(|| panic!("no everyone group:\n{}", snapshot.access))
        .to_owned()
}

#[test]
fn everyone_holds_every_active_account() {
    let base = [
        (USER_ROLES, USER_ROLES_XML.to_owned()),
        (GROUPS, GROUPS_XML.to_owned()),
        ("lib/.polarion/polarion-project.xml", PROJECT_XML.to_owned()),
        (
            "lib/.polarion/security/user-roles.xml",
            PROJECT_ROLES_XML.to_owned(),
        ),
    ];
    let with_users = |users: &[(&str, bool)]| -> Vec<(String, String)> {
        users
            .iter()
            .map(|(login, disabled)| (format!("{USERS_DIR}{login}/user.xml"), user_xml(*disabled)))
            .collect()
    };
    // (what, accounts in the users folder (login, disabled), expected line)
    type Accounts<'a> = Option<&'a [(&'a str, bool)]>;
    let cases: &[(&str, Accounts, &str)] = &[
        (
            "users folder: every account that is not disabled, with roles or without; \
             dave is disabled, erin and heidi hold roles but have no account",
            Some(&[
                ("alice", false),
                ("bob", false),
                ("carol", false),
                ("dave", true),
            ]),
            "everyone = alice, bob, carol",
        ),
        (
            "no users folder: every login the configuration names (role holders in \
             any scope, user-group members, project leads)",
            None,
            "everyone = alice, bob, dave, erin, frank, grace, heidi",
        ),
        (
            "users folder with only disabled accounts",
            Some(&[("alice", true)]),
            "everyone =",
        ),
    ];
    for (what, users, expect) in cases {
        let extra = users.map(with_users).unwrap_or_default();
        let files: Vec<(&str, String)> = base
            .iter()
            .cloned()
            .chain(extra.iter().map(|(p, t)| (p.as_str(), t.clone())))
            .collect();
        assert_eq!(everyone(&files), *expect, "{what}");
    }
}
