//! Config snapshots at a revision, read from where the configuration lives.
//!
//! Every backend produces the same [`snapshot::Input`]: the files that
//! `snapshot::classify` knows, by path relative to the configuration root.
//! Backends are variants of one enum (no trait objects, no mocks): a plain
//! folder, a Git repository and a local SVN repository.

mod folder;
mod git;
pub mod svn;

use std::path::{Path, PathBuf};

use crate::snapshot::{Input, Limits};

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
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is not a folder")]
    NotAFolder(PathBuf),
    #[error("git repository {path}: {message}")]
    Git { path: PathBuf, message: String },
    #[error("svn repository {path}: {message}")]
    Svn { path: PathBuf, message: String },
    #[error("{0} is a plain folder, which has no revisions; --rev needs a Git or SVN repository")]
    NoRevisions(PathBuf),
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
