//! Decision tests as data: a small configuration written in a compact
//! form, then lines `user permission [@project] [k=v …] => allow|deny`.
//! Configurations go through the real `snapshot::build`.

use std::collections::BTreeMap;

use super::*;
use crate::snapshot::{self, Input};

/// A configuration in compact form.
#[derive(Debug, Clone, Default)]
struct Cfg {
    files: BTreeMap<String, String>,
}

/// Short permission names: `WorkItem.modify` → the object permission,
/// `rest.get` / `security.…` / `administration.…` → under `com.polarion`.
fn perm(s: &str) -> String {
    if s.starts_with('@') || s.starts_with("com.") {
        s.to_owned()
    } else if s.starts_with(|c: char| c.is_ascii_uppercase()) {
        format!("com.polarion.persistence.object.{s}")
    } else if let Some(verb) = s.strip_prefix("rest.") {
        format!("com.polarion.rest.endpoint.{verb}")
    } else {
        format!("com.polarion.{s}")
    }
}

/// `alice=admin,user bob=user @qa=user` (a leading `@`: a user group).
fn user_roles(spec: &str) -> String {
    let mut xml = String::from("<user-roles>\n");
    for holder in spec.split_whitespace() {
        let (name, roles) = holder.split_once('=').expect("holder=roles");
        let (kind, name) = match name.strip_prefix('@') {
            Some(g) => ("group", g),
            None => ("user", name),
        };
        xml.push_str(&format!("  <{kind} name=\"{name}\">"));
        for r in roles.split(',') {
            xml.push_str(&format!("<role name=\"{r}\"/>"));
        }
        xml.push_str(&format!("</{kind}>\n"));
    }
    xml.push_str("</user-roles>\n");
    xml
}

/// Lines `set ID PROTOTYPE QUERY…` and `ROLE +perm -perm …`.
fn permissions(spec: &str) -> String {
    let mut attrs = String::new();
    let mut xml = String::new();
    for line in spec.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("attr ") {
            let (k, v) = rest.split_once('=').expect("attr k=v");
            attrs.push_str(&format!(" {k}=\"{v}\""));
            continue;
        }
        if let Some(rest) = line.strip_prefix("set ") {
            let mut parts = rest.splitn(3, ' ');
            let id = parts.next().expect("set id");
            let proto = perm(parts.next().expect("set prototype"));
            let query = parts.next().unwrap_or("");
            let query = query.replace('&', "&amp;").replace('<', "&lt;");
            xml.push_str(&format!(
                "  <customset id=\"{id}\" title=\"t\">{proto}({query})</customset>\n"
            ));
            continue;
        }
        let mut parts = line.split_whitespace();
        let role = parts.next().expect("role");
        xml.push_str(&format!("  <role name=\"{role}\">\n"));
        for p in parts {
            let (el, name) = match p.split_at(1) {
                ("+", n) => ("grant", n),
                ("-", n) => ("deny", n),
                _ => panic!("{p}: +grant or -deny"),
            };
            xml.push_str(&format!("    <{el} permission=\"{}\"/>\n", perm(name)));
        }
        xml.push_str("  </role>\n");
    }
    format!("<permissions{attrs}>\n{xml}</permissions>\n")
}

impl Cfg {
    fn new() -> Self {
        Cfg::default()
    }
    fn file(mut self, path: &str, text: String) -> Self {
        self.files.insert(path.to_owned(), text);
        self
    }
    /// Global assignments.
    fn roles(self, spec: &str) -> Self {
        self.file(snapshot::USER_ROLES, user_roles(spec))
    }
    /// Global permissions.
    fn perms(self, spec: &str) -> Self {
        self.file(snapshot::PERMISSIONS, permissions(spec))
    }
    /// Role definitions: `auditor=global tester=project`.
    fn defs(self, spec: &str) -> Self {
        let mut xml = String::from("<roles>\n");
        for d in spec.split_whitespace() {
            let (id, scope) = d.split_once('=').expect("id=scope");
            xml.push_str(&format!("  <role id=\"{id}\" scope=\"{scope}\"/>\n"));
        }
        xml.push_str("</roles>\n");
        self.file(snapshot::ROLES, xml)
    }
    /// User groups: `qa=erin,frank`.
    fn groups(self, spec: &str) -> Self {
        let mut xml = String::from("<user-groups>\n");
        for g in spec.split_whitespace() {
            let (id, members) = g.split_once('=').expect("id=members");
            xml.push_str(&format!("  <group id=\"{id}\">"));
            for m in members.split(',') {
                xml.push_str(&format!("<user name=\"{m}\"/>"));
            }
            xml.push_str("</group>\n");
        }
        xml.push_str("</user-groups>\n");
        self.file(snapshot::GROUPS, xml)
    }
    /// Accounts: `alice bob dave:disabled`.
    fn accounts(mut self, spec: &str) -> Self {
        for a in spec.split_whitespace() {
            let (login, disabled) = match a.strip_suffix(":disabled") {
                Some(l) => (l, "true"),
                None => (a, "false"),
            };
            self = self.file(
                &format!("{}{login}/user.xml", snapshot::USERS_DIR),
                format!("<user><field id=\"disabled\">{disabled}</field></user>"),
            );
        }
        self
    }
    /// A project with an optional lead.
    fn project(self, id: &str, lead: Option<&str>) -> Self {
        let lead = lead
            .map(|l| format!("<field id=\"lead\">{l}</field>"))
            .unwrap_or_default();
        self.file(
            &format!("{id}/.polarion/polarion-project.xml"),
            format!("<project>{lead}</project>"),
        )
    }
    fn project_roles(self, id: &str, spec: &str) -> Self {
        self.file(
            &format!("{id}/.polarion/security/user-roles.xml"),
            user_roles(spec),
        )
    }
    fn project_perms(self, id: &str, spec: &str) -> Self {
        self.file(
            &format!("{id}/.polarion/security/permissions.xml"),
            permissions(spec),
        )
    }

