//! The SVN backend: a local Subversion repository read with `svnlook` at a
//! revision (or, in a pre-commit hook, in a transaction). Only the files
//! `snapshot::classify` knows are read; `svnlook` runs with a UTF-8 locale
//! so that paths with spaces and non-ASCII names come through unchanged.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Error;
use crate::snapshot::{self, Input, Limits, RevisionMeta};

/// What to read: a committed revision (`None`: the youngest) or a
/// transaction that is being committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At<'a> {
    Revision(Option<&'a str>),
    Transaction(&'a str),
}

/// Whether `path` is the top of a local SVN repository.
pub fn is_repository(path: &Path) -> bool {
    path.join("format").is_file() && path.join("db").is_dir() && path.join("hooks").is_dir()
}

/// Run `svnlook SUB ARGS… REPOS [PATH]` and return its output.
fn svnlook_at(repo: &Path, args: &[&str], path: Option<&str>) -> Result<Vec<u8>, Error> {
    let out = Command::new("svnlook")
        .args(args)
        .arg(repo)
        .args(path)
        .env("LC_ALL", "C.UTF-8")
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

/// The youngest revision.
pub fn youngest(repo: &Path) -> Result<String, Error> {
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
pub fn changed(repo: &Path, at: At) -> Result<Vec<(String, bool)>, Error> {
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
        .filter_map(|l| l.get(4..))
        .map(|p| (p.trim_end_matches('/').to_owned(), p.ends_with('/')))
        .collect())
}

/// Read the configuration under `subpath` at `at`.
pub fn read(repo: &Path, at: At, subpath: Option<&str>, limits: Limits) -> Result<Input, Error> {
    let young = match at {
        At::Revision(None) => youngest(repo)?,
        _ => String::new(),
    };
    let args = at_args(at, &young);
    let prefix = subpath
        .map(|s| s.trim_matches('/'))
        .filter(|s| !s.is_empty());
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
        meta: info(repo, args)?,
        limits,
        ..Input::default()
    };
    for line in String::from_utf8_lossy(&tree).lines() {
        if line.ends_with('/') {
            continue;
        }
        let rel = match prefix {
            Some(p) => match line.strip_prefix(p).and_then(|r| r.strip_prefix('/')) {
                Some(r) => r,
                None => continue,
            },
            None => line,
        };
        if snapshot::classify(rel).is_none() {
            continue;
        }
        let mut bytes = svnlook_path(repo, "cat", &args, line)?;
        bytes.truncate(limits.max_file_bytes.saturating_add(1));
        input.files.insert(rel.to_owned(), bytes);
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
    prev: &Input,
    subpath: Option<&str>,
    limits: Limits,
) -> Result<Input, Error> {
    let young = youngest(repo)?;
    let full = || read(repo, At::Revision(Some(&young)), subpath, limits);
    let (Ok(from), Ok(to)) = (prev.revision.parse::<u64>(), young.parse::<u64>()) else {
        return full();
    };
    if to == from && prev.limits == limits {
        return Ok(prev.clone());
    }
    if to < from || to - from > 64 || prev.limits != limits {
        return full();
    }
    let prefix = subpath
        .map(|s| s.trim_matches('/'))
        .filter(|s| !s.is_empty());
    // The last action on each configuration file in (from, to].
    let mut touched: std::collections::BTreeMap<String, bool> = std::collections::BTreeMap::new();
    for r in from + 1..=to {
        let r = r.to_string();
        for (action, path, is_dir) in changed_actions(repo, At::Revision(Some(&r)))? {
            let rel = match prefix {
                None => path.as_str(),
                Some(p) if path == p || p.starts_with(&format!("{path}/")) => return full(),
                Some(p) => match path.strip_prefix(p).and_then(|r| r.strip_prefix('/')) {
                    Some(rel) => rel,
                    None => continue,
                },
            };
            if is_dir && action != '_' {
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
        meta: info(repo, args)?,
        limits,
        files: prev.files.clone(),
    };
    for (rel, deleted) in touched {
        if deleted {
            input.files.remove(&rel);
            continue;
        }
        let full_path = match prefix {
            Some(p) => format!("{p}/{rel}"),
            None => rel.clone(),
        };
        let mut bytes = svnlook_path(repo, "cat", &args, &full_path)?;
        bytes.truncate(limits.max_file_bytes.saturating_add(1));
        input.files.insert(rel, bytes);
    }
    Ok(input)
}

/// `svnlook changed`: (action letter, path, is a folder) per line.
fn changed_actions(repo: &Path, at: At) -> Result<Vec<(char, String, bool)>, Error> {
    let args = at_args(at, "");
    let out = svnlook(repo, &["changed", args[0], args[1]])?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| Some((l.chars().next()?, l.get(4..)?)))
        .map(|(a, p)| (a, p.trim_end_matches('/').to_owned(), p.ends_with('/')))
        .collect())
}

/// Author and date of a revision or transaction (`svnlook info`).
fn info(repo: &Path, args: [&str; 2]) -> Result<Option<RevisionMeta>, Error> {
    let out = svnlook(repo, &["info", args[0], args[1]])?;
    let text = String::from_utf8_lossy(&out);
    let mut lines = text.lines();
    let author = lines.next().unwrap_or("").to_owned();
    let time = lines.next().and_then(parse_svn_date).unwrap_or(0);
    Ok(Some(RevisionMeta { author, time }))
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
