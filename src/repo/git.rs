//! The Git backend: the committed tree of a branch (or any revision), read
//! with libgit2. The work tree is never looked at, so uncommitted edits do
//! not count; bare and non-bare repositories work alike.

use std::path::Path;

use git2::{ObjectType, Repository, TreeWalkMode, TreeWalkResult};

use super::Error;
use crate::snapshot::{self, Input, Limits, RevisionMeta};

/// Git's file mode of a symbolic link (never followed).
const MODE_LINK: i32 = 0o120000;

/// The id of the commit `branch` (or HEAD) points at, without reading its tree.
pub fn head(path: &Path, branch: Option<&str>) -> Result<String, Error> {
    let repo = open(path).map_err(git_error(path, ""))?;
    let spec = branch.map_or_else(|| "HEAD".to_owned(), |b| format!("refs/heads/{b}"));
    let commit = commit_of(&repo, path, &spec)?;
    Ok(commit.id().to_string())
}

/// A git2 error as a repository error, with `what` in front of the message.
fn git_error(path: &Path, what: &str) -> impl Fn(git2::Error) -> Error {
    let path = path.to_owned();
    let what = what.to_owned();
    move |e| Error::Git {
        path: path.clone(),
        message: if what.is_empty() {
            e.message().to_owned()
        } else {
            format!("{what}: {}", e.message())
        },
    }
}

/// The commit a revision spec names.
fn commit_of<'r>(repo: &'r Repository, path: &Path, spec: &str) -> Result<git2::Commit<'r>, Error> {
    repo.revparse_single(spec)
        .and_then(|o| o.peel_to_commit())
        .map_err(git_error(path, &format!("revision `{spec}`")))
}

/// Open a repository. Inside a pre-receive hook the pushed objects are
/// still in quarantine, visible only through Git's environment
/// (`GIT_OBJECT_DIRECTORY`, `GIT_ALTERNATE_OBJECT_DIRECTORIES`), so there the
/// repository is opened from the environment.
fn open(path: &Path) -> Result<Repository, git2::Error> {
    if std::env::var_os("GIT_QUARANTINE_PATH").is_some() {
        Repository::open_from_env()
    } else {
        Repository::open(path)
    }
}

/// The commits reachable from `new` but not from `old` (all of them when
/// `old` is the null id), oldest first.
pub fn commits_between(path: &Path, old: &str, new: &str) -> Result<Vec<String>, Error> {
    let git = git_error(path, "");
    let repo = open(path).map_err(&git)?;
    let mut walk = repo.revwalk().map_err(&git)?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .map_err(&git)?;
    walk.push(git2::Oid::from_str(new).map_err(&git)?)
        .map_err(&git)?;
    let old = git2::Oid::from_str(old).map_err(&git)?;
    if !old.is_zero() {
        walk.hide(old).map_err(&git)?;
    }
    walk.map(|id| id.map(|id| id.to_string()).map_err(&git))
        .collect()
}

/// The branch HEAD names (`main` for `refs/heads/main`).
pub fn head_branch(path: &Path) -> Result<Option<String>, Error> {
    let repo = open(path).map_err(git_error(path, ""))?;
    let head = repo.find_reference("HEAD").map_err(|e| Error::Git {
        path: path.to_owned(),
        message: e.message().to_owned(),
    })?;
    Ok(head
        .symbolic_target()
        .ok()
        .flatten()
        .and_then(|t| t.strip_prefix("refs/heads/"))
        .map(str::to_owned))
}

/// The Git folder of a repository (`.git` of a work tree, or the bare
/// repository itself), where the refs live.
pub fn git_dir(path: &Path) -> Result<std::path::PathBuf, Error> {
    let repo = open(path).map_err(git_error(path, ""))?;
    Ok(repo.path().to_owned())
}

/// Whether `path` is the top of a Git repository (bare or not).
pub fn is_repository(path: &Path) -> bool {
    path.join(".git").exists()
        || (path.join("HEAD").is_file()
            && path.join("objects").is_dir()
            && path.join("refs").is_dir())
}

/// Read the configuration at `rev` (a commit id, tag or branch), or at the
/// head of `branch`, or at HEAD; `subpath` selects a folder of the tree.
pub fn read(
    path: &Path,
    rev: Option<&str>,
    branch: Option<&str>,
    subpath: Option<&str>,
    limits: Limits,
) -> Result<Input, Error> {
    let git = git_error(path, "");
    let repo = open(path).map_err(&git)?;
    let spec = match (rev, branch) {
        (Some(rev), _) => rev.to_owned(),
        (None, Some(branch)) => format!("refs/heads/{branch}"),
        (None, None) => "HEAD".to_owned(),
    };
    let commit = commit_of(&repo, path, &spec)?;
    let mut tree = commit.tree().map_err(&git)?;
    let prefix = subpath
        .map(|s| s.trim_matches('/'))
        .filter(|s| !s.is_empty());
    if let Some(prefix) = prefix {
        let entry = tree.get_path(Path::new(prefix)).map_err(|e| Error::Git {
            path: path.to_owned(),
            message: format!("folder `{prefix}` at {}: {}", commit.id(), e.message()),
        })?;
        tree = entry
            .to_object(&repo)
            .and_then(|o| o.peel_to_tree())
            .map_err(&git)?;
    }
    let author = commit.author();
    let mut input = Input {
        revision: commit.id().to_string(),
        meta: Some(RevisionMeta {
            author: author.name().or(author.email()).unwrap_or("").to_owned(),
            time: commit.time().seconds(),
        }),
        limits,
        ..Input::default()
    };
    let mut failure = None;
    tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(ObjectType::Blob) || entry.filemode() == MODE_LINK {
            return TreeWalkResult::Ok;
        }
        let Ok(name) = entry.name() else {
            return TreeWalkResult::Ok;
        };
        let rel = format!("{dir}{name}");
        if snapshot::classify(&rel).is_none() {
            return TreeWalkResult::Ok;
        }
        match repo.find_blob(entry.id()) {
            Ok(blob) => {
                let content = blob.content();
                let keep = content.len().min(limits.max_file_bytes.saturating_add(1));
                input.files.insert(rel, content[..keep].to_vec());
                TreeWalkResult::Ok
            }
            Err(e) => {
                failure = Some(git(e));
                TreeWalkResult::Abort
            }
        }
    })
    .map_err(&git)?;
    match failure {
        Some(e) => Err(e),
        None => Ok(input),
    }
}
