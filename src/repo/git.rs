//! The Git backend: the committed tree of a branch (or any revision), read
//! with libgit2. The work tree is never looked at, so uncommitted edits do
//! not count; bare and non-bare repositories work alike. Refused with their
//! path: symbolic links and submodules (gitlinks) where a configuration
//! file or folder is expected, two entries of one name in a tree (which
//! readers resolve differently) and names Git never writes. A file's size
//! comes from its object header: a file over the limit is never inflated.

use std::path::Path;

use git2::{ObjectType, Repository};

use super::{Error, MAX_TREE_ENTRIES, SubPath};
use crate::snapshot::{self, Input, Limits, RevisionMeta};

/// Git's file mode of a symbolic link (never followed).
const MODE_LINK: i32 = 0o120000;
/// Git's file mode of a submodule (a commit of another repository).
const MODE_GITLINK: i32 = 0o160000;

/// The id of the commit `branch` (or HEAD) points at, without reading its tree.
pub fn head(path: &Path, branch: Option<&str>) -> Result<String, Error> {
    let repo = open(path).map_err(git_error(path, ""))?;
    let spec = branch.map_or_else(|| "HEAD".to_owned(), |b| format!("refs/heads/{b}"));
    let commit = commit_of(&repo, path, &spec)?;
    Ok(commit.id().to_string())
}

/// A git2 error as a repository error, with `what` in front of the message.
pub(super) fn git_error(path: &Path, what: &str) -> impl Fn(git2::Error) -> Error {
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
pub(super) fn commit_of<'r>(
    repo: &'r Repository,
    path: &Path,
    spec: &str,
) -> Result<git2::Commit<'r>, Error> {
    repo.revparse_single(spec)
        .and_then(|o| o.peel_to_commit())
        .map_err(git_error(path, &format!("revision `{spec}`")))
}

/// Open a repository. Inside a pre-receive hook the pushed objects are
/// still in quarantine, visible only through Git's environment
/// (`GIT_OBJECT_DIRECTORY`, `GIT_ALTERNATE_OBJECT_DIRECTORIES`), so there the
/// repository is opened from the environment.
pub(super) fn open(path: &Path) -> Result<Repository, git2::Error> {
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

/// See [`super::Source::hooks_dir`].
pub fn hooks_dir(path: &Path) -> Result<std::path::PathBuf, Error> {
    let git = git_error(path, "");
    let repo = open(path).map_err(&git)?;
    let config = repo.config().map_err(git_error(path, "config"))?;
    match config.get_path("core.hooksPath") {
        Ok(hooks) if hooks.is_absolute() => Ok(hooks),
        Ok(hooks) => {
            let base = match repo.workdir() {
                Some(work) if !repo.is_bare() => work.to_owned(),
                _ => repo.path().to_owned(),
            };
            Ok(base.join(hooks))
        }
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(repo.commondir().join("hooks")),
        Err(e) => Err(git_error(path, "core.hooksPath")(e)),
    }
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
    subpath: &SubPath,
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
    Ok(read_commit(&repo, path, &commit, subpath, limits)?.0)
}

/// Read the configuration of `commit` with the full walk, and the number
/// of tree entries walked (`None` when the walk stopped at
/// `Limits::max_total_bytes`).
pub(super) fn read_commit(
    repo: &Repository,
    path: &Path,
    commit: &git2::Commit<'_>,
    subpath: &SubPath,
    limits: Limits,
) -> Result<(Input, Option<Walked>), Error> {
    let tree = commit.tree().map_err(git_error(path, ""))?;
    let tree = descend(repo, path, commit, tree, subpath)?;
    let mut input = input_of(commit, limits);
    let (incomplete, entries) = walk(repo, path, &tree, limits, &mut input.files)?;
    input.incomplete = incomplete;
    let walked = input.incomplete.is_none().then_some(Walked {
        tree: tree.id(),
        entries,
    });
    Ok((input, walked))
}

/// What a complete full walk saw: the configuration's tree and how many
/// entries it walked (the count `MAX_TREE_ENTRIES` bounds), so that an
/// incremental read of a later commit can bound the same count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Walked {
    pub(super) tree: git2::Oid,
    pub(super) entries: usize,
}

