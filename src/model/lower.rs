//! Lowering: from the wire types of every file to one validated [`Model`].
//!
//! Nothing here stops at the first problem. A name that fails validation
//! is dropped from the model (so it can never reach the access file) and
//! reported; the rest goes on.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

use super::types::{
    Account, Assignment, CustomSet, DirectoryGroup, Holder, Loc, Model, PermissionRule,
    PermissionSet, Project, RoleDefinition, RoleScope, Run, Scope,
};
use crate::diag::{Code, Diagnostic, Source};
use crate::ident::{CustomsetId, GroupId, Login, ProjectId, RoleId};
use crate::xml::{self, HolderKind, RoleScopeWire, Spanned};

mod check;
mod check_memo;
mod cx;
pub mod directory;
mod memo;
mod part;

use check::check_across_files;
use check_memo::Segments;
pub use cx::{ConfigFiles, ProjectFiles, Read};
use cx::{Cx, ident_code, loc, prefix_of};
pub use memo::LowerMemo;
pub use part::KeptAccounts;
use part::{Accounts, Assigned, Groups, Part};

/// Lower every file into a model, collecting every problem.
///
/// The steps, in the order their diagnostics are reported: role
/// definitions, accounts, user groups, projects (with their own roles),
/// assignments and permissions (global, then per project), then the checks
/// across files.
pub fn lower(files: &ConfigFiles) -> (Model, Vec<Diagnostic>) {
    lower_with(files, &mut LowerMemo::default())
}

/// [`lower`], taking from `memo` each project lowered before from the same
/// files in the same context (`memo.rs`), and leaving in it this build's
/// projects. The result is `lower`'s, whatever the memo holds.
pub fn lower_with(files: &ConfigFiles, memo: &mut LowerMemo) -> (Model, Vec<Diagnostic>) {
    let mut cx = Cx::new(files.limits);
    let mut model = Model {
        limits: files.limits,
        ..Model::default()
    };
    if let Some(r) = &files.roles {
        lower_role_definitions(&mut cx, r, None, &mut model.role_definitions);
    }
    let accounts = match &files.kept_accounts {
        Some(kept) => Arc::clone(&kept.0),
        None => memo.accounts(
            &files.users,
            (&files.limits, files.users_generation),
            || {
                let mut cx = Cx::new(files.limits);
                let accounts = lower_accounts(&mut cx, &files.users);
                Accounts {
                    accounts: accounts.map(Arc::new),
                    seen_logins: cx.seen_logins,
                    diags: cx.diags,
                }
            },
        ),
    };
    model.accounts.clone_from(&accounts.accounts);
    cx.diags.extend(accounts.diags.iter().cloned());
    let snapshot = files.directory.as_deref();
    let mut from_directory = super::types::Directory::default();
    let groups = files.groups.as_ref().map(|g| {
        let groups = memo.groups(g, files.directory.as_ref(), &files.limits, || {
            let mut cx = Cx::new(files.limits);
            let (members, backed) = lower_groups(&mut cx, g, snapshot);
            Groups {
                members,
                backed,
                seen_logins: cx.seen_logins,
                diags: cx.diags,
            }
        });
        model.user_groups.clone_from(&groups.members);
        from_directory.groups.clone_from(&groups.backed);
        cx.diags.extend(groups.diags.iter().cloned());
        groups
    });
    if let Some(s) = snapshot {
        from_directory.revision = Some(s.revision.clone());
        from_directory.accounts = directory::directory_accounts(s, &files.limits).map(Arc::new);
    }
    model.directory = Arc::new(from_directory);
    let mut earlier = memo.begin(&model, &files.limits);
    let parts = lower_projects(&mut cx, &files.projects, |todo| {
        let kept = todo
            .iter()
            .map(|(_, pf)| memo.take(&mut earlier, pf))
            .collect();
        let parts = lower_missing(kept, &model.limits, |i| {
            let (id, pf) = todo[i];
            lower_part(&model, id, pf)
        });
        for ((_, pf), part) in todo.iter().zip(&parts) {
            memo.keep(pf, part);
        }
        parts
    });
    let mut global_logins = None;
    if let Some(r) = &files.user_roles {
        let global = memo.global(&mut earlier, &r.value, || {
            let mut cx = Cx::new(model.limits);
            let mut assignments = Vec::new();
            lower_assignments(&mut cx, &model, &Scope::Global, r, &mut assignments);
            Assigned {
                assignments: Arc::new(Run::new(assignments)),
                seen_logins: cx.seen_logins,
                diags: cx.diags,
            }
        });
        model.assignments.push_run(Arc::clone(&global.assignments));
        cx.diags.extend(global.diags.iter().cloned());
        global_logins = Some(global);
    }
    // Each part's run shared, not copied.
    for (_, part) in &parts {
        model.assignments.push_run(Arc::clone(&part.assignments));
        cx.diags.extend(part.assignment_diags.iter().cloned());
    }
    model.global_permissions = files
        .permissions
        .as_ref()
        .map(|p| lower_permissions(&mut cx, p));
    for (id, part) in &parts {
        cx.diags.extend(part.permission_diags.iter().cloned());
        model.projects.insert(id.clone(), Arc::clone(&part.project));
    }
    // The logins in the order they were read: accounts, user groups, the
    // global assignments, each project's (not copied).
    let segs = Segments {
        accounts: &accounts,
        groups: groups.as_ref(),
        global: global_logins.as_ref(),
        parts: &parts,
    };
    check_across_files(&mut cx, &model, files, &segs, &mut memo.checks);
    (model, cx.diags)
}

