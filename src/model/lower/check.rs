//! The checks of `lower` that look across files, once the model is whole:
//! roles, role-group names and logins.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::super::types::{DYNAMIC_ROLES, Loc, Model, PermissionRule, RoleDefinition, Scope};
use super::cx::{ConfigFiles, Cx};
use crate::diag::{Code, Diagnostic};
use crate::fxhash::FxHashMap;
use crate::ident::{Login, ProjectId, RoleId};

/// The checks that look at the whole model: roles, role-group names and
/// logins.
pub(super) fn check_across_files<'a>(
    cx: &mut Cx,
    model: &Model,
    files: &ConfigFiles,
    seen_logins: impl Iterator<Item = &'a (Login, Loc)>,
) {
    check_roles(cx, model);
    // When the role groups would pass the bound of the access file,
    // `snapshot::build` refuses the configuration (access-file-too-large)
    // without building them at all; their names are not checked then.
    if model
        .role_groups_size(files.limits.max_access_bytes)
        .is_some()
    {
        check_role_group_names(cx, model, files);
    }
    check_logins(cx, seen_logins);
}

/// Roles assigned where they do not exist, and roles in permissions.xml
/// that exist nowhere they could apply.
fn check_roles(cx: &mut Cx, model: &Model) {
    let project_defined = model.defined_roles(&Scope::Project(placeholder_project()));
    check_role_scopes(cx, model, &project_defined);
    check_unknown_roles(cx, model, &project_defined);
}

/// Roles assigned in a scope where they are not defined. A project's
/// own roles are looked up once per run of its assignments.
fn check_role_scopes(cx: &mut Cx, model: &Model, project_defined: &BTreeSet<RoleId>) {
    let global_defined = model.defined_roles(&Scope::Global);
    let mut own: Option<(&Scope, Option<&BTreeMap<RoleId, RoleDefinition>>)> = None;
    for a in &model.assignments {
        let (here, other, where_) = match &a.scope {
            Scope::Global => (
                &global_defined,
                project_defined,
                "a project role, assigned globally",
            ),
            Scope::Project(_) => (
                project_defined,
                &global_defined,
                "a global role, assigned in a project",
            ),
        };
        let roles = match own {
            Some((scope, roles)) if *scope == a.scope => roles,
            _ => {
                let roles = a
                    .scope
                    .project()
                    .and_then(|p| model.projects.get(p))
                    .map(|p| &p.roles);
                own = Some((&a.scope, roles));
                roles
            }
        };
        // A role the project's own roles.xml defines exists there.
        if roles.is_some_and(|r| r.contains_key(&a.role)) {
            continue;
        }
        // 003, "Creating User Accounts": `user` may be assigned "either at
        // the repository level, or in at least one project".
        let user_in_project = a.scope != Scope::Global && a.role.as_str() == "user";
        if !here.contains(&a.role) && other.contains(&a.role) && !user_in_project {
            cx.diags.push(a.at.diag(
                Code::RoleScopeMismatch,
                format!("role `{}` is {where_}", a.role),
            ));
        }
    }
}

/// Roles in a permissions.xml that exist nowhere they could apply.
fn check_unknown_roles(cx: &mut Cx, model: &Model, project_defined: &BTreeSet<RoleId>) {
    let dynamic: BTreeSet<RoleId> = DYNAMIC_ROLES
        .iter()
        .filter_map(|r| RoleId::new(r).ok())
        .collect();
    let unknown = |cx: &mut Cx, rule: &PermissionRule| {
        cx.diags.push(rule.at.diag(
            Code::UnknownRole,
            format!(
                "role `{}` is not built in, not defined in roles.xml and not assigned to anybody",
                rule.role
            ),
        ));
    };
    let global_roles = model.roles_in(&Scope::Global);
    // The roles assigned in each project, gathered (one pass over every
    // assignment) only once a rule's role is found nowhere else.
    let mut assigned = None;
    let mut base: BTreeSet<&RoleId> = global_roles.iter().collect();
    base.extend(project_defined);
    base.extend(&dynamic);
    if let Some(set) = &model.global_permissions {
        // Every role assigned globally is in `global_roles`, every one
        // assigned in a project in `assigned`.
        let mut anywhere = base.clone();
        for p in model.projects.values() {
            anywhere.extend(p.roles.keys());
        }
        for rule in set.rules.iter().filter(|r| !anywhere.contains(&r.role)) {
            let assigned = assigned.get_or_insert_with(|| assigned_per_project(model));
            if !assigned.values().any(|roles| roles.contains(&rule.role)) {
                unknown(cx, rule);
            }
        }
    }
    for (id, project) in &model.projects {
        let Some(set) = &project.permissions else {
            continue;
        };
        for rule in set
            .rules
            .iter()
            .filter(|r| !base.contains(&r.role) && !project.roles.contains_key(&r.role))
        {
            let assigned = assigned.get_or_insert_with(|| assigned_per_project(model));
            if !assigned.get(id).is_some_and(|h| h.contains(&rule.role)) {
                unknown(cx, rule);
            }
        }
    }
}

