//! The Git backend's incremental read: the files of a new commit, read
//! from the previous read of an older one and the difference of the two
//! commits' trees. Trees are compared by object id, descending only into
//! subtrees whose id changed, and a file whose blob id did not change keeps
//! the previous bytes, so a commit that changes one project costs a few
//! tree objects and blobs, however large the tree.
//!
//! The result is the full read's (`git::read`): every changed tree is
//! checked entry by entry as the full walk checks it (`git::check_entry`),
//! an unchanged subtree (same id at the same path) was checked by the
//! previous read, the entry count `MAX_TREE_ENTRIES` bounds is carried
//! over from the previous walk ([`Walked`]), and whatever the full read
//! would refuse or stop at (a refused entry, an error of Git, more entries
//! than the bound, files together over `Limits::max_total_bytes`) is
//! answered by the full read itself.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use git2::{ObjectType, Oid, Repository};

use super::git::{self, Walked};
use super::{Error, MAX_TREE_ENTRIES, SubPath};
use crate::snapshot::{Input, Limits};

/// The last complete walk of a source's configuration tree, shared by the
/// clones of one `Source`: a memo of a pure function of the tree id (how
/// many entries the walk of that tree sees), never a source of truth.
#[derive(Debug, Clone, Default)]
pub(super) struct LastWalk(Arc<Mutex<Option<Walked>>>);

impl LastWalk {
    fn get(&self, tree: Oid) -> Option<usize> {
        let last = *self.0.lock().ok()?;
        last.filter(|w| w.tree == tree).map(|w| w.entries)
    }

    fn set(&self, walked: Option<Walked>) {
        if let Ok(mut last) = self.0.lock() {
            *last = walked;
        }
    }
}

/// What [`Source::read_newest`](super::Source::read_newest) needs of a Git
/// source.
#[derive(Debug, Clone, Copy)]
pub(super) struct Since<'a> {
    pub(super) path: &'a Path,
    pub(super) branch: Option<&'a str>,
    pub(super) subpath: &'a SubPath,
    pub(super) last: &'a LastWalk,
}

/// The newest commit's configuration; `prev` (an earlier read of this
/// source, if any) lets it read only what changed since.
pub(super) fn read_newest(
    since: Since<'_>,
    prev: Option<Input>,
    limits: Limits,
) -> Result<Input, Error> {
    read_at(since, prev, None, limits)
}

/// The configuration of `rev` (a commit id, tag or branch; `None`: the
/// branch's tip, or HEAD), read as `git::read` reads it; `prev` (an
/// earlier read of this source, if any) lets it read only what changed
/// since, when the walk of `prev`'s tree is known (`Since::last`: the
/// previous read's, or the daemon's cache, [`seed`]).
pub(super) fn read_at(
    since: Since<'_>,
    prev: Option<Input>,
    rev: Option<&str>,
    limits: Limits,
) -> Result<Input, Error> {
    let path = since.path;
    let repo = git::open(path).map_err(git::git_error(path, ""))?;
    let spec = match (rev, since.branch) {
        (Some(rev), _) => rev.to_owned(),
        (None, Some(branch)) => format!("refs/heads/{branch}"),
        (None, None) => "HEAD".to_owned(),
    };
    let commit = git::commit_of(&repo, path, &spec)?;
    if let Some(prev) = prev
        && prev.limits == limits
        && prev.incomplete.is_none()
    {
        if prev.revision == commit.id().to_string() {
            // The commit's metadata too (a cache holds none).
            return Ok(Input {
                files: prev.files,
                ..git::input_of(&commit, limits)
            });
        }
        if let Some(input) = incremental(&repo, since, prev, &commit, limits) {
            return Ok(input);
        }
    }
    let (input, walked) = git::read_commit(&repo, path, &commit, since.subpath, limits)?;
    since.last.set(walked);
    Ok(input)
}