/// An input of `commit` without files: its revision and metadata.
pub(super) fn input_of(commit: &git2::Commit<'_>, limits: Limits) -> Input {
    let author = commit.author();
    Input {
        revision: commit.id().to_string(),
        meta: Some(RevisionMeta {
            author: author.name().or(author.email()).unwrap_or("").to_owned(),
            time: commit.time().seconds(),
            message: snapshot::message_tail(commit.message_bytes(), limits.max_message_bytes),
        }),
        limits,
        ..Input::default()
    }
}

/// The tree of the folder `subpath` in `tree`, walked component by
/// component, so that a duplicated folder on the way is refused like one
/// inside the configuration.
pub(super) fn descend<'r>(
    repo: &'r Repository,
    path: &Path,
    commit: &git2::Commit<'r>,
    mut tree: git2::Tree<'r>,
    subpath: &SubPath,
) -> Result<git2::Tree<'r>, Error> {
    let git = git_error(path, "");
    let mut walked = String::new();
    for part in subpath.components() {
        walked.push_str(part);
        let found: Vec<(ObjectType, i32, git2::Oid)> = tree
            .iter()
            .filter(|e| e.name_bytes() == part.as_bytes())
            .map(|e| (e.kind().unwrap_or(ObjectType::Any), e.filemode(), e.id()))
            .collect();
        let &[(kind, mode, id)] = found.as_slice() else {
            if found.is_empty() {
                return Err(Error::Git {
                    path: path.to_owned(),
                    message: format!(
                        "folder `{}` at {}: not in the tree",
                        crate::diag::escape_controls(&walked),
                        commit.id()
                    ),
                });
            }
            return Err(Error::BadTree {
                path: walked,
                what: "a second entry of the same name",
            });
        };
        if kind != ObjectType::Tree {
            return Err(Error::Refused {
                path: walked,
                what: special_kind(mode).unwrap_or("a file"),
                kind: "folder",
            });
        }
        tree = repo.find_tree(id).map_err(&git)?;
        walked.push('/');
    }
    Ok(tree)
}

/// What a tree entry that is not a plain file or folder is, by its mode.
fn special_kind(mode: i32) -> Option<&'static str> {
    match mode {
        MODE_LINK => Some("a symbolic link"),
        MODE_GITLINK => Some("a submodule (gitlink)"),
        _ => None,
    }
}

/// A blob's bytes; one larger than the limit is measured from its object
/// header and not inflated: `snapshot::build` needs only to see that the
/// file is over the limit.
pub(super) fn read_blob(
    repo: &Repository,
    odb: &git2::Odb<'_>,
    id: git2::Oid,
    limits: Limits,
) -> Result<Vec<u8>, git2::Error> {
    let (size, _) = odb.read_header(id)?;
    if size > limits.max_file_bytes {
        return Ok(vec![0; limits.max_file_bytes.saturating_add(1)]);
    }
    Ok(repo.find_blob(id)?.content().to_vec())
}