/// One project lowered on its own (the part `LowerMemo` keeps): its lead
/// and own roles, its assignments, its permissions, each step's
/// diagnostics apart. It reads of `model` only what `memo.rs` keys on.
fn lower_part(model: &Model, id: &ProjectId, pf: &ProjectFiles) -> Part {
    let mut cx = Cx::new(model.limits);
    let src = pf.descriptor.src;
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
    let mut roles = BTreeMap::new();
    if let Some(r) = &pf.roles {
        lower_role_definitions(&mut cx, r, Some(id), &mut roles);
    }
    let project_diags = std::mem::take(&mut cx.diags);
    let mut assignments = Vec::new();
    if let Some(r) = &pf.user_roles {
        let scope = Scope::Project(id.clone());
        lower_assignments(&mut cx, model, &scope, r, &mut assignments);
    }
    let assignment_diags = std::mem::take(&mut cx.diags);
    let permissions = pf
        .permissions
        .as_ref()
        .map(|p| lower_permissions(&mut cx, p));
    Part {
        project: Arc::new(Project {
            folder: pf.folder.clone(),
            lead,
            permissions,
            roles,
        }),
        assignments: Arc::new(Run::new(assignments)),
        seen_logins: cx.seen_logins,
        project_diags,
        assignment_diags,
        permission_diags: cx.diags,
    }
}

