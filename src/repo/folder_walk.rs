//! The plain folder's walk and reads, for `folder` (a leaf): the folders
//! are listed level by level and the configuration files read, both in
//! parallel from `snapshot::PARALLEL_MIN_FILES` folders or files on (a
//! pool of `Limits::max_build_threads` threads made for the read), and put
//! together in the order of the sequential walk — a folder's entries in the
//! order the system lists them, then its subfolders, the last listed first
//! — so that the first refusal, the first error and the file that crosses
//! `Limits::max_total_bytes` are those of a walk that reads one file after
//! the other.
//!
//! A file is opened with `O_NOFOLLOW | O_NONBLOCK` and must still be a
//! regular file by `fstat` of what was opened: a link or FIFO put in place
//! of a file after the folder was listed is refused as the listing would
//! have refused it, never followed nor waited on.
//!
//! An account folder (`users/<login>`, most of a large configuration's
//! folders) is not listed: its `user.xml` is looked up with `fstatat` and
//! opened with `openat`, both relative to the accounts folder opened once
//! (`O_PATH`), so that the kernel walks two names instead of the whole path.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::io::Read as _;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use super::Error;
use crate::diag;
use crate::snapshot::{Limits, PARALLEL_MIN_FILES};

/// Folders never descended into.
pub(super) const SKIP: &[&str] = &[".git", ".svn", ".hg", "target", "node_modules"];

/// A file's identity and version as `fstatat` tells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    pub(super) mtime: (i64, i64),
    pub(super) ctime: (i64, i64),
}

impl Stamp {
    fn of_stat(m: &rustix::fs::Stat) -> Stamp {
        // The fields of `stat` are signed or not by platform; on Linux
        // none of these is ever negative but the times before 1970.
        #[allow(clippy::unnecessary_cast)]
        Stamp {
            dev: m.st_dev as u64,
            ino: m.st_ino as u64,
            size: m.st_size as u64,
            mtime: (m.st_mtime as i64, m.st_mtime_nsec as i64),
            ctime: (m.st_ctime as i64, m.st_ctime_nsec as i64),
        }
    }

    fn of(m: &std::fs::Metadata) -> Stamp {
        Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

/// A configuration file the walk found: its path relative to the root,
/// its path, and (when asked for) its stamp, taken without following a
/// link.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) rel: String,
    pub(super) path: PathBuf,
    pub(super) stamp: Option<Stamp>,
    /// The folder it is opened in, when there is one: the accounts
    /// folder's descriptor and where in `rel` the path below it starts
    /// (a lookup of two names instead of the whole path).
    base: Option<(Arc<OwnedFd>, usize)>,
}

/// The walk: every configuration file in the sequential walk's order, and
/// what stopped it (a refusal or an error), if anything did: the files
/// after it are not in the list.
#[derive(Debug, Default)]
pub(super) struct Walk {
    pub(super) files: Vec<Entry>,
    pub(super) stop: Option<Error>,
}

/// The threads of one read: none until there is enough work for them.
pub(super) struct Pool {
    threads: usize,
    pool: OnceCell<Option<rayon::ThreadPool>>,
}

impl Pool {
    pub(super) fn new(limits: Limits) -> Pool {
        Pool {
            threads: limits.max_build_threads.max(1),
            pool: OnceCell::new(),
        }
    }

    /// `f` of every item, in order: in parallel from
    /// `PARALLEL_MIN_FILES` items on (when a thread can be started).
    fn map<T: Send, U: Send>(&self, items: Vec<T>, f: impl Fn(T) -> U + Sync + Send) -> Vec<U> {
        if items.len() < PARALLEL_MIN_FILES || self.threads < 2 {
            return items.into_iter().map(f).collect();
        }
        let pool = self.pool.get_or_init(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(self.threads)
                .thread_name(|i| format!("rolesync-read-{i}"))
                .build()
                .ok()
        });
        match pool {
            Some(pool) => pool.install(|| items.into_par_iter().map(f).collect()),
            None => items.into_iter().map(f).collect(),
        }
    }
}

/// One folder's entries: the configuration files and the subfolders, in
/// the order listed, and what stopped the listing.
#[derive(Debug, Default)]
struct Listing {
    files: Vec<Entry>,
    dirs: Vec<String>,
    stop: Option<Error>,
}

