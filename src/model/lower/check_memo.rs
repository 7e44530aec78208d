//! [`CheckMemo`]: what the checks across files keep from one build for
//! the next, so that they cost in proportion to the change
//! (`check::check_across_files`). A leaf of `lower`.
//!
//! Each project's part is the very value lowered before (the same `Arc`,
//! which `LowerMemo` hands out only for the same files in the same
//! context, and which this memo holds, so its address is never reused
//! while kept). Kept per project: the distinct logins it names, its role
//! groups' names, and its role checks (valid while the role context,
//! compared by value, is the same). Two tallies over every part, updated
//! by the parts that changed, answer whether any two logins differ only
//! in case and whether any two role groups share a name; only then do the
//! whole-model checks run, so the diagnostics are exactly theirs.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::super::types::{EVERYONE, Loc, Model};
use super::part::{Accounts, Assigned, Groups, Part};
use crate::diag::Diagnostic;
use crate::fxhash::FxHashMap;
use crate::ident::{Login, ProjectId, RoleId, role_group_name};

/// The segments of the model the checks read, in the order lowering
/// named them: the accounts' and user groups' logins, the global
/// assignments, each project's part.
pub(super) struct Segments<'a> {
    /// The accounts lowered (shared with `LowerMemo`, which hands out the
    /// same `Arc` while the account files are unchanged).
    pub(super) accounts: &'a Arc<Accounts>,
    /// groups.xml lowered, with its logins (shared with `LowerMemo`,
    /// which hands out the same `Arc` while the file is unchanged).
    pub(super) groups: Option<&'a Arc<Groups>>,
    pub(super) global: Option<&'a Arc<Assigned>>,
    pub(super) parts: &'a [(ProjectId, Arc<Part>)],
}

/// What a part's role checks read outside the part: the roles defined
/// globally, for every project, and the roles known everywhere (`base`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RoleContext {
    pub(super) global_defined: BTreeSet<RoleId>,
    pub(super) project_defined: BTreeSet<RoleId>,
    pub(super) base: BTreeSet<RoleId>,
}

/// One part's role checks: its role-scope-mismatch and unknown-role
/// diagnostics, and the roles its assignments give.
#[derive(Debug)]
pub(super) struct RoleChecks {
    pub(super) scope_diags: Vec<Diagnostic>,
    pub(super) unknown_diags: Vec<Diagnostic>,
    pub(super) assigned: BTreeSet<RoleId>,
}

struct Entry {
    id: ProjectId,
    part: Arc<Part>,
    logins: Vec<Login>,
    names: Vec<String>,
    roles: Arc<RoleChecks>,
}

/// What `check_across_files` keeps for the next build.
#[derive(Default)]
pub(super) struct CheckMemo {
    logins: LoginTally,
    names: NameTally,
    /// The accounts and the user groups' logins the tallies hold.
    own_accounts: Option<Arc<Accounts>>,
    own_groups: Option<Arc<Groups>>,
    own_logins: Vec<Login>,
    global: Option<(Arc<Assigned>, Vec<Login>)>,
    /// The roles the global assignments give, each once (by identity of
    /// the global assignments).
    global_roles: Option<(Option<Arc<Assigned>>, RoleSet)>,
    /// The global assignments' scope checks, and the context they read.
    global_scopes: Option<GlobalScopes>,
    global_names: Vec<String>,
    every_project: Option<BTreeSet<RoleId>>,
    roles: Option<RoleContext>,
    /// In the order of the segments' parts.
    parts: Vec<Entry>,
}

/// The entries of the build before, taken from as this build goes: the
/// one at the same place when it is of the same project, else (once
/// projects came or went before it) the one of the same part, found by
/// the part's address (a kept entry holds its part, so no other value
/// has that address).
struct Earlier {
    slots: Vec<Option<Entry>>,
    by_part: Option<FxHashMap<usize, usize>>,
}

