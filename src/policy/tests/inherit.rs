//! Scopes: the global file, project files, and what a project inherits.

use super::*;

/// 003, "Configuring User Permissions": "Projects inherit permissions
/// from the repository scope, and changes to the project settings
/// override the same settings in the repository scope."
#[test]
fn a_project_setting_overrides_the_same_setting_of_the_global_file() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("project_user +WorkItem.modify")
        .project("A", None)
        .project_roles("A", "bob=project_user")
        .project_perms("A", "project_user -WorkItem.modify")
        .project("B", None)
        .project_roles("B", "bob=project_user");
    check(
        &cfg,
        "bob WorkItem.modify @A => deny
         bob WorkItem.modify @B => allow",
    );
    // Another role's global grant is not "the same setting": it still
    // holds in A, and an explicit grant beats an explicit deny.
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("user +WorkItem.modify")
        .project("A", None)
        .project_roles("A", "bob=project_user")
        .project_perms("A", "project_user -WorkItem.modify");
    check(&cfg, "bob WorkItem.modify @A => allow");
}
#[test]
fn explicit_grant_on_one_role_beats_explicit_deny_on_another() {
    let cfg = Cfg::new()
        .defs("reviewer=global")
        .roles("bob=user,reviewer")
        .perms("user -WorkItem.delete\nreviewer +WorkItem.delete");
    check(&cfg, "bob WorkItem.delete => allow");
}
#[test]
fn inherited_grant_beats_inherited_deny() {
    // Both reach TestRun.comment through its parent TestRun.modify (003,
    // "Permissions for Test Runs": comment is a child of MODIFY).
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("user +TestRun.modify\nproject_user -TestRun.modify")
        .project("A", None)
        .project_roles("A", "bob=project_user");
    check(
        &cfg,
        "bob TestRun.comment @A => allow\n bob TestRun.comment => allow",
    );
}
#[test]
fn a_deny_in_the_asked_scope_is_explicit_in_the_global_scope_too() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("user -WorkItem.create\neveryone +WorkItem.create");
    check(&cfg, "bob WorkItem.create => allow");
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("user -WorkItem.create")
        .project("A", None)
        .project_roles("A", "bob=project_user")
        .project_perms("A", "project_user +WorkItem.create");
    check(
        &cfg,
        "bob WorkItem.create @A => allow\n bob WorkItem.create => deny",
    );
}
#[test]
fn not_set_means_deny() {
    let cfg = Cfg::new().roles("bob=user");
    check(
        &cfg,
        "bob WorkItem.read => deny
         bob com.example.plugin.use => deny
         nobody WorkItem.read => deny",
    );
}
#[test]
fn global_sets_reach_a_project_only_while_it_has_no_permissions_file() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms(
            "set Approved WorkItem status:approved\n\
             user +WorkItem.modify -@Approved.modify",
        )
        .project("Plain", None)
        .project_roles("Plain", "bob=project_user")
        .project("Own", None)
        .project_roles("Own", "bob=project_user")
        .project_perms("Own", "project_user +Plan.read")
        .project("Empty", None)
        .project_roles("Empty", "bob=project_user")
        .project_perms("Empty", "");
    // 003, "Defining Permissions for Artifact Sets": "If a Project has at
    // least one change in the permissions (compared to the Global
    // permissions), then newly created Custom Sets in the Global scope
    // will not get used in the Project." A file that sets nothing
    // (`<permissions/>`) is no change.
    check(
        &cfg,
        "bob WorkItem.modify @Plain status=approved => deny
         bob WorkItem.modify @Empty status=approved => deny
         bob WorkItem.modify @Own status=approved => allow
         bob WorkItem.modify @Own status=draft => allow",
    );
}
/// The verdict of each request line (`user perm [k=v …]`, no project) in
/// the global context and in each of `projects`.
fn verdicts(ix: &Index, requests: &str, projects: &[Option<&str>]) -> Vec<String> {
    let mut out = Vec::new();
    for line in requests.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (user, permission, _, object) = parse_request(line);
        let row: Vec<&str> = projects
            .iter()
            .map(|p| {
                let req = Request {
                    user: &user,
                    permission: &permission,
                    project: *p,
                    object: &object,
                };
                let v = ix.check(&req).expect("known project");
                let e = ix.explain(&req).expect("known project");
                assert_eq!(e.verdict, v, "explain disagrees with check: {line}");
                v.as_str()
            })
            .collect();
        out.push(format!("{line}: {}", row.join(" ")));
    }
    out
}
/// 003, "Defining Permissions for Artifact Sets": "Global-level
/// permissions, together with its Custom Sets, are propagated to the
/// Project level if the Project does not have any Project level
/// permissions set." A project without a file, with a file that sets
/// nothing and with a copy of the global file answer every request as
/// the global context does: field-level denies, custom-set denies and
/// `TestRun.comment` denies included.
#[test]
fn a_project_without_settings_answers_as_the_global_context() {
    let global = "set Secret WorkItem category:security\n\
                  user +WorkItem.read +WorkItem.modify +TestRun.modify -@Secret.read\n\
                  auditor -WorkItem.field.salary.read -TestRun.comment\n\
                  tester +TestRun.modify +WorkItem.field.salary.read\n\
                  project_user +WorkItem.modify -@Secret.modify";
    let cfg = Cfg::new()
        .defs("auditor=global tester=global")
        .roles("heidi=user,auditor t=user,tester both=user,auditor,tester")
        .perms(global)
        .project("Plain", None)
        .project("Empty", None)
        .project_perms("Empty", "")
        .project("Copy", None)
        .project_perms("Copy", global);
    let requests = "heidi WorkItem.field.salary.read
                    heidi WorkItem.field.salary.modify
                    heidi WorkItem.field.title.read
                    heidi TestRun.comment
                    t TestRun.comment
                    both TestRun.comment
                    both WorkItem.field.salary.read
                    heidi WorkItem.read category=security
                    heidi WorkItem.modify category=security
                    heidi WorkItem.field.title.read category=security";
    let ix = cfg.index();
    let got = verdicts(
        &ix,
        requests,
        &[None, Some("Plain"), Some("Empty"), Some("Copy")],
    );
    let expect: Vec<String> = [
        ("heidi WorkItem.field.salary.read", "deny"),
        ("heidi WorkItem.field.salary.modify", "deny"),
        ("heidi WorkItem.field.title.read", "allow"),
        ("heidi TestRun.comment", "deny"),
        ("t TestRun.comment", "allow"),
        ("both TestRun.comment", "deny"),
        ("both WorkItem.field.salary.read", "allow"),
        ("heidi WorkItem.read category=security", "deny"),
        ("heidi WorkItem.modify category=security", "allow"),
        ("heidi WorkItem.field.title.read category=security", "deny"),
    ]
    .iter()
    .map(|(r, v)| format!("{r}: {v} {v} {v} {v}"))
    .collect();
    assert_eq!(got, expect);
    // With project roles: no file, an empty file and the copy agree.
    let cfg = cfg
        .project_roles("Plain", "heidi=project_user")
        .project_roles("Empty", "heidi=project_user")
        .project_roles("Copy", "heidi=project_user");
    let ix = cfg.index();
    let rows = verdicts(
        &ix,
        &format!("{requests}\nheidi WorkItem.modify category=security"),
        &[Some("Plain"), Some("Empty"), Some("Copy")],
    );
    for row in rows {
        let (line, vs) = row.split_once(": ").expect("row");
        let vs: Vec<&str> = vs.split(' ').collect();
        assert!(vs.iter().all(|v| *v == vs[0]), "{line}: {vs:?}");
    }
}
/// The same on `sample-repo/`: heidi (auditor) may not read the salary
/// field in elibrary, which has no permissions.xml of its own.
#[test]
fn sample_repo_elibrary_inherits_the_salary_deny() {
    // The files that matter, compiled in (the pure core reads no files).
    macro_rules! sample {
        ($($path:literal),*) => {
            [$(($path, include_str!(concat!("../../../sample-repo/", $path)))),*]
        };
    }
    let files: BTreeMap<String, String> = sample!(
        ".polarion/security/permissions.xml",
        ".polarion/security/user-roles.xml",
        ".polarion/security/roles.xml",
        ".polarion/user-management/groups.xml",
        ".polarion/user-management/users/heidi/user.xml",
        "Engineering/elibrary/.polarion/polarion-project.xml",
        "Engineering/elibrary/.polarion/security/user-roles.xml"
    )
    .into_iter()
    .map(|(p, t)| (p.to_owned(), t.to_owned()))
    .collect();
    let cfg = Cfg { files };
    check(
        &cfg,
        "heidi WorkItem.field.salary.read => deny
         heidi WorkItem.field.salary.read @elibrary => deny
         heidi WorkItem.field.salary.modify @elibrary => deny
         heidi WorkItem.read @elibrary => allow",
    );
}