/// Walk the folder `root` (stamping each file when `stamps`).
pub(super) fn walk(root: &Path, stamps: bool, pool: &Pool) -> Walk {
    let mut listings: HashMap<String, Listing> = HashMap::new();
    let mut level = vec![String::new()];
    let accounts = OnceLock::new();
    while !level.is_empty() {
        let listed = pool.map(level, |rel| {
            let listing = list(root, &rel, stamps, &accounts);
            (rel, listing)
        });
        level = listed
            .iter()
            .filter(|(_, l)| l.stop.is_none())
            .flat_map(|(_, l)| l.dirs.iter().cloned())
            .collect();
        listings.extend(listed);
    }
    let mut walk = Walk::default();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let Some(listing) = listings.remove(&rel) else {
            continue;
        };
        walk.files.extend(listing.files);
        if listing.stop.is_some() {
            walk.stop = listing.stop;
            break;
        }
        stack.extend(listing.dirs);
    }
    walk
}

/// The accounts folder opened once for the walk (`None` when it cannot
/// be: its account folders are then probed by their whole path).
type Accounts = OnceLock<Option<Arc<OwnedFd>>>;

/// List the folder `rel` of `root`: stop at the first entry refused.
fn list(root: &Path, rel: &str, stamps: bool, accounts: &Accounts) -> Listing {
    let mut listing = Listing::default();
    if is_account_folder(rel) {
        let users = accounts.get_or_init(|| open_accounts(root));
        if let Err(e) = probe_account(root, rel, stamps, users.as_ref(), &mut listing) {
            listing.stop = Some(e);
        }
        return listing;
    }
    if let Err(e) = list_into(root, rel, stamps, &mut listing) {
        listing.stop = Some(e);
    }
    listing
}

/// The accounts folder, opened as a path (`O_PATH`) without following a
/// link: the walk already refused a link there when it listed its parent.
fn open_accounts(root: &Path) -> Option<Arc<OwnedFd>> {
    use rustix::fs::{Mode, OFlags};
    let dir = root.join(crate::snapshot::USERS_DIR.trim_end_matches('/'));
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    rustix::fs::open(&dir, flags, Mode::empty())
        .ok()
        .map(Arc::new)
}

fn list_into(root: &Path, rel: &str, stamps: bool, out: &mut Listing) -> Result<(), Error> {
    let dir = if rel.is_empty() {
        root.to_owned()
    } else {
        root.join(rel)
    };
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    for entry in fs_err::read_dir(&dir).map_err(io(&dir))? {
        let entry = entry.map_err(io(&dir))?;
        let Ok(name) = entry.file_name().into_string() else {
            tracing::warn!(
                folder = %diag::escape_controls(&dir.to_string_lossy()),
                "skipping a name that is not UTF-8"
            );
            continue;
        };
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let file_type = entry.file_type().map_err(io(&entry.path()))?;
        let expected = super::expected_kind(&path);
        if let Some(kind) = expected
            && !file_type.is_dir()
            && !file_type.is_file()
        {
            return Err(Error::Refused {
                path,
                what: special_kind(file_type),
                kind,
            });
        }
        if file_type.is_dir() {
            if !SKIP.contains(&name.as_str()) {
                out.dirs.push(path);
            }
        } else if file_type.is_file() && expected == Some("file") {
            let stamp = match stamps {
                true => Some(Stamp::of(&entry.metadata().map_err(io(&entry.path()))?)),
                false => None,
            };
            out.files.push(Entry {
                rel: path,
                path: entry.path(),
                stamp,
                base: None,
            });
        }
    }
    Ok(())
}

/// `users/<login>`: a folder whose only configuration file is its
/// `user.xml` and that holds no configuration folder.
fn is_account_folder(rel: &str) -> bool {
    rel.strip_prefix(crate::snapshot::USERS_DIR)
        .is_some_and(|login| !login.is_empty() && !login.contains('/'))
}