    fn index(&self) -> Index {
        self.snapshot().policy
    }

    fn snapshot(&self) -> snapshot::Snapshot {
        let input = Input {
            revision: "r1".into(),
            files: self
                .files
                .iter()
                .map(|(p, t)| (p.clone(), t.as_bytes().to_vec()))
                .collect(),
            ..Input::default()
        };
        let report = snapshot::build(&input);
        let errors: Vec<String> = report
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.one_line())
            .collect();
        assert!(
            errors.is_empty(),
            "the configuration is invalid: {errors:#?}"
        );
        report.snapshot.expect("a valid configuration")
    }
}

/// Parse `user perm [@project] [k=v …]` into a request's parts.
fn parse_request(text: &str) -> (String, String, Option<String>, Object) {
    let mut parts = text.split_whitespace();
    let user = parts.next().expect("user").to_owned();
    let permission = perm(parts.next().expect("permission"));
    let mut project = None;
    let mut object = Object::new();
    for p in parts {
        match p.strip_prefix('@') {
            Some(id) => project = Some(id.to_owned()),
            None => object.push_pair(p).expect("k=v"),
        }
    }
    (user, permission, project, object)
}

/// Every line `request => allow|deny` holds, for `check` and `explain`.
fn check(cfg: &Cfg, cases: &str) {
    let ix = cfg.index();
    let mut failures = Vec::new();
    for line in cases.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (request, expect) = line.split_once("=>").expect("request => verdict");
        let (user, permission, project, object) = parse_request(request);
        let req = Request {
            user: &user,
            permission: &permission,
            project: project.as_deref(),
            object: &object,
        };
        let got = ix.check(&req).expect("the request can be answered");
        let explained = ix.explain(&req).expect("the request can be explained");
        assert_eq!(
            explained.verdict, got,
            "explain disagrees with check: {line}"
        );
        if got.as_str() != expect.trim() {
            failures.push(format!(
                "{line}\n    got {}\n{}",
                got.as_str(),
                explained.render("r1")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// 000/001, "Example that illustrates REST API Endpoint permissions":
/// user_A is project_admin in project_A, project_user in project_B and
/// holds a custom global role with GET. Endpoint (3) has no verb in the
/// documents: PATCH, POST and DELETE are refused there (project_user has
/// no REST permission, project_admin is held in A only); GET is allowed,
/// because the custom role is a global role and its GET, a setting of the
/// global context, reaches every project (docs/permissions.md).
#[test]
fn rest_worked_example_of_the_documentation() {
    let cfg = Cfg::new()
        .defs("rest_reader=global")
        .roles("u=user,rest_reader")
        .perms("rest_reader +rest.get")
        .project("A", None)
        .project_roles("A", "u=project_admin")
        .project("B", None)
        .project_roles("B", "u=project_user");
    check(
        &cfg,
        "u rest.get => allow
         u rest.get @A => allow
         u rest.patch @A => allow
         u rest.post @A => allow
         u rest.delete @A => allow
         u rest.patch @B => deny
         u rest.post @B => deny
         u rest.delete @B => deny
         u rest.get @B => allow
         u rest.patch => deny",
    );
}

/// 000/001: "These permissions are set to true for the admin and
/// project_admin roles in the Global context. (And for all Projects by
/// default.) For all other roles, REST API Endpoint permissions are
/// denied by default."
#[test]
fn rest_defaults_grant_admins_and_leave_other_roles_unset() {
    let cfg = Cfg::new()
        .roles("root=admin,user v=user pa=user")
        .project("A", None)
        .project_roles("A", "pa=project_admin,project_user v=project_user")
        .project("B", None)
        .project_roles("B", "pa=project_user");
    check(
        &cfg,
        "root rest.delete => allow
         root rest.delete @A => allow
         pa rest.post @A => allow
         pa rest.get @B => deny
         pa rest.get => deny
         v rest.get @A => deny
         v rest.get => deny",
    );
}

/// 000/001, "To allow REST API access for all users for both the Global
/// and Project contexts": the four verbs for `everyone` in the Global
/// context open every endpoint to every user, whatever project roles
/// they hold.
#[test]
fn rest_everyone_recipe_opens_every_endpoint_to_every_user() {
    let cfg = Cfg::new()
        .roles("v=user w=user")
        .perms("everyone +rest.get +rest.patch +rest.post +rest.delete")
        .project("A", None)
        .project_roles("A", "v=project_user,project_assignable w=project_approver")
        .project("B", None)
        .project_roles("B", "v=project_admin")
        .project("C", None)
        .project_perms("C", "project_user +WorkItem.read");
    let mut cases = String::new();
    for u in ["v", "w"] {
        for verb in ["get", "patch", "post", "delete"] {
            for at in ["", "@A", "@B", "@C"] {
                cases.push_str(&format!("{u} rest.{verb} {at} => allow\n"));
            }
        }
    }
    check(&cfg, &cases);
}

/// 000/001, "Allow default REST API project-level access using project
/// roles": GET for project_user; GET, PATCH, POST, DELETE for
/// project_assignable and project_approver, set in the global context.
/// A user with several project roles gets the union.
#[test]
fn rest_project_roles_recipe_works_for_several_project_roles() {
    let cfg = Cfg::new()
        .roles("multi=user reader=user approver=user")
        .perms(
            "project_user +rest.get\n\
             project_assignable +rest.get +rest.patch +rest.post +rest.delete\n\
             project_approver +rest.get +rest.patch +rest.post +rest.delete",
        )
        .project("A", None)
        .project_roles(
            "A",
            "multi=project_user,project_assignable reader=project_user approver=project_user,project_approver",
        )
        .project("B", None)
        .project_roles("B", "multi=project_user");
    check(
        &cfg,
        "multi rest.get @A => allow
         multi rest.post @A => allow
         multi rest.delete @A => allow
         multi rest.post @B => deny
         multi rest.get @B => allow
         reader rest.get @A => allow
         reader rest.patch @A => deny
         approver rest.patch @A => allow
         multi rest.get => deny",
    );
}

/// 000/001: the defaults hold "for all Projects by default", i.e. unless
/// the project overrides them; 003, "Configuring User Permissions":
/// "changes to the project settings override the same settings in the
/// repository scope". A deny written in a project's file (or the global
/// file) replaces the default grant of that role.
#[test]
fn rest_a_deny_in_a_file_overrides_the_default_grant() {
    let cfg = Cfg::new()
        .roles("pa=user")
        .perms("project_admin -rest.post")
        .project("A", None)
        .project_roles("A", "pa=project_admin")
        .project_perms("A", "project_admin -rest.delete")
        .project("B", None)
        .project_roles("B", "pa=project_admin");
    check(
        &cfg,
        "pa rest.delete @A => deny
         pa rest.get @A => allow
         pa rest.post @A => deny
         pa rest.delete @B => allow
         pa rest.post @B => deny
         pa rest.patch @B => allow",
    );
}

#[test]
fn rest_grant_to_a_project_role_in_the_global_file_reaches_every_project() {
    let cfg = Cfg::new()
        .roles("v=user")
        .perms("project_user +rest.get")
        .project("A", None)
        .project_roles("A", "v=project_user");
    check(&cfg, "v rest.get @A => allow\n v rest.post @A => deny");
}

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

#[test]
fn first_matching_custom_set_decides() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set Approved WorkItem status:approved\n\
             set Mine WorkItem author:$[user.id]\n\
             set Done WorkItem status:(approved OR done)\n\
             user +WorkItem.modify -@Approved.modify +@Mine.modify +@Done.modify",
    );
    check(
        &cfg,
        "bob WorkItem.modify => allow
         bob WorkItem.modify status=draft => allow
         bob WorkItem.modify status=approved => deny
         bob WorkItem.modify status=approved author=bob => deny
         bob WorkItem.modify status=draft author=bob => allow
         bob WorkItem.modify status=done => allow",
    );
}

#[test]
fn a_custom_set_applies_to_its_prototype_only() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set Frozen Module status:approved\n\
         user +WorkItem.modify +Module.modifyContent -@Frozen.modifyContent",
    );
    check(
        &cfg,
        "bob WorkItem.modify status=approved => allow
         bob Module.modifyContent status=approved => deny
         bob Module.modifyContent status=draft => allow",
    );
}

