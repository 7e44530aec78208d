//! Lowering: from the wire types of every file to one validated [`Model`].
//!
//! Nothing here stops at the first problem. A name that fails validation
//! is dropped from the model (so it can never reach the access file) and
//! reported; the rest goes on.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;

use super::{
    Account, Assignment, CustomSet, DYNAMIC_ROLES, Holder, Loc, Model, PermissionRule,
    PermissionSet, Project, RoleDefinition, RoleScope, Scope,
};
use crate::diag::{Code, Diagnostic, Source};
use crate::ident::{CustomsetId, GroupId, IdentError, Login, ProjectId, RoleId};
use crate::snapshot::Limits;
use crate::xml::{self, HolderKind, RoleScopeWire, Spanned};

/// A file that was read: its source and its wire content.
#[derive(Debug)]
pub struct Read<'s, T> {
    pub src: &'s Source<'s>,
    pub value: T,
}

/// The files of one project folder.
#[derive(Debug)]
pub struct ProjectFiles<'s> {
    /// The project folder, relative to the repository root (never empty).
    pub folder: String,
    pub descriptor: Read<'s, xml::ProjectFile>,
    pub user_roles: Option<Read<'s, xml::UserRolesFile>>,
    pub permissions: Option<Read<'s, xml::PermissionsFile>>,
    /// The project's own role definitions (`<folder>/.polarion/security/roles.xml`).
    pub roles: Option<Read<'s, xml::RolesFile>>,
}

/// Every configuration file that could be read, by kind.
#[derive(Debug, Default)]
pub struct ConfigFiles<'s> {
    pub user_roles: Option<Read<'s, xml::UserRolesFile>>,
    pub permissions: Option<Read<'s, xml::PermissionsFile>>,
    pub roles: Option<Read<'s, xml::RolesFile>>,
    pub groups: Option<Read<'s, xml::GroupsFile>>,
    /// `(login folder name, user.xml)`.
    pub users: Vec<(String, Read<'s, xml::UserFile>)>,
    pub projects: Vec<ProjectFiles<'s>>,
    /// The limits names are checked against.
    pub limits: Limits,
}

struct Cx {
    diags: Vec<Diagnostic>,
    limits: Limits,
}

/// The code of a refused name: its kind's (`invalid-login`, …), unless it
/// was refused for its length or for a confusable character.
fn ident_code(code: Code, e: &IdentError) -> Code {
    match e {
        IdentError::TooLong { .. } => Code::NameTooLong,
        e if e.is_confusable() => Code::ConfusableId,
        _ => code,
    }
}

fn loc(src: &Source, span: &Range<usize>) -> Loc {
    let (line, col) = src.line_col(span.start);
    Loc {
        file: src.path.to_owned(),
        line,
        col,
        offset: span.start,
    }
}

impl Cx {
    fn ident<T>(
        &mut self,
        src: &Source,
        name: &Spanned<String>,
        what: &str,
        code: Code,
        make: fn(&str, &Limits) -> Result<T, IdentError>,
    ) -> Option<T> {
        match make(&name.value, &self.limits) {
            Ok(v) => Some(v),
            Err(e) => {
                // A name too long is shown by its start only.
                let shown = match e {
                    IdentError::TooLong { .. } => format!("{}…", prefix_of(&name.value, 40)),
                    _ => name.value.clone(),
                };
                self.diags.push(src.diag(
                    ident_code(code, &e),
                    name.span.clone(),
                    format!("{what} `{}` {e}", shown.escape_debug()),
                ));
                None
            }
        }
    }
}

