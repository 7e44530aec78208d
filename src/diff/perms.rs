//! Part c: Polarion permissions, decided by `policy::Index` on both
//! snapshots, for the permissions the change touched.
//!
//! Touched are:
//! * a rule (role, permission) added to or removed from a permissions.xml
//!   (grant and deny count apart): the permission, for the holders of the
//!   role in either model, in the contexts the file governs (the global
//!   file: the global context and every project; a project's file: that
//!   project);
//! * a role-group membership that changed (part a): every permission the
//!   role has a rule for in the global file or the project's file (global
//!   `admin`: every permission any file names), for that login, in the
//!   contexts the role holds in (global: everywhere; a project's: there);
//!   an account that changed state also for `com.polarion.security.login`;
//!   global `admin` and `user` (without which an account is denied
//!   everything): every permission any file names and the login
//!   permission, in every context;
//! * a project whose lead changed: the permissions of `lead`, for the old
//!   and the new lead, in that project.
//!
//! Decisions are asked for an object without attributes: rules on custom
//! sets (`@SET.action`) and the dynamic roles given by the object (author,
//! assignee, …) depend on the object and are named in the notes, not
//! evaluated.

use std::collections::{BTreeMap, BTreeSet};

use super::types::{GroupChange, PermissionChange, Reason};
use crate::ident::{Login, ProjectId, RoleId};
use crate::model::{DYNAMIC_ROLES, EVERYONE, Model, PermissionSet, Scope};
use crate::policy::{self, LOGIN, Object, Request};
use crate::snapshot::Snapshot;
use crate::xml::Effect;

/// The global role that is allowed everything.
const ADMIN: &str = "admin";
/// The role without which (globally or in some project) an account is
/// denied everything.
const USER: &str = "user";
/// The role a project's lead holds there.
const LEAD: &str = "lead";

/// A permissions.xml: the global one or a project's.
type File<'a> = Option<&'a ProjectId>;
/// A context of a decision: global (`None`) or a project.
type Ctx = Option<ProjectId>;

/// The rules of one model: per (file, role), the permissions named.
struct Rules<'a> {
    by_role: BTreeMap<(File<'a>, &'a RoleId), BTreeSet<&'a str>>,
}

impl<'a> Rules<'a> {
    fn of(m: &'a Model) -> Rules<'a> {
        let mut by_role: BTreeMap<(File<'a>, &'a RoleId), BTreeSet<&'a str>> = BTreeMap::new();
        for (file, set) in files(m) {
            for r in &set.rules {
                by_role
                    .entry((file, &r.role))
                    .or_default()
                    .insert(&r.permission);
            }
        }
        Rules { by_role }
    }

    fn all(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.by_role.values().flatten().copied()
    }
}

/// Every permissions.xml of a model.
fn files(m: &Model) -> impl Iterator<Item = (File<'_>, &PermissionSet)> {
    let global = m.global_permissions.iter().map(|s| (None, s));
    let projects = m
        .projects
        .iter()
        .filter_map(|(id, p)| p.permissions.as_ref().map(|s| (Some(id), s)));
    global.chain(projects)
}

/// The (role, effect, permission) lines of a file.
fn lines(set: Option<&PermissionSet>) -> Vec<(&RoleId, bool, &str)> {
    set.into_iter()
        .flat_map(|s| &s.rules)
        .map(|r| (&r.role, r.effect == Effect::Grant, r.permission.as_str()))
        .collect()
}

/// What is to be decided: per (context, permission), the logins; at most
/// `max` asks are planned, the rest counted.
struct Tasks {
    /// context → permission → logins (nested, so that an existing entry
    /// is found without building a key).
    asks: BTreeMap<Ctx, BTreeMap<String, BTreeSet<Login>>>,
    notes: BTreeSet<String>,
    max: usize,
    planned: usize,
    skipped: usize,
}

impl Tasks {
    fn add(&mut self, ctx: &Ctx, permission: &str, login: &Login) {
        if permission.starts_with('@') {
            self.notes.insert(format!(
                "custom-set permission `{permission}` depends on the object: not evaluated"
            ));
            return;
        }
        if self.planned >= self.max {
            self.skipped += 1;
            return;
        }
        if !self.asks.contains_key(ctx) {
            self.asks.insert(ctx.clone(), BTreeMap::new());
        }
        let Some(by_permission) = self.asks.get_mut(ctx) else {
            return;
        };
        if !by_permission.contains_key(permission) {
            by_permission.insert(permission.to_owned(), BTreeSet::new());
        }
        let Some(logins) = by_permission.get_mut(permission) else {
            return;
        };
        let new = !logins.contains(login) && logins.insert(login.clone());
        self.planned += usize::from(new);
    }
}

/// What the permission part found.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub changes: Vec<PermissionChange>,
    pub unevaluated: usize,
    pub notes: Vec<String>,
}