#[test]
fn an_unset_custom_set_permission_takes_the_base_permission() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set Frozen Module status:approved\n\
         user +Module.read -@Frozen.modifyContent",
    );
    check(&cfg, "bob Module.read status=approved => allow");
}

#[test]
fn a_custom_set_deny_beats_a_grant_of_the_base_permission_on_another_role() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("set Approved WorkItem status:approved\nuser -@Approved.modify")
        .project("A", None)
        .project_roles("A", "bob=project_user")
        .project_perms("A", "project_user +WorkItem.modify");
    // In A the project's file decides which sets apply: it has none.
    check(&cfg, "bob WorkItem.modify @A status=approved => allow");
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms(
            "set Approved WorkItem status:approved\n\
             user -@Approved.modify\n\
             project_user +WorkItem.modify",
        )
        .project("A", None)
        .project_roles("A", "bob=project_user");
    // The set's deny is explicit and the base grant reaches the set as
    // inherited; A has no settings of its own, so it answers as the
    // global context (003: global permissions "together with its Custom
    // Sets, are propagated to the Project level").
    check(
        &cfg,
        "bob WorkItem.modify status=approved => deny
         bob WorkItem.modify @A status=approved => deny
         bob WorkItem.modify @A status=draft => allow",
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
            [$(($path, include_str!(concat!("../../sample-repo/", $path)))),*]
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

/// 003, "Setting Permissions for Work Item Fields" and "Defining
/// Permissions for Artifact Sets"; 002, "Custom Set Permissions": inside
/// a matching set the set's READ and MODIFY govern the fields as the
/// general READ and MODIFY do outside sets.
#[test]
fn a_custom_set_covers_field_permissions() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set Secret WorkItem category:security\n\
         set Frozen WorkItem status:approved\n\
         user +WorkItem.read +WorkItem.modify -@Secret.read -@Secret.modify +@Frozen.read -@Frozen.modify",
    );
    check(
        &cfg,
        "bob WorkItem.field.title.read category=security => deny
         bob WorkItem.field.title.modify category=security => deny
         bob WorkItem.field.title.read category=other => allow
         bob WorkItem.field.title.modify category=other => allow
         bob WorkItem.field.status.read status=approved => allow
         bob WorkItem.field.status.modify status=approved => deny
         bob WorkItem.field.status.modify status=draft => allow",
    );
}

