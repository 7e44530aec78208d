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
use crate::fxhash::{FxBuild, FxHashMap};
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

/// What is to be decided: the (context, permission, login) asks, each
/// once, in the order first added; at most `max` asks are planned, the
/// rest counted.
struct Tasks {
    /// The planned asks, as ids into `ctxs`, `permissions` and `logins`.
    asks: Vec<(u32, u32, u32)>,
    seen: std::collections::HashSet<(u32, u32, u32), FxBuild>,
    ctxs: Interned<Ctx>,
    permissions: Interned<String>,
    logins: Interned<Login>,
    notes: BTreeSet<String>,
    max: usize,
    planned: usize,
    skipped: usize,
}

/// Values by id, and ids by value (so that an ask is three integers).
struct Interned<T> {
    values: Vec<T>,
    ids: FxHashMap<T, u32>,
}

impl<T> Default for Interned<T> {
    fn default() -> Interned<T> {
        Interned {
            values: Vec::new(),
            ids: FxHashMap::default(),
        }
    }
}

impl<T: std::hash::Hash + Eq + Clone> Interned<T> {
    /// The id of `value`, made from `owned` the first time.
    fn id<Q>(&mut self, value: &Q, owned: impl FnOnce(&Q) -> T) -> u32
    where
        T: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        let v = owned(value);
        self.values.push(v.clone());
        self.ids.insert(v, id);
        id
    }
}

impl Tasks {
    fn new(max: usize) -> Tasks {
        Tasks {
            asks: Vec::new(),
            seen: Default::default(),
            ctxs: Interned::default(),
            permissions: Interned::default(),
            logins: Interned::default(),
            notes: BTreeSet::new(),
            max,
            planned: 0,
            skipped: 0,
        }
    }

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
        let ask = (
            self.ctxs.id(ctx, Clone::clone),
            self.permissions.id(permission, str::to_owned),
            self.logins.id(login, Clone::clone),
        );
        if self.seen.insert(ask) {
            self.asks.push(ask);
            self.planned += 1;
        }
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
    let mut tasks = Tasks::new(max_evaluations);
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
    // The order of the changes does not matter: `Part::bounded` sorts.
    for &(c, p, l) in &tasks.asks {
        let (ctx, permission, login) = (
            &tasks.ctxs.values[c as usize],
            &tasks.permissions.values[p as usize],
            &tasks.logins.values[l as usize],
        );
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
    // The changes come grouped by role group: the (context, permissions)
    // of the last one are reused while the role group stays the same.
    let mut last: Option<(&Scope, &RoleId, Plan)> = None;
    for change in groups {
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
        let plan = match &last {
            Some((scope, role, plan)) if *scope == &change.scope && *role == &change.role => plan,
            _ => {
                let plan = role_plan(&change.scope, &change.role, rules, contexts);
                &last.insert((&change.scope, &change.role, plan)).2
            }
        };
        for (ctx, named) in plan {
            for permission in named {
                tasks.add(ctx, permission, &change.login);
            }
        }
    }
}

/// Per context, the permissions a role's rules name there.
type Plan<'a> = Vec<(Ctx, Vec<&'a str>)>;

/// Where the rules of a role held in `scope` count: per context (in the
/// order of the files, then of the contexts), the permissions named.
fn role_plan<'a>(
    scope: &Scope,
    role: &RoleId,
    rules: &[Rules<'a>; 2],
    contexts: &Contexts,
) -> Plan<'a> {
    let files: BTreeSet<File> = match scope {
        // A global role counts in every project too: every file that
        // names it.
        Scope::Global => std::iter::once(None)
            .chain(
                rules
                    .iter()
                    .flat_map(|r| r.by_role.keys())
                    .filter(|(_, r)| *r == role)
                    .map(|(f, _)| *f),
            )
            .collect(),
        Scope::Project(q) => [None, Some(q)].into_iter().collect(),
    };
    let mut plan = Vec::new();
    for file in files {
        let named: Vec<&str> = rules
            .iter()
            .filter_map(|r| r.by_role.get(&(file, role)))
            .flatten()
            .copied()
            .collect::<BTreeSet<&str>>()
            .into_iter()
            .collect();
        for ctx in contexts.of(scope, file) {
            plan.push((ctx, named.clone()));
        }
    }
    plan
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
