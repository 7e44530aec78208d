//! [`Error`]: why a configuration could not be read. A leaf of `repo`.

use std::path::{Path, PathBuf};

use crate::diag;

/// Why a configuration could not be read (as opposed to being invalid).
/// Paths from the repository are printed with control characters escaped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", esc(path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a folder", esc(.0))]
    NotAFolder(PathBuf),
    #[error("git repository {}: {message}", esc(path))]
    Git { path: PathBuf, message: String },
    #[error("svn repository {}: {message}", esc(path))]
    Svn { path: PathBuf, message: String },
    #[error("{} is a plain folder, which has no revisions; --rev needs a Git or SVN repository", esc(.0))]
    NoRevisions(PathBuf),
    /// A link, submodule or special entry where a configuration file or
    /// folder is expected: following it would read something else than the
    /// revision holds, skipping it would silently drop configuration.
    #[error(
        "{}: {what} where a configuration {kind} is expected; replace it with the real {kind}",
        diag::escape_controls(path)
    )]
    Refused {
        path: String,
        what: &'static str,
        kind: &'static str,
    },
    /// A Git tree entry that Git itself never writes (`git fsck` reports
    /// it): two entries of one name, or a name with `/`, `.` or `..`.
    #[error(
        "{}: {what} in a Git tree (a crafted tree; `git fsck` reports it); refusing to read the revision",
        diag::escape_controls(path)
    )]
    BadTree { path: String, what: &'static str },
    /// The files of one revision together exceed `Limits::max_total_bytes`
    /// (or the tree has more entries than [`super::MAX_TREE_ENTRIES`]).
    #[error(
        "{what} exceed the limit of {limit} ({bound}); reading stopped at {}",
        diag::escape_controls(at)
    )]
    TooLarge {
        what: &'static str,
        limit: usize,
        bound: &'static str,
        at: String,
    },
    /// `--path` with a `.` or `..` component: the configuration root never
    /// leaves the repository or folder given.
    #[error(
        "--path {}: a `.` or `..` component; give the folder from the repository's root",
        diag::escape_controls(path)
    )]
    BadSubPath { path: String },
    /// `--branch` for a source that is not a Git repository.
    #[error("--branch needs a Git repository; {} is {kind}", esc(path))]
    BranchNeedsGit { path: PathBuf, kind: &'static str },
    /// A transaction asked of a source that is not an SVN repository.
    #[error("{} is not an SVN repository; transactions need one", esc(.0))]
    NoTransactions(PathBuf),
    /// Hooks asked of a plain folder.
    #[error("{} is neither a Git nor an SVN repository", esc(.0))]
    NoHooks(PathBuf),
}

fn esc(path: &Path) -> String {
    diag::escape_controls(&path.to_string_lossy()).into_owned()
}