/// 003, "Setting Permissions for Work Item Fields": "denying permission
/// to READ also denies permission to MODIFY" — inside a set too.
#[test]
fn inside_a_set_field_read_denied_implies_field_modify_denied() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set S WorkItem status:a\n\
         set T WorkItem status:t\n\
         user +WorkItem.read +WorkItem.modify +@S.modify -@S.field.salary.read -@T.read +@T.field.x.modify",
    );
    check(
        &cfg,
        "bob WorkItem.field.salary.modify status=a => deny
         bob WorkItem.field.salary.read status=a => deny
         bob WorkItem.field.other.modify status=a => allow
         bob WorkItem.field.salary.modify status=b => allow
         bob WorkItem.field.x.modify status=t => deny
         bob WorkItem.field.x.read status=t => deny",
    );
}

/// 003, "Permissions for Test Runs": "The comment permission is a child of
/// Permission to MODIFY" — also inside a Test Run custom set.
#[test]
fn a_custom_set_covers_test_run_comment() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set Locked TestRun status:locked\n\
         set Open TestRun status:open\n\
         user +TestRun.modify -@Locked.modify -@Open.modify +@Open.comment",
    );
    check(
        &cfg,
        "bob TestRun.comment status=locked => deny
         bob TestRun.comment status=draft => allow
         bob TestRun.comment status=open => allow
         bob TestRun.modify status=open => deny",
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
            .map(|(p, t)| (p.clone(), t.as_bytes().to_vec()))
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
            .map(|(p, t)| (p.clone(), t.as_bytes().to_vec()))
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

/// `headingsObeyDeletePermission` is `true` or `false`; anything else is
/// `xml-invalid-value` (docs/permissions.md, "Headings").
#[test]
fn headings_obey_delete_permission_takes_true_or_false() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("attr headingsObeyDeletePermission=yes\nuser +WorkItem.read");
    let input = Input {
        files: cfg
            .files
            .iter()
            .map(|(p, t)| (p.clone(), t.as_bytes().to_vec()))
            .collect(),
        ..Input::default()
    };
    let diags = snapshot::build(&input).diagnostics;
    assert!(
        diags
            .iter()
            .any(|d| d.code == crate::diag::Code::XmlInvalidValue
                && d.message.contains("headingsObeyDeletePermission")),
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
            .map(|(p, t)| (p.clone(), t.as_bytes().to_vec()))
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

/// 003, "Important Permission Ramifications": "By default, users can
/// delete Heading type Work Items without having the permission to DELETE
/// Work Items. To require that permission for deleting Headings, set the
/// system property headingsObeyDeletePermission=true". rolesync reads it
/// from the root of the global permissions.xml (docs/permissions.md).
#[test]
fn headings_can_be_deleted_without_the_delete_permission() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("user +WorkItem.read -WorkItem.delete");
    check(
        &cfg,
        "bob WorkItem.delete type=heading => allow
         bob WorkItem.delete type=task => deny
         bob WorkItem.delete => deny
         ghost WorkItem.delete type=heading => deny",
    );
    let cfg = Cfg::new().roles("bob=user").perms(
        "attr headingsObeyDeletePermission=true\n\
         user +WorkItem.read -WorkItem.delete",
    );
    check(
        &cfg,
        "bob WorkItem.delete type=heading => deny
         bob WorkItem.delete type=task => deny",
    );
    let cfg = Cfg::new().roles("bob=user").perms(
        "attr headingsObeyDeletePermission=true\n\
         user +WorkItem.delete",
    );
    check(&cfg, "bob WorkItem.delete type=heading => allow");
}

#[test]
fn field_read_denied_implies_field_modify_denied() {
    let cfg = Cfg::new()
        .defs("auditor=global")
        .roles("bob=user,auditor")
        .perms(
            "user +WorkItem.read +WorkItem.modify +WorkItem.field.salary.modify\n\
             auditor -WorkItem.field.salary.read",
        );
    check(
        &cfg,
        "bob WorkItem.field.salary.read => deny
         bob WorkItem.field.salary.modify => deny
         bob WorkItem.field.title.modify => allow
         bob WorkItem.field.title.read => allow",
    );
}

#[test]
fn fields_take_the_object_permission_when_unset() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("user +WorkItem.read -WorkItem.modify +WorkItem.field.status.modify");
    check(
        &cfg,
        "bob WorkItem.field.severity.read => allow
         bob WorkItem.field.severity.modify => deny
         bob WorkItem.field.status.modify => allow",
    );
}