impl Earlier {
    /// The earlier entry for `(id, part)` at place `i`: the one of the
    /// same part (to reuse), or of the same project at that place (to
    /// replace); `None` when there is neither.
    fn take(&mut self, i: usize, (id, part): (&ProjectId, &Arc<Part>)) -> Option<Entry> {
        if let Some(Some(e)) = self.slots.get(i)
            && (Arc::ptr_eq(&e.part, part) || e.id == *id)
        {
            return self.slots[i].take();
        }
        let slots = &self.slots;
        let by_part = self.by_part.get_or_insert_with(|| {
            (slots.iter().enumerate())
                .filter_map(|(j, e)| Some((Arc::as_ptr(&e.as_ref()?.part) as usize, j)))
                .collect()
        });
        let j = by_part.remove(&(Arc::as_ptr(part) as usize))?;
        self.slots[j].take()
    }

    /// The entries no part of this build took.
    fn rest(self) -> impl Iterator<Item = Entry> {
        self.slots.into_iter().flatten()
    }
}

/// A set of roles, shared.
type RoleSet = Arc<BTreeSet<RoleId>>;

/// The scope checks of the global assignments (by identity) in a role
/// context (by value).
struct GlobalScopes {
    assigned: Option<Arc<Assigned>>,
    global_defined: BTreeSet<RoleId>,
    project_defined: BTreeSet<RoleId>,
    diags: Arc<Vec<Diagnostic>>,
}

