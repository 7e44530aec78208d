//! The SVN backend: a local Subversion repository read with `svnlook` at a
//! revision (or, in a pre-commit hook, in a transaction). Only the files
//! `snapshot::classify` knows are read; `svnlook` runs with a UTF-8 locale
//! so that paths with spaces and non-ASCII names come through unchanged,
//! and every path (the repository's too) follows `--`, so that a folder
//! named `-x` is never taken for an option. A file is read from
//! `svnlook cat` up to the limit plus one byte; a symbolic link
//! (`svn:special`) where a configuration file or folder is expected is
//! refused with its path.

use std::path::{Path, PathBuf};
use std::process::Command;

pub use super::At;
use super::{Error, SubPath};
use crate::snapshot::{self, Input, Limits, RevisionMeta};

/// Whether `path` is the top of a local SVN repository.
pub(super) fn is_repository(path: &Path) -> bool {
    path.join("format").is_file() && path.join("db").is_dir() && path.join("hooks").is_dir()
}

/// `svnlook SUB ARGS… -- REPOS [PATH]`: the repository and the path come
/// after `--`, so that a folder named `-x` is a path, never an option.
fn command(repo: &Path, args: &[&str], path: Option<&str>) -> Command {
    let mut cmd = Command::new("svnlook");
    cmd.args(args)
        .arg("--")
        .arg(repo)
        .args(path)
        .env("LC_ALL", "C.UTF-8");
    cmd
}

