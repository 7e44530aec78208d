//! [`Index::build_cached`] and its [`IndexMemo`]: the index of one
//! revision made of parts, each taken from the index before (the same
//! `Arc`, so taking it costs a reference count) when what it is made of
//! is equal — compared by value with the copy the part or the memo keeps,
//! never by a hash:
//!
//! - [`Roles`]: the role names of the sources below (reused when equal;
//!   when not, nothing below is reused, since every part numbers roles);
//! - [`ProjectTable`]: the project ids in order;
//! - [`Rules`]: the global permissions.xml, each project's own, the
//!   project table and `Limits::max_query_depth`;
//! - [`GlobalPart`]: the accounts (login, disabled; the model's accounts
//!   `Arc` kept, the same one is equal), the user groups and
//!   the global assignments;
//! - each [`ProjectPart`]: the project's id, folder and lead, its
//!   assignments (its run of `model::Assignments` kept: the same `Arc` is
//!   equal), and the members of each user group they name;
//! - [`Members`]: brought up to date from the project parts that changed
//!   (rebuilt when the project table changed).
//!
//! `Index::build` is `build_cached` with an empty memo: one code path.

use crate::directory::AccountState;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::build::rule_roles;
use super::types::*;
use super::users::{GroupChanges, Runs, roles_used};
use crate::diag::Diagnostic;
use crate::ident::{GroupId, Login, RoleId};
use crate::model::{Account, Model, PermissionSet, Run};

/// What `Index::build_cached` keeps from one build for the next: the
/// index it built and what its parts were made of. `default()` is empty.
#[derive(Default)]
pub struct IndexMemo {
    kept: Option<Kept>,
    hits: usize,
    misses: usize,
}

impl std::fmt::Debug for IndexMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexMemo")
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish()
    }
}

impl IndexMemo {
    /// Parts of the last build (each project's, the global one, the
    /// rules) taken from the memo / made afresh.
    pub fn stats(&self) -> (usize, usize) {
        (self.hits, self.misses)
    }
    /// The index of the last build, for the tests that compare it with a
    /// full build's.
    #[cfg(test)]
    pub(crate) fn last(&self) -> Option<&Index> {
        self.kept.as_ref().map(|k| &k.index)
    }
}

struct Kept {
    index: Index,
    /// What `index.rules` was made of (besides the project table).
    permissions: Option<PermissionSet>,
    /// By project number: each project's permissions.xml.
    overlays: Vec<Option<PermissionSet>>,
    max_query_depth: usize,
    rule_diags: Vec<Diagnostic>,
    /// What `index.global` was made of besides its assignments.
    /// (The model's accounts themselves: the same `Arc` is unchanged.)
    accounts: Option<Arc<BTreeMap<Login, Account>>>,
    /// The directory's account state it was made of.
    directory: Option<Arc<BTreeMap<Login, AccountState>>>,
    user_groups: BTreeMap<GroupId, BTreeSet<Login>>,
    /// By project number: the model's run of assignments each part is of
    /// (the same run, `Arc::ptr_eq`, holds the same assignments).
    runs: PartRuns,
}

/// By project number: the run of assignments of each project, if any.
type PartRuns = Vec<Option<Arc<Run>>>;

/// The parts of the index before whose inputs are equal to this model's.
struct Earlier {
    rules: Option<Arc<Rules>>,
    global: Option<Arc<GlobalPart>>,
    /// By this model's project number.
    parts: Vec<Option<Arc<ProjectPart>>>,
}

impl Index {
    /// Index a model. Custom-set queries are parsed here; a malformed one
    /// is an `invalid-customset-query` diagnostic (and never matches).
    pub fn build(model: &Model) -> (Index, Vec<Diagnostic>) {
        Index::build_cached(model, &mut IndexMemo::default())
    }