/// Lower every file into a model, collecting every problem.
pub fn lower(files: &ConfigFiles) -> (Model, Vec<Diagnostic>) {
    let mut cx = Cx {
        diags: Vec::new(),
        limits: files.limits,
    };
    let mut model = Model {
        limits: files.limits,
        ..Model::default()
    };
    let mut seen_logins: Vec<(Login, Loc)> = Vec::new();

    // roles.xml
    if let Some(r) = &files.roles {
        lower_role_definitions(&mut cx, r, None, &mut model.role_definitions);
    }

    // users/<login>/user.xml
    if !files.users.is_empty() {
        let mut accounts = BTreeMap::new();
        for (folder, r) in &files.users {
            match Login::new_within(folder, &files.limits) {
                Ok(login) => {
                    seen_logins.push((login.clone(), loc(r.src, &(0..0))));
                    accounts.insert(
                        login,
                        Account {
                            name: r.value.name.clone(),
                            email: r.value.email.clone(),
                            disabled: r.value.disabled,
                        },
                    );
                }
                Err(e) => cx.diags.push(Diagnostic::file(
                    ident_code(Code::InvalidLogin, &e),
                    r.src.path,
                    format!(
                        "the account folder name `{}` is no valid login: it {e}",
                        folder.escape_debug()
                    ),
                )),
            }
        }
        model.accounts = Some(accounts);
    }

    // groups.xml
    if let Some(g) = &files.groups {
        let mut first_at: HashMap<GroupId, Loc> = HashMap::new();
        for def in &g.value.groups {
            let Some(id) = cx.ident(
                g.src,
                &def.id,
                "user group id",
                Code::InvalidGroupId,
                GroupId::new_within,
            ) else {
                continue;
            };
            if let Some(first) = first_at.get(&id) {
                cx.diags.push(
                    g.src
                        .diag(
                            Code::DuplicateUserGroup,
                            def.id.span.clone(),
                            format!("user group `{id}` is defined twice"),
                        )
                        .with_note(format!("first defined at {first}")),
                );
                continue;
            }
            first_at.insert(id.clone(), loc(g.src, &def.id.span));
            let mut members = BTreeSet::new();
            for m in &def.members {
                let Some(login) =
                    cx.ident(g.src, m, "login", Code::InvalidLogin, Login::new_within)
                else {
                    continue;
                };
                seen_logins.push((login.clone(), loc(g.src, &m.span)));
                members.insert(login);
            }
            model.user_groups.insert(id, members);
        }
    }

    // projects
    let mut project_at: BTreeMap<ProjectId, Loc> = BTreeMap::new();
    let mut project_files: Vec<(ProjectId, &ProjectFiles)> = Vec::new();
    for pf in &files.projects {
        let base = pf.folder.rsplit('/').next().unwrap_or(&pf.folder);
        let src = pf.descriptor.src;
        let id = match ProjectId::new_within(base, &files.limits) {
            Ok(id) => id,
            Err(e) => {
                cx.diags.push(Diagnostic::file(
                    ident_code(Code::InvalidProjectId, &e),
                    src.path,
                    format!(
                        "the project folder name `{}` is no valid project id: it {e}",
                        base.escape_debug()
                    ),
                ));
                continue;
            }
        };
        if let Some(first) = project_at.get(&id) {
            cx.diags.push(
                Diagnostic::file(
                    Code::DuplicateProjectId,
                    src.path,
                    format!(
                        "project id `{id}` is used by two project folders (see also {})",
                        first.file
                    ),
                )
                .with_note("a project's id is its folder's name; rename one of the folders"),
            );
            continue;
        }
        project_at.insert(id.clone(), loc(src, &(0..0)));
        let lead = pf
            .descriptor
            .value
            .field("lead")
            .filter(|l| !l.value.is_empty())
            .and_then(|l| {
                cx.ident(
                    src,
                    l,
                    "project lead",
                    Code::InvalidLogin,
                    Login::new_within,
                )
            });
        model.projects.insert(
            id.clone(),
            Project {
                folder: pf.folder.clone(),
                lead,
                permissions: None,
                roles: BTreeMap::new(),
            },
        );
        if let Some(r) = &pf.roles {
            let mut own = BTreeMap::new();
            lower_role_definitions(&mut cx, r, Some(&id), &mut own);
            if let Some(p) = model.projects.get_mut(&id) {
                p.roles = own;
            }
        }
        project_files.push((id, pf));
    }

    // user-roles.xml, global then per project
    let mut assignment_files: Vec<(Scope, &Read<xml::UserRolesFile>)> = Vec::new();
    if let Some(r) = &files.user_roles {
        assignment_files.push((Scope::Global, r));
    }
    for (id, pf) in &project_files {
        if let Some(r) = &pf.user_roles {
            assignment_files.push((Scope::Project(id.clone()), r));
        }
    }
    for (scope, r) in &assignment_files {
        lower_assignments(&mut cx, &mut model, scope, r, &mut seen_logins);
    }

    // permissions.xml, global then per project
    if let Some(p) = &files.permissions {
        model.global_permissions = Some(lower_permissions(&mut cx, p));
    }
    for (id, pf) in &project_files {
        if let Some(p) = &pf.permissions {
            let set = lower_permissions(&mut cx, p);
            if let Some(project) = model.projects.get_mut(id) {
                project.permissions = Some(set);
            }
        }
    }

    check_roles(&mut cx, &model);
    // Naming the role groups builds them; when they would pass the bound
    // of the access file, `snapshot::build` refuses the configuration
    // (access-file-too-large) without building them at all.
    if model
        .role_groups_size(files.limits.max_access_bytes)
        .is_some()
    {
        check_role_group_names(&mut cx, &model, files);
    }
    check_logins(&mut cx, &seen_logins);
    (model, cx.diags)
}

