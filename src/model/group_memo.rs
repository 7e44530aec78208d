//! [`GroupMemo`]: each scope's role groups kept from one build for the
//! next ([`Model::role_groups_with`]). A leaf beside `groups`.
//!
//! A scope's groups are reused only when what they are made of is equal
//! (compared by value with the copy kept): the roles the scope has, the
//! (holder, role) pairs assigned in it, and what it reads of the context
//! — the members of each user group it names and whether each login it
//! reaches is active. The context (each user group's members, each
//! account's login and disabled flag) is compared with the copy kept once
//! per build; what changed (the logins whose activeness changed, the
//! groups whose members changed) rebuilds only the scopes with such a
//! holder, directly or through a group, and the global scope when an
//! account's activeness changed (its `everyone`). Without a users folder
//! the global scope is never kept (its `everyone` holds every login named
//! anywhere); accounts managed in one build and not the other rebuild
//! every scope. After a build the memo holds that build's scopes only.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use super::groups::Active;
use super::types::{Account, Assignment, Holder, Model, RoleGroup, Run, Scope};
use crate::directory::AccountState;
use crate::fxhash::{FxBuild, FxHashMap};
use crate::ident::{GroupId, Login, RoleId};

/// Assignments of scopes built afresh whose holders ask the model who is
/// active before a map of every account is made (a build that changed a
/// few projects makes none). Tests take 4, so that their few assignments
/// reach both ways.
const DIRECT_ASSIGNMENTS: usize = if cfg!(test) { 4 } else { 512 };

/// What `role_groups_with` keeps for the next build.
#[derive(Default)]
pub struct GroupMemo {
    context: Option<Context>,
    scopes: FxHashMap<Scope, Entry>,
    hits: usize,
    misses: usize,
}

impl std::fmt::Debug for GroupMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupMemo")
            .field("scopes", &self.scopes.len())
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish()
    }
}

impl GroupMemo {
    /// Scopes of the last build whose groups came from the memo / were
    /// built afresh, and how many it holds.
    pub fn stats(&self) -> (usize, usize, usize) {
        (self.hits, self.misses, self.scopes.len())
    }
}

/// What every scope's groups read besides its own assignments.
struct Context {
    user_groups: BTreeMap<GroupId, BTreeSet<Login>>,
    /// The accounts (the model's `Arc`: the same one is unchanged).
    accounts: Option<Arc<BTreeMap<Login, Account>>>,
    /// The directory's account state (the model's `Arc`, likewise).
    directory: Option<Arc<BTreeMap<Login, AccountState>>>,
}

/// What changed in the context since the copy kept: the logins whose
/// activeness changed (`Model::is_active`) and the user groups whose
/// members changed (defined in one of the two only, or with other
/// members).
#[derive(Default)]
struct Changed {
    logins: HashSet<Login, FxBuild>,
    groups: HashSet<GroupId, FxBuild>,
}

impl Context {
    fn of(model: &Model) -> Self {
        Context {
            user_groups: model.user_groups.clone(),
            accounts: model.accounts.clone(),
            directory: model.directory.accounts.clone(),
        }
    }

    /// What changed in `model`'s context since this one, or `None` when
    /// the two cannot be compared (accounts managed in one only).
    fn changes(&self, model: &Model) -> Option<Changed> {
        let logins = match (&self.accounts, &model.accounts) {
            (None, None) => Vec::new(),
            (Some(kept), Some(now)) if Arc::ptr_eq(kept, now) => Vec::new(),
            (Some(kept), Some(now)) => differing(
                kept.iter().map(|(l, a)| (l, !a.disabled)),
                now.iter().map(|(l, a)| (l, !a.disabled)),
                |a, b| a.copied().unwrap_or(false) == b.copied().unwrap_or(false),
            ),
            _ => return None,
        };
        // A login is active when `user.xml` and the directory both let it:
        // one whose directory state changed may have changed too.
        let mut logins = logins;
        match (&self.directory, &model.directory.accounts) {
            (None, None) => {}
            (Some(kept), Some(now)) if Arc::ptr_eq(kept, now) => {}
            (Some(kept), Some(now)) => logins.extend(differing(
                kept.iter().map(|(l, s)| (l, *s == AccountState::Active)),
                now.iter().map(|(l, s)| (l, *s == AccountState::Active)),
                |a, b| a.copied().unwrap_or(false) == b.copied().unwrap_or(false),
            )),
            _ => return None,
        }
        let groups = differing(self.user_groups.iter(), model.user_groups.iter(), |a, b| {
            a == b
        });
        Some(Changed {
            logins: logins.into_iter().collect(),
            groups: groups.into_iter().collect(),
        })
    }
}