#[test]
fn document_content_rule_for_title_description_and_attachments() {
    let cfg = Cfg::new().roles("bob=user").perms(
        "set Frozen Module status:approved\n\
         user +WorkItem.read +WorkItem.modify +Module.modifyContent -@Frozen.modifyContent",
    );
    check(
        &cfg,
        "bob WorkItem.field.title.modify => allow
         bob WorkItem.field.title.modify document=Spec document.status=draft => allow
         bob WorkItem.field.title.modify document=Spec document.status=approved => deny
         bob WorkItem.field.description.modify document=Spec document.status=approved => deny
         bob WorkItem.field.attachments.modify document=Spec document.status=approved => deny
         bob WorkItem.field.status.modify document=Spec document.status=approved => allow",
    );
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("user +WorkItem.read +WorkItem.modify");
    check(
        &cfg,
        "bob WorkItem.field.title.modify document=Spec => deny
         bob WorkItem.field.title.modify => allow",
    );
}

#[test]
fn test_run_comment_falls_back_to_test_run_modify() {
    let cfg = Cfg::new()
        .defs("tester=global viewer=global")
        .roles("t=user,tester v=user,viewer")
        .perms("tester +TestRun.modify\nviewer -TestRun.modify +TestRun.comment");
    check(
        &cfg,
        "t TestRun.comment => allow
         v TestRun.comment => allow
         v TestRun.modify => deny",
    );
}

#[test]
fn administration_modify_is_the_parent_of_user_and_role_management() {
    let cfg = Cfg::new()
        .defs("helpdesk=global")
        .roles("h=user,helpdesk")
        .perms("helpdesk +administration.modify -security.role.manage");
    check(
        &cfg,
        "h security.user.manage => allow
         h security.role.manage => deny
         h administration.modify => allow",
    );
}

#[test]
fn a_parent_grant_is_inherited_and_loses_to_an_explicit_deny() {
    let cfg = Cfg::new()
        .defs("a=global b=global")
        .roles("u=user,a,b")
        .perms("a +TestRun.modify\nb -TestRun.comment");
    check(&cfg, "u TestRun.comment => deny");
}

