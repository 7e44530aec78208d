//! Random configurations and requests: `explain` ends in `check`'s
//! verdict, its chain replays to that verdict, and admin is never denied.

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
                    let q = query::parse_within(
                        &cs.query,
                        crate::snapshot::Limits::default().max_query_depth,
                    )
                    .ok()?;
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
                    id.as_str() == p && pr.lead.as_ref().is_some_and(|l| l.as_str() == self.user)
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