fn lower_assignments(
    cx: &mut Cx,
    model: &mut Model,
    scope: &Scope,
    r: &Read<xml::UserRolesFile>,
    seen_logins: &mut Vec<(Login, Loc)>,
) {
    let mut given: HashMap<(Holder, RoleId), Loc> = HashMap::new();
    for h in &r.value.holders {
        let holder = match h.kind {
            HolderKind::User => {
                let Some(login) = cx.ident(
                    r.src,
                    &h.name,
                    "login",
                    Code::InvalidLogin,
                    Login::new_within,
                ) else {
                    continue;
                };
                seen_logins.push((login.clone(), loc(r.src, &h.name.span)));
                if model
                    .accounts
                    .as_ref()
                    .is_some_and(|a| !a.contains_key(&login))
                {
                    cx.diags.push(r.src.diag(
                        Code::UnknownAccount,
                        h.name.span.clone(),
                        format!("`{login}` has no account (users/{login}/user.xml) and is left out of every group"),
                    ));
                }
                Holder::User(login)
            }
            HolderKind::Group => {
                let Some(group) = cx.ident(
                    r.src,
                    &h.name,
                    "user group id",
                    Code::InvalidGroupId,
                    GroupId::new_within,
                ) else {
                    continue;
                };
                if !model.user_groups.contains_key(&group) {
                    cx.diags.push(r.src.diag(
                        Code::UnknownUserGroup,
                        h.name.span.clone(),
                        format!("user group `{group}` is not defined in groups.xml; its roles reach nobody"),
                    ));
                }
                Holder::Group(group)
            }
        };
        for role in &h.roles {
            let Some(role_id) = cx.ident(
                r.src,
                role,
                "role id",
                Code::InvalidRoleId,
                RoleId::new_within,
            ) else {
                continue;
            };
            let at = loc(r.src, &role.span);
            if let Some(first) = given.get(&(holder.clone(), role_id.clone())) {
                cx.diags.push(
                    r.src
                        .diag(
                            Code::DuplicateAssignment,
                            role.span.clone(),
                            format!("role `{role_id}` is given twice"),
                        )
                        .with_note(format!("first given at {first}")),
                );
                continue;
            }
            given.insert((holder.clone(), role_id.clone()), at.clone());
            model.assignments.push(Assignment {
                scope: scope.clone(),
                holder: holder.clone(),
                role: role_id,
                at,
            });
        }
    }
}

