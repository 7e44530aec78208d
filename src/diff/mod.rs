//! What a change does, on the resolved model: [`diff`] of two snapshots.
//!
//! Three parts, each computed from what changed, never from the whole
//! configuration (docs/diff.md):
//! * `groups` — who joins or leaves which role group, and why (a direct
//!   assignment, a user group, an account disabled, deleted or enabled);
//! * `paths` — effective SVN access: which logins go from `rw`/`r`/`no`
//!   to another value at which rule path, asked of [`crate::authz::Authz`]
//!   on both access files (so exactly what Subversion enforces);
//! * `perms` — which logins gain or lose which Polarion permission in
//!   which context, for the permissions the change touched, asked of
//!   [`crate::policy::Index`].
//!
//! `text` prints the one-screen summary and the full list; `json` the
//! versioned JSON shape. Pure: values in, values out.

mod block;
mod generated;
mod groups;
pub mod json;
mod paths;
mod perms;
mod text;
mod types;

use std::collections::BTreeSet;

use crate::fxhash::{FxBuild, FxHashMap};

/// A set with the fast hash (keys from the snapshots, not from a client).
type FxHashSet<T> = std::collections::HashSet<T, FxBuild>;

use crate::policy::Verdict;
use crate::snapshot::Snapshot;

pub use types::{
    Bounds, Diff, Direction, DirectoryWay, GroupChange, Part, PathChange, PermissionChange, Reason,
    TOP, Tally,
};

/// Why a diff could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// A snapshot's access file does not load (a snapshot always holds a
    /// valid one; this names the first problem).
    #[error("the access file of revision {revision} does not load: {problem}")]
    Access { revision: String, problem: String },
}

/// Every role-group membership that differs between two models (the
/// `groups` part of the diff, unbounded), computed from what changed.
pub fn memberships(old: &crate::model::Model, new: &crate::model::Model) -> Vec<GroupChange> {
    groups::memberships(old, new)
}

/// The access file `text` reduced to what decides access at the rule
/// path `path` of repository `repo` (`None`: repository-neutral): the rule
/// sections that reach it and the groups they name, whole; `Authz::load`
/// of it answers there as of the whole file, for a fraction of the load.
/// `block`: the renderer's record of the text's generated block
/// (`Snapshot::access_block`), taken instead of reading its lines where
/// it fits. `None` when it cannot be reduced (ask the whole file).
pub fn reduced_at(
    text: &str,
    block: Option<&crate::authz::render::BlockMap>,
    repo: Option<&str>,
    path: &str,
) -> Option<String> {
    paths::reduced_at((text, block), repo, path)
}

/// The diff of two snapshots within the default [`Bounds`].
pub fn diff(old: &Snapshot, new: &Snapshot) -> Result<Diff, DiffError> {
    diff_within(old, new, &Bounds::default())
}

/// The diff of two snapshots within `bounds`.
pub fn diff_within(old: &Snapshot, new: &Snapshot, bounds: &Bounds) -> Result<Diff, DiffError> {
    diff_reading(old, new, bounds, paths::Reading::Changed)
}

/// The diff of two snapshots within `bounds`, the access files read as
/// `reading` says (the result is the same either way).
fn diff_reading(
    old: &Snapshot,
    new: &Snapshot,
    bounds: &Bounds,
    reading: paths::Reading,
) -> Result<Diff, DiffError> {
    let memberships = groups::memberships(&old.model, &new.model);
    let everybody = || -> BTreeSet<String> {
        [&old.model, &new.model]
            .into_iter()
            .flat_map(|m| match &m.accounts {
                Some(a) => a.keys().map(|l| l.as_str().to_owned()).collect::<Vec<_>>(),
                None => m
                    .active_accounts()
                    .iter()
                    .map(|l| l.as_str().to_owned())
                    .collect(),
            })
            .collect()
    };
    let found = paths::paths(
        (&old.access, old.access_block.as_ref()),
        (&new.access, new.access_block.as_ref()),
        &everybody,
        bounds.max_evaluations,
        reading,
    )
    .map_err(|problem| DiffError::Access {
        revision: format!("{} or {}", old.revision, new.revision),
        problem,
    })?;
    let perms = perms::permissions(old, new, &memberships, bounds.max_evaluations);

    let (losing, gaining) = losing_and_gaining(&memberships, &found.changes, &perms.changes);
    let top_groups = top(
        memberships
            .iter()
            .map(|c| (c.group.as_str(), c.direction == Direction::Left)),
        |g| g.to_string(),
    );
    let top_paths = top(
        found
            .changes
            .iter()
            .map(|c| ((&c.repository, c.path.as_str()), c.to < c.from)),
        |(repo, path)| match repo {
            Some(r) => format!("{r}:{path}"),
            None => path.to_string(),
        },
    );
    let top_permissions = top(
        perms
            .changes
            .iter()
            .map(|c| ((c.permission.as_str(), &c.project), c.to == Verdict::Deny)),
        |(permission, project)| {
            let ctx = project.as_ref().map_or("global", |p| p.as_str());
            format!("{permission} in {ctx}")
        },
    );
    let max = bounds.max_listed;
    let mut notes = perms.notes;
    if [old, new].into_iter().any(lacks_answer) {
        notes.push(NO_ANSWER_NOTE.to_owned());
    }
    Ok(Diff {
        from: old.revision.clone(),
        to: new.revision.clone(),
        groups: Part::bounded(memberships, 0, max),
        paths: Part::bounded(found.changes, found.unevaluated, max),
        permissions: Part::bounded(perms.changes, perms.unevaluated, max),
        losing,
        gaining,
        top_groups,
        top_paths,
        top_permissions,
        notes,
    })
}

