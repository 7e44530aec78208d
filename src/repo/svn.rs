//! The SVN backend: a local Subversion repository at a revision (or, in a
//! pre-commit hook, in a transaction). A revision is read whole by one
//! `svnadmin dump` (`svn_dump`), the revisions since the daemon's last
//! read by one incremental `svnadmin dump` (`svn_since`); where those are
//! not sure of their answer, and for what only `svnlook` can see (a
//! transaction, changed paths, the log), `svnlook` answers (`svnlook`: one
//! process per file for a per-file read).
//! Only the files `snapshot::classify` knows are read; a symbolic link
//! (`svn:special`) where a configuration file or folder is expected is
//! refused with its path.

use std::path::Path;

pub use super::At;
use super::svn_ra;
use super::svn_since::{self, Plan, Why};
use super::svnlook::{
    Change, at_args, changed_actions, changes, check_tree_size, info, is_special, read_file,
    svnlook_path,
};
pub(super) use super::svnlook::{uuid, youngest};
use super::{Error, SubPath};
use crate::snapshot::{Input, Limits};

/// Whether `path` is the top of a local SVN repository.
pub(super) fn is_repository(path: &Path) -> bool {
    path.join("format").is_file() && path.join("db").is_dir() && path.join("hooks").is_dir()
}

/// Paths changed by a transaction or revision (relative to the repository
/// root), each with whether it is a folder.
pub(super) fn changed(repo: &Path, at: At) -> Result<Vec<(String, bool)>, Error> {
    Ok(changed_actions(repo, at)?
        .into_iter()
        .map(|(_, path, is_dir)| (path, is_dir))
        .collect())
}

/// Read the configuration under `subpath` at `at` (`None`: the
/// repository's root). A revision is read by one `svnadmin dump`
/// (`svn_dump`), a transaction as its base revision so read plus what the
/// transaction changed ([`read_from`]); where either cannot answer, file
/// by file ([`read_listed`]). The same files, diagnostics and errors
/// either way.
///
/// Public (with `read_since`) only for the test that compares an
/// incremental read with a full one; everything else goes through
/// `repo::Source`.
pub fn read(
    repo: &Path,
    at: At,
    subpath: Option<&SubPath>,
    limits: Limits,
) -> Result<Input, Error> {
    let root = SubPath::default();
    let subpath = subpath.unwrap_or(&root);
    let listed = |at| read_listed(repo, at, Some(subpath), limits);
    let t = match at {
        At::Revision(rev) => {
            let young;
            let rev = match rev {
                Some(r) => r,
                None => {
                    young = youngest(repo)?;
                    &young
                }
            };
            let Some(files) = super::svn_dump::read(repo, rev, subpath, limits) else {
                return listed(At::Revision(Some(rev)));
            };
            return Ok(Input {
                revision: rev.to_owned(),
                meta: info(repo, ["-r", rev], limits)?,
                limits,
                files,
                incomplete: None,
                directory: None,
            });
        }
        At::Transaction(t) => t,
    };
    let base = txn_base(repo, t).and_then(|b| {
        read(
            repo,
            At::Revision(Some(&b.to_string())),
            Some(subpath),
            limits,
        )
        .ok()
    });
    match base {
        Some(base) if base.incomplete.is_none() => {
            follow(repo, at, &base, subpath, limits, &|| listed(at))
        }
        _ => listed(at),
    }
}