/// Run `svnlook SUB ARGS… -- REPOS [PATH]` and return its output.
fn svnlook_at(repo: &Path, args: &[&str], path: Option<&str>) -> Result<Vec<u8>, Error> {
    let out = command(repo, args, path)
        .output()
        .map_err(|source| Error::Io {
            path: PathBuf::from("svnlook"),
            source,
        })?;
    if !out.status.success() {
        return Err(Error::Svn {
            path: repo.to_owned(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(out.stdout)
}

fn svnlook(repo: &Path, args: &[&str]) -> Result<Vec<u8>, Error> {
    svnlook_at(repo, args, None)
}

fn svnlook_path(repo: &Path, sub: &str, args: &[&str], path: &str) -> Result<Vec<u8>, Error> {
    let all: Vec<&str> = std::iter::once(sub).chain(args.iter().copied()).collect();
    svnlook_at(repo, &all, Some(path))
}

/// `svnlook cat` of one file, read from the pipe up to `limit + 1` bytes:
/// a larger file is never held whole (`svnlook` is stopped there), and
/// `snapshot::build` reports it from the bytes it got. One process per
/// file, where asking `svnlook filesize` first would take two.
fn cat(repo: &Path, args: [&str; 2], path: &str, limit: usize) -> Result<Vec<u8>, Error> {
    use std::io::Read as _;
    let io = |source| Error::Io {
        path: PathBuf::from("svnlook"),
        source,
    };
    let mut child = command(repo, &["cat", args[0], args[1]], Some(path))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(io)?;
    let mut bytes = Vec::new();
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| io(std::io::Error::other("svnlook has no standard output")))?;
    (&mut stdout)
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > limit {
        // Enough to know it is too large; the rest is never read.
        let _ = child.kill();
        let _ = child.wait();
        return Ok(bytes);
    }
    drop(stdout);
    let mut stderr = Vec::new();
    if let Some(e) = child.stderr.take() {
        let _ = e.take(64 << 10).read_to_end(&mut stderr);
    }
    let status = child.wait().map_err(io)?;
    if !status.success() {
        return Err(Error::Svn {
            path: repo.to_owned(),
            message: String::from_utf8_lossy(&stderr).trim().to_owned(),
        });
    }
    Ok(bytes)
}

/// Whether `path` carries `svn:special` (a symbolic link, committed as a
/// file whose text is `link TARGET`).
fn is_special(repo: &Path, args: [&str; 2], path: &str) -> Result<bool, Error> {
    let out = command(repo, &["propget", args[0], args[1]], None)
        .args(["svn:special", path])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| Error::Io {
            path: PathBuf::from("svnlook"),
            source,
        })?;
    if out.status.success() {
        return Ok(true);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    // E200017: the property is not set on the path.
    if stderr.contains("E200017") {
        return Ok(false);
    }
    Err(Error::Svn {
        path: repo.to_owned(),
        message: stderr.trim().to_owned(),
    })
}

/// Read one configuration file (`rel` in the configuration, `full` in the
/// repository): refused when it is a symbolic link. Only a file whose
/// text starts like a link's is asked about, so a normal read costs no
/// extra process.
fn read_file(
    repo: &Path,
    args: [&str; 2],
    rel: &str,
    full: &str,
    limits: Limits,
) -> Result<Vec<u8>, Error> {
    let bytes = cat(repo, args, full, limits.max_file_bytes)?;
    if bytes.starts_with(b"link ") && is_special(repo, args, full)? {
        return Err(Error::Refused {
            path: rel.to_owned(),
            what: "a symbolic link (svn:special)",
            kind: "file",
        });
    }
    Ok(bytes)
}

/// The youngest revision.
pub(super) fn youngest(repo: &Path) -> Result<String, Error> {
    let out = svnlook(repo, &["youngest"])?;
    Ok(String::from_utf8_lossy(&out).trim().to_owned())
}

fn at_args<'a>(at: At<'a>, youngest: &'a str) -> [&'a str; 2] {
    match at {
        At::Revision(Some(r)) => ["-r", r],
        At::Revision(None) => ["-r", youngest],
        At::Transaction(t) => ["-t", t],
    }
}

/// Paths changed by a transaction or revision (relative to the repository
/// root), each with whether it is a folder.
pub(super) fn changed(repo: &Path, at: At) -> Result<Vec<(String, bool)>, Error> {
    Ok(changed_actions(repo, at)?
        .into_iter()
        .map(|(_, path, is_dir)| (path, is_dir))
        .collect())
}

/// Read the configuration under `subpath` at `at`.
///
/// Public (with `read_since`) only for the test that compares an
/// incremental read with a full one; everything else goes through
/// `repo::Source`. `None`: the repository's root.
pub fn read(
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
        input.files.insert(rel.to_owned(), bytes);
        if over {
            input.incomplete = Some(rel.to_owned());
            break;
        }
    }
    Ok(input)
}

/// Read the youngest revision, starting from `prev` (an earlier revision
/// of the same repository and folder): only the files that the revisions in
/// between changed are read again. One `svnlook` process per changed file
/// instead of one per file keeps the daemon's reload fast. A changed folder,
/// or a long way from `prev`, falls back to a full read.
pub fn read_since(
    repo: &Path,
    prev: Input,
    subpath: Option<&SubPath>,
    limits: Limits,
) -> Result<Input, Error> {
    let root = SubPath::default();
    let subpath = subpath.unwrap_or(&root);
    let young = youngest(repo)?;
    let full = || read(repo, At::Revision(Some(&young)), Some(subpath), limits);
    let (Ok(from), Ok(to)) = (prev.revision.parse::<u64>(), young.parse::<u64>()) else {
        return full();
    };
    if to == from && prev.limits == limits {
        return Ok(prev);
    }
    if to < from || to - from > 64 || prev.limits != limits || prev.incomplete.is_some() {
        return full();
    }
    // The last action on each configuration file in (from, to].
    let mut touched: std::collections::BTreeMap<String, bool> = std::collections::BTreeMap::new();
    for r in from + 1..=to {
        let r = r.to_string();
        for (action, path, is_dir) in changed_actions(repo, At::Revision(Some(&r)))? {
            if subpath.is_at_or_below(&path) {
                return full();
            }
            let Some(rel) = subpath.strip(&path) else {
                continue;
            };
            if is_dir && action != '_' {
                return full();
            }
            // A file added or replaced where a configuration folder
            // belongs may be a link: the full read judges it.
            if !is_dir && super::is_config_folder(rel) {
                return full();
            }
            if snapshot::classify(rel).is_some() {
                touched.insert(rel.to_owned(), action == 'D');
            }
        }
    }
    let args = ["-r", young.as_str()];
    let mut input = Input {
        revision: young.clone(),
        meta: info(repo, args, limits)?,
        limits,
        files: prev.files,
        incomplete: None,
    };
    // The running total of the files held, checked as each file comes in.
    let mut total: usize = input.files.values().map(Vec::len).sum();
    for (rel, deleted) in touched {
        if let Some(old) = input.files.remove(&rel) {
            total -= old.len();
        }
        if deleted {
            continue;
        }
        let full_path = subpath.join(&rel);
        let bytes = read_file(repo, args, &rel, &full_path, limits)?;
        if super::add_total(&mut total, bytes.len(), limits) {
            // Over the bound on the way (a later deletion may bring it
            // back under): the full read decides, in its own order.
            return full();
        }
        input.files.insert(rel, bytes);
    }
    Ok(input)
}

/// `svnlook changed`: (action letter, path, is a folder) per line.
fn changed_actions(repo: &Path, at: At) -> Result<Vec<(char, String, bool)>, Error> {
    let young;
    let args = match at {
        At::Revision(None) => {
            young = youngest(repo)?;
            at_args(at, &young)
        }
        _ => at_args(at, ""),
    };
    let out = svnlook(repo, &["changed", args[0], args[1]])?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| Some((l.chars().next()?, l.get(4..)?)))
        .map(|(a, p)| (a, p.trim_end_matches('/').to_owned(), p.ends_with('/')))
        .collect())
}