/// The keys of two sorted runs of (key, value) whose values are not
/// `same` (`None`: the key is absent from that run).
fn differing<'a, 'b, K: Ord + Clone + 'a + 'b, V>(
    kept: impl Iterator<Item = (&'a K, V)>,
    now: impl Iterator<Item = (&'b K, V)>,
    same: impl Fn(Option<&V>, Option<&V>) -> bool,
) -> Vec<K> {
    let (mut kept, mut now) = (kept.peekable(), now.peekable());
    let mut out = Vec::new();
    loop {
        let (k, a, b) = match (kept.peek(), now.peek()) {
            (None, None) => return out,
            (Some((k, _)), Some((n, _))) if *k == *n => {
                let (k, a) = kept.next().expect("peeked");
                let (_, b) = now.next().expect("peeked");
                (k, Some(a), Some(b))
            }
            (Some((k, _)), n) if n.is_none_or(|(n, _)| *k < *n) => {
                let (k, a) = kept.next().expect("peeked");
                (k, Some(a), None)
            }
            _ => {
                let (k, b) = now.next().expect("peeked");
                (k, None, Some(b))
            }
        };
        if !same(a.as_ref(), b.as_ref()) {
            out.push(k.clone());
        }
    }
}

impl Changed {
    fn is_empty(&self) -> bool {
        self.logins.is_empty() && self.groups.is_empty()
    }

    /// The user groups whose role groups change: those changed, and those
    /// with a member whose activeness changed.
    fn reach(mut self, model: &Model) -> Reach {
        if !self.logins.is_empty() {
            for (id, members) in &model.user_groups {
                if members.iter().any(|l| self.logins.contains(l)) {
                    self.groups.insert(id.clone());
                }
            }
        }
        Reach(self)
    }
}

/// What a context change reaches: a scope is built afresh when a holder
/// of its roles is a login or a group in it (and the global scope when an
/// account's activeness changed: `everyone`).
struct Reach(Changed);

impl Reach {
    fn touches(&self, scope: &Scope, run: &[Assignment]) -> bool {
        let Reach(c) = self;
        (*scope == Scope::Global && !c.logins.is_empty())
            || run.iter().any(|a| match &a.holder {
                Holder::User(l) => c.logins.contains(l),
                Holder::Group(g) => c.groups.contains(g),
            })
    }
}

struct Entry {
    defined: Vec<RoleId>,
    /// The scope's run of assignments the groups were built from (shared
    /// with the model, so the common case compares one pointer).
    run: Arc<Run>,
    groups: Arc<Vec<RoleGroup>>,
}

impl Model {
    /// The role groups of `role_groups`, scope by scope, each taken from
    /// `memo` when it was built before from equal parts; `memo` then holds
    /// this model's scopes only.
    pub fn role_groups_with(&self, memo: &mut GroupMemo) -> Vec<Arc<Vec<RoleGroup>>> {
        memo.hits = 0;
        memo.misses = 0;
        let mut earlier = std::mem::take(&mut memo.scopes);
        // A context change rebuilds the scopes it reaches only; one that
        // cannot be compared (or none kept), every scope.
        let changes = memo.context.as_ref().and_then(|c| c.changes(self));
        let reach = match changes {
            Some(changed) if changed.is_empty() => {
                // Equal: keep this model's accounts, so the next build
                // compares a pointer.
                if let Some(c) = memo.context.as_mut() {
                    c.accounts.clone_from(&self.accounts);
                    c.directory.clone_from(&self.directory.accounts);
                }
                None
            }
            Some(changed) => {
                memo.context = Some(Context::of(self));
                Some(changed.reach(self))
            }
            None => {
                earlier.clear();
                memo.context = Some(Context::of(self));
                None
            }
        };
        let assigned = self.assignments_by_scope();
        let none: Arc<Run> = Arc::default();
        // Each scope's entry kept, or what to build it from.
        let mut slots = Vec::with_capacity(self.projects.len() + 1);
        for (scope, defined) in self.scopes_with_roles() {
            let run = assigned
                .get(&scope)
                .map_or_else(|| Arc::clone(&none), |r| Arc::clone(r));
            let keep = !(scope == Scope::Global && self.accounts.is_none());
            let kept = earlier
                .remove(&scope)
                .filter(|e| keep && e.defined == defined && same_pairs(&e.run, &run))
                .filter(|e| reach.as_ref().is_none_or(|r| !r.touches(&scope, &e.run)));
            match &kept {
                Some(_) => memo.hits += 1,
                None => memo.misses += 1,
            }
            slots.push((scope, keep, kept.ok_or(Fresh { defined, run })));
        }
        let built = self.build_fresh(&slots);
        let mut built = built.into_iter();
        let mut out = Vec::with_capacity(slots.len());
        for (scope, keep, slot) in slots {
            let entry = slot.unwrap_or_else(|fresh| Entry {
                defined: fresh.defined,
                run: fresh.run,
                groups: built.next().expect("groups for every scope built afresh"),
            });
            out.push(Arc::clone(&entry.groups));
            if keep {
                memo.scopes.insert(scope, entry);
            }
        }
        out
    }

    /// The groups of each scope of `slots` to build afresh, in order: in
    /// parallel on a pool of `Limits::max_build_threads` threads made for
    /// this call from [`PARALLEL_MIN_SCOPES`] of them on (each scope's
    /// groups read the model and its own run alone), else here. Only a
    /// scope built afresh asks who is active: when few are, of the model
    /// directly for the first few assignments, else of a map of every
    /// account.
    fn build_fresh(
        &self,
        slots: &[(Scope, bool, Result<Entry, Fresh>)],
    ) -> Vec<Arc<Vec<RoleGroup>>> {
        use rayon::prelude::*;
        let fresh: Vec<(&Scope, &Fresh)> = slots
            .iter()
            .filter_map(|(scope, _, slot)| Some((scope, slot.as_ref().err()?)))
            .collect();
        let threads = self.limits.max_build_threads;
        let pool = (fresh.len() >= PARALLEL_MIN_SCOPES && threads > 1)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("rolesync-groups-{i}"))
                    .build()
                    .ok()
            })
            .flatten();
        if let Some(pool) = pool {
            let active = Active::of(self);
            let one = |(scope, f): &(&Scope, &Fresh)| {
                Arc::new(self.scope_groups(&active, scope, &f.defined, &f.run))
            };
            return pool.install(|| fresh.par_iter().map(one).collect());
        }
        let direct = Active::direct(self);
        let mut direct_left = DIRECT_ASSIGNMENTS;
        let active = OnceCell::new();
        let mut out = Vec::with_capacity(fresh.len());
        for (scope, f) in fresh {
            let active = if f.run.len() <= direct_left {
                direct_left -= f.run.len();
                &direct
            } else {
                active.get_or_init(|| Active::of(self))
            };
            out.push(Arc::new(
                self.scope_groups(active, scope, &f.defined, &f.run),
            ));
        }
        out
    }
}

/// From this many scopes to build afresh (a cold build's), their groups
/// are built in parallel.
const PARALLEL_MIN_SCOPES: usize = 64;

/// What a scope's groups are built from when none are kept.
struct Fresh {
    defined: Vec<RoleId>,
    run: Arc<Run>,
}

/// Whether `kept` gives the (holder, role) pairs of `now`, in order: the
/// same run (the lowering reused), or equal pairs.
fn same_pairs(kept: &Arc<Run>, now: &Arc<Run>) -> bool {
    Arc::ptr_eq(kept, now)
        || (kept.len() == now.len()
            && kept
                .iter()
                .zip(now.iter())
                .all(|(k, a)| k.holder == a.holder && k.role == a.role))
}