fn lower_permissions(cx: &mut Cx, p: &Read<xml::PermissionsFile>) -> PermissionSet {
    let src = p.src;
    let mut set = PermissionSet {
        file: src.path.to_owned(),
        headings_obey_delete_permission: p.value.headings_obey_delete_permission,
        ..PermissionSet::default()
    };
    for cs in &p.value.customsets {
        let Some(id) = cx.ident(
            src,
            &cs.id,
            "custom set id",
            Code::InvalidCustomsetId,
            CustomsetId::new_within,
        ) else {
            continue;
        };
        if let Some(first) = set.customsets.iter().find(|c| c.id == id) {
            cx.diags.push(
                src.diag(
                    Code::DuplicateCustomsetId,
                    cs.id.span.clone(),
                    format!("custom set `{id}` is defined twice"),
                )
                .with_note(format!("first defined at {}", first.at)),
            );
            continue;
        }
        let (prototype, query) = split_customset_body(&cs.body.value);
        let query_at = query_offset(src, &cs.body.span, &query);
        set.customsets.push(CustomSet {
            id,
            title: cs.title.clone(),
            prototype,
            query,
            at: loc(src, &cs.id.span),
            query_at: loc(src, &(query_at..query_at)),
        });
    }
    // Global sets reach a project only while it has no permissions.xml, so
    // `@SET.action` must name a set of its own file.
    for e in &p.value.entries {
        let Some(role) = cx.ident(
            src,
            &e.role,
            "role id",
            Code::InvalidRoleId,
            RoleId::new_within,
        ) else {
            continue;
        };
        let name = &e.permission.value;
        if name.len() > cx.limits.max_name_bytes {
            cx.diags.push(src.diag(
                Code::NameTooLong,
                e.permission.span.clone(),
                format!(
                    "permission `{}…` is {} bytes long; names are at most {} bytes",
                    prefix_of(name, 40).escape_debug(),
                    name.len(),
                    cx.limits.max_name_bytes
                ),
            ));
            continue;
        }
        if let Err(why) = check_permission_name(name) {
            cx.diags.push(src.diag(
                Code::InvalidPermissionName,
                e.permission.span.clone(),
                format!("permission `{}` {why}", name.escape_debug()),
            ));
            continue;
        }
        if let Some(rest) = name.strip_prefix('@') {
            let set_id = rest.split('.').next().unwrap_or(rest);
            if !set.customsets.iter().any(|c| c.id.as_str() == set_id) {
                cx.diags.push(src.diag(
                    Code::UnknownCustomset,
                    e.permission.span.clone(),
                    format!("`{name}` names the custom set `{set_id}`, which this permissions.xml does not define"),
                ));
                continue;
            }
        }
        set.rules.push(PermissionRule {
            role,
            effect: e.effect,
            permission: name.clone(),
            at: loc(src, &e.permission.span),
        });
    }
    set
}

/// The first `max` bytes of `s` or fewer, on a character boundary.
fn prefix_of(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `com.polarion.persistence.object.WorkItem(status:approved)` →
/// (`com.polarion.persistence.object.WorkItem`, `status:approved`).
fn split_customset_body(body: &str) -> (String, String) {
    match (body.find('('), body.rfind(')')) {
        (Some(open), Some(close)) if close > open => (
            body[..open].trim().to_owned(),
            body[open + 1..close].trim().to_owned(),
        ),
        _ => (body.trim().to_owned(), String::new()),
    }
}

/// The byte offset of `query` in the file: inside the element's text when
/// it is written there verbatim (no entity in it), else the text's start.
fn query_offset(src: &Source, body: &Range<usize>, query: &str) -> usize {
    let raw = src.text.get(body.clone()).unwrap_or("");
    let after_paren = raw.find('(').map_or(0, |i| i + 1);
    match raw[after_paren..].find(query) {
        Some(i) if !query.is_empty() => body.start + after_paren + i,
        _ => body.start + after_paren,
    }
}

fn check_permission_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("is empty");
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace");
    }
    if let Some(rest) = name.strip_prefix('@') {
        match rest.split_once('.') {
            Some((set, action)) if !set.is_empty() && !action.is_empty() => {}
            _ => return Err("must be written `@SET.action`"),
        }
    } else if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
        return Err("has an empty part between dots");
    }
    Ok(())
}

/// The `<role>` definitions of a roles.xml: the global one (`project`
/// `None`), or a project's own, whose roles exist in that project only
/// (003, "Managing Role Definitions": "You can add or delete role
/// definitions for the repository or a project").
fn lower_role_definitions(
    cx: &mut Cx,
    r: &Read<xml::RolesFile>,
    project: Option<&ProjectId>,
    into: &mut BTreeMap<RoleId, RoleDefinition>,
) {
    for def in &r.value.roles {
        let Some(id) = cx.ident(
            r.src,
            &def.id,
            "role id",
            Code::InvalidRoleId,
            RoleId::new_within,
        ) else {
            continue;
        };
        let at = loc(r.src, &def.id.span);
        if let Some(first) = into.get(&id) {
            cx.diags.push(
                r.src
                    .diag(
                        Code::DuplicateRoleDefinition,
                        def.id.span.clone(),
                        format!("role `{id}` is defined twice"),
                    )
                    .with_note(format!("first defined at {}", first.at)),
            );
            continue;
        }
        let scope = match def.scope.value {
            RoleScopeWire::Global => RoleScope::Global,
            RoleScopeWire::Project => RoleScope::Project,
        };
        if let Some(p) = project
            && scope == RoleScope::Global
        {
            cx.diags.push(r.src.diag(
                Code::RoleScopeMismatch,
                def.scope.span.clone(),
                format!(
                    "role `{id}` is defined with scope `global` in the roles.xml of project `{p}`; a project's roles.xml defines roles of that project only, so it is ignored"
                ),
            ));
            continue;
        }
        into.insert(
            id,
            RoleDefinition {
                scope,
                description: def.description.clone(),
                at,
            },
        );
    }
}

