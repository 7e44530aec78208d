//! The checks of `lower` that look across files, once the model is whole:
//! roles, role-group names and logins.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use std::sync::Arc;

use super::super::types::{
    Assignment, DYNAMIC_ROLES, Loc, Model, PermissionRule, RoleDefinition, Scope,
};
use super::check_memo::{CheckMemo, RoleChecks, RoleContext, Segments};
use super::cx::{ConfigFiles, Cx};
use super::part::Part;
use crate::diag::{Code, Diagnostic};
use crate::fxhash::FxHashMap;
use crate::ident::{Login, ProjectId, RoleId};

/// The checks that look at the whole model: roles, role-group names and
/// logins, each part's taken from `memo` when it is the part checked
/// before (`check_memo.rs`); the diagnostics are those of checking the
/// whole model, in the same order.
pub(super) fn check_across_files(
    cx: &mut Cx,
    model: &Model,
    files: &ConfigFiles,
    segs: &Segments,
    memo: &mut CheckMemo,
) {
    let assigned_globally = memo.global_roles(segs.global);
    let context = role_context(model, &assigned_globally);
    let answer = memo.update(model, segs, (&context, &assigned_globally), |part| {
        role_checks(model, part, &context)
    });
    // The global assignments' scope checks read the role context alone.
    let global_scopes = memo.global_scopes(segs.global, &context, |assignments| {
        let mut diags = Vec::new();
        check_role_scopes(&mut diags, model, assignments, &context);
        diags
    });
    cx.diags.extend(global_scopes.iter().cloned());
    check_roles(cx, model, &context, &answer.roles, segs);
    // When the role groups would pass the bound of the access file,
    // `snapshot::build` refuses the configuration (access-file-too-large)
    // without building them at all; their names are not checked then.
    if answer.name_collisions
        && model
            .role_groups_size(files.limits.max_access_bytes)
            .is_some()
    {
        check_role_group_names(cx, model, files);
    }
    if answer.case_conflicts {
        let seen = segs
            .accounts
            .seen_logins
            .iter()
            .chain(segs.groups.iter().flat_map(|g| &g.seen_logins))
            .chain(segs.global.iter().flat_map(|g| &g.seen_logins))
            .chain(segs.parts.iter().flat_map(|(_, p)| &p.seen_logins));
        check_logins(cx, seen);
    }
}

/// The roles defined globally and for every project, and the roles known
/// everywhere: those, the roles assigned globally (every global
/// assignment is the global user-roles.xml's: `Model::roles_in(Global)`)
/// and the dynamic ones.
fn role_context(model: &Model, assigned_globally: &BTreeSet<RoleId>) -> RoleContext {
    let project_defined = model.defined_roles(&Scope::Project(placeholder_project()));
    let global_defined = model.defined_roles(&Scope::Global);
    let dynamic = DYNAMIC_ROLES.iter().filter_map(|r| RoleId::new(r).ok());
    let mut base: BTreeSet<RoleId> = global_defined.clone();
    base.extend(assigned_globally.iter().cloned());
    base.extend(project_defined.iter().cloned());
    base.extend(dynamic);
    RoleContext {
        global_defined,
        project_defined,
        base,
    }
}

/// One project's role checks: its assignments' scopes and its
/// permissions' roles.
fn role_checks(model: &Model, part: &Part, context: &RoleContext) -> RoleChecks {
    let mut scope_diags = Vec::new();
    check_role_scopes(&mut scope_diags, model, &part.assignments, context);
    let assigned: BTreeSet<RoleId> = part.assignments.iter().map(|a| a.role.clone()).collect();
    let mut unknown_diags = Vec::new();
    if let Some(set) = &part.project.permissions {
        for rule in set.rules.iter().filter(|r| {
            !context.base.contains(&r.role) && !part.project.roles.contains_key(&r.role)
        }) {
            if !assigned.contains(&rule.role) {
                unknown_diags.push(unknown_role(rule));
            }
        }
    }
    RoleChecks {
        scope_diags,
        unknown_diags,
        assigned,
    }
}

/// Roles assigned in a project where they do not exist (after the global
/// assignments'), and roles in permissions.xml that exist nowhere they
/// could apply (the global file, then each project's by id).
fn check_roles(
    cx: &mut Cx,
    model: &Model,
    context: &RoleContext,
    roles: &[Arc<RoleChecks>],
    segs: &Segments,
) {
    for r in roles {
        cx.diags.extend(r.scope_diags.iter().cloned());
    }
    if let Some(set) = &model.global_permissions {
        // Every role assigned globally is in `base`, every one assigned
        // in a project in that project's checks; the projects' own roles
        // are looked at only for a rule whose role is none of `base`.
        let rest: Vec<&PermissionRule> = (set.rules.iter())
            .filter(|r| !context.base.contains(&r.role))
            .collect();
        if !rest.is_empty() {
            let mut own: BTreeSet<&RoleId> = BTreeSet::new();
            for p in model.projects.values() {
                own.extend(p.roles.keys());
            }
            for rule in rest.into_iter().filter(|r| !own.contains(&r.role)) {
                if !roles.iter().any(|r| r.assigned.contains(&rule.role)) {
                    cx.diags.push(unknown_role(rule));
                }
            }
        }
    }
    // By project id: only the parts with such a diagnostic are ordered.
    let mut by_id: Vec<(&ProjectId, &RoleChecks)> = segs
        .parts
        .iter()
        .map(|(id, _)| id)
        .zip(roles.iter().map(|r| &**r))
        .filter(|(_, r)| !r.unknown_diags.is_empty())
        .collect();
    by_id.sort_by(|a, b| a.0.cmp(b.0));
    for (_, r) in by_id {
        cx.diags.extend(r.unknown_diags.iter().cloned());
    }
}

/// Roles assigned in a scope where they are not defined. A project's
/// own roles are looked up once per run of its assignments.
fn check_role_scopes(
    diags: &mut Vec<Diagnostic>,
    model: &Model,
    assignments: &[Assignment],
    context: &RoleContext,
) {
    let (global_defined, project_defined) = (&context.global_defined, &context.project_defined);
    let mut own: Option<(&Scope, Option<&BTreeMap<RoleId, RoleDefinition>>)> = None;
    for a in assignments {
        let (here, other, where_) = match &a.scope {
            Scope::Global => (
                global_defined,
                project_defined,
                "a project role, assigned globally",
            ),
            Scope::Project(_) => (
                project_defined,
                global_defined,
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
            diags.push(a.at.diag(
                Code::RoleScopeMismatch,
                format!("role `{}` is {where_}", a.role),
            ));
        }
    }
}

fn unknown_role(rule: &PermissionRule) -> Diagnostic {
    rule.at.diag(
        Code::UnknownRole,
        format!(
            "role `{}` is not built in, not defined in roles.xml and not assigned to anybody",
            rule.role
        ),
    )
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