/// `users/<login>/user.xml`: `None` when accounts are not managed here.
fn lower_accounts(
    cx: &mut Cx,
    users: &[(&str, Read<xml::UserFile>)],
) -> Option<BTreeMap<Login, Account>> {
    if users.is_empty() {
        return None;
    }
    let mut accounts = BTreeMap::new();
    for (folder, r) in users {
        match Login::new_within(folder, &cx.limits) {
            Ok(login) => {
                cx.seen_logins.push((login.clone(), loc(r.src, &(0..0))));
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
    Some(accounts)
}

/// The user groups of groups.xml and what they take from the directory.
type GroupMaps = (
    BTreeMap<GroupId, BTreeSet<Login>>,
    BTreeMap<GroupId, DirectoryGroup>,
);

/// groups.xml: each group's members, its local ones and (when it names the
/// directory) the directory's, from `snapshot`.
fn lower_groups(
    cx: &mut Cx,
    g: &Read<xml::GroupsFile>,
    snapshot: Option<&crate::directory::DirectorySnapshot>,
) -> GroupMaps {
    let mut groups = BTreeMap::new();
    let mut backed = BTreeMap::new();
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
        let (reference, diags) =
            directory::group_ref(g.src, id.as_str(), &def.directory, &cx.limits);
        cx.diags.extend(diags);
        let mut members = BTreeSet::new();
        for m in &def.members {
            let Some(login) = cx.ident(g.src, m, "login", Code::InvalidLogin, Login::new_within)
            else {
                continue;
            };
            cx.seen_logins.push((login.clone(), loc(g.src, &m.span)));
            members.insert(login);
        }
        if let Some(reference) = reference {
            let d = &def.directory;
            let attr =
                d.dn.as_ref()
                    .or(d.base.as_ref())
                    .expect("a reference has one");
            let at = loc(g.src, &attr.span);
            let (dg, diags) = directory::directory_group(
                id.as_str(),
                reference,
                at,
                members.clone(),
                snapshot,
                &cx.limits,
            );
            cx.diags.extend(diags);
            members.extend(dg.members.keys().cloned());
            backed.insert(id.clone(), dg);
        }
        groups.insert(id, members);
    }
    (groups, backed)
}

/// The project folders: each becomes a project (`parts_of` them: id, lead,
/// own roles, assignments, permissions) unless its id is invalid or
/// taken. Returns the part of each project kept, in order; `parts_of` is
/// asked for all of them at once, in that order.
fn lower_projects<'f, 's>(
    cx: &mut Cx,
    folders: &'f [ProjectFiles<'s>],
    parts_of: impl FnOnce(&[(&ProjectId, &'f ProjectFiles<'s>)]) -> Vec<Arc<Part>>,
) -> Vec<(ProjectId, Arc<Part>)> {
    let mut project_at: BTreeMap<ProjectId, Loc> = BTreeMap::new();
    // Each folder's own diagnostics (its id refused or taken), reported
    // in folder order with the project's, once the parts are lowered.
    let mut seen: Vec<(Option<ProjectId>, Vec<Diagnostic>)> = Vec::new();
    for pf in folders {
        let before = cx.diags.len();
        let id = project_id(cx, pf).filter(|id| {
            let Some(first) = project_at.get(id) else {
                return true;
            };
            cx.diags.push(duplicate_project(id, pf, first));
            false
        });
        if let Some(id) = &id {
            project_at.insert(id.clone(), loc(pf.descriptor.src, &(0..0)));
        }
        seen.push((id, cx.diags.drain(before..).collect()));
    }
    let todo: Vec<(&ProjectId, &'f ProjectFiles<'s>)> = seen
        .iter()
        .zip(folders)
        .filter_map(|((id, _), pf)| Some((id.as_ref()?, pf)))
        .collect();
    let mut parts = parts_of(&todo).into_iter();
    let mut kept = Vec::with_capacity(todo.len());
    for (id, diags) in seen {
        cx.diags.extend(diags);
        let Some(id) = id else { continue };
        let part = parts.next().expect("a part for every project kept");
        cx.diags.extend(part.project_diags.iter().cloned());
        kept.push((id, part));
    }
    kept
}

/// Two project folders of one id: the second is left out.
fn duplicate_project(id: &ProjectId, pf: &ProjectFiles, first: &Loc) -> Diagnostic {
    Diagnostic::file(
        Code::DuplicateProjectId,
        pf.descriptor.src.path,
        format!(
            "project id `{id}` is used by two project folders (see also {})",
            first.file
        ),
    )
    .with_note("a project's id is its folder's name; rename one of the folders")
}

/// From this many projects to lower afresh (a cold build's), they are
/// lowered in parallel.
const PARALLEL_MIN_PARTS: usize = 32;

/// Each part of `kept`, or `lower(i)` of those it lacks: on a pool of
/// `Limits::max_build_threads` threads made for this call from
/// [`PARALLEL_MIN_PARTS`] of them on (each project is lowered from its own
/// files and the model's accounts and user groups alone, so the order of
/// the work does not matter), else here.
fn lower_missing(
    kept: Vec<Option<Arc<Part>>>,
    limits: &crate::limits::Limits,
    lower: impl Fn(usize) -> Part + Sync,
) -> Vec<Arc<Part>> {
    use rayon::prelude::*;
    let missing = kept.iter().filter(|p| p.is_none()).count();
    let one = |(i, part): (usize, Option<Arc<Part>>)| part.unwrap_or_else(|| Arc::new(lower(i)));
    let pool = (missing >= PARALLEL_MIN_PARTS && limits.max_build_threads > 1)
        .then(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(limits.max_build_threads)
                .thread_name(|i| format!("rolesync-lower-{i}"))
                .build()
                .ok()
        })
        .flatten();
    match pool {
        Some(pool) => pool.install(|| kept.into_par_iter().enumerate().map(one).collect()),
        None => kept.into_iter().enumerate().map(one).collect(),
    }
}

