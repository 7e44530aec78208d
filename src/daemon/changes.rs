//! [`changes`]: who gained or lost which role group from one applied
//! snapshot to the next, for the audit log. A leaf of `daemon`.
//!
//! Computed from what changed (the diff's complete list of membership
//! changes, else `diff::memberships`: the role groups and logins the
//! changed assignments, user groups and accounts touch), not by expanding
//! every role group of both snapshots, so that a one-project commit costs
//! in proportion to that project.

use std::collections::{BTreeMap, BTreeSet};

use crate::diff::{Diff, Direction, GroupChange};
use crate::snapshot::Snapshot;

/// Group membership changes between two snapshots, by login.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub gained: BTreeMap<String, BTreeSet<String>>,
    pub lost: BTreeMap<String, BTreeSet<String>>,
}

/// Who gained or lost which role group from `old` to `new` (without
/// `old`: every member of every role group of `new` gained it). `diff`,
/// the diff of the two when it was computed, answers when it lists every
/// membership change.
pub fn changes(old: Option<&Snapshot>, new: &Snapshot, diff: Option<&Diff>) -> Changes {
    let mut out = Changes::default();
    let Some(old) = old else {
        for g in new.model.role_groups() {
            for m in &g.members {
                out.gained
                    .entry(m.to_string())
                    .or_default()
                    .insert(g.name.clone());
            }
        }
        return out;
    };
    let mut add = |c: &GroupChange| {
        let by_login = match c.direction {
            Direction::Joined => &mut out.gained,
            Direction::Left => &mut out.lost,
        };
        by_login
            .entry(c.login.to_string())
            .or_default()
            .insert(c.group.clone());
    };
    match diff.filter(|d| d.groups.listed.len() == d.groups.total) {
        Some(d) => d.groups.listed.iter().for_each(&mut add),
        None => crate::diff::memberships(&old.model, &new.model)
            .iter()
            .for_each(&mut add),
    }
    out
}

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;
