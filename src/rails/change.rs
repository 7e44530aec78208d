//! What a rail judges: the snapshot in force, the one that would replace
//! it, the new revision's message and where the configuration lives. A
//! leaf, so that each rail's file can take it without importing the module
//! that calls them.

use crate::diff::Diff;
use crate::snapshot::Snapshot;

/// Where the configuration is read from, as far as the lock-out rail
/// needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An SVN repository that the access file may govern: its name in the
    /// access file (`[NAME:/path]`; the folder name by default) and the
    /// configuration's path in it (`/`, or the `--path` folder).
    Svn { repository: String, path: String },
    /// A Git repository: the Git server decides who may push, so only the
    /// `maintainers` list says who must keep an account.
    Git,
    /// A plain folder.
    Folder,
}

/// One change: `old` is the configuration in force (its rails judge),
/// `new` the one that would replace it.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub old: &'a Snapshot,
    pub new: &'a Snapshot,
    pub target: &'a Target,
    /// The diff of `old` and `new`, when the caller has it already (the
    /// hooks print its summary); the mass-change rail computes it otherwise.
    pub diff: Option<&'a Diff>,
}

impl Change<'_> {
    /// The new revision's commit or log message (`""` for a folder).
    pub fn message(&self) -> &str {
        self.new.meta.as_ref().map_or("", |m| m.message.as_str())
    }
}

/// How many names a message lists before it says how many more there are.
pub const NAMES_SHOWN: usize = 10;

/// `alice, bob, carol` — at most [`NAMES_SHOWN`] names, then `and N more`.
pub fn names<'n>(all: impl ExactSizeIterator<Item = &'n str>) -> String {
    let more = all.len().saturating_sub(NAMES_SHOWN);
    let mut out = all.take(NAMES_SHOWN).collect::<Vec<_>>().join(", ");
    if more > 0 {
        out.push_str(&format!(" and {more} more"));
    }
    out
}