/// [`read`] with one `svnlook cat` per file, listed by `svnlook tree`: a
/// transaction's read where it cannot follow its base revision, and the
/// answer wherever the dump does not give one.
pub fn read_listed(
    repo: &Path,
    at: At,
    subpath: Option<&SubPath>,
    limits: Limits,
) -> Result<Input, Error> {
    let root = SubPath::default();
    let subpath = subpath.unwrap_or(&root);
    let young = match at {
        At::Revision(None) => youngest(repo)?,
        _ => String::new(),
    };
    let args = at_args(at, &young);
    let prefix = subpath.prefix();
    let tree = svnlook_path(
        repo,
        "tree",
        &["--full-paths", args[0], args[1]],
        prefix.unwrap_or(""),
    )?;
    let mut input = Input {
        revision: match at {
            At::Revision(_) => args[1].to_owned(),
            At::Transaction(t) => format!("txn {t}"),
        },
        meta: info(repo, args, limits)?,
        limits,
        ..Input::default()
    };
    let mut total = 0;
    let tree = String::from_utf8_lossy(&tree);
    check_tree_size(&tree, prefix.unwrap_or("/"))?;
    for line in tree.lines() {
        if line.ends_with('/') {
            continue;
        }
        let Some(rel) = subpath.strip(line) else {
            continue;
        };
        match super::expected_kind(rel) {
            Some("file") => {}
            // A file where a configuration folder belongs: refused if it
            // is a link (it would hide the folder's content), else nothing
            // is there to read.
            Some(kind) => {
                if is_special(repo, args, line)? {
                    return Err(Error::Refused {
                        path: rel.to_owned(),
                        what: "a symbolic link (svn:special)",
                        kind,
                    });
                }
                continue;
            }
            None => continue,
        }
        let bytes = read_file(repo, args, rel, line, limits)?;
        let over = super::add_total(&mut total, bytes.len(), limits);
        input.files.insert(rel.to_owned(), bytes.into());
        if over {
            input.incomplete = Some(rel.to_owned());
            break;
        }
    }
    Ok(input)
}

/// Read the youngest revision, starting from `prev` (an earlier read of
/// the same repository and folder): the revisions in between are read in
/// one `svnadmin dump` of what the configuration depends on
/// (`svn_since`), put on `prev`'s files (moved, not copied); a copy from
/// inside the configuration is read again (`svnlook`) where it lands.
/// Where the dump does not answer, the changes are followed by `svnlook`
/// ([`read_from`]'s walk); where only a full read can answer, it does.
/// With `ra` (the daemon's long-lived `svnserve` session, `svn_ra`), the
/// session is asked first: where it is sure of the changes, its answer
/// goes the dump's way (`put_dumped`); where it is not, or fails, the
/// dump reads as without it.
pub fn read_since(
    repo: &Path,
    prev: Input,
    subpath: Option<&SubPath>,
    limits: Limits,
    ra: Option<&svn_ra::Shared>,
) -> Result<Input, Error> {
    let root = SubPath::default();
    let subpath = subpath.unwrap_or(&root);
    let young = youngest(repo)?;
    let at = At::Revision(Some(&young));
    let full = || read(repo, at, Some(subpath), limits);
    let (Ok(from), Ok(to)) = (prev.revision.parse::<u64>(), young.parse::<u64>()) else {
        return full();
    };
    if to == from && prev.limits == limits {
        return Ok(prev);
    }
    if to < from || prev.limits != limits || prev.incomplete.is_some() {
        return full();
    }
    let fast = ra.map(|ra| ra.changes(repo, subpath, from, to, limits));
    let dumped = match fast {
        Some(Ok(dumped)) => Ok(dumped),
        Some(Err(why)) => {
            tracing::debug!(revision = %young, ?why, "the svnserve session did not answer");
            svn_since::dump(repo, subpath, from, to, limits)
        }
        None => svn_since::dump(repo, subpath, from, to, limits),
    };
    let dumped = match dumped {
        Ok(dumped) => dumped,
        Err(why) => {
            tracing::debug!(revision = %young, ?why, "the incremental dump did not answer");
            return match why {
                Why::Follow(_) => follow(repo, at, &prev, subpath, limits, &full),
                Why::Full(_) => full(),
            };
        }
    };
    match put_dumped(repo, &young, prev.files, dumped, subpath, limits)? {
        Some(input) => Ok(input),
        None => full(),
    }
}