/// The configuration tree of the commit `revision`, if it is there.
fn tree_of(since: Since<'_>, revision: &str) -> Option<Oid> {
    let repo = git::open(since.path).ok()?;
    let commit = repo.find_commit(Oid::from_str(revision).ok()?).ok()?;
    let tree = commit.tree().ok()?;
    let tree = git::descend(&repo, since.path, &commit, tree, since.subpath).ok()?;
    Some(tree.id())
}

/// Remember that the full walk of the commit `revision`'s configuration
/// tree counts `entries` (from the daemon's cache, which the checksum
/// guards: a count that lies can only move the bound of the next walk);
/// nothing when the commit is not there.
pub(super) fn seed(since: Since<'_>, revision: &str, entries: usize) {
    if let Some(tree) = tree_of(since, revision) {
        since.last.set(Some(Walked { tree, entries }));
    }
}

/// The entries the full walk of the commit `revision`'s configuration tree
/// counts, when the last walk was of that tree (for the daemon's cache).
pub(super) fn entries_of(since: Since<'_>, revision: &str) -> Option<usize> {
    since.last.get(tree_of(since, revision)?)
}

/// The incremental read of `commit` from `prev` (its files move into the
/// result), or `None` when the full read must answer (no usable previous
/// walk, or anything it would refuse or stop at).
fn incremental(
    repo: &Repository,
    since: Since<'_>,
    prev: Input,
    commit: &git2::Commit<'_>,
    limits: Limits,
) -> Option<Input> {
    let path = since.path;
    let old = repo.find_commit(Oid::from_str(&prev.revision).ok()?).ok()?;
    let old_tree = git::descend(repo, path, &old, old.tree().ok()?, since.subpath).ok()?;
    let old_entries = since.last.get(old_tree.id())?;
    let new_tree = git::descend(repo, path, commit, commit.tree().ok()?, since.subpath).ok()?;
    let mut delta = Delta {
        repo,
        odb: repo.odb().ok()?,
        limits,
        files: prev.files,
        new_walked: 0,
        old_walked: 0,
        read: 0,
    };
    if new_tree.id() != old_tree.id() {
        delta.trees(new_tree.id(), old_tree.id())?;
    }
    let entries = (old_entries + delta.new_walked).checked_sub(delta.old_walked)?;
    let total = delta
        .files
        .values()
        .try_fold(0usize, |t, b| t.checked_add(b.len()))?;
    if entries > MAX_TREE_ENTRIES || total > limits.max_total_bytes {
        return None;
    }
    since.last.set(Some(Walked {
        tree: new_tree.id(),
        entries,
    }));
    Some(Input {
        files: delta.files,
        ..git::input_of(commit, limits)
    })
}

/// The running state of one incremental read: the files (the previous
/// ones, updated), the entries walked in the new and the old trees, and
/// the bytes read.
struct Delta<'r> {
    repo: &'r Repository,
    odb: git2::Odb<'r>,
    limits: Limits,
    files: crate::snapshot::Files,
    new_walked: usize,
    old_walked: usize,
    read: usize,
}

/// A folder to compare: its path, whether it is all UTF-8, its tree in the
/// new commit, and in the old one (`None`: the folder is new).
type Pending = (String, bool, Oid, Option<Oid>);