/// Author, date and log message of a revision or transaction (`svnlook
/// info`: author, date, the log's size in bytes, then the log).
fn info(repo: &Path, args: [&str; 2], limits: Limits) -> Result<Option<RevisionMeta>, Error> {
    let out = svnlook(repo, &["info", args[0], args[1]])?;
    let mut lines = out.splitn(4, |&b| b == b'\n');
    let mut line = || String::from_utf8_lossy(lines.next().unwrap_or(b"")).into_owned();
    let author = line();
    let time = parse_svn_date(&line()).unwrap_or(0);
    let size: usize = line().trim().parse().unwrap_or(0);
    let log = lines.next().unwrap_or(b"");
    let log = &log[..size.min(log.len())];
    Ok(Some(RevisionMeta {
        author,
        time,
        message: snapshot::message_tail(log, limits.max_message_bytes),
    }))
}

/// `2026-11-23 11:58:42 +0000 (Mon, 23 Nov 2026)` → seconds since the epoch.
fn parse_svn_date(s: &str) -> Option<i64> {
    let mut parts = s.split_whitespace();
    let date = parts.next()?;
    let time = parts.next()?;
    let zone = parts.next()?;
    let mut d = date.split('-').map(|n| n.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|n| n.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let z: i64 = zone.get(1..)?.parse().ok()?;
    let offset = sign * ((z / 100) * 3600 + (z % 100) * 60);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss - offset)
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

/// One line of `svnlook changed --copy-info`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    /// `A`, `D`, `U`, `R` or `_` (only properties changed).
    action: char,
    path: String,
    is_dir: bool,
    /// Added or replaced as a copy (`+`): a folder brings content that
    /// is not listed line by line.
    copied: bool,
}

/// `svnlook changed --copy-info` of a revision or transaction (the
/// `(from PATH:rREV)` lines skipped: the copy is read where it lands).
fn changes(repo: &Path, args: [&str; 2]) -> Result<Vec<Change>, Error> {
    let out = svnlook(repo, &["changed", "--copy-info", args[0], args[1]])?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| {
            let mut chars = l.chars();
            let action = chars.next()?;
            let copied = chars.nth(1)? == '+';
            let path = l.get(4..)?;
            Some(Change {
                action,
                path: path.trim_end_matches('/').to_owned(),
                is_dir: path.ends_with('/'),
                copied,
            })
        })
        .collect())
}