/// A project's id: its folder's name, when that is a valid id.
fn project_id(cx: &mut Cx, pf: &ProjectFiles) -> Option<ProjectId> {
    let base = pf.folder.rsplit('/').next().unwrap_or(&pf.folder);
    match ProjectId::new_within(base, &cx.limits) {
        Ok(id) => Some(id),
        Err(e) => {
            cx.diags.push(Diagnostic::file(
                ident_code(Code::InvalidProjectId, &e),
                pf.descriptor.src.path,
                format!(
                    "the project folder name `{}` is no valid project id: it {e}",
                    base.escape_debug()
                ),
            ));
            None
        }
    }
}

/// The distinct role ids of one `user-roles.xml` kept for sharing.
const MET_ROLES: usize = 32;

/// The assignments of one user-roles.xml, appended to `out` (which holds
/// no other file's).
fn lower_assignments(
    cx: &mut Cx,
    model: &Model,
    scope: &Scope,
    r: &Read<xml::UserRolesFile>,
    out: &mut Vec<Assignment>,
) {
    // (holder is a group, holder, role) → the assignment that gave it
    // first. A validated name is its wire string unchanged, so the wire
    // strings serve as the key, borrowed.
    // Sized for every role of the file: no table grown and hashed again.
    let roles: usize = r.value.holders.iter().map(|h| h.roles.len()).sum();
    let mut given: HashMap<(bool, &str, &str), usize> = HashMap::with_capacity(roles);
    // The valid role ids met so far in this file (a file names a handful,
    // each many times): shared, not made and checked again. Bounded, so
    // that a file of many distinct roles costs no quadratic search.
    let mut met: Vec<RoleId> = Vec::new();
    for h in &r.value.holders {
        let Some(holder) = lower_holder(cx, model, r.src, h) else {
            continue;
        };
        let is_group = matches!(holder, Holder::Group(_));
        for role in &h.roles {
            let role_id = match met.iter().find(|id| id.as_str() == role.value) {
                Some(id) => id.clone(),
                None => {
                    let Some(id) = cx.ident(
                        r.src,
                        role,
                        "role id",
                        Code::InvalidRoleId,
                        RoleId::new_within,
                    ) else {
                        continue;
                    };
                    if met.len() < MET_ROLES {
                        met.push(id.clone());
                    }
                    id
                }
            };
            let key = (is_group, h.name.value.as_str(), role.value.as_str());
            if let Some(&first) = given.get(&key) {
                let first = &out[first].at;
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
            given.insert(key, out.len());
            out.push(Assignment {
                scope: scope.clone(),
                holder: holder.clone(),
                role: role_id,
                at: loc(r.src, &role.span),
            });
        }
    }
}

/// The user or group an assignment names, validated; reported when it has
/// no account or is no defined group.
fn lower_holder(cx: &mut Cx, model: &Model, src: &Source, h: &xml::Holder) -> Option<Holder> {
    match h.kind {
        HolderKind::User => {
            // An account's login was validated under the same limits when
            // its account was lowered: shared, not made and checked again.
            let account = model
                .accounts
                .as_ref()
                .and_then(|a| a.get_key_value(h.name.value.as_str()))
                .map(|(login, _)| login.clone());
            let login = match account {
                Some(login) => login,
                None => {
                    let login =
                        cx.ident(src, &h.name, "login", Code::InvalidLogin, Login::new_within)?;
                    if model.accounts.is_some() {
                        cx.diags.push(src.diag(
                            Code::UnknownAccount,
                            h.name.span.clone(),
                            format!("`{login}` has no account (users/{login}/user.xml) and is left out of every group"),
                        ));
                    }
                    login
                }
            };
            cx.seen_logins.push((login.clone(), loc(src, &h.name.span)));
            Some(Holder::User(login))
        }
        HolderKind::Group => {
            // A defined group's id was validated when groups.xml was
            // lowered, under the same limits.
            let defined = model
                .user_groups
                .get_key_value(h.name.value.as_str())
                .map(|(group, _)| group.clone());
            let group = match defined {
                Some(group) => group,
                None => {
                    let group = cx.ident(
                        src,
                        &h.name,
                        "user group id",
                        Code::InvalidGroupId,
                        GroupId::new_within,
                    )?;
                    cx.diags.push(src.diag(
                        Code::UnknownUserGroup,
                        h.name.span.clone(),
                        format!(
                            "user group `{group}` is not defined in groups.xml; its roles reach nobody"
                        ),
                    ));
                    group
                }
            };
            Some(Holder::Group(group))
        }
    }
}

fn lower_permissions(cx: &mut Cx, p: &Read<xml::PermissionsFile>) -> PermissionSet {
    let src = p.src;
    let mut set = PermissionSet {
        file: src.path.to_owned(),
        headings_obey_delete_permission: p.value.headings_obey_delete_permission,
        customsets: lower_customsets(cx, src, &p.value.customsets),
        ..PermissionSet::default()
    };
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
        if !permission_name_ok(cx, src, &e.permission, &set.customsets) {
            continue;
        }
        set.rules.push(PermissionRule {
            role,
            effect: e.effect,
            permission: e.permission.value.clone(),
            at: loc(src, &e.permission.span),
        });
    }
    set
}