/// Every (login, context, permission) the change touched whose decision
/// differs, within `max_evaluations`.
pub(super) fn permissions(
    old: &Snapshot,
    new: &Snapshot,
    groups: &[GroupChange],
    max_evaluations: usize,
) -> Found {
    let mut tasks = Tasks {
        asks: BTreeMap::new(),
        notes: BTreeSet::new(),
        max: max_evaluations,
        planned: 0,
        skipped: 0,
    };
    let contexts = Contexts::new(&old.model, &new.model);
    rule_changes(&old.model, &new.model, &contexts, &mut tasks);
    let rules = [Rules::of(&old.model), Rules::of(&new.model)];
    membership_changes(groups, &rules, &contexts, &mut tasks);
    lead_changes(&old.model, &new.model, &rules, &mut tasks);
    let mut found = Found {
        notes: std::mem::take(&mut tasks.notes).into_iter().collect(),
        unevaluated: tasks.skipped,
        ..Found::default()
    };
    let object = Object::new();
    let asks = tasks
        .asks
        .iter()
        .flat_map(|(ctx, m)| m.iter().map(move |(p, logins)| (ctx, p, logins)));
    for (ctx, permission, logins) in asks {
        for login in logins {
            let req = Request {
                user: login.as_str(),
                permission,
                project: ctx.as_ref().map(ProjectId::as_str),
                object: &object,
            };
            // A project one side does not have gives no decision there.
            let decide = |ix: &policy::Index| ix.check(&req).ok();
            let (Some(from), Some(to)) = (decide(&old.policy), decide(&new.policy)) else {
                continue;
            };
            if from != to {
                found.changes.push(PermissionChange {
                    project: ctx.clone(),
                    permission: permission.clone(),
                    login: login.clone(),
                    from,
                    to,
                });
            }
        }
    }
    found
}

/// The contexts a file or a role reaches.
struct Contexts {
    /// The global context and every project of either model.
    all: Vec<Ctx>,
}

impl Contexts {
    fn new(old: &Model, new: &Model) -> Contexts {
        let projects: BTreeSet<&ProjectId> =
            old.projects.keys().chain(new.projects.keys()).collect();
        let all = std::iter::once(None)
            .chain(projects.into_iter().map(|p| Some(p.clone())))
            .collect();
        Contexts { all }
    }

    /// Where a role held in `scope` counts, for a rule of `file`.
    fn of(&self, scope: &Scope, file: File) -> Vec<Ctx> {
        match (scope, file) {
            (Scope::Global, None) => self.all.clone(),
            (Scope::Global, Some(p)) => vec![Some(p.clone())],
            (Scope::Project(q), None) => vec![Some(q.clone())],
            (Scope::Project(q), Some(p)) if p == q => vec![Some(q.clone())],
            (Scope::Project(_), Some(_)) => Vec::new(),
        }
    }
}

/// Rules that differ between the two models: their permission, for the
/// holders of their role, in the contexts of their file.
fn rule_changes(old: &Model, new: &Model, contexts: &Contexts, tasks: &mut Tasks) {
    let (fa, fb): (
        BTreeMap<File, &PermissionSet>,
        BTreeMap<File, &PermissionSet>,
    ) = (files(old).collect(), files(new).collect());
    let keys: BTreeSet<File> = fa.keys().chain(fb.keys()).copied().collect();
    // Per role: the (file, permission) pairs whose rules differ.
    let mut changed: BTreeMap<RoleId, BTreeSet<(Ctx, String)>> = BTreeMap::new();
    for f in keys {
        let (sa, sb) = (fa.get(&f).copied(), fb.get(&f).copied());
        let (a, b) = (lines(sa), lines(sb));
        if a != b {
            let a: BTreeSet<_> = a.into_iter().collect();
            let b: BTreeSet<_> = b.into_iter().collect();
            for &(role, _, permission) in a.symmetric_difference(&b) {
                changed
                    .entry(role.clone())
                    .or_default()
                    .insert((f.cloned(), permission.to_owned()));
            }
        }
        if custom_sets(sa) != custom_sets(sb) {
            tasks.notes.insert(format!(
                "custom sets of the {} permissions changed: object-dependent decisions not evaluated",
                f.map_or_else(|| "global".to_owned(), |p| format!("project {p}"))
            ));
        }
    }
    for (role, rules) in &changed {
        holders(old, new, role, tasks, &mut |tasks, scope, login| {
            for (file, permission) in rules {
                for ctx in contexts.of(scope, file.as_ref()) {
                    tasks.add(&ctx, permission, login);
                }
            }
        });
    }
}

