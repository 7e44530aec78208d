//! Config snapshots at a revision, read from where the configuration lives.
//!
//! Every backend produces the same [`snapshot::Input`]: the files that
//! `snapshot::classify` knows, by path relative to the configuration root.
//! Backends are variants of one enum (no trait objects, no mocks): a plain
//! folder, a Git repository and a local SVN repository.

mod folder;
mod git;
mod order;
pub mod svn;

use std::path::{Path, PathBuf};

use crate::diag;
use crate::snapshot::{self, Input, Limits};

impl Source {
    /// Read the newest revision; `prev`, an earlier read of this source,
    /// lets a backend read only what changed since (SVN does).
    pub fn read_newest(&self, prev: Option<&Input>, limits: Limits) -> Result<Input, Error> {
        match (self, prev) {
            (Source::Svn { path, subpath }, Some(prev)) => {
                svn::read_since(path, prev, subpath.as_deref(), limits)
            }
            _ => self.read(None, limits),
        }
    }

    /// The newest revision, without reading any file (`None` for folders,
    /// which have no revisions).
    pub fn newest_revision(&self) -> Result<Option<String>, Error> {
        match self {
            Source::Folder(_) => Ok(None),
            Source::Git { path, branch, .. } => git::head(path, branch.as_deref()).map(Some),
            Source::Svn { path, .. } => svn::youngest(path).map(Some),
        }
    }
}

/// Commits reachable from `new` but not from `old`, oldest first.
pub fn git_commits_between(path: &Path, old: &str, new: &str) -> Result<Vec<String>, Error> {
    git::commits_between(path, old, new)
}

/// The branch a Git repository's HEAD names.
pub fn git_head_branch(path: &Path) -> Result<Option<String>, Error> {
    git::head_branch(path)
}

/// The Git folder of a repository (where the refs live).
pub fn git_dir(path: &Path) -> Result<PathBuf, Error> {
    git::git_dir(path)
}

/// The folder Git runs a repository's hooks from: `core.hooksPath` when
/// it is set (relative to the repository for a bare one, to the top of the
/// work tree otherwise, as Git resolves it), else the `hooks` folder of the
/// (common) Git folder.
pub fn git_hooks_dir(path: &Path) -> Result<PathBuf, Error> {
    git::hooks_dir(path)
}

/// Where a configuration is read from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A plain folder: the files as they are on disk.
    Folder(PathBuf),
    /// A Git repository, bare or not: the committed tree, never the work tree.
    Git {
        path: PathBuf,
        /// The branch to read (default: the repository's HEAD).
        branch: Option<String>,
        /// The folder of the tree that holds the configuration.
        subpath: Option<String>,
    },
    /// A local SVN repository, read with `svnlook`.
    Svn {
        path: PathBuf,
        /// The folder of the repository that holds the configuration.
        subpath: Option<String>,
    },
}

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
    /// (or the tree has more entries than [`MAX_TREE_ENTRIES`]).
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
}

fn esc(path: &Path) -> String {
    diag::escape_controls(&path.to_string_lossy()).into_owned()
}

/// Entries of a Git or SVN tree walked for one read, at most: bounds the
/// walk of a tree that repeats one subtree under many names.
pub const MAX_TREE_ENTRIES: usize = 1_000_000;

/// Whether `rel` (relative to the configuration root) is a folder on the
/// way to a configuration file: `.polarion`, `.polarion/security`,
/// `.polarion/user-management`, its `users` folder and each account's
/// folder, and every project's `.polarion` and `.polarion/security`.
pub fn is_config_folder(rel: &str) -> bool {
    const GLOBAL: &[&str] = &[
        ".polarion",
        ".polarion/security",
        ".polarion/user-management",
        ".polarion/user-management/users",
    ];
    if GLOBAL.contains(&rel) {
        return true;
    }
    if let Some(login) = rel.strip_prefix(snapshot::USERS_DIR) {
        return !login.is_empty() && !login.contains('/');
    }
    let folder = rel
        .strip_suffix("/.polarion")
        .or_else(|| rel.strip_suffix("/.polarion/security"));
    folder.is_some_and(|f| !f.is_empty() && f != ".polarion" && !f.starts_with(".polarion/"))
}

/// What a configuration path must be (`file` or `folder`), or `None` for a
/// path rolesync does not read.
pub fn expected_kind(rel: &str) -> Option<&'static str> {
    if snapshot::classify(rel).is_some() {
        Some("file")
    } else if is_config_folder(rel) {
        Some("folder")
    } else {
        None
    }
}

