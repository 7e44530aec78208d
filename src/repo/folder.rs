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
//!
//! The walk and the reads themselves (in parallel, in the sequential
//! walk's order) are `folder_walk`'s.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::Error;
use super::folder_walk::{self, Entry, Pool, Stamp, Walk};
use crate::snapshot::{self, FileBytes, Input, Limits};

/// A file changed this recently (by its change time) when it is read is
/// not stamped: the next read reads it again.
pub const RACY_SECS: i64 = 2;

pub fn read(root: &Path, limits: Limits) -> Result<Input, Error> {
    let pool = Pool::new(limits);
    let walk = folder_walk::walk(root, false, &pool);
    let mut read = folder_walk::read_files(&walk.files, limits, &pool, |_| false);
    gather(walk, limits, |i, e| {
        let bytes = match read[i].take() {
            Some(bytes) => bytes,
            None => folder_walk::read_entry(e, limits.max_file_bytes),
        };
        bytes.map(FileBytes::new)
    })
}

/// The stamps of the files of the last complete read, by path, and that
/// read's revision (digest); shared by the clones of one `Source`.
#[derive(Debug, Clone, Default)]
pub(super) struct Stamps(Arc<Mutex<Option<Stamped>>>);

/// A read's revision and the stamps of its files, by path.
type Stamped = (String, HashMap<String, Stamp>);

/// The folder as it is now; `prev`, the previous read, gives the bytes of
/// every file whose stamp is the one recorded for it then (moved, not
/// copied).
pub(super) fn read_newest(
    root: &Path,
    prev: Option<Input>,
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
    prev: Option<Input>,
    limits: Limits,
    stamps: &Stamps,
    racy: i64,
) -> Result<Input, Error> {
    let last = stamps.0.lock().ok().and_then(|mut last| last.take());
    let usable = prev.filter(|p| p.limits == limits && p.incomplete.is_none());
    let (old, mut files) = match (last, usable) {
        (Some((rev, stamped)), Some(p)) if rev == p.revision => (stamped, p.files),
        _ => (HashMap::new(), BTreeMap::new()),
    };
    let pool = Pool::new(limits);
    let walk = folder_walk::walk(root, true, &pool);
    let kept = |e: &Entry| e.stamp.is_some() && old.get(&e.rel) == e.stamp.as_ref();
    let reusable = |e: &Entry| kept(e) && files.contains_key(&e.rel);
    let mut read = folder_walk::read_files(&walk.files, limits, &pool, reusable);
    let mut seen = HashMap::new();
    let max = limits.max_file_bytes;
    let input = gather(walk, limits, |i, e| {
        let (reused, bytes) = match kept(e).then(|| files.remove(&e.rel)).flatten() {
            Some(bytes) => (true, bytes),
            None => match read[i].take() {
                Some(bytes) => (false, FileBytes::new(bytes?)),
                None => (false, FileBytes::new(folder_walk::read_entry(e, max)?)),
            },
        };
        if let Some(stamp) = e.stamp
            && (reused || (stamp.ctime.0 < racy && stamp.mtime.0 < racy))
        {
            seen.insert(e.rel.clone(), stamp);
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

/// The walk's files in its order, each's bytes from `bytes_of` (its index
/// and entry), until the first that passes `max_total_bytes` (then the
/// read is incomplete) or what stopped the walk (its error).
fn gather(
    walk: Walk,
    limits: Limits,
    mut bytes_of: impl FnMut(usize, &Entry) -> Result<FileBytes, Error>,
) -> Result<Input, Error> {
    let mut input = Input {
        limits,
        ..Input::default()
    };
    let mut total = 0;
    for (i, e) in walk.files.iter().enumerate() {
        let bytes = bytes_of(i, e)?;
        let over = super::add_total(&mut total, bytes.len(), limits);
        input.files.insert(e.rel.clone(), bytes);
        if over {
            input.incomplete = Some(e.rel.clone());
            input.revision = digest(&input);
            return Ok(input);
        }
    }
    if let Some(stop) = walk.stop {
        return Err(stop);
    }
    input.revision = digest(&input);
    Ok(input)
}

/// A folder has no revisions; its files' digest stands in for one, so
/// that the same content always renders the same bytes.
pub(super) fn digest(input: &Input) -> String {
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
        if path != snapshot::ACCESS_FILE {
            // No marker line to leave out: the bytes whole, as the lines
            // below would eat them, then "not stamped".
            eat(bytes);
            eat(&[0]);
            continue;
        }
        // The marker line of a rendered access file is left out (earlier
        // versions named the revision in it), so that rendering into the
        // folder itself reaches a fixed point.
        let mut stamped = false;
        for line in bytes.split_inclusive(|b| *b == b'\n') {
            if line.starts_with(crate::authz::render::BEGIN_MARKER.as_bytes()) {
                stamped = true;
                continue;
            }
            eat(line);
        }
        eat(&[u8::from(stamped)]);
    }
    format!("folder-{h:016x}")
}

#[cfg(test)]
#[path = "folder_tests.rs"]
mod tests;
