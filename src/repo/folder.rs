//! The plain-folder backend: walk the folder, read the files rolesync knows.
//!
//! Symbolic links are not followed (a link could point outside the
//! configuration): a link, FIFO, socket or device where a configuration
//! file or folder is expected is refused with its path, elsewhere it is
//! skipped. Version-control folders are skipped, and a file larger than
//! the limit is read only up to the limit plus one byte, so that
//! `snapshot::build` reports it without holding it in memory; reading stops
//! once the files together exceed `Limits::max_total_bytes`.
//!
//! The daemon's reads ([`read_newest`]) reuse a file's bytes from the
//! previous read when its stamp — device, inode, size, modification and
//! change time in nanoseconds, taken with `fstatat` without following a
//! link — is the one recorded then. A folder is trusted to that extent: a
//! change that keeps all five (only a write within the same timestamp
//! tick could, and a file whose change time is less than
//! [`RACY_SECS`] older than the read is never stamped, as Git treats a
//! "racily clean" file) is not seen until the file changes again. The
//! walk and every refusal are the full read's, and so is the digest.

use std::collections::HashMap;
use std::io::Read as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::Error;
use crate::diag;
use crate::snapshot::{self, Input, Limits};

/// Folders never descended into.
const SKIP: &[&str] = &[".git", ".svn", ".hg", "target", "node_modules"];

/// A file changed this recently (by its change time) when it is read is
/// not stamped: the next read reads it again.
pub const RACY_SECS: i64 = 2;

pub fn read(root: &Path, limits: Limits) -> Result<Input, Error> {
    walk(root, limits, |path, _, _| {
        read_limited(path, limits.max_file_bytes)
    })
}

/// A file's identity and version as `fstatat` tells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
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

/// The stamps of the files of the last complete read, by path, and that
/// read's revision (digest); shared by the clones of one `Source`.
#[derive(Debug, Clone, Default)]
pub(super) struct Stamps(Arc<Mutex<Option<Stamped>>>);

/// A read's revision and the stamps of its files, by path.
type Stamped = (String, HashMap<String, Stamp>);

/// The folder as it is now; `prev`, the previous read, gives the bytes of
/// every file whose stamp is the one recorded for it then.
pub(super) fn read_newest(
    root: &Path,
    prev: Option<&Input>,
    limits: Limits,
    stamps: &Stamps,
) -> Result<Input, Error> {
    let racy = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
        - RACY_SECS;
    read_stamped(root, prev, limits, stamps, racy)
}

/// [`read_newest`], stamping only files changed before `racy` (seconds
/// since the epoch).
fn read_stamped(
    root: &Path,
    prev: Option<&Input>,
    limits: Limits,
    stamps: &Stamps,
    racy: i64,
) -> Result<Input, Error> {
    let last = stamps.0.lock().ok().and_then(|mut last| last.take());
    let usable = prev.filter(|p| p.limits == limits && p.incomplete.is_none());
    let (old, files) = match (last, usable) {
        (Some((rev, stamped)), Some(p)) if rev == p.revision => (stamped, &p.files),
        _ => (HashMap::new(), &std::collections::BTreeMap::new()),
    };
    let mut seen = HashMap::new();
    let input = walk(root, limits, |path, rel, entry| {
        let meta = entry.metadata().map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let stamp = Stamp::of(&meta);
        if old.get(rel) == Some(&stamp)
            && let Some(bytes) = files.get(rel)
        {
            seen.insert(rel.to_owned(), stamp);
            return Ok(bytes.clone());
        }
        let bytes = read_limited(path, limits.max_file_bytes)?;
        if stamp.ctime.0 < racy && stamp.mtime.0 < racy {
            seen.insert(rel.to_owned(), stamp);
        }
        Ok(bytes)
    })?;
    if input.incomplete.is_none()
        && let Ok(mut last) = stamps.0.lock()
    {
        *last = Some((input.revision.clone(), seen));
    }
    Ok(input)
}

/// Walk the folder and read every configuration file with `read_file`
/// (its path, its path relative to the root, its folder entry).
fn walk(
    root: &Path,
    limits: Limits,
    mut read_file: impl FnMut(&Path, &str, &fs_err::DirEntry) -> Result<Vec<u8>, Error>,
) -> Result<Input, Error> {
    let mut input = Input {
        limits,
        ..Input::default()
    };
    let mut total = 0;
    let mut stack = vec![String::new()];
    'walk: while let Some(rel) = stack.pop() {
        let dir = if rel.is_empty() {
            root.to_owned()
        } else {
            root.join(&rel)
        };
        let entries = fs_err::read_dir(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?;
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
            let file_type = entry.file_type().map_err(|source| Error::Io {
                path: entry.path(),
                source,
            })?;
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
                    stack.push(path);
                }
            } else if file_type.is_file() && expected == Some("file") {
                let bytes = read_file(&entry.path(), &path, &entry)?;
                let over = super::add_total(&mut total, bytes.len(), limits);
                input.files.insert(path.clone(), bytes);
                if over {
                    input.incomplete = Some(path);
                    break 'walk;
                }
            }
        }
    }
    input.revision = digest(&input);
    Ok(input)
}

/// A folder has no revisions; its files' digest stands in for one, so
/// that the same content always renders the same bytes.
fn digest(input: &Input) -> String {
    // FNV-1a, 64 bits: stable across builds and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for (path, bytes) in &input.files {
        eat(path.as_bytes());
        eat(&[0]);
        // The marker line of a rendered access file is left out (earlier
        // versions named the revision in it), so that rendering into the
        // folder itself reaches a fixed point.
        let mut stamped = false;
        for line in bytes.split_inclusive(|b| *b == b'\n') {
            if path == snapshot::ACCESS_FILE
                && line.starts_with(crate::authz::render::BEGIN_MARKER.as_bytes())
            {
                stamped = true;
                continue;
            }
            eat(line);
        }
        eat(&[u8::from(stamped)]);
    }
    format!("folder-{h:016x}")
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

fn read_limited(path: &Path, limit: usize) -> Result<Vec<u8>, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = fs_err::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(bytes)
}

#[cfg(test)]
#[path = "folder_tests.rs"]
mod tests;
