//! [`GroupMemo`]: each scope's role groups kept from one build for the
//! next ([`Model::role_groups_with`]). A leaf beside `groups`.
//!
//! A scope's groups are reused only when what they are made of is equal
//! (compared by value with the copy kept): the roles the scope has, the
//! (holder, role) pairs assigned in it, and the context every scope reads
//! — each user group's members and each account's login and whether it is
//! disabled. Without a users folder the global scope is never kept (its
//! `everyone` holds every login named anywhere). After a build the memo
//! holds that build's scopes only.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::groups::Active;
use super::types::{Holder, Model, RoleGroup, Scope};
use crate::fxhash::FxHashMap;
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
    /// Each account's login and whether it is disabled.
    accounts: Option<Vec<(Login, bool)>>,
}

impl Context {
    fn of(model: &Model) -> Self {
        Context {
            user_groups: model.user_groups.clone(),
            accounts: model
                .accounts
                .as_ref()
                .map(|a| a.iter().map(|(l, acc)| (l.clone(), acc.disabled)).collect()),
        }
    }

    fn is_of(&self, model: &Model) -> bool {
        self.user_groups == model.user_groups
            && match (&self.accounts, &model.accounts) {
                (None, None) => true,
                (Some(kept), Some(now)) => kept
                    .iter()
                    .map(|(l, d)| (l, *d))
                    .eq(now.iter().map(|(l, a)| (l, a.disabled))),
                _ => false,
            }
    }
}

struct Entry {
    defined: Vec<RoleId>,
    holders: Vec<(Holder, RoleId)>,
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
        if !memo.context.as_ref().is_some_and(|c| c.is_of(self)) {
            earlier.clear();
            memo.context = Some(Context::of(self));
        }
        // Only a scope built afresh asks who is active: the first few of
        // the model directly, the others of a map of every account.
        let direct = Active::direct(self);
        let mut direct_left = DIRECT_ASSIGNMENTS;
        let active = OnceCell::new();
        let assigned = self.assignments_by_scope();
        let mut out = Vec::with_capacity(self.projects.len() + 1);
        for (scope, defined) in self.scopes_with_roles() {
            let here = assigned.get(&scope).map_or(&[][..], Vec::as_slice);
            let keep = !(scope == Scope::Global && self.accounts.is_none());
            let kept = earlier
                .remove(&scope)
                .filter(|e| keep && e.defined == defined && same_pairs(&e.holders, here));
            let entry = match kept {
                Some(entry) => {
                    memo.hits += 1;
                    entry
                }
                None => {
                    memo.misses += 1;
                    let active = if here.len() <= direct_left {
                        direct_left -= here.len();
                        &direct
                    } else {
                        active.get_or_init(|| Active::of(self))
                    };
                    let groups = Arc::new(self.scope_groups(active, &scope, &defined, here));
                    let holders = here
                        .iter()
                        .map(|a| (a.holder.clone(), a.role.clone()))
                        .collect();
                    Entry {
                        defined,
                        holders,
                        groups,
                    }
                }
            };
            out.push(Arc::clone(&entry.groups));
            if keep {
                memo.scopes.insert(scope, entry);
            }
        }
        out
    }
}

/// Whether `kept` are the (holder, role) pairs of `assigned`, in order.
fn same_pairs(kept: &[(Holder, RoleId)], assigned: &[&super::types::Assignment]) -> bool {
    kept.len() == assigned.len()
        && kept
            .iter()
            .zip(assigned)
            .all(|((h, r), a)| *h == a.holder && *r == a.role)
}