/// What the changes since an earlier read ask for: files to read again and
/// copied folders to walk, at the end, where they are.
#[derive(Debug, Default)]
struct Plan {
    read: std::collections::BTreeSet<String>,
    walk: std::collections::BTreeSet<String>,
}

impl Plan {
    /// Forget `rel` and everything below it, in `files` and in the plan.
    fn remove(&mut self, files: &mut std::collections::BTreeMap<String, Vec<u8>>, rel: &str) {
        let below =
            |p: &String| p == rel || p.strip_prefix(rel).is_some_and(|r| r.starts_with('/'));
        files.retain(|p, _| !below(p));
        self.read.retain(|p| !below(p));
        self.walk.retain(|p| !below(p));
    }

    /// Follow one change; `false`: it cannot be followed (the
    /// configuration's folder itself, or one above it, was added, deleted
    /// or replaced), and the read is a full one.
    fn follow(
        &mut self,
        files: &mut std::collections::BTreeMap<String, Vec<u8>>,
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
            // A folder's properties, a folder added by itself (what it
            // holds is listed line by line).
            ('_' | 'U', true) | ('A', true) if !change.copied => {}
            ('D', _) => self.remove(files, rel),
            ('A' | 'R', true) => {
                self.remove(files, rel);
                if change.copied {
                    self.walk.insert(rel.to_owned());
                }
            }
            ('R', false) => {
                self.remove(files, rel);
                self.read.insert(rel.to_owned());
            }
            // Content or properties (`svn:special` among them) of a file.
            ('A' | 'U' | '_', false) => {
                self.read.insert(rel.to_owned());
            }
            _ => return false,
        }
        true
    }
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
    files: &mut std::collections::BTreeMap<String, Vec<u8>>,
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
            files.insert(rel.to_owned(), bytes);
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
        if !plan.follow(&mut files, subpath, change) {
            return full();
        }
    }
    for dir in &plan.walk {
        walk_copied(repo, args, subpath, dir, &mut files, limits)?;
    }
    for rel in &plan.read {
        let walked = plan.walk.iter().any(|d| rel.starts_with(&format!("{d}/")));
        if walked {
            continue;
        }
        if let Some(bytes) = read_entry(repo, args, rel, &subpath.join(rel), limits)? {
            files.insert(rel.clone(), bytes);
        }
    }
    if files.values().map(Vec::len).sum::<usize>() > limits.max_total_bytes {
        return full();
    }
    let meta = info(repo, args, limits)?;
    Ok(Input {
        revision: txn.map_or(revision, |t| format!("txn {t}")),
        meta,
        limits,
        files,
        incomplete: None,
    })
}

/// The repository's UUID (`svnlook uuid`): what tells two repositories
/// created at the same path apart.
pub(super) fn uuid(repo: &Path) -> Result<String, Error> {
    let out = svnlook(repo, &["uuid"])?;
    Ok(String::from_utf8_lossy(&out).trim().to_owned())
}

/// A tree listing (`svnlook tree`) within `MAX_TREE_ENTRIES` lines.
fn check_tree_size(tree: &str, at: &str) -> Result<(), Error> {
    if tree.lines().count() > super::MAX_TREE_ENTRIES {
        return Err(Error::TooLarge {
            what: "the entries of the tree",
            limit: super::MAX_TREE_ENTRIES,
            bound: "entries walked per read",
            at: at.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svn_dates_become_epoch_seconds() {
        assert_eq!(
            parse_svn_date("1970-01-01 00:00:00 +0000 (Thu, 01 Jan 1970)"),
            Some(0)
        );
        assert_eq!(
            parse_svn_date("2026-11-23 11:58:42 +0000 (Mon, 23 Nov 2026)"),
            Some(1_795_435_122)
        );
        assert_eq!(
            parse_svn_date("2026-11-23 12:58:42 +0100 (Mon, 23 Nov 2026)"),
            Some(1_795_435_122)
        );
        assert_eq!(parse_svn_date("garbage"), None);
    }
}
