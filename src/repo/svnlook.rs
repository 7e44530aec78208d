//! The `svnlook` processes the SVN backend runs (a leaf of `repo::svn`):
//! each with a UTF-8 locale, so that paths with spaces and non-ASCII names
//! come through unchanged, and every path (the repository's too) after
//! `--`, so that a folder named `-x` is never taken for an option. A file
//! is read from `svnlook cat` up to the limit plus one byte; a symbolic
//! link (`svn:special`) where a configuration file is expected is refused
//! with its path.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{At, Error};
use crate::snapshot::{self, Limits, RevisionMeta};

/// `svnlook SUB ARGS… -- REPOS [PATH]`: the repository and the path come
/// after `--`, so that a folder named `-x` is a path, never an option.
pub(super) fn command(repo: &Path, args: &[&str], path: Option<&str>) -> Command {
    let mut cmd = Command::new("svnlook");
    cmd.args(args)
        .arg("--")
        .arg(repo)
        .args(path)
        .env("LC_ALL", "C.UTF-8");
    cmd
}

/// Run `svnlook SUB ARGS… -- REPOS [PATH]` and return its output.
pub(super) fn svnlook_at(repo: &Path, args: &[&str], path: Option<&str>) -> Result<Vec<u8>, Error> {
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

pub(super) fn svnlook(repo: &Path, args: &[&str]) -> Result<Vec<u8>, Error> {
    svnlook_at(repo, args, None)
}

pub(super) fn svnlook_path(
    repo: &Path,
    sub: &str,
    args: &[&str],
    path: &str,
) -> Result<Vec<u8>, Error> {
    let all: Vec<&str> = std::iter::once(sub).chain(args.iter().copied()).collect();
    svnlook_at(repo, &all, Some(path))
}

/// `svnlook cat` of one file, read from the pipe up to `limit + 1` bytes:
/// a larger file is never held whole (`svnlook` is stopped there), and
/// `snapshot::build` reports it from the bytes it got. One process per
/// file, where asking `svnlook filesize` first would take two.
pub(super) fn cat(
    repo: &Path,
    args: [&str; 2],
    path: &str,
    limit: usize,
) -> Result<Vec<u8>, Error> {
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
pub(super) fn is_special(repo: &Path, args: [&str; 2], path: &str) -> Result<bool, Error> {
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
pub(super) fn read_file(
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

/// The youngest revision: read from FSFS's `db/current` (the file
/// `svnlook youngest` reads), else asked of `svnlook youngest`. The daemon
/// asks it twice a reload; a file read costs no process.
pub(super) fn youngest(repo: &Path) -> Result<String, Error> {
    if let Some(rev) = fsfs_current(repo) {
        return Ok(rev);
    }
    let out = svnlook(repo, &["youngest"])?;
    Ok(String::from_utf8_lossy(&out).trim().to_owned())
}

/// The most `db/fs-type` and `db/current` are read of: FSFS writes a few
/// bytes; a longer file is not FSFS's, and is left to `svnlook`.
const SMALL_FILE: u64 = 128;

/// A file of at most [`SMALL_FILE`] bytes, or `None` (missing, unreadable,
/// longer).
fn read_small(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    let file = std::fs::File::open(path).ok()?;
    file.take(SMALL_FILE + 1).read_to_end(&mut out).ok()?;
    (out.len() as u64 <= SMALL_FILE).then_some(out)
}

/// The youngest revision of an FSFS repository from `db/current`, or
/// `None` when the repository is not FSFS (`db/fs-type`) or the file does
/// not read as FSFS writes it: the revision in decimal, first on its one
/// line (`REV\n` from format 3 on, `REV NODE-ID COPY-ID\n` before). FSFS
/// replaces the file by rename after the revision's files are in place,
/// so one read sees one whole value, and that revision is complete.
fn fsfs_current(repo: &Path) -> Option<String> {
    let fs_type = read_small(&repo.join("db/fs-type"))?;
    if fs_type.trim_ascii() != b"fsfs" {
        return None;
    }
    let current = read_small(&repo.join("db/current"))?;
    let line = current.strip_suffix(b"\n")?;
    let first = line.split(|&b| b == b' ').next()?;
    let rev: u64 = std::str::from_utf8(first).ok()?.parse().ok()?;
    // Only the canonical spelling (no sign, no leading zero).
    (rev.to_string().as_bytes() == first).then(|| rev.to_string())
}

pub(super) fn at_args<'a>(at: At<'a>, youngest: &'a str) -> [&'a str; 2] {
    match at {
        At::Revision(Some(r)) => ["-r", r],
        At::Revision(None) => ["-r", youngest],
        At::Transaction(t) => ["-t", t],
    }
}

/// `svnlook changed`: (action letter, path, is a folder) per line.
pub(super) fn changed_actions(repo: &Path, at: At) -> Result<Vec<(char, String, bool)>, Error> {
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
pub(super) fn info(
    repo: &Path,
    args: [&str; 2],
    limits: Limits,
) -> Result<Option<RevisionMeta>, Error> {
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
pub(super) fn parse_svn_date(s: &str) -> Option<i64> {
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

/// One line of `svnlook changed --copy-info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Change {
    /// `A`, `D`, `U`, `R` or `_` (only properties changed).
    pub(super) action: char,
    pub(super) path: String,
    pub(super) is_dir: bool,
    /// Added or replaced as a copy (`+`): a folder brings content that
    /// is not listed line by line.
    pub(super) copied: bool,
}

/// `svnlook changed --copy-info` of a revision or transaction (the
/// `(from PATH:rREV)` lines skipped: the copy is read where it lands).
pub(super) fn changes(repo: &Path, args: [&str; 2]) -> Result<Vec<Change>, Error> {
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

/// The repository's UUID (`svnlook uuid`): what tells two repositories
/// created at the same path apart. An FSFS repository's is the first line
/// of `db/uuid` (the hooks ask it on every run: a process fewer); any
/// other repository, or a first line that is no UUID, asks `svnlook`.
pub(super) fn uuid(repo: &Path) -> Result<String, Error> {
    if let Some(uuid) = fsfs_uuid(repo) {
        return Ok(uuid);
    }
    let out = svnlook(repo, &["uuid"])?;
    Ok(String::from_utf8_lossy(&out).trim().to_owned())
}

/// The first line of an FSFS repository's `db/uuid` (at most 128 bytes
/// read), when it is a UUID in its canonical form.
fn fsfs_uuid(repo: &Path) -> Option<String> {
    use std::io::Read as _;
    let fs_type = std::fs::read_to_string(repo.join("db/fs-type")).ok()?;
    if fs_type.trim() != "fsfs" {
        return None;
    }
    let mut head = Vec::new();
    std::fs::File::open(repo.join("db/uuid"))
        .ok()?
        .take(128)
        .read_to_end(&mut head)
        .ok()?;
    let line = head.split(|&b| b == b'\n').next()?;
    let canonical = line.len() == 36
        && line.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    canonical.then(|| String::from_utf8_lossy(line).into_owned())
}

/// A tree listing (`svnlook tree`) within `MAX_TREE_ENTRIES` lines.
pub(super) fn check_tree_size(tree: &str, at: &str) -> Result<(), Error> {
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

    /// `svnlook youngest` itself, for the comparison.
    fn asked(repo: &Path) -> String {
        String::from_utf8_lossy(&svnlook(repo, &["youngest"]).expect("svnlook"))
            .trim()
            .to_owned()
    }

    #[test]
    fn db_current_names_the_revision_svnlook_youngest_does() {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = dir.path().join("r");
        let run = |cmd: &mut Command| assert!(cmd.output().expect("svn runs").status.success());
        run(Command::new("svnadmin").arg("create").arg(&repo));
        assert_eq!(
            (fsfs_current(&repo).as_deref(), asked(&repo).as_str()),
            (Some("0"), "0")
        );
        let url = format!("file://{}", repo.display());
        for dir in ["a", "b"] {
            run(Command::new("svnmucc")
                .args(["-m", "m", "mkdir"])
                .arg(format!("{url}/{dir}")));
        }
        assert_eq!(fsfs_current(&repo).as_deref(), Some("2"));
        assert_eq!(youngest(&repo).expect("youngest"), asked(&repo));
    }

    #[test]
    fn db_uuid_names_the_uuid_svnlook_does_and_anything_else_asks_svnlook() {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = dir.path().join("r");
        let created = Command::new("svnadmin").arg("create").arg(&repo).output();
        assert!(created.expect("svnadmin runs").status.success());
        let asked = String::from_utf8_lossy(&svnlook(&repo, &["uuid"]).expect("svnlook"))
            .trim()
            .to_owned();
        assert_eq!(fsfs_uuid(&repo).as_deref(), Some(asked.as_str()));
        for bad in ["", "not-a-uuid\n", "5de54842-1419-4d6c-ab7d-1ea5cb8d8f3\n"] {
            std::fs::write(repo.join("db/uuid"), bad).expect("write");
            assert_eq!(fsfs_uuid(&repo), None, "{bad:?}");
        }
        std::fs::write(repo.join("db/uuid"), format!("{asked}\n")).expect("write");
        std::fs::write(repo.join("db/fs-type"), "bdb\n").expect("write");
        assert_eq!(fsfs_uuid(&repo), None, "not FSFS");
    }

    #[test]
    fn a_db_current_fsfs_would_not_write_is_left_to_svnlook() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("db");
        std::fs::create_dir(&db).expect("mkdir");
        let at = |fs_type: &str, current: &str| {
            std::fs::write(db.join("fs-type"), fs_type).expect("write");
            std::fs::write(db.join("current"), current).expect("write");
            fsfs_current(dir.path())
        };
        assert_eq!(at("fsfs\n", "12\n").as_deref(), Some("12"));
        assert_eq!(
            at("fsfs\n", "12 3a 1\n").as_deref(),
            Some("12"),
            "format 1 and 2"
        );
        for bad in [
            "12",
            "",
            "\n",
            "012\n",
            "+1\n",
            "x\n",
            "99999999999999999999999\n",
            &format!("12\n{}", " ".repeat(200)),
        ] {
            assert_eq!(at("fsfs\n", bad), None, "{bad:.30?}");
        }
        assert_eq!(at("bdb\n", "12\n"), None, "another backend");
    }

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