/// An account folder, seen as its listing would see it but without
/// listing it (one `fstatat` instead of open, `fstat`, two `getdents` and
/// close — most of the folders of a large configuration are these): its
/// `user.xml` when that is a regular file, refused when it is a link or
/// special file, absent otherwise. Nothing else in the folder can be
/// configuration (`repo::expected_kind`), so nothing else is looked at.
fn probe_account(
    root: &Path,
    rel: &str,
    stamps: bool,
    accounts: Option<&Arc<OwnedFd>>,
    out: &mut Listing,
) -> Result<(), Error> {
    use rustix::fs::{AtFlags, FileType};
    let rel = format!("{rel}/user.xml");
    let path = root.join(&rel);
    let below = crate::snapshot::USERS_DIR.len();
    let stat = match accounts {
        Some(fd) => rustix::fs::statat(fd, &rel[below..], AtFlags::SYMLINK_NOFOLLOW),
        None => rustix::fs::lstat(&path),
    };
    let stat = match stat {
        Ok(stat) => stat,
        Err(rustix::io::Errno::NOENT) => return Ok(()),
        Err(e) => {
            return Err(Error::Io {
                path,
                source: e.into(),
            });
        }
    };
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile => out.files.push(Entry {
            rel,
            path,
            stamp: stamps.then(|| Stamp::of_stat(&stat)),
            base: accounts.map(|fd| (Arc::clone(fd), below)),
        }),
        FileType::Directory => {}
        other => {
            return Err(Error::Refused {
                path: rel,
                what: special_kind_of(other),
                kind: "file",
            });
        }
    }
    Ok(())
}

/// [`special_kind`] of a type `stat` gave.
fn special_kind_of(t: rustix::fs::FileType) -> &'static str {
    use rustix::fs::FileType;
    match t {
        FileType::Symlink => "a symbolic link",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::BlockDevice | FileType::CharacterDevice => "a device",
        _ => "a special file",
    }
}

/// What a folder entry that is neither a file nor a folder is.
fn special_kind(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

/// Read the files of `files` that `skip` does not leave out, in parallel,
/// each up to `max_file_bytes` + 1 bytes: `None` for a file skipped or not
/// read because the files read so far already pass `max_total_bytes`
/// (the caller reads those it still needs, in order).
pub(super) fn read_files(
    files: &[Entry],
    limits: Limits,
    pool: &Pool,
    skip: impl Fn(&Entry) -> bool + Sync + Send,
) -> Vec<Option<Result<Vec<u8>, Error>>> {
    let read = AtomicUsize::new(0);
    pool.map(files.iter().collect(), |e| {
        if skip(e) || read.load(Ordering::Relaxed) > limits.max_total_bytes {
            return None;
        }
        let bytes = read_entry(e, limits.max_file_bytes);
        if let Ok(b) = &bytes {
            read.fetch_add(b.len(), Ordering::Relaxed);
        }
        Some(bytes)
    })
}

/// The file at `path` (`rel` in the configuration), up to `limit` + 1
/// bytes: opened without following a link or waiting on a FIFO, refused
/// unless what was opened is a regular file, and read up to the size its
/// `fstat` gave (one `read` for a configuration file, no probe for the
/// end).
pub(super) fn read_limited(path: &Path, rel: &str, limit: usize) -> Result<Vec<u8>, Error> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    read_opened(file, path, rel, limit)
}

/// [`read_limited`] of a walk's file, opened in its folder when the walk
/// holds it open.
pub(super) fn read_entry(e: &Entry, limit: usize) -> Result<Vec<u8>, Error> {
    use rustix::fs::{Mode, OFlags};
    let Some((dir, below)) = &e.base else {
        return read_limited(&e.path, &e.rel, limit);
    };
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let file = rustix::fs::openat(dir, &e.rel[*below..], flags, Mode::empty())
        .map(std::fs::File::from)
        .map_err(std::io::Error::from);
    read_opened(file, &e.path, &e.rel, limit)
}

/// The rest of [`read_limited`], once the file is opened (or not).
fn read_opened(
    file: std::io::Result<std::fs::File>,
    path: &Path,
    rel: &str,
    limit: usize,
) -> Result<Vec<u8>, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let refused = |what| Error::Refused {
        path: rel.to_owned(),
        what,
        kind: "file",
    };
    let file = file.map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => refused("a symbolic link"),
        _ => io(e),
    })?;
    let meta = file.metadata().map_err(io)?;
    if !meta.file_type().is_file() {
        return Err(refused(special_kind(meta.file_type())));
    }
    // The size `fstat` gave, up to the limit plus one byte: reading stops
    // there (an append after the `fstat` is the next read's), or earlier
    // at the end of the file.
    let want = match usize::try_from(meta.len()) {
        Ok(n) if n <= limit => n,
        _ => limit.saturating_add(1),
    };
    let mut bytes = vec![0; want];
    let mut got = 0;
    let mut file = file;
    while got < want {
        match file.read(&mut bytes[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    bytes.truncate(got);
    Ok(bytes)
}

#[cfg(test)]
#[path = "folder_walk_tests.rs"]
mod tests;