/// Walk `tree` (iteratively: no recursion a deep tree could overflow) and
/// read every file `snapshot::classify` knows into `files`. Refused: what
/// [`check_entry`] refuses. A file larger than the limit is measured from
/// its object header and not inflated. Returns `Some(path)` when the walk
/// stopped at `path`, where the files together passed
/// `Limits::max_total_bytes`, and the number of entries walked.
fn walk(
    repo: &Repository,
    path: &Path,
    tree: &git2::Tree<'_>,
    limits: Limits,
    files: &mut crate::snapshot::Files,
) -> Result<(Option<String>, usize), Error> {
    let git = git_error(path, "");
    let odb = repo.odb().map_err(&git)?;
    let mut total = 0;
    let mut entries = 0;
    // (folder, whether its whole path is UTF-8, tree): below a name that is
    // not UTF-8 nothing is a configuration path (its lossy spelling could
    // collide with a real name).
    let mut stack: Vec<(String, bool, git2::Oid)> = vec![(String::new(), true, tree.id())];
    while let Some((dir, utf8, id)) = stack.pop() {
        let tree = repo.find_tree(id).map_err(&git)?;
        let mut names = std::collections::HashSet::new();
        for entry in tree.iter() {
            entries += 1;
            count_entry(entries, &dir)?;
            let checked = check_entry(&dir, utf8, &entry, &mut names)?;
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    stack.push((checked.folder(), checked.rel.is_some(), entry.id()));
                }
                Some(ObjectType::Blob) if checked.expected == Some("file") => {
                    let rel = checked.rel.unwrap_or(checked.lossy);
                    let bytes = read_blob(repo, &odb, entry.id(), limits).map_err(&git)?;
                    let over = super::add_total(&mut total, bytes.len(), limits);
                    files.insert(rel.clone(), bytes.into());
                    if over {
                        return Ok((Some(rel), entries));
                    }
                }
                _ => {}
            }
        }
    }
    Ok((None, entries))
}

/// Refuse the walk once it has seen more than `MAX_TREE_ENTRIES` entries.
pub(super) fn count_entry(entries: usize, dir: &str) -> Result<(), Error> {
    if entries > MAX_TREE_ENTRIES {
        return Err(Error::TooLarge {
            what: "the entries of the tree",
            limit: MAX_TREE_ENTRIES,
            bound: "entries walked per read",
            at: dir.to_owned(),
        });
    }
    Ok(())
}

/// A tree entry that passed [`check_entry`]: its path as printed, its
/// configuration path (`None` below a name that is not UTF-8) and what
/// the configuration expects there.
pub(super) struct Checked {
    pub(super) lossy: String,
    pub(super) rel: Option<String>,
    pub(super) expected: Option<&'static str>,
}

impl Checked {
    /// The folder path of a subtree entry, as the walk prefixes its entries.
    pub(super) fn folder(&self) -> String {
        format!("{}/", self.lossy)
    }
}

/// Check one entry of the tree at `dir` (`utf8`: whether `dir` is all
/// UTF-8), as every read does. Refused: a link or gitlink where a
/// configuration file or folder is expected, two entries of one name in a
/// tree (`names` holds the names seen so far), a name Git never writes.
pub(super) fn check_entry(
    dir: &str,
    utf8: bool,
    entry: &git2::TreeEntry<'_>,
    names: &mut std::collections::HashSet<Vec<u8>>,
) -> Result<Checked, Error> {
    let raw = entry.name_bytes();
    let lossy = format!("{dir}{}", String::from_utf8_lossy(raw));
    if raw.is_empty() || raw == b"." || raw == b".." || raw.contains(&b'/') {
        return Err(Error::BadTree {
            path: lossy,
            what: "an entry name Git never writes",
        });
    }
    if !names.insert(raw.to_vec()) {
        return Err(Error::BadTree {
            path: lossy,
            what: "a second entry of the same name",
        });
    }
    // A name that is not UTF-8 is no configuration path; a folder of
    // that name is still walked for duplicates below.
    let rel = std::str::from_utf8(raw)
        .ok()
        .filter(|_| utf8)
        .map(|n| format!("{dir}{n}"));
    let expected = rel.as_deref().and_then(super::expected_kind);
    if let (Some(kind), Some(what)) = (expected, special_kind(entry.filemode())) {
        return Err(Error::Refused {
            path: lossy,
            what,
            kind,
        });
    }
    Ok(Checked {
        lossy,
        rel,
        expected,
    })
}