impl Delta<'_> {
    /// Compare the configuration trees `new` and `old` (iteratively, as the
    /// full walk does); `None`: the full read must answer.
    fn trees(&mut self, new: Oid, old: Oid) -> Option<()> {
        let mut stack: Vec<Pending> = vec![(String::new(), true, new, Some(old))];
        while let Some((dir, utf8, new, old)) = stack.pop() {
            let mut before = match old {
                Some(old) => self.old_entries(old)?,
                None => HashMap::new(),
            };
            let tree = self.repo.find_tree(new).ok()?;
            let mut names = HashSet::new();
            for entry in tree.iter() {
                self.new_walked += 1;
                if self.new_walked > MAX_TREE_ENTRIES {
                    return None;
                }
                let checked = git::check_entry(&dir, utf8, &entry, &mut names).ok()?;
                let was = before.remove(entry.name_bytes());
                let rel = checked.rel.as_deref();
                match entry.kind() {
                    Some(ObjectType::Tree) => {
                        let old = match was {
                            Some((ObjectType::Tree, id)) if id == entry.id() => continue,
                            Some((ObjectType::Tree, id)) => Some(id),
                            other => {
                                self.forget(rel, other)?;
                                None
                            }
                        };
                        stack.push((checked.folder(), rel.is_some(), entry.id(), old));
                    }
                    Some(ObjectType::Blob) if checked.expected == Some("file") => {
                        let rel = checked.rel.unwrap_or(checked.lossy);
                        let same = was == Some((ObjectType::Blob, entry.id()));
                        if !(same && self.files.contains_key(&rel)) {
                            self.forget(Some(&rel), was)?;
                            self.read(rel, entry.id())?;
                        }
                    }
                    _ => self.forget(rel, was)?,
                }
            }
            for (name, was) in before {
                let rel = std::str::from_utf8(&name)
                    .ok()
                    .filter(|_| utf8)
                    .map(|n| format!("{dir}{n}"));
                self.forget(rel.as_deref(), Some(was))?;
            }
        }
        Some(())
    }

    /// The entries of an old tree by name (counted as walked); `None` for
    /// a tree with two entries of one name (which no read accepted).
    fn old_entries(&mut self, old: Oid) -> Option<HashMap<Vec<u8>, (ObjectType, Oid)>> {
        let tree = self.repo.find_tree(old).ok()?;
        self.old_walked += tree.len();
        let mut map = HashMap::with_capacity(tree.len());
        for e in tree.iter() {
            let kind = e.kind().unwrap_or(ObjectType::Any);
            if map
                .insert(e.name_bytes().to_vec(), (kind, e.id()))
                .is_some()
            {
                return None;
            }
        }
        Some(map)
    }

    /// Read the blob `id` as the file `rel`.
    fn read(&mut self, rel: String, id: Oid) -> Option<()> {
        let bytes = git::read_blob(self.repo, &self.odb, id, self.limits).ok()?;
        self.read = self.read.checked_add(bytes.len())?;
        if self.read > self.limits.max_total_bytes {
            return None;
        }
        self.files.insert(rel, bytes.into());
        Some(())
    }

    /// Drop what the old entry `was` at `rel` contributed: its file, or
    /// every file below its folder and its folder's entries from the count.
    /// Below a name that is not UTF-8 (`rel` is `None`) there are no files.
    fn forget(&mut self, rel: Option<&str>, was: Option<(ObjectType, Oid)>) -> Option<()> {
        match was {
            Some((ObjectType::Tree, id)) => {
                self.old_walked = self.old_walked.checked_add(self.count(id)?)?;
                if let Some(rel) = rel {
                    let below = format!("{rel}/");
                    let gone: Vec<String> = self
                        .files
                        .range(below.clone()..)
                        .take_while(|(p, _)| p.starts_with(&below))
                        .map(|(p, _)| p.clone())
                        .collect();
                    for p in gone {
                        self.files.remove(&p);
                    }
                }
            }
            Some(_) => {
                if let Some(rel) = rel {
                    self.files.remove(rel);
                }
            }
            None => {}
        }
        Some(())
    }

    /// The entries of the old tree `id` and every tree below it.
    fn count(&self, id: Oid) -> Option<usize> {
        let mut stack = vec![id];
        let mut entries = 0usize;
        while let Some(id) = stack.pop() {
            let tree = self.repo.find_tree(id).ok()?;
            entries += tree.len();
            if entries > MAX_TREE_ENTRIES {
                return None;
            }
            stack.extend(
                tree.iter()
                    .filter(|e| e.kind() == Some(ObjectType::Tree))
                    .map(|e| e.id()),
            );
        }
        Some(entries)
    }
}

#[cfg(test)]
#[path = "git_since_tests.rs"]
mod tests;