/// The custom sets of one permissions.xml, each id once.
fn lower_customsets(cx: &mut Cx, src: &Source, wire: &[xml::CustomSetWire]) -> Vec<CustomSet> {
    let mut sets: Vec<CustomSet> = Vec::new();
    for cs in wire {
        let Some(id) = cx.ident(
            src,
            &cs.id,
            "custom set id",
            Code::InvalidCustomsetId,
            CustomsetId::new_within,
        ) else {
            continue;
        };
        if let Some(first) = sets.iter().find(|c| c.id == id) {
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
        sets.push(CustomSet {
            id,
            title: cs.title.clone(),
            prototype,
            query,
            at: loc(src, &cs.id.span),
            query_at: loc(src, &(query_at..query_at)),
        });
    }
    sets
}

/// Whether a rule's permission name may be kept: within the length bound,
/// well formed, and (`@SET.action`) naming a set of its own file — global
/// sets reach a project only while it has no permissions.xml.
fn permission_name_ok(
    cx: &mut Cx,
    src: &Source,
    permission: &Spanned<String>,
    customsets: &[CustomSet],
) -> bool {
    let name = &permission.value;
    let span = permission.span.clone();
    if name.len() > cx.limits.max_name_bytes {
        cx.diags.push(src.diag(
            Code::NameTooLong,
            span,
            format!(
                "permission `{}…` is {} bytes long; names are at most {} bytes",
                prefix_of(name, 40).escape_debug(),
                name.len(),
                cx.limits.max_name_bytes
            ),
        ));
        return false;
    }
    if let Err(why) = check_permission_name(name) {
        cx.diags.push(src.diag(
            Code::InvalidPermissionName,
            span,
            format!("permission `{}` {why}", name.escape_debug()),
        ));
        return false;
    }
    if let Some(rest) = name.strip_prefix('@') {
        let set_id = rest.split('.').next().unwrap_or(rest);
        if !customsets.iter().any(|c| c.id.as_str() == set_id) {
            cx.diags.push(src.diag(
                Code::UnknownCustomset,
                span,
                format!("`{name}` names the custom set `{set_id}`, which this permissions.xml does not define"),
            ));
            return false;
        }
    }
    true
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
