//! The values a diff is made of (a leaf: the parts of `diff` fill them in,
//! `text` and `json` print them; this file imports none of them).

use std::collections::BTreeSet;

use crate::authz::Access;
use crate::ident::{GroupId, Login, ProjectId, RoleId};
use crate::model::Scope;
use crate::policy::Verdict;

/// How much a diff lists and evaluates. Not configuration input: a bound on
/// the work and the output of one diff, so that a huge change cannot
/// exhaust memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Entries listed in full per part (role groups, paths, permissions);
    /// beyond it entries are only counted. Default 1,000.
    pub max_listed: usize,
    /// Evaluations per part (a (login, path) pair asked to both access
    /// files, a (login, context, permission) decision asked to both
    /// indexes); beyond it the rest are counted as not evaluated and the
    /// diff is incomplete. Default 2,000,000.
    pub max_evaluations: usize,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            max_listed: 1_000,
            max_evaluations: 2_000_000,
        }
    }
}

/// Joined or left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Joined,
    Left,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Joined => "joined",
            Direction::Left => "left",
        }
    }
}

/// Why a login joined or left a role group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// The role was assigned to (or taken from) the login itself.
    Direct,
    /// Through a user group: the group was given (or lost) the role, or
    /// the login joined (or left) the group.
    Group(GroupId),
    /// The account was disabled (`disabled=true` in its user.xml).
    AccountDisabled,
    /// The account was deleted (its user.xml is gone).
    AccountDeleted,
    /// The account was created or re-enabled.
    AccountEnabled,
    /// Accounts are not managed in the repository: the login started (or
    /// stopped) being named by the configuration (`everyone`).
    Named,
    /// Through a user group the directory fills: the directory lists the
    /// login as a member (of the model that has the membership).
    DirectoryGroup(Box<DirectoryWay>),
    /// The directory locked the account (`by`: the attribute that says so).
    LockedInDirectory {
        by: String,
        snapshot: Option<String>,
    },
    /// The account is not in the directory (any more).
    NotInDirectory { snapshot: Option<String> },
    /// The directory lists the account as active again (or anew).
    ActiveInDirectory { snapshot: Option<String> },
}

/// How the directory put a login into a user group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DirectoryWay {
    /// The user group of `groups.xml`.
    pub group: GroupId,
    /// The directory group it names (a DN, or `FILTER below BASE`).
    pub reference: String,
    /// The nested groups' DNs between that group and the login,
    /// outermost first (empty: a direct member).
    pub via: Vec<String>,
    /// The revision of the directory answer (`None`: none was given).
    pub snapshot: Option<String>,
}

impl Reason {
    /// Whether the directory is the reason.
    pub fn is_directory(&self) -> bool {
        matches!(
            self,
            Reason::DirectoryGroup(_)
                | Reason::LockedInDirectory { .. }
                | Reason::NotInDirectory { .. }
                | Reason::ActiveInDirectory { .. }
        )
    }

    /// The directory answer's revision this reason comes from, if any.
    pub fn snapshot(&self) -> Option<&str> {
        match self {
            Reason::DirectoryGroup(w) => w.snapshot.as_deref(),
            Reason::LockedInDirectory { snapshot, .. }
            | Reason::NotInDirectory { snapshot }
            | Reason::ActiveInDirectory { snapshot } => snapshot.as_deref(),
            _ => None,
        }
    }
}

/// A directory answer's revision as the text shows it (12 hex digits).
fn short(revision: &str) -> &str {
    revision.get(..12).unwrap_or(revision)
}

/// `, snapshot REV` (nothing without a revision).
fn in_snapshot(snapshot: &Option<String>) -> String {
    snapshot
        .as_deref()
        .map_or(String::new(), |r| format!(", snapshot {}", short(r)))
}