/// The note of a diff whose revisions name directory groups but were built
/// without a directory answer (their build warned `ldap-members-unknown`).
pub const NO_ANSWER_NOTE: &str = "groups.xml names directory groups, but no directory answer \
     was given: their members from the directory are unknown here and left out \
     (ldap-members-unknown)";

/// Whether `s` names directory groups and was built without an answer.
fn lacks_answer(s: &Snapshot) -> bool {
    let d = &s.model.directory;
    d.revision.is_none() && !d.groups.is_empty()
}

/// The logins that lose something and those that gain something.
fn losing_and_gaining(
    memberships: &[GroupChange],
    paths: &[PathChange],
    permissions: &[PermissionChange],
) -> (BTreeSet<String>, BTreeSet<String>) {
    // Deduplicated by hash first: a login is named by many changes.
    let mut losing: FxHashSet<&str> = FxHashSet::default();
    let mut gaining: FxHashSet<&str> = FxHashSet::default();
    let mut mark = |login, lost: bool| {
        if lost { &mut losing } else { &mut gaining }.insert(login);
    };
    for c in memberships {
        mark(c.login.as_str(), c.direction == Direction::Left);
    }
    for c in paths {
        mark(c.login.as_str(), c.to < c.from);
    }
    for c in permissions {
        mark(c.login.as_str(), c.to == Verdict::Deny);
    }
    let owned =
        |set: FxHashSet<&str>| -> BTreeSet<String> { set.into_iter().map(str::to_owned).collect() };
    (owned(losing), owned(gaining))
}

/// The `TOP` things with the most changes, largest first, named by `name`.
fn top<K: Ord + Copy + std::hash::Hash>(
    changes: impl Iterator<Item = (K, bool)>,
    name: impl Fn(&K) -> String,
) -> Vec<(String, Tally)> {
    let mut by: FxHashMap<K, Tally> = FxHashMap::default();
    for (what, lost) in changes {
        let t = by.entry(what).or_default();
        if lost {
            t.lost += 1;
        } else {
            t.gained += 1;
        }
    }
    let mut all: Vec<(K, Tally)> = by.into_iter().collect();
    all.sort_by_key(|(what, t)| (std::cmp::Reverse(t.gained + t.lost), *what));
    all.truncate(TOP);
    all.into_iter().map(|(k, t)| (name(&k), t)).collect()
}

impl Diff {
    /// Every login that loses SVN access to some path, a role group or a
    /// Polarion permission (complete even when the lists are bounded).
    pub fn logins_losing_access(&self) -> BTreeSet<String> {
        self.losing.clone()
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.groups.total == 0 && self.paths.total == 0 && self.permissions.total == 0
    }

    /// Whether every candidate was evaluated (no bound was reached).
    pub fn is_complete(&self) -> bool {
        self.paths.unevaluated == 0 && self.permissions.unevaluated == 0
    }

    /// The one-screen summary: counts per part and the largest changes.
    pub fn summary(&self) -> String {
        text::summary(self)
    }

    /// The summary, then every listed change.
    pub fn render(&self) -> String {
        text::full(self)
    }
}

#[cfg(test)]
mod directory_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod whole_tests;