/// Whether the two are the same global assignments (or both none).
fn same_global(a: Option<&Arc<Assigned>>, b: Option<&Arc<Assigned>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

/// Whether any two logins differ only in case / any two role groups
/// share a name, and each part's role checks, in the order of `parts`.
pub(super) struct Answer {
    pub(super) case_conflicts: bool,
    pub(super) name_collisions: bool,
    pub(super) roles: Vec<Arc<RoleChecks>>,
}

impl CheckMemo {
    /// Bring the tallies to this build's segments, reusing what each
    /// unchanged part gave; `roles_of` makes a part's role checks.
    pub(super) fn update(
        &mut self,
        model: &Model,
        segs: &Segments,
        (context, assigned_globally): (&RoleContext, &BTreeSet<RoleId>),
        roles_of: impl Fn(&Part) -> RoleChecks,
    ) -> Answer {
        let every_project = model.roles_of_kind(super::super::types::RoleScope::Project);
        let names_reset = self.every_project.as_ref() != Some(&every_project);
        if names_reset {
            self.names = NameTally::default();
            self.global_names.clear();
            self.every_project = Some(every_project.clone());
        }
        let roles_reset = self.roles.as_ref() != Some(context);
        if roles_reset {
            self.roles = Some(context.clone());
        }
        self.own_segment(segs.accounts, segs.groups);
        self.global_segment(model, segs.global, assigned_globally);
        let mut earlier = Earlier {
            slots: std::mem::take(&mut self.parts)
                .into_iter()
                .map(Some)
                .collect(),
            by_part: None,
        };
        self.parts.reserve(segs.parts.len());
        let mut roles = Vec::with_capacity(segs.parts.len());
        for (i, (id, part)) in segs.parts.iter().enumerate() {
            let entry = match earlier.take(i, (id, part)) {
                Some(mut e) if Arc::ptr_eq(&e.part, part) => {
                    if names_reset {
                        e.names = part_names(id, part, &every_project);
                        self.names.add(&e.names);
                    }
                    if roles_reset {
                        e.roles = Arc::new(roles_of(part));
                    }
                    e
                }
                old => {
                    if let Some(old) = old {
                        self.logins.remove(&old.logins);
                        if !names_reset {
                            self.names.remove(&old.names);
                        }
                    }
                    let e = Entry {
                        id: id.clone(),
                        part: Arc::clone(part),
                        logins: distinct(&part.seen_logins),
                        names: part_names(id, part, &every_project),
                        roles: Arc::new(roles_of(part)),
                    };
                    self.logins.add(&e.logins);
                    self.names.add(&e.names);
                    e
                }
            };
            roles.push(Arc::clone(&entry.roles));
            self.parts.push(entry);
        }
        for old in earlier.rest() {
            self.logins.remove(&old.logins);
            if !names_reset {
                self.names.remove(&old.names);
            }
        }
        Answer {
            case_conflicts: self.logins.folds.over_one > 0,
            name_collisions: self.names.0.over_one > 0,
            roles,
        }
    }

    /// The accounts' logins and the user groups' (each by identity, else
    /// by value).
    fn own_segment(&mut self, accounts: &Arc<Accounts>, groups: Option<&Arc<Groups>>) {
        let same_accounts = self
            .own_accounts
            .as_ref()
            .is_some_and(|a| Arc::ptr_eq(a, accounts) || a.seen_logins == accounts.seen_logins);
        let same_groups = match (&self.own_groups, groups) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a.seen_logins == b.seen_logins,
            (a, b) => group_logins(a.as_ref()) == group_logins(b),
        };
        if !same_accounts || !same_groups {
            self.logins.remove(&self.own_logins);
            self.own_logins = distinct(accounts.seen_logins.iter().chain(group_logins(groups)));
            self.logins.add(&self.own_logins);
        }
        self.own_accounts = Some(Arc::clone(accounts));
        self.own_groups = groups.cloned();
    }

    /// The roles the global assignments give, each once: those of the
    /// build before while they are the same assignments.
    pub(super) fn global_roles(&mut self, global: Option<&Arc<Assigned>>) -> RoleSet {
        if let Some((kept, roles)) = &self.global_roles
            && same_global(kept.as_ref(), global)
        {
            return Arc::clone(roles);
        }
        let roles: BTreeSet<RoleId> = global
            .iter()
            .flat_map(|g| g.assignments.iter().map(|a| a.role.clone()))
            .collect();
        let roles = Arc::new(roles);
        self.global_roles = Some((global.cloned(), Arc::clone(&roles)));
        roles
    }

    /// The scope checks of the global assignments in `context`: those of
    /// the build before while the assignments and the roles defined
    /// globally and for every project are the same, else `check` them.
    pub(super) fn global_scopes(
        &mut self,
        global: Option<&Arc<Assigned>>,
        context: &RoleContext,
        check: impl FnOnce(&[crate::model::Assignment]) -> Vec<Diagnostic>,
    ) -> Arc<Vec<Diagnostic>> {
        if let Some(kept) = &self.global_scopes
            && same_global(kept.assigned.as_ref(), global)
            && kept.global_defined == context.global_defined
            && kept.project_defined == context.project_defined
        {
            return Arc::clone(&kept.diags);
        }
        let diags = Arc::new(global.map_or_else(Vec::new, |g| check(&g.assignments)));
        self.global_scopes = Some(GlobalScopes {
            assigned: global.cloned(),
            global_defined: context.global_defined.clone(),
            project_defined: context.project_defined.clone(),
            diags: Arc::clone(&diags),
        });
        diags
    }

    /// The global assignments' logins (by identity) and the global role
    /// groups' names (by value).
    fn global_segment(
        &mut self,
        model: &Model,
        global: Option<&Arc<Assigned>>,
        assigned_globally: &BTreeSet<RoleId>,
    ) {
        let same = match (&self.global, global) {
            (None, None) => true,
            (Some((kept, _)), Some(now)) => Arc::ptr_eq(kept, now),
            _ => false,
        };
        if !same {
            if let Some((_, logins)) = self.global.take() {
                self.logins.remove(&logins);
            }
            self.global = global.map(|g| {
                let logins = distinct(&g.seen_logins);
                self.logins.add(&logins);
                (Arc::clone(g), logins)
            });
        }
        let names = global_names(model, assigned_globally);
        if names != self.global_names {
            self.names.remove(&self.global_names);
            self.names.add(&names);
            self.global_names = names;
        }
    }
}