/// Add `len` bytes to the running `total` of a read; true once the
/// revision's files together exceed `Limits::max_total_bytes`. The reader
/// then keeps the file that crossed the bound, stops, and names it in
/// `Input::incomplete`, so that `snapshot::build` reports
/// `input-too-large` (a diagnostic, like every other limit).
fn add_total(total: &mut usize, len: usize, limits: Limits) -> bool {
    *total = total.saturating_add(len);
    *total > limits.max_total_bytes
}

impl Source {
    /// Detect what kind of repository `path` is.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(Error::NotAFolder(path.to_owned()));
        }
        if svn::is_repository(path) {
            return Ok(Source::Svn {
                path: path.to_owned(),
                subpath: None,
            });
        }
        if git::is_repository(path) {
            return Ok(Source::Git {
                path: path.to_owned(),
                branch: None,
                subpath: None,
            });
        }
        Ok(Source::Folder(path.to_owned()))
    }

    /// Read the configuration at `rev`, or at the newest revision (for a
    /// folder: as it is on disk; folders have no revisions).
    pub fn read(&self, rev: Option<&str>, limits: Limits) -> Result<Input, Error> {
        match self {
            Source::Folder(root) if rev.is_some() => Err(Error::NoRevisions(root.clone())),
            Source::Folder(root) => folder::read(root, limits),
            Source::Git {
                path,
                branch,
                subpath,
            } => git::read(path, rev, branch.as_deref(), subpath.as_deref(), limits),
            Source::Svn { path, subpath } => {
                svn::read(path, svn::At::Revision(rev), subpath.as_deref(), limits)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_folders_are_the_folders_on_the_way_to_config_files() {
        for yes in [
            ".polarion",
            ".polarion/security",
            ".polarion/user-management",
            ".polarion/user-management/users",
            ".polarion/user-management/users/bob",
            "lib/.polarion",
            "Dept A/lib/.polarion/security",
        ] {
            assert!(is_config_folder(yes), "{yes}");
        }
        for no in [
            "lib",
            ".polarion/tracker",
            ".polarion/user-management/users/bob/x",
            ".polarion/x/.polarion",
            "lib/.polarion/tracker",
        ] {
            assert!(!is_config_folder(no), "{no}");
        }
        assert_eq!(expected_kind(".polarion/access"), Some("file"));
        assert_eq!(expected_kind(".polarion"), Some("folder"));
        assert_eq!(expected_kind("README.md"), None);
    }

    #[test]
    fn a_folder_read_stops_once_the_files_together_exceed_the_total() {
        let dir = tempfile::tempdir().expect("temp dir");
        let security = dir.path().join(".polarion/security");
        std::fs::create_dir_all(&security).expect("mkdir");
        for name in ["user-roles.xml", "roles.xml", "permissions.xml"] {
            std::fs::write(security.join(name), [b' '; 400]).expect("write");
        }
        let limits = Limits {
            max_total_bytes: 1000,
            ..Limits::default()
        };
        let input = Source::Folder(dir.path().to_owned())
            .read(None, limits)
            .expect("read");
        assert!(input.incomplete.is_some(), "over the total");
        assert_eq!(input.files.len(), 3, "stops at the file that crosses it");
        let limits = Limits {
            max_total_bytes: 1200,
            ..Limits::default()
        };
        let input = Source::Folder(dir.path().to_owned())
            .read(None, limits)
            .expect("within the total");
        assert_eq!(input.files.len(), 3);
    }

    #[test]
    fn a_git_read_stops_once_the_files_together_exceed_the_total() {
        let dir = tempfile::tempdir().expect("temp dir");
        let security = dir.path().join(".polarion/security");
        std::fs::create_dir_all(&security).expect("mkdir");
        for name in ["user-roles.xml", "roles.xml", "permissions.xml"] {
            std::fs::write(security.join(name), [b' '; 400]).expect("write");
        }
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(["-c", "user.name=A", "-c", "user.email=a@example"])
                .args(args)
                .status()
                .expect("git runs");
            assert!(ok.success(), "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "three files"]);
        let source = Source::open(dir.path()).expect("a repository");
        let limits = Limits {
            max_total_bytes: 1000,
            ..Limits::default()
        };
        let input = source.read(None, limits).expect("read");
        assert!(input.incomplete.is_some(), "over the total");
        assert_eq!(input.files.len(), 3, "stops at the file that crosses it");
    }
}
