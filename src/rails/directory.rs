//! The directory's hold-back rail (`[ldap] max_removed_share`,
//! `max_removed_floor`): an answer of the directory that would take more
//! than a share of what the last good answer granted is held back — never
//! built, let alone published — and reported, like the mass-change rail of
//! a commit. A paged search cut short, a base DN that moved or a bind as
//! the wrong user look like a mass removal; a real one is let in by raising
//! the share (a live setting) for one sync.
//!
//! What is counted, over the references both answers hold (a reference the
//! repository stopped naming is no removal): memberships, the (reference,
//! login) pairs that count (the member's account active, or no account
//! state), and, when both answers carry account state, the active
//! accounts. Each is held back when it loses more than
//! `max(max_removed_floor, max_removed_share × before)`. An answer with no
//! membership or no active account at all, where the last good one had
//! some, is always held back. Pure: values in, a verdict out.

use std::collections::BTreeSet;

use crate::directory::{AccountState, DirectorySnapshot, GroupAnswer, GroupRef};

/// How much one answer may take away.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HoldBack {
    /// The share (0 to 1) of memberships or active accounts an answer may
    /// remove. Default 0.2; 1 turns the rail off (but for empty answers).
    pub max_removed_share: f64,
    /// What an answer may always remove, whatever the share. Default 10.
    pub max_removed_floor: u64,
}

impl HoldBack {
    pub const DEFAULT_SHARE: f64 = 0.2;
    pub const DEFAULT_FLOOR: u64 = 10;

    /// The most of `before` an answer may remove.
    pub fn limit(&self, before: u64) -> u64 {
        let share = (self.max_removed_share.clamp(0.0, 1.0) * before as f64).floor() as u64;
        share.max(self.max_removed_floor)
    }
}

impl Default for HoldBack {
    fn default() -> Self {
        HoldBack {
            max_removed_share: Self::DEFAULT_SHARE,
            max_removed_floor: Self::DEFAULT_FLOOR,
        }
    }
}

/// What an answer would remove, and why it is held back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No membership (or no active account) at all, where there were some.
    Empty { what: &'static str, before: u64 },
    /// More removed than the limit.
    TooMany {
        what: &'static str,
        removed: u64,
        before: u64,
        limit: u64,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Empty { what, before } => write!(
                f,
                "the directory answered with no {what} at all, where the last good answer had {before}; \
                 an empty answer never replaces it"
            ),
            Refusal::TooMany {
                what,
                removed,
                before,
                limit,
            } => write!(
                f,
                "the directory's answer removes {removed} of {before} {what}, more than the limit of \
                 {limit} (the larger of max_removed_floor and max_removed_share of them, under [ldap]); \
                 raise max_removed_share if that is intended"
            ),
        }
    }
}

/// Whether `new` may replace `old` (the last good answer; none: anything
/// may, there is nothing to lose).
pub fn judge(
    old: Option<&DirectorySnapshot>,
    new: &DirectorySnapshot,
    bounds: HoldBack,
) -> Result<(), Refusal> {
    let Some(old) = old else {
        return Ok(());
    };
    let common: BTreeSet<&GroupRef> = old
        .groups
        .keys()
        .filter(|r| new.groups.contains_key(*r))
        .collect();
    let (before, after) = (memberships(old, &common), memberships(new, &common));
    check("memberships", &before, &after, bounds)?;
    if let (Some(_), Some(_)) = (&old.accounts, &new.accounts) {
        check("active accounts", &active(old), &active(new), bounds)?;
    }
    Ok(())
}

fn check<T: Ord>(
    what: &'static str,
    before: &BTreeSet<T>,
    after: &BTreeSet<T>,
    bounds: HoldBack,
) -> Result<(), Refusal> {
    let count = before.len() as u64;
    if count > 0 && after.is_empty() {
        return Err(Refusal::Empty {
            what,
            before: count,
        });
    }
    let removed = before.difference(after).count() as u64;
    let limit = bounds.limit(count);
    if removed > limit {
        return Err(Refusal::TooMany {
            what,
            removed,
            before: count,
            limit,
        });
    }
    Ok(())
}

/// The (reference, login) pairs of `refs` that count: the login's account
/// active, or no account state.
fn memberships<'a>(
    s: &'a DirectorySnapshot,
    refs: &BTreeSet<&'a GroupRef>,
) -> BTreeSet<(&'a GroupRef, &'a str)> {
    let counts = |login: &str| match &s.accounts {
        None => true,
        Some(a) => matches!(a.get(login), Some(AccountState::Active)),
    };
    let mut out = BTreeSet::new();
    for r in refs {
        if let Some(GroupAnswer::Members(members)) = s.groups.get(*r) {
            out.extend(
                (members.iter())
                    .filter(|m| counts(&m.login))
                    .map(|m| (*r, m.login.as_str())),
            );
        }
    }
    out
}

/// The logins whose account is active (none without account state).
fn active(s: &DirectorySnapshot) -> BTreeSet<&str> {
    (s.accounts.iter().flatten())
        .filter(|(_, state)| **state == AccountState::Active)
        .map(|(login, _)| login.as_str())
        .collect()
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;