/// Roles assigned where they do not exist, and roles in permissions.xml
/// that exist nowhere they could apply.
fn check_roles(cx: &mut Cx, model: &Model) {
    let global_defined = model.defined_roles(&Scope::Global);
    let project_defined = model.defined_roles(&Scope::Project(placeholder_project()));
    for a in &model.assignments {
        let (here, other, where_) = match &a.scope {
            Scope::Global => (
                &global_defined,
                &project_defined,
                "a project role, assigned globally",
            ),
            Scope::Project(_) => (
                &project_defined,
                &global_defined,
                "a global role, assigned in a project",
            ),
        };
        // A role the project's own roles.xml defines exists there.
        if a.scope
            .project()
            .and_then(|p| model.projects.get(p))
            .is_some_and(|p| p.roles.contains_key(&a.role))
        {
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

    let dynamic: BTreeSet<RoleId> = DYNAMIC_ROLES
        .iter()
        .filter_map(|r| RoleId::new(r).ok())
        .collect();
    let mut anywhere: BTreeSet<RoleId> = model.roles_in(&Scope::Global);
    anywhere.extend(project_defined.iter().cloned());
    anywhere.extend(model.assignments.iter().map(|a| a.role.clone()));
    anywhere.extend(dynamic.iter().cloned());
    for p in model.projects.values() {
        anywhere.extend(p.roles.keys().cloned());
    }
    let mut check = |set: &PermissionSet, known: &BTreeSet<RoleId>| {
        for rule in set.rules.iter().filter(|r| !known.contains(&r.role)) {
            cx.diags.push(rule.at.diag(
                Code::UnknownRole,
                format!("role `{}` is not built in, not defined in roles.xml and not assigned to anybody", rule.role),
            ));
        }
    };
    if let Some(set) = &model.global_permissions {
        check(set, &anywhere);
    }
    // One pass over the assignments for every project, not one per project.
    let mut base = model.roles_in(&Scope::Global);
    base.extend(project_defined.iter().cloned());
    base.extend(dynamic.iter().cloned());
    let mut assigned: BTreeMap<&ProjectId, BTreeSet<&RoleId>> = BTreeMap::new();
    for a in &model.assignments {
        if let Scope::Project(p) = &a.scope {
            assigned.entry(p).or_default().insert(&a.role);
        }
    }
    for (id, project) in &model.projects {
        let Some(set) = &project.permissions else {
            continue;
        };
        let here = assigned.get(id);
        for rule in set.rules.iter().filter(|r| {
            !base.contains(&r.role)
                && !here.is_some_and(|h| h.contains(&r.role))
                && !project.roles.contains_key(&r.role)
        }) {
            cx.diags.push(rule.at.diag(
                Code::UnknownRole,
                format!("role `{}` is not built in, not defined in roles.xml and not assigned to anybody", rule.role),
            ));
        }
    }
}

/// A project id that only serves to ask which roles every project has.
fn placeholder_project() -> ProjectId {
    ProjectId::new("_").expect("`_` is a valid project id")
}

/// Two roles that would share a group name in the access file.
fn check_role_group_names(cx: &mut Cx, model: &Model, files: &ConfigFiles) {
    let mut by_name: BTreeMap<String, Vec<(Scope, RoleId)>> = BTreeMap::new();
    for g in model.role_groups() {
        by_name.entry(g.name).or_default().push((g.scope, g.role));
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
fn check_logins(cx: &mut Cx, seen: &[(Login, Loc)]) {
    let mut first: HashMap<String, &(Login, Loc)> = HashMap::new();
    let mut reported: BTreeSet<(&Login, &Login)> = BTreeSet::new();
    for entry in seen {
        let folded = entry.0.as_str().to_ascii_lowercase();
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