#[test]
fn legacy_document_modify_stands_for_manage_fields_and_content() {
    let cfg = Cfg::new()
        .roles("bob=user")
        .perms("user +Module.modify -Module.manage");
    check(
        &cfg,
        "bob Module.modifyFields => allow
         bob Module.modifyContent => allow
         bob Module.manage => deny
         bob Module.resolveComment => deny",
    );
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

/// Random configurations and requests: `explain` ends in `check`'s
/// verdict, its chain replays to that verdict, and admin is never denied.
mod random {
    use proptest::prelude::*;

    use super::*;

    const USERS: &[&str] = &["u0", "u1", "u2", "u3"];
    const GLOBAL_ROLES: &[&str] = &["admin", "user", "assignable", "r1", "r2"];
    const PROJECT_ROLES: &[&str] = &[
        "project_admin",
        "project_user",
        "project_assignable",
        "p1",
        "user",
    ];
    const RULE_ROLES: &[&str] = &[
        "user",
        "r1",
        "r2",
        "everyone",
        "project_admin",
        "project_user",
        "p1",
        "author",
        "assignee",
        "lead",
        "admin",
    ];
    const PERMS: &[&str] = &[
        "WorkItem.read",
        "WorkItem.modify",
        "WorkItem.field.f.read",
        "WorkItem.field.f.modify",
        "WorkItem.field.title.read",
        "WorkItem.field.title.modify",
        "TestRun.modify",
        "TestRun.comment",
        "Module.modify",
        "Module.modifyContent",
        "security.login",
        "rest.get",
        "rest.post",
        "administration.modify",
        "security.user.manage",
        "WorkItem.delete",
        "@S.modify",
        "@S.read",
        "@S.comment",
        "@S.modifyContent",
        "@S.field.f.read",
        "@S.field.f.modify",
    ];
    const QUERIES: &[&str] = &[
        "WorkItem status:a",
        "WorkItem status:(a OR b)",
        "WorkItem NOT status:a",
        "Module status:a",
        "WorkItem author:$[user.id]",
        "TestRun status:a",
    ];
    const PROJECTS: &[&str] = &["P0", "P1", "P2"];
    const ATTRS: &[&str] = &[
        "status=a",
        "status=b",
        "author=u0",
        "author=u1",
        "assignee=u2",
        "document=D",
        "document.status=a",
        "type=heading",
    ];

    fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
        proptest::sample::select(pool)
    }

    /// `holder=role,role …` over the users and a group.
    fn assignments(roles: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop::collection::vec(
            (
                pick(&["u0", "u1", "u2", "u3", "@g"]),
                prop::collection::vec(pick(roles), 1..3),
            ),
            1..6,
        )
        .prop_map(|holders| {
            let mut seen = std::collections::BTreeMap::new();
            for (h, rs) in holders {
                let entry: &mut Vec<&str> = seen.entry(h).or_default();
                for r in rs {
                    if !entry.contains(&r) {
                        entry.push(r);
                    }
                }
            }
            seen.iter()
                .map(|(h, rs)| format!("{h}={}", rs.join(",")))
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    /// A permissions file: set `S` (and so `@S.…` names) and rules.
    fn permissions_spec() -> impl Strategy<Value = String> {
        (
            any::<bool>(),
            pick(QUERIES),
            prop::collection::vec(
                (
                    pick(RULE_ROLES),
                    prop::collection::vec((any::<bool>(), pick(PERMS)), 1..6),
                ),
                1..8,
            ),
        )
            .prop_map(|(headings, query, roles)| {
                let mut spec = format!("set S {query}\n");
                if headings {
                    spec.push_str("attr headingsObeyDeletePermission=true\n");
                }
                for (role, rules) in roles {
                    spec.push_str(role);
                    for (grant, p) in rules {
                        spec.push_str(if grant { " +" } else { " -" });
                        spec.push_str(p);
                    }
                    spec.push('\n');
                }
                spec
            })
    }

    #[derive(Debug, Clone)]
    struct ProjectSpec {
        roles: String,
        perms: Option<String>,
        lead: Option<&'static str>,
    }

    fn project_spec() -> impl Strategy<Value = ProjectSpec> {
        (
            assignments(PROJECT_ROLES),
            proptest::option::of(permissions_spec()),
            proptest::option::of(pick(USERS)),
        )
            .prop_map(|(roles, perms, lead)| ProjectSpec { roles, perms, lead })
    }

    fn config() -> impl Strategy<Value = Cfg> {
        (
            assignments(GLOBAL_ROLES),
            permissions_spec(),
            prop::collection::vec(project_spec(), 3),
            prop::collection::vec(pick(USERS), 1..3),
            proptest::option::of(prop::collection::vec(any::<bool>(), 4)),
        )
            .prop_map(|(global, perms, projects, group, accounts)| {
                let mut cfg = Cfg::new()
                    .defs("r1=global r2=global p1=project")
                    .groups(&format!("g={}", group.join(",")))
                    .roles(&global)
                    .perms(&perms);
                if let Some(disabled) = accounts {
                    let spec: Vec<String> = USERS
                        .iter()
                        .zip(disabled)
                        .map(|(u, d)| {
                            if d {
                                format!("{u}:disabled")
                            } else {
                                (*u).to_owned()
                            }
                        })
                        .collect();
                    cfg = cfg.accounts(&spec.join(" "));
                }
                for (id, p) in PROJECTS.iter().zip(projects) {
                    cfg = cfg.project(id, p.lead).project_roles(id, &p.roles);
                    if let Some(perms) = &p.perms {
                        cfg = cfg.project_perms(id, perms);
                    }
                }
                cfg
            })
    }

    fn requests() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(
            (
                pick(&["u0", "u1", "u2", "u3", "stranger"]),
                pick(PERMS),
                proptest::option::of(pick(PROJECTS)),
                prop::collection::vec(pick(ATTRS), 0..3),
            )
                .prop_map(|(u, p, project, attrs)| {
                    let mut line = format!(
                        "{u} {}",
                        if p.starts_with('@') {
                            "WorkItem.modify"
                        } else {
                            p
                        }
                    );
                    if let Some(id) = project {
                        line.push_str(&format!(" @{id}"));
                    }
                    for a in attrs {
                        line.push(' ');
                        line.push_str(a);
                    }
                    line
                }),
            1..32,
        )
    }

    /// The verdict an explanation's own chain leads to.
    fn replay(e: &Explanation) -> Verdict {
        if e.admin.is_some() {
            return Verdict::Allow;
        }
        if e.account != AccountStatus::Active {
            return Verdict::Deny;
        }
        for step in &e.steps {
            let strongest = state::strongest(step.roles.iter().map(|r| r.state));
            assert_eq!(strongest, step.strongest, "{}", e.render("r"));
            if !strongest.allows() {
                return Verdict::Deny;
            }
        }
        if e.reason == Reason::HeadingDelete {
            return Verdict::Allow;
        }
        if e.steps.is_empty() {
            Verdict::Deny
        } else {
            Verdict::Allow
        }
    }

    /// docs/permissions.md again, straight from the model: every decision scans the
    /// assignments and the rules. Slow and simple, to hold the indexes to.
    mod oracle {
        use crate::model::{Holder, Model, PermissionSet, Scope};
        use crate::policy::names::{self, FieldAction};
        use crate::policy::query::{self, Object};
        use crate::policy::state::{Level, State, combine};
        use crate::policy::{LOGIN, Verdict};

        struct Ask<'a> {
            model: &'a Model,
            user: &'a str,
            project: Option<&'a str>,
            login: bool,
        }

        pub fn decide(
            model: &Model,
            user: &str,
            permission: &str,
            project: Option<&str>,
            obj: &Object,
        ) -> Verdict {
            if let Some(accounts) = &model.accounts {
                match accounts.get(user) {
                    Some(a) if !a.disabled => {}
                    _ => return Verdict::Deny,
                }
            }
            let login = permission == LOGIN;
            let ask = Ask {
                model,
                user,
                project: if login { None } else { project },
                login,
            };
            let held = ask.held();
            if held.iter().any(|(r, p)| r == "admin" && !p) {
                return Verdict::Allow;
            }
            // 003: `user` nowhere is "[disabled]": denied everything.
            let anywhere = Ask {
                model,
                user,
                project: None,
                login: true,
            };
            if !anywhere.held().iter().any(|(r, _)| r == "user") {
                return Verdict::Deny;
            }
            // 003: Headings are deleted without WorkItem.delete unless
            // headingsObeyDeletePermission is set.
            let obey = model
                .global_permissions
                .as_ref()
                .is_some_and(|g| g.headings_obey_delete_permission);
            if !obey
                && permission == "com.polarion.persistence.object.WorkItem.delete"
                && obj.has("type", "heading")
            {
                return Verdict::Allow;
            }
            if !ask.step(permission, obj) {
                return Verdict::Deny;
            }
            if let Some(f) = names::field_permission(permission)
                && f.action == FieldAction::Modify
            {
                if !ask.step(&names::field_name(&f, FieldAction::Read), obj) {
                    return Verdict::Deny;
                }
                if f.prototype == "WorkItem"
                    && ["title", "description", "attachments"].contains(&f.field)
                    && obj.values("document").next().is_some()
                {
                    let mut doc = Object::new();
                    for (k, v) in obj.attrs() {
                        if let Some(k) = k.strip_prefix("document.") {
                            doc.push(k, v);
                        }
                    }
                    if doc.values("author").next().is_none() {
                        for v in obj.values("document_author") {
                            doc.push("author", v);
                        }
                    }
                    for v in obj.values("document_author") {
                        doc.push("document_author", v);
                    }
                    if !ask.step(names::MODULE_MODIFY_CONTENT, &doc) {
                        return Verdict::Deny;
                    }
                }
            }
            Verdict::Allow
        }

        impl Ask<'_> {
            /// (role, held in a project) for every assignment reaching the user.
            fn held(&self) -> Vec<(String, bool)> {
                let groups: Vec<_> = self
                    .model
                    .user_groups
                    .iter()
                    .filter(|(_, m)| m.iter().any(|l| l.as_str() == self.user))
                    .map(|(g, _)| g)
                    .collect();
                self.model
                    .assignments
                    .iter()
                    .filter(|a| match &a.holder {
                        Holder::User(l) => l.as_str() == self.user,
                        Holder::Group(g) => groups.contains(&g),
                    })
                    .filter(|a| match (&a.scope, self.project) {
                        (Scope::Global, _) => true,
                        (Scope::Project(_), _) if self.login => true,
                        (Scope::Project(p), Some(q)) => p.as_str() == q,
                        (Scope::Project(_), None) => false,
                    })
                    .map(|a| (a.role.to_string(), a.scope != Scope::Global))
                    .collect()
            }

            /// The project's own file, when it sets anything.
            fn own_file(&self) -> Option<&PermissionSet> {
                let p = self
                    .model
                    .projects
                    .iter()
                    .find(|(id, _)| Some(id.as_str()) == self.project)?;
                p.1.permissions
                    .as_ref()
                    .filter(|f| !f.rules.is_empty() || !f.customsets.is_empty())
            }

            fn step(&self, permission: &str, obj: &Object) -> bool {
                let global = self.model.global_permissions.as_ref();
                let own = self.own_file();
                let sets_file = if self.project.is_some() {
                    own.or(global)
                } else {
                    global
                };
                let hit = sets_file.and_then(|f| {
                    f.customsets.iter().find_map(|cs| {
                        permission
                            .strip_prefix(cs.prototype.as_str())?
                            .strip_prefix('.')?;
                        let q = query::parse(&cs.query).ok()?;
                        q.matches(obj, self.user).then_some((f, cs))
                    })
                });
                let mut roles = self.held();
                roles.push(("everyone".into(), false));
                for (role, attr) in [
                    ("author", "author"),
                    ("assignee", "assignee"),
                    ("document_author", "document_author"),
                    ("comment_author", "comment_author"),
                ] {
                    if obj.has(attr, self.user) {
                        roles.push((role.into(), false));
                    }
                }
                if let Some(p) = self.project
                    && self.model.projects.iter().any(|(id, pr)| {
                        id.as_str() == p
                            && pr.lead.as_ref().is_some_and(|l| l.as_str() == self.user)
                    })
                {
                    roles.push(("lead".into(), false));
                }
                let mut best = State::NotSet;
                for (role, _) in &roles {
                    best = combine(best, self.role_state(role, permission, hit, own, global));
                }
                best.allows()
            }

            /// The first name of the chain that sets the permission for
            /// the role: inside a matching set, the set's keys for the
            /// permission and its parents; then the permission and its
            /// parents, the project's own file before the global file
            /// (a global setting keeps its level in a project), then the
            /// built-in defaults. Everything after the first name is
            /// inherited.
            fn role_state(
                &self,
                role: &str,
                permission: &str,
                hit: Option<(&PermissionSet, &crate::model::CustomSet)>,
                own: Option<&PermissionSet>,
                global: Option<&PermissionSet>,
            ) -> State {
                let in_file = |f: &PermissionSet, perm: &str| -> Option<State> {
                    f.rules
                        .iter()
                        .filter(|r| r.role.as_str() == role && r.permission == perm)
                        .map(|r| State::of(Level::Explicit, r.effect))
                        .reduce(combine)
                };
                let mut general = vec![permission.to_owned()];
                while let Some(p) = general.last().and_then(|n| names::parent(n)) {
                    general.push(p);
                }
                let pass = |s: State, inherit: bool| if inherit { s.inherited() } else { s };
                if let Some((file, cs)) = hit {
                    for (i, name) in general.iter().enumerate() {
                        let Some(rest) = name
                            .strip_prefix(cs.prototype.as_str())
                            .and_then(|r| r.strip_prefix('.'))
                        else {
                            continue;
                        };
                        if let Some(s) = in_file(file, &format!("@{}.{rest}", cs.id)) {
                            return pass(s, i > 0);
                        }
                    }
                }
                for (i, name) in general.iter().enumerate() {
                    let found = own
                        .and_then(|f| in_file(f, name))
                        .or_else(|| global.and_then(|g| in_file(g, name)))
                        .or_else(|| default(name, role));
                    if let Some(s) = found {
                        return pass(s, hit.is_some() || i > 0);
                    }
                }
                State::NotSet
            }
        }

        /// Built-in defaults: `user` logs in (inherited grant); the REST
        /// verbs for `admin` and `project_admin` (explicit settings of
        /// the global context, 000/001).
        fn default(perm: &str, role: &str) -> Option<State> {
            if perm == LOGIN {
                return (role == "user").then_some(State::InheritedGrant);
            }
            (names::is_rest(perm) && (role == "admin" || role == "project_admin"))
                .then_some(State::ExplicitGrant)
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        #[test]
        fn explain_agrees_with_check(cfg in config(), lines in requests()) {
            let snap = cfg.snapshot();
            let ix = &snap.policy;
            for line in &lines {
                let (user, permission, project, object) = parse_request(line);
                let req = Request { user: &user, permission: &permission, project: project.as_deref(), object: &object };
                let verdict = ix.check(&req).expect("known projects");
                let e = ix.explain(&req).expect("known projects");
                prop_assert_eq!(e.verdict, verdict, "{}\n{}", line, e.render("r"));
                prop_assert_eq!(replay(&e), verdict, "{}\n{}", line, e.render("r"));
                let naive = oracle::decide(&snap.model, &user, &permission, project.as_deref(), &object);
                prop_assert_eq!(naive, verdict, "the indexed decision differs from a scan of the model: {}\n{}", line, e.render("r"));
                let admin = ix.user_view(&user).admin && e.account == AccountStatus::Active;
                if admin {
                    prop_assert_eq!(verdict, Verdict::Allow, "admin denied: {}", line);
                }
            }
        }

        /// 003, "Defining Permissions for Artifact Sets": "Global-level
        /// permissions, together with its Custom Sets, are propagated to
        /// the Project level if the Project does not have any Project
        /// level permissions set." Project P0 without a file, with
        /// `<permissions/>` and with a copy of the global file answer
        /// alike; and with nobody holding a role in it (and no lead) it
        /// answers as the global context.
        #[test]
        fn a_project_without_settings_inherits_the_global_configuration(
            cfg in config(),
            lines in requests(),
        ) {
            let own = "P0/.polarion/security/permissions.xml";
            let global = cfg.files.get(snapshot::PERMISSIONS).cloned().unwrap_or_default();
            let mut plain = cfg.clone();
            plain.files.remove(own);
            let empty = plain.clone().file(own, "<permissions/>".into());
            let copy = plain.clone().file(own, global);
            let nobody = plain
                .clone()
                .file("P0/.polarion/polarion-project.xml", "<project/>".into())
                .file("P0/.polarion/security/user-roles.xml", "<user-roles/>".into());
            let ixs: Vec<Index> = [&plain, &empty, &copy, &nobody].iter().map(|c| c.index()).collect();
            for line in &lines {
                let (user, permission, _, object) = parse_request(line);
                let ask = |ix: &Index, project: Option<&str>| {
                    ix.check(&Request { user: &user, permission: &permission, project, object: &object })
                        .expect("known project")
                };
                let p0 = ask(&ixs[0], Some("P0"));
                prop_assert_eq!(ask(&ixs[1], Some("P0")), p0, "<permissions/> differs: {}", line);
                prop_assert_eq!(ask(&ixs[2], Some("P0")), p0, "the copied global file differs: {}", line);
                prop_assert_eq!(
                    ask(&ixs[3], Some("P0")),
                    ask(&ixs[3], None),
                    "P0 without roles differs from the global context: {}",
                    line
                );
            }
        }
    }
}