/// The read of revision `young` from the files of an earlier read and the
/// changes dumped since; `None` where only a full read can answer (a
/// symbolic link where configuration belongs, files together over
/// `Limits::max_total_bytes`).
pub(super) fn put_dumped(
    repo: &Path,
    young: &str,
    mut files: crate::snapshot::Files,
    dumped: svn_since::Dumped,
    subpath: &SubPath,
    limits: Limits,
) -> Result<Option<Input>, Error> {
    let args = ["-r", young];
    let mut plan = Plan::default();
    if !svn_since::apply(&mut files, &mut plan, dumped.ops) {
        return Ok(None);
    }
    match read_planned(repo, args, subpath, &plan, &mut files, limits) {
        // The full read says which link it refuses first.
        Err(Error::Refused { .. }) => return Ok(None),
        done => done?,
    }
    if files.values().map(|b| b.len()).sum::<usize>() > limits.max_total_bytes {
        return Ok(None);
    }
    let meta = match dumped.meta {
        Some(meta) => Some(meta),
        None => info(repo, args, limits)?,
    };
    Ok(Some(Input {
        revision: young.to_owned(),
        meta,
        limits,
        files,
        incomplete: None,
        directory: None,
    }))
}

// The hooks' read (issue 13): only what a transaction or the revisions
// since an earlier read changed, the rest taken from that read.

/// Revisions at most between an earlier read and the one made from it
/// ([`read_from`]); further apart, the read is a full one.
pub const MAX_REVISIONS_FROM_BASE: u64 = 64;

/// The revision a transaction is based on. FSFS (the only backend of
/// Subversion 1.14 besides the deprecated BDB) names a transaction
/// `REV-SEQ` after its base revision; `None` for another backend or name,
/// and then the hook reads in full.
fn txn_base(repo: &Path, txn: &str) -> Option<u64> {
    let fs_type = std::fs::read_to_string(repo.join("db/fs-type")).ok()?;
    if fs_type.trim() != "fsfs" {
        return None;
    }
    let (rev, seq) = txn.split_once('-')?;
    if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    rev.parse().ok()
}

/// Follow one change into `plan`; `false`: it cannot be followed (the
/// configuration's folder itself, or one above it, was added, deleted or
/// replaced), and the read is a full one.
fn follow_change(
    plan: &mut Plan,
    files: &mut crate::snapshot::Files,
    subpath: &SubPath,
    change: &Change,
) -> bool {
    if subpath.is_at_or_below(&change.path) {
        return change.action == '_';
    }
    let Some(rel) = subpath.strip(&change.path) else {
        return true;
    };
    if rel.is_empty() {
        return change.action == '_';
    }
    match (change.action, change.is_dir) {
        // A folder's properties, a folder added by itself (what it holds
        // is listed line by line).
        ('_' | 'U', true) | ('A', true) if !change.copied => {}
        ('D', _) => plan.remove(files, rel),
        ('A' | 'R', true) => {
            plan.remove(files, rel);
            if change.copied {
                plan.walk.insert(rel.to_owned());
            }
        }
        ('R', false) => {
            plan.remove(files, rel);
            plan.read.insert(rel.to_owned());
        }
        // Content or properties (`svn:special` among them) of a file.
        ('A' | 'U' | '_', false) => {
            plan.read.insert(rel.to_owned());
        }
        _ => return false,
    }
    true
}

/// One entry of a tree as the full read takes it: a configuration file's
/// bytes, `None` for anything else; a link where a configuration file or
/// folder belongs is refused.
fn read_entry(
    repo: &Path,
    args: [&str; 2],
    rel: &str,
    full: &str,
    limits: Limits,
) -> Result<Option<Vec<u8>>, Error> {
    match super::expected_kind(rel) {
        Some("file") => read_file(repo, args, rel, full, limits).map(Some),
        Some(kind) if is_special(repo, args, full)? => Err(Error::Refused {
            path: rel.to_owned(),
            what: "a symbolic link (svn:special)",
            kind,
        }),
        _ => Ok(None),
    }
}

/// Read the files of the copied folder `rel` (of the configuration) at `args`.
fn walk_copied(
    repo: &Path,
    args: [&str; 2],
    subpath: &SubPath,
    rel: &str,
    files: &mut crate::snapshot::Files,
    limits: Limits,
) -> Result<(), Error> {
    let dir = subpath.join(rel);
    let tree = svnlook_path(repo, "tree", &["--full-paths", args[0], args[1]], &dir)?;
    let tree = String::from_utf8_lossy(&tree);
    check_tree_size(&tree, &dir)?;
    for line in tree.lines().filter(|l| !l.ends_with('/')) {
        let Some(rel) = subpath.strip(line) else {
            continue;
        };
        if let Some(bytes) = read_entry(repo, args, rel, line, limits)? {
            files.insert(rel.to_owned(), bytes.into());
        }
    }
    Ok(())
}