impl Reason {
    /// The stable form of the JSON shape: `direct`, `group:<id>` (also
    /// through the directory: the change's `directory` object says more),
    /// `account-disabled`, `account-deleted`, `account-enabled`, `named`,
    /// `directory-locked`, `directory-absent`, `directory-active`.
    pub fn code(&self) -> String {
        match self {
            Reason::Direct => "direct".into(),
            Reason::Group(g) => format!("group:{g}"),
            Reason::DirectoryGroup(w) => format!("group:{}", w.group),
            Reason::LockedInDirectory { .. } => "directory-locked".into(),
            Reason::NotInDirectory { .. } => "directory-absent".into(),
            Reason::ActiveInDirectory { .. } => "directory-active".into(),
            Reason::AccountDisabled => "account-disabled".into(),
            Reason::AccountDeleted => "account-deleted".into(),
            Reason::AccountEnabled => "account-enabled".into(),
            Reason::Named => "named".into(),
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Direct => f.write_str("direct assignment"),
            Reason::Group(g) => write!(f, "through group {g}"),
            Reason::AccountDisabled => f.write_str("account disabled"),
            Reason::AccountDeleted => f.write_str("account deleted"),
            Reason::AccountEnabled => f.write_str("account enabled"),
            Reason::Named => f.write_str("named by the configuration"),
            Reason::DirectoryGroup(w) => {
                let through: String = w.via.iter().map(|v| format!(" through {v}")).collect();
                write!(
                    f,
                    "through group {}: member of {}{through} in the directory{}",
                    w.group,
                    w.reference,
                    in_snapshot(&w.snapshot)
                )
            }
            Reason::LockedInDirectory { by, snapshot } => write!(
                f,
                "account locked in the directory ({by}){}",
                in_snapshot(snapshot)
            ),
            Reason::NotInDirectory { snapshot } => {
                write!(f, "account not in the directory{}", in_snapshot(snapshot))
            }
            Reason::ActiveInDirectory { snapshot } => {
                write!(
                    f,
                    "account active in the directory{}",
                    in_snapshot(snapshot)
                )
            }
        }
    }
}

/// A login joins or leaves the access-file group of a role in a scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupChange {
    /// The role group's name in the access file (`admin`, `P-project_user`).
    pub group: String,
    pub scope: Scope,
    pub role: RoleId,
    pub login: Login,
    pub direction: Direction,
    pub reasons: Vec<Reason>,
}

/// A login's access to a path of a repository changes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PathChange {
    /// The repository, `None` for what repository-neutral rules give.
    pub repository: Option<String>,
    /// The canonical rule path.
    pub path: String,
    /// A name as the access files know it (not necessarily an account).
    pub login: String,
    pub from: Access,
    pub to: Access,
}

/// A login's decision of a permission in a context changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionChange {
    /// `None`: the global context.
    pub project: Option<ProjectId>,
    /// The absolute permission name.
    pub permission: String,
    pub login: Login,
    pub from: Verdict,
    pub to: Verdict,
}

impl PermissionChange {
    fn key(&self) -> (&Option<ProjectId>, &str, &Login, &str) {
        (
            &self.project,
            &self.permission,
            &self.login,
            self.to.as_str(),
        )
    }
}

impl PartialOrd for PermissionChange {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PermissionChange {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// The changes of one part: the first `Bounds::max_listed` in full, every
/// one counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<T> {
    /// Sorted; at most `Bounds::max_listed`.
    pub listed: Vec<T>,
    /// Every change found, listed or not.
    pub total: usize,
    /// Evaluations left undone because of `Bounds::max_evaluations`.
    pub unevaluated: usize,
}

impl<T> Default for Part<T> {
    fn default() -> Part<T> {
        Part {
            listed: Vec::new(),
            total: 0,
            unevaluated: 0,
        }
    }
}

impl<T: Ord> Part<T> {
    /// Keep the first `max` of the sorted changes, count them all.
    pub(crate) fn bounded(mut all: Vec<T>, unevaluated: usize, max: usize) -> Part<T> {
        let total = all.len();
        if max < total {
            // Only the first `max` are sorted: linear in the rest.
            all.select_nth_unstable(max);
            all.truncate(max);
        }
        all.sort();
        Part {
            listed: all,
            total,
            unevaluated,
        }
    }
}

/// Counts of one change (for the "largest changes" of the summary).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tally {
    pub gained: usize,
    pub lost: usize,
}

/// What a change from one snapshot to another does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    pub from: String,
    pub to: String,
    pub groups: Part<GroupChange>,
    pub paths: Part<PathChange>,
    pub permissions: Part<PermissionChange>,
    /// Every login that loses SVN access somewhere, a role group or a
    /// permission (whether listed or not).
    pub losing: BTreeSet<String>,
    /// Every login that gains any of them.
    pub gaining: BTreeSet<String>,
    /// Per part, the largest changes: (what, tally), largest first (at
    /// most `TOP` each).
    pub top_groups: Vec<(String, Tally)>,
    pub top_paths: Vec<(String, Tally)>,
    pub top_permissions: Vec<(String, Tally)>,
    /// What the diff does not cover in this change (custom-set rules,
    /// changed custom-set queries), one line each.
    pub notes: Vec<String>,
}

/// How many of the largest changes the summary names per part.
pub const TOP: usize = 5;
