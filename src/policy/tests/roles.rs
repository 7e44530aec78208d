//! Roles: who holds what (admin, user, everyone, groups, projects, dynamic
//! roles, leads), accounts, and the user view.

use super::*;

#[test]
fn everyone_holds_everyone() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("everyone +com.example.plugin.use");
    // A stranger holds `user` nowhere: "[disabled]" (003), denied.
    check(
        &cfg,
        "bob com.example.plugin.use => allow
         stranger com.example.plugin.use => deny",
    );
}
#[test]
fn admin_is_never_denied() {
    let cfg = Cfg::new()
        .roles("root=admin")
        .perms(
            "admin -WorkItem.modify -security.login -rest.get -WorkItem.field.salary.read\n\
             everyone -WorkItem.modify",
        )
        .project("A", None)
        .project_roles("A", "root=project_user")
        .project_perms("A", "project_user -WorkItem.modify -rest.get");
    check(
        &cfg,
        "root WorkItem.modify => allow
         root WorkItem.modify @A => allow
         root security.login => allow
         root rest.get @A => allow
         root WorkItem.field.salary.modify @A => allow
         root anything.at.all => allow",
    );
}
#[test]
fn admin_through_a_user_group_is_admin() {
    let cfg = Cfg::new()
        .groups("ops=root")
        .roles("@ops=admin")
        .perms("everyone -WorkItem.read");
    check(&cfg, "root WorkItem.read => allow");
}
#[test]
fn login_needs_the_user_role_somewhere() {
    let cfg = Cfg::new()
        .roles("bob=user ghost=assignable")
        .perms("everyone +security.login")
        .project("A", None)
        .project_roles("A", "carol=project_user,user");
    check(
        &cfg,
        "bob security.login => allow
         carol security.login => allow
         ghost security.login => deny
         stranger security.login => deny",
    );
}
#[test]
fn login_can_be_denied_explicitly() {
    let cfg = Cfg::new()
        .defs("banned=global")
        .roles("bob=user,banned")
        .perms("banned -security.login");
    check(&cfg, "bob security.login => deny");
}
#[test]
fn disabled_and_unknown_accounts_are_denied_everything() {
    let cfg = Cfg::new()
        .accounts("bob dave:disabled")
        .roles("bob=user dave=user,admin")
        .perms("everyone +WorkItem.read");
    check(
        &cfg,
        "bob WorkItem.read => allow
         dave WorkItem.read => deny
         dave security.login => deny
         stranger WorkItem.read => deny",
    );
}
#[test]
fn roles_reach_group_members() {
    let cfg = Cfg::new()
        .groups("qa=erin,frank")
        .roles("@qa=user")
        .perms("project_tester +TestRun.modify")
        .defs("project_tester=project")
        .project("A", None)
        .project_roles("A", "@qa=project_tester");
    check(
        &cfg,
        "erin TestRun.modify @A => allow
         frank security.login => allow
         erin TestRun.modify => deny
         bob TestRun.modify @A => deny",
    );
}
#[test]
fn project_roles_hold_only_in_their_project() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("project_admin +Plan.delete")
        .project("A", None)
        .project_roles("A", "bob=project_admin")
        .project("B", None);
    check(
        &cfg,
        "bob Plan.delete @A => allow
         bob Plan.delete @B => deny
         bob Plan.delete => deny",
    );
}
#[test]
fn dynamic_roles_come_from_the_object() {
    let cfg = Cfg::new()
        .roles("bob=user carol=user")
        .perms(
            "author +WorkItem.delete\n\
             assignee +WorkItem.field.status.modify +WorkItem.field.status.read\n\
             comment_author +WorkItem.comment.modify\n\
             document_author +Module.manage\n\
             lead +Project.modify",
        )
        .project("A", Some("carol"));
    check(
        &cfg,
        "bob WorkItem.delete @A author=bob => allow
         bob WorkItem.delete @A author=carol => deny
         bob WorkItem.field.status.modify @A assignee=carol assignee=bob => allow
         bob WorkItem.field.status.modify @A assignee=carol => deny
         bob WorkItem.comment.modify @A comment_author=bob => allow
         bob Module.manage @A document_author=bob => allow
         carol Project.modify @A => allow
         bob Project.modify @A => deny
         carol Project.modify => deny",
    );
}
/// 003, "Creating User Accounts": "If you do not also assign a role of
/// user, either at the repository level, or in at least one project, the
/// new user account will be disabled" — denied everything, REST included.
/// "Administrator users do not need explicit permissions assigned": global
/// admin without `user` is allowed (a choice, docs/permissions.md).
#[test]
fn a_user_without_the_user_role_is_disabled_and_denied_everything() {
    let cfg = Cfg::new()
        .roles("ghost=assignable root=admin bob=user")
        .perms("everyone +WorkItem.read +rest.get +security.login")
        .project("A", None)
        .project_roles("A", "ghost=project_admin carol=project_user,user")
        .project("B", None)
        .project_roles("B", "ghost=project_user");
    check(
        &cfg,
        "ghost WorkItem.read => deny
         ghost WorkItem.read @A => deny
         ghost rest.get => deny
         ghost rest.delete @A => deny
         ghost security.login => deny
         stranger rest.get => deny
         carol WorkItem.read @B => allow
         carol rest.get => allow
         carol security.login => allow
         bob rest.get @A => allow
         root WorkItem.read @B => allow
         root security.login => allow",
    );
}
/// 003, "Creating User Accounts": `user` may be assigned "in at least one
/// project": no warning for it there.
#[test]
fn the_user_role_assigned_in_a_project_is_no_warning() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .project("A", None)
        .project_roles("A", "carol=project_user,user");
    let input = Input {
        revision: "r1".into(),
        files: cfg
            .files
            .iter()
            .map(|(p, t)| (p.clone(), t.as_str().into()))
            .collect(),
        ..Input::default()
    };
    let report = snapshot::build(&input);
    let codes: Vec<String> = report.diagnostics.iter().map(|d| d.one_line()).collect();
    assert!(
        report
            .diagnostics
            .iter()
            .all(|d| d.code != crate::diag::Code::RoleScopeMismatch),
        "{codes:#?}"
    );
    // Another global role in a project is still a mismatch.
    let cfg = Cfg::new()
        .roles("bob=user")
        .project("A", None)
        .project_roles("A", "carol=project_user,assignable");
    let input = Input {
        files: cfg
            .files
            .iter()
            .map(|(p, t)| (p.clone(), t.as_str().into()))
            .collect(),
        ..Input::default()
    };
    let diags = snapshot::build(&input).diagnostics;
    assert!(
        diags
            .iter()
            .any(|d| d.code == crate::diag::Code::RoleScopeMismatch),
        "{diags:#?}"
    );
}
/// 003, "Managing Role Definitions": "You can add or delete role
/// definitions for the repository or a project." A project's own
/// roles.xml defines roles of that project only.
#[test]
fn a_project_may_define_its_own_roles() {
    let cfg = Cfg::new()
        .roles("t=user")
        .project("A", None)
        .file(
            "A/.polarion/security/roles.xml",
            "<roles><role id=\"project_tester\" scope=\"project\"/><role id=\"nobody\" scope=\"project\"/></roles>".into(),
        )
        .project_roles("A", "t=project_tester")
        .project_perms("A", "project_tester +TestRun.modify\nnobody +TestRun.read")
        .project("B", None);
    let snap = cfg.snapshot();
    check(
        &cfg,
        "t TestRun.modify @A => allow
         t TestRun.modify @B => deny",
    );
    let groups: Vec<String> = snap
        .model
        .role_groups()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert!(
        groups.contains(&"A-project_tester".to_owned()),
        "{groups:?}"
    );
    assert!(groups.contains(&"A-nobody".to_owned()), "{groups:?}");
    assert!(
        !groups
            .iter()
            .any(|g| g == "B-project_tester" || g == "B-nobody"),
        "{groups:?}"
    );
    let input = Input {
        files: cfg
            .files
            .iter()
            .map(|(p, t)| (p.clone(), t.as_str().into()))
            .collect(),
        ..Input::default()
    };
    let diags: Vec<_> = snapshot::build(&input)
        .diagnostics
        .into_iter()
        .filter(|d| d.code != crate::diag::Code::AccessFileMissing)
        .collect();
    assert!(diags.is_empty(), "{diags:#?}");
    assert!(snap.access.contains("A-nobody ="), "{}", snap.access);
}
#[test]
fn unknown_project_is_an_error() {
    let ix = Cfg::new().roles("bob=user").index();
    let obj = Object::new();
    let req = Request {
        user: "bob",
        permission: "com.polarion.persistence.object.WorkItem.read",
        project: Some("nope"),
        object: &obj,
    };
    assert_eq!(
        ix.check(&req),
        Err(RequestError::UnknownProject("nope".into()))
    );
}
#[test]
fn assignable_globally_or_per_project() {
    let ix = Cfg::new()
        .roles("a=user,assignable b=user")
        .project("A", None)
        .project_roles("A", "b=project_assignable")
        .project("B", None)
        .index();
    let table = [
        ("a", Some("A"), true),
        ("a", None, true),
        ("b", Some("A"), true),
        ("b", Some("B"), false),
        ("b", None, true),
        ("c", None, false),
    ];
    for (login, project, expect) in table {
        assert_eq!(ix.assignable(login, project), expect, "{login} {project:?}");
    }
}
#[test]
fn user_view_lists_roles_groups_and_status() {
    let ix = Cfg::new()
        .groups("qa=erin")
        .roles("erin=assignable @qa=user")
        .project("A", None)
        .project_roles("A", "erin=project_admin nouser=project_user")
        .index();
    let v = ix.user_view("erin");
    assert!(v.can_login && !v.admin && v.known && v.assignable_globally);
    assert_eq!(v.groups.len(), 1);
    let global: Vec<&str> = v.global.iter().map(|r| r.role.as_str()).collect();
    assert_eq!(global, ["assignable", "user"]);
    assert_eq!(v.projects.len(), 1);
    let nouser = ix.user_view("nouser");
    assert!(!nouser.can_login, "no user role: [disabled]");
    assert!(!ix.user_view("stranger").known);
}
#[test]
fn explanation_names_roles_and_settings_with_their_lines() {
    let ix = Cfg::new()
        .roles("bob=user")
        .perms("set Approved WorkItem status:approved\nuser +WorkItem.modify -@Approved.modify")
        .index();
    let obj = Object::new().with("status", "approved");
    let e = ix
        .explain(&Request {
            user: "bob",
            permission: "com.polarion.persistence.object.WorkItem.modify",
            project: None,
            object: &obj,
        })
        .expect("explained");
    insta::assert_snapshot!(e.render("r1"), @r"
    bob asks for com.polarion.persistence.object.WorkItem.modify
    object: status=approved
    com.polarion.persistence.object.WorkItem.modify [global] (asked)
      custom set Approved (.polarion/security/permissions.xml:2) matches the object: key @Approved.modify
      bob → user [global] (.polarion/security/user-roles.xml:2) → deny @Approved.modify (.polarion/security/permissions.xml:5) = explicit deny
      bob → everyone [built in] → not set
      strongest: explicit deny → deny
    decision: deny (not granted)
    revision: r1
    ");
}