/// The roles assigned in each project: one pass over the assignments for
/// every project, a project looked up once per run of its assignments.
fn assigned_per_project(model: &Model) -> BTreeMap<&ProjectId, BTreeSet<&RoleId>> {
    let mut assigned: BTreeMap<&ProjectId, BTreeSet<&RoleId>> = BTreeMap::new();
    let mut run: Option<(&ProjectId, BTreeSet<&RoleId>)> = None;
    for a in &model.assignments {
        let Scope::Project(p) = &a.scope else {
            continue;
        };
        match &mut run {
            Some((q, roles)) if *q == p => {
                roles.insert(&a.role);
            }
            _ => {
                if let Some((q, roles)) = run.take() {
                    assigned.entry(q).or_default().extend(roles);
                }
                run = Some((p, BTreeSet::from([&a.role])));
            }
        }
    }
    if let Some((q, roles)) = run {
        assigned.entry(q).or_default().extend(roles);
    }
    assigned
}

/// A project id that only serves to ask which roles every project has.
fn placeholder_project() -> ProjectId {
    ProjectId::new("_").expect("`_` is a valid project id")
}

/// Two roles that would share a group name in the access file.
fn check_role_group_names(cx: &mut Cx, model: &Model, files: &ConfigFiles) {
    let names = model.role_group_names();
    // Most configurations have no collision: count by hash first, and
    // order only the names that collide.
    let mut count: FxHashMap<&str, u32> = FxHashMap::default();
    for (name, _, _) in &names {
        *count.entry(name.as_str()).or_default() += 1;
    }
    let mut by_name: BTreeMap<String, Vec<(Scope, RoleId)>> = BTreeMap::new();
    for (name, scope, role) in names.iter().filter(|(n, _, _)| count[n.as_str()] > 1) {
        by_name
            .entry(name.clone())
            .or_default()
            .push((scope.clone(), role.clone()));
    }
    for (name, owners) in by_name.into_iter().filter(|(_, o)| o.len() > 1) {
        let described: Vec<String> = owners
            .iter()
            .map(|(scope, role)| match scope {
                Scope::Global => format!("global role `{role}`"),
                Scope::Project(p) => format!("role `{role}` of project `{p}`"),
            })
            .collect();
        let file = files
            .user_roles
            .as_ref()
            .map_or(".polarion/security/user-roles.xml", |r| r.src.path);
        cx.diags.push(Diagnostic::file(
            Code::RoleGroupCollision,
            file,
            format!(
                "{} would all be the access-file group `{name}`",
                described.join(" and ")
            ),
        ));
    }
}

/// Logins that differ only in case, reported once per pair of spellings.
fn check_logins<'a>(cx: &mut Cx, seen: impl Iterator<Item = &'a (Login, Loc)>) {
    let mut first: FxHashMap<Cow<str>, &(Login, Loc)> = FxHashMap::default();
    let mut reported: BTreeSet<(&Login, &Login)> = BTreeSet::new();
    for entry in seen {
        // Most logins are lower case already: no copy for them.
        let login = entry.0.as_str();
        let folded = if login.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(login.to_ascii_lowercase())
        } else {
            Cow::Borrowed(login)
        };
        match first.get(&folded) {
            None => {
                first.insert(folded, entry);
            }
            Some(prev) if prev.0 != entry.0 && reported.insert((&prev.0, &entry.0)) => {
                cx.diags.push(
                    entry
                        .1
                        .diag(
                            Code::LoginCaseConflict,
                            format!(
                                "logins `{}` and `{}` differ only in case; Subversion treats them as two users",
                                prev.0, entry.0
                            ),
                        )
                        .with_note(format!("`{}` is at {}", prev.0, prev.1)),
                );
            }
            Some(_) => {}
        }
    }
}