/// The logins groups.xml names (none without the file).
fn group_logins(groups: Option<&Arc<Groups>>) -> &[(Login, Loc)] {
    groups.map_or(&[], |g| &g.seen_logins)
}

/// Each login of `seen` once.
fn distinct<'a>(seen: impl IntoIterator<Item = &'a (Login, Loc)>) -> Vec<Login> {
    let seen = seen.into_iter();
    let mut once: FxHashMap<&str, ()> =
        FxHashMap::with_capacity_and_hasher(seen.size_hint().0, Default::default());
    seen.filter(|(l, _)| once.insert(l.as_str(), ()).is_none())
        .map(|(l, _)| l.clone())
        .collect()
}

/// The names of a project's role groups (`Model::role_group_names` of
/// its scope): every project's roles, its own, and those assigned in it.
fn part_names(id: &ProjectId, part: &Part, every_project: &BTreeSet<RoleId>) -> Vec<String> {
    let mut roles: Vec<&RoleId> = every_project
        .iter()
        .chain(part.project.roles.keys())
        .chain(part.assignments.iter().map(|a| &a.role))
        .collect();
    roles.sort_unstable();
    roles.dedup();
    roles
        .into_iter()
        .filter(|r| r.as_str() != EVERYONE)
        .map(|r| role_group_name(Some(id), r))
        .collect()
}

/// The names of the global role groups: the roles defined globally and
/// those assigned globally.
fn global_names(model: &Model, assigned_globally: &BTreeSet<RoleId>) -> Vec<String> {
    let defined = model.defined_roles(&super::super::types::Scope::Global);
    defined
        .union(assigned_globally)
        .map(|r| role_group_name(None, r))
        .collect()
}

/// Every login named, by how many segments name it, and how many
/// distinct logins fold to each lower-case form (a form more than one
/// login folds to is a conflict).
#[derive(Default)]
struct LoginTally {
    by_login: Tally<Login>,
    folds: Tally<Box<str>>,
}

impl LoginTally {
    fn add(&mut self, logins: &[Login]) {
        for l in logins {
            if self.by_login.add(l) {
                self.folds.add(&fold(l));
            }
        }
    }

    fn remove(&mut self, logins: &[Login]) {
        for l in logins {
            if self.by_login.remove(l) {
                self.folds.remove(&fold(l));
            }
        }
    }
}

/// A login's case-folded form (`check_logins` folds the same way).
fn fold(l: &Login) -> Box<str> {
    l.as_str().to_ascii_lowercase().into_boxed_str()
}

/// Every role group's name, by how many scopes have it (a name more than
/// one scope has is a collision).
#[derive(Default)]
struct NameTally(Tally<String>);

impl NameTally {
    fn add(&mut self, names: &[String]) {
        for name in names {
            self.0.add(name);
        }
    }

    fn remove(&mut self, names: &[String]) {
        for name in names {
            self.0.remove(name);
        }
    }
}

/// A multiset: each key with its count, and how many keys are counted
/// more than once.
struct Tally<K> {
    count: FxHashMap<K, u32>,
    over_one: usize,
}

impl<K> Default for Tally<K> {
    fn default() -> Self {
        Tally {
            count: FxHashMap::default(),
            over_one: 0,
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone> Tally<K> {
    /// Count `key` once more; whether it was not counted before.
    fn add(&mut self, key: &K) -> bool {
        let n = self.count.entry(key.clone()).or_insert(0);
        *n += 1;
        if *n == 2 {
            self.over_one += 1;
        }
        *n == 1
    }

    /// Count `key` once less; whether it is counted no more.
    fn remove(&mut self, key: &K) -> bool {
        let Some(n) = self.count.get_mut(key) else {
            return false;
        };
        *n -= 1;
        if *n == 1 {
            self.over_one -= 1;
        }
        if *n == 0 {
            self.count.remove(key);
            return true;
        }
        false
    }
}