    /// [`Index::build`], taking from `memo` each part built before from
    /// equal inputs and leaving in it this build's index. The index and
    /// the diagnostics are `build`'s, whatever the memo holds.
    pub fn build_cached(model: &Model, memo: &mut IndexMemo) -> (Index, Vec<Diagnostic>) {
        let kept = memo.kept.take();
        let projects = ProjectTable::of(model, kept.as_ref().map(|k| &k.index.projects));
        let runs = Runs::of(model, &projects);
        let mut earlier = Earlier::find(model, &projects, &runs, kept.as_ref());
        let (roles, used) = roles_for(model, &projects, &runs, &earlier, kept.as_ref());
        if !kept
            .as_ref()
            .is_some_and(|k| Arc::ptr_eq(&k.index.roles, &roles))
        {
            earlier.rules = None;
            earlier.global = None;
            earlier.parts.iter_mut().for_each(|p| *p = None);
        }
        let (mut hits, mut misses) = (0, 0);
        let mut count = |reused: bool| {
            if reused {
                hits += 1;
            } else {
                misses += 1;
            }
        };
        let (rules, rule_diags) = match (&earlier.rules, &kept) {
            (Some(rules), Some(k)) => (Arc::clone(rules), k.rule_diags.clone()),
            _ => {
                let (rules, diags) = Rules::build(model, &projects, &roles, used);
                (Arc::new(rules), diags)
            }
        };
        count(earlier.rules.is_some());
        let global = earlier
            .global
            .clone()
            .unwrap_or_else(|| Arc::new(GlobalPart::build(model, &roles, runs.global(model))));
        count(earlier.global.is_some());
        earlier.parts.iter().for_each(|p| count(p.is_some()));
        let pool = cold_pool(model, &earlier.parts);
        let parts = parts_of(
            model,
            &projects,
            &roles,
            &runs,
            &earlier.parts,
            pool.as_ref(),
        );
        let members = match &kept {
            Some(k) if Arc::ptr_eq(&k.index.projects, &projects) => {
                k.index
                    .members
                    .update(&k.index.parts, &parts, roles.special.user)
            }
            _ => Members::build(&parts, roles.special.user, pool.as_ref()),
        };
        let index = Index {
            user_role_in_projects: parts.iter().any(|p| p.holds_user),
            roles,
            rules,
            projects,
            parts: parts.into(),
            global,
            members,
            directory: Arc::clone(&model.directory),
        };
        let part_runs = (0..index.projects.list.len())
            .map(|i| runs.project_run(model, i).cloned())
            .collect();
        memo.kept = Some(Kept::of(model, &index, kept, (&rule_diags, part_runs)));
        (memo.hits, memo.misses) = (hits, misses);
        (index, rule_diags)
    }
}

/// From this many project parts to build on (a cold build's), they and
/// the login shards are built in parallel.
const PARALLEL_MIN_PARTS: usize = 64;

/// A pool of `Limits::max_build_threads` threads made for this build when
/// it builds at least [`PARALLEL_MIN_PARTS`] project parts (and a thread
/// can be started); `None` otherwise: a build that reuses most parts
/// starts no thread.
fn cold_pool(model: &Model, earlier: &[Option<Arc<ProjectPart>>]) -> Option<rayon::ThreadPool> {
    let missing = earlier.iter().filter(|p| p.is_none()).count();
    let threads = model.limits.max_build_threads;
    if missing < PARALLEL_MIN_PARTS || threads < 2 {
        return None;
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("rolesync-index-{i}"))
        .build()
        .ok()
}

/// Each project's part, in project order: the earlier one when kept,
/// else built (on `pool` when there is one; each part is built from its
/// own project alone, so the order of the work does not matter).
fn parts_of(
    model: &Model,
    projects: &ProjectTable,
    roles: &Roles,
    runs: &Runs,
    earlier: &[Option<Arc<ProjectPart>>],
    pool: Option<&rayon::ThreadPool>,
) -> Vec<Arc<ProjectPart>> {
    let one = |i: usize| {
        earlier[i].clone().unwrap_or_else(|| {
            let id = &projects.list[i];
            let project = (id, &*model.projects[id]);
            Arc::new(ProjectPart::build(
                model,
                project,
                roles,
                runs.project(model, i),
            ))
        })
    };
    match pool {
        Some(pool) => {
            use rayon::prelude::*;
            pool.install(|| (0..earlier.len()).into_par_iter().map(one).collect())
        }
        None => (0..earlier.len()).map(one).collect(),
    }
}

impl ProjectTable {
    /// The model's project ids numbered in order: `old` when it holds the
    /// same ids.
    fn of(model: &Model, old: Option<&Arc<ProjectTable>>) -> Arc<ProjectTable> {
        if let Some(old) = old
            && old.list.len() == model.projects.len()
            && old.list.iter().eq(model.projects.keys())
        {
            return Arc::clone(old);
        }
        let list: Vec<_> = model.projects.keys().cloned().collect();
        let ids = list
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), to_u32(i)))
            .collect();
        Arc::new(ProjectTable { ids, list })
    }
}

impl Earlier {
    /// The kept parts whose inputs are equal to this model's, compared by
    /// value under the kept role table.
    fn find(
        model: &Model,
        projects: &Arc<ProjectTable>,
        runs: &Runs,
        kept: Option<&Kept>,
    ) -> Earlier {
        let Some(k) = kept else {
            return Earlier {
                rules: None,
                global: None,
                parts: vec![None; projects.list.len()],
            };
        };
        let same_table = Arc::ptr_eq(&k.index.projects, projects);
        let rules = (same_table && k.rules_are_of(model)).then(|| Arc::clone(&k.index.rules));
        let global = (same_accounts(k.accounts.as_ref(), model.accounts.as_ref())
            && k.directory == model.directory.accounts
            && k.user_groups == model.user_groups
            && k.index.global.is_of(&k.index.roles, runs.global(model)))
        .then(|| Arc::clone(&k.index.global));
        let groups = GroupChanges::between(Some(&k.user_groups), &model.user_groups);
        let parts = projects
            .list
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let j = if same_table {
                    i
                } else {
                    *k.index.projects.ids.get(id)? as usize
                };
                let old = &k.index.parts[j];
                let project = (id, &*model.projects[id]);
                let same_run = match (
                    k.runs.get(j).and_then(Option::as_ref),
                    runs.project_run(model, i),
                ) {
                    (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                    (a, b) => a.is_none() && b.is_none(),
                };
                let assigned = (runs.project(model, i), same_run);
                old.is_of(project, &k.index.roles, assigned, &groups)
                    .then(|| Arc::clone(old))
            })
            .collect();
        Earlier {
            rules,
            global,
            parts,
        }
    }
}