/// The custom sets of a file, without their places.
fn custom_sets(s: Option<&PermissionSet>) -> Vec<(&str, &str, &str)> {
    s.into_iter()
        .flat_map(|s| &s.customsets)
        .map(|c| (c.id.as_str(), c.prototype.as_str(), c.query.as_str()))
        .collect()
}

/// Call `each` for every (scope, login) that holds `role` in either model
/// (`everyone`: every active account, globally).
fn holders(
    old: &Model,
    new: &Model,
    role: &RoleId,
    tasks: &mut Tasks,
    each: &mut dyn FnMut(&mut Tasks, &Scope, &Login),
) {
    if role.as_str() == LEAD {
        for m in [old, new] {
            for (id, p) in &m.projects {
                if let Some(lead) = &p.lead {
                    each(tasks, &Scope::Project(id.clone()), lead);
                }
            }
        }
        return;
    }
    if DYNAMIC_ROLES.contains(&role.as_str()) {
        tasks.notes.insert(format!(
            "rules of the dynamic role `{role}` depend on the object: not evaluated"
        ));
        return;
    }
    for m in [old, new] {
        if role.as_str() == EVERYONE {
            for login in m.active_accounts() {
                each(tasks, &Scope::Global, &login);
            }
            continue;
        }
        for a in m.assignments.iter().filter(|a| &a.role == role) {
            for login in m.logins_of(&a.holder) {
                each(tasks, &a.scope, login);
            }
        }
    }
}

/// Role-group memberships that changed: the permissions of the role (in
/// the global file and the project's), for that login, where it counts.
fn membership_changes(
    groups: &[GroupChange],
    rules: &[Rules; 2],
    contexts: &Contexts,
    tasks: &mut Tasks,
) {
    let everything: BTreeSet<&str> = rules.iter().flat_map(Rules::all).collect();
    for change in groups {
        let files: BTreeSet<File> = match &change.scope {
            // A global role counts in every project too: every file that
            // names it.
            Scope::Global => std::iter::once(None)
                .chain(
                    rules
                        .iter()
                        .flat_map(|r| r.by_role.keys())
                        .filter(|(_, role)| *role == &change.role)
                        .map(|(f, _)| *f),
                )
                .collect(),
            Scope::Project(q) => [None, Some(q)].into_iter().collect(),
        };
        let account = change.reasons.iter().any(|r| {
            matches!(
                r,
                Reason::AccountDisabled | Reason::AccountDeleted | Reason::AccountEnabled
            )
        });
        if account {
            tasks.add(&None, LOGIN, &change.login);
        }
        // Global `admin` is allowed everything; without `user` (globally
        // or in some project) an account is denied everything.
        let everywhere = (change.scope == Scope::Global && change.role.as_str() == ADMIN)
            || change.role.as_str() == USER;
        if everywhere {
            // Logging in is a global permission.
            tasks.add(&None, LOGIN, &change.login);
            for ctx in &contexts.all {
                for permission in &everything {
                    tasks.add(ctx, permission, &change.login);
                }
            }
            continue;
        }
        for file in files {
            let named: BTreeSet<&str> = rules
                .iter()
                .filter_map(|r| r.by_role.get(&(file, &change.role)))
                .flatten()
                .copied()
                .collect();
            for ctx in contexts.of(&change.scope, file) {
                for permission in &named {
                    tasks.add(&ctx, permission, &change.login);
                }
            }
        }
    }
}

/// Projects whose lead changed: the permissions of `lead` (global file and
/// the project's), for the old and the new lead, in that project.
fn lead_changes(old: &Model, new: &Model, rules: &[Rules; 2], tasks: &mut Tasks) {
    let Ok(lead) = RoleId::new(LEAD) else {
        return;
    };
    let ids: BTreeSet<&ProjectId> = old.projects.keys().chain(new.projects.keys()).collect();
    for id in ids {
        let leads = |m: &Model| m.projects.get(id).and_then(|p| p.lead.clone());
        let (a, b) = (leads(old), leads(new));
        if a == b {
            continue;
        }
        let named: BTreeSet<&str> = rules
            .iter()
            .flat_map(|r| {
                [
                    r.by_role.get(&(None, &lead)),
                    r.by_role.get(&(Some(id), &lead)),
                ]
            })
            .flatten()
            .flatten()
            .copied()
            .collect();
        let ctx = Some(id.clone());
        for login in a.iter().chain(&b) {
            for permission in &named {
                tasks.add(&ctx, permission, login);
            }
        }
    }
}