/// Walk the copied folders of `plan` and read its files (but those in a
/// walked folder) at `args`, into `files`.
fn read_planned(
    repo: &Path,
    args: [&str; 2],
    subpath: &SubPath,
    plan: &Plan,
    files: &mut crate::snapshot::Files,
    limits: Limits,
) -> Result<(), Error> {
    for dir in &plan.walk {
        walk_copied(repo, args, subpath, dir, files, limits)?;
    }
    for rel in &plan.read {
        let walked = plan.walk.iter().any(|d| rel.starts_with(&format!("{d}/")));
        if walked {
            continue;
        }
        if let Some(bytes) = read_entry(repo, args, rel, &subpath.join(rel), limits)? {
            files.insert(rel.clone(), bytes.into());
        }
    }
    Ok(())
}

/// Read the configuration at `at` (a revision, or a transaction), starting
/// from `base`, an earlier read of the same repository and folder: the
/// changes of the revisions after `base`'s and of the transaction
/// (`svnlook changed --copy-info`) say what to read again; a copied folder
/// is walked where it lands; the rest is `base`'s. Equal to [`read`] of
/// `at`, which it falls back to when it cannot follow the change: `base`
/// later than `at`'s base, more than [`MAX_REVISIONS_FROM_BASE`] revisions
/// apart, the configuration's folder itself added, deleted or replaced, a
/// transaction that is not FSFS's, or files together over
/// `Limits::max_total_bytes` (the full read says which file crossed it).
pub fn read_from(
    repo: &Path,
    at: At,
    base: &Input,
    subpath: Option<&SubPath>,
    limits: Limits,
) -> Result<Input, Error> {
    let root = SubPath::default();
    let subpath = subpath.unwrap_or(&root);
    let full = || read(repo, at, Some(subpath), limits);
    follow(repo, at, base, subpath, limits, &full)
}

/// [`read_from`], with `full` the read that answers where the change
/// cannot be followed.
fn follow(
    repo: &Path,
    at: At,
    base: &Input,
    subpath: &SubPath,
    limits: Limits,
    full: &dyn Fn() -> Result<Input, Error>,
) -> Result<Input, Error> {
    let young;
    let (to, txn) = match at {
        At::Revision(Some(r)) => (r.parse::<u64>().ok(), None),
        At::Revision(None) => {
            young = youngest(repo)?;
            (young.parse().ok(), None)
        }
        At::Transaction(t) => (txn_base(repo, t), Some(t)),
    };
    let (Some(to), Ok(from)) = (to, base.revision.parse::<u64>()) else {
        return full();
    };
    if to < from || to - from > MAX_REVISIONS_FROM_BASE {
        return full();
    }
    if base.incomplete.is_some() || base.limits != limits {
        return full();
    }
    let revision = to.to_string();
    let args = match txn {
        Some(t) => ["-t", t],
        None => ["-r", revision.as_str()],
    };
    let mut files = base.files.clone();
    let mut plan = Plan::default();
    let mut lists = Vec::new();
    for r in from + 1..=to {
        lists.push(changes(repo, ["-r", &r.to_string()])?);
    }
    if let Some(t) = txn {
        lists.push(changes(repo, ["-t", t])?);
    }
    for change in lists.iter().flatten() {
        if !follow_change(&mut plan, &mut files, subpath, change) {
            return full();
        }
    }
    read_planned(repo, args, subpath, &plan, &mut files, limits)?;
    if files.values().map(|b| b.len()).sum::<usize>() > limits.max_total_bytes {
        return full();
    }
    let meta = info(repo, args, limits)?;
    Ok(Input {
        revision: txn.map_or(revision, |t| format!("txn {t}")),
        meta,
        limits,
        files,
        incomplete: None,
        directory: None,
    })
}