/// The role table of this model (the kept one when its sources are the
/// same lists, or make an equal table), and the roles the rules name.
fn roles_for(
    model: &Model,
    projects: &Arc<ProjectTable>,
    runs: &Runs,
    earlier: &Earlier,
    kept: Option<&Kept>,
) -> (Arc<Roles>, Vec<RoleId>) {
    let rule = match &earlier.rules {
        Some(r) => r.roles_used.clone(),
        None => rule_roles(model, projects),
    };
    let global = match &earlier.global {
        Some(g) => g.roles_used.clone(),
        None => roles_used(runs.global(model)).list,
    };
    let fresh: Vec<Option<Vec<RoleId>>> = (0..projects.list.len())
        .map(|i| match &earlier.parts[i] {
            Some(_) => None,
            None => Some(roles_used(runs.project(model, i)).list),
        })
        .collect();
    let part_roles = |i: usize| match &earlier.parts[i] {
        Some(p) => p.roles_used.as_slice(),
        None => fresh[i].as_deref().unwrap_or_default(),
    };
    if let Some(k) = kept {
        let same_sources = Arc::ptr_eq(&k.index.projects, projects)
            && k.index.rules.roles_used == rule
            && k.index.global.roles_used == global
            && (0..projects.list.len()).all(|i| k.index.parts[i].roles_used == part_roles(i));
        if same_sources {
            return (Arc::clone(&k.index.roles), rule);
        }
    }
    let sources = rule
        .iter()
        .chain(&global)
        .chain((0..projects.list.len()).flat_map(part_roles));
    let roles = Roles::of(sources);
    let roles = match kept {
        Some(k) if k.index.roles.names == roles.names => Arc::clone(&k.index.roles),
        _ => Arc::new(roles),
    };
    (roles, rule)
}

/// Whether the kept accounts have the (login, disabled) pairs of these
/// (the same `Arc`, or equal pairs).
type SharedAccounts = Arc<BTreeMap<Login, Account>>;
fn same_accounts(kept: Option<&SharedAccounts>, now: Option<&SharedAccounts>) -> bool {
    match (kept, now) {
        (None, None) => true,
        (Some(kept), Some(now)) => {
            Arc::ptr_eq(kept, now)
                || (kept.len() == now.len()
                    && kept
                        .iter()
                        .zip(now.iter())
                        .all(|((l, k), (m, a))| l == m && k.disabled == a.disabled))
        }
        _ => false,
    }
}

impl Kept {
    fn rules_are_of(&self, model: &Model) -> bool {
        self.max_query_depth == model.limits.max_query_depth
            && self.permissions == model.global_permissions
            && self.overlays.len() == self.index.projects.list.len()
            && self
                .index
                .projects
                .list
                .iter()
                .zip(&self.overlays)
                .all(|(id, kept)| {
                    model.projects.get(id).and_then(|p| p.permissions.as_ref()) == kept.as_ref()
                })
    }

    /// What to keep of this build: the index, and the inputs of its parts
    /// (moved from `before` where the part is the same).
    fn of(
        model: &Model,
        index: &Index,
        before: Option<Kept>,
        (rule_diags, runs): (&[Diagnostic], PartRuns),
    ) -> Kept {
        let (mut rules_in, mut global_in) = (None, None);
        if let Some(b) = before {
            if Arc::ptr_eq(&b.index.rules, &index.rules) {
                rules_in = Some((b.permissions, b.overlays));
            }
            if Arc::ptr_eq(&b.index.global, &index.global) {
                global_in = Some(b.user_groups);
            }
        }
        let (permissions, overlays) = rules_in.unwrap_or_else(|| {
            let overlays = (index.projects.list.iter())
                .map(|id| model.projects.get(id).and_then(|p| p.permissions.clone()))
                .collect();
            (model.global_permissions.clone(), overlays)
        });
        // The global part is of this model's accounts (built from them, or
        // reused because their logins and flags are those it was of).
        let accounts = model.accounts.clone();
        let directory = model.directory.accounts.clone();
        let user_groups = global_in.unwrap_or_else(|| model.user_groups.clone());
        Kept {
            index: index.clone(),
            permissions,
            overlays,
            max_query_depth: model.limits.max_query_depth,
            rule_diags: rule_diags.to_vec(),
            accounts,
            directory,
            user_groups,
            runs,
        }
    }
}
