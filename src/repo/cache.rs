//! The daemon's cache of the last applied revision's files
//! (`last-good.files` in its state folder), so that a hook reads only what
//! a change touched and takes the rest from here.
//!
//! Format, version 2 (integers little-endian):
//!
//! ```text
//! "RSCACHE\0"  u32 version
//! u32 len, identity   (where the files come from: `Source::cache_identity`)
//! u32 len, revision
//! u64 entries         (the tree entries the full walk of the revision's
//!                      configuration counts, Git's bound for the next
//!                      incremental walk; u64::MAX: not known)
//! u32 count, then per file: u32 len, path; u64 len, bytes   (paths in order)
//! 32 bytes: SHA-256 of everything before
//! ```
//!
//! A cache is only a hint: one that is missing, truncated, corrupt, of
//! another format version, of another source or larger than
//! `Limits::max_total_bytes` allows is ignored (said at debug level) and the
//! hook reads in full. A cache whose checksum holds but whose content lies
//! (someone who can write the state folder wrote it) can only make a hook
//! accept or refuse wrongly: the daemon never reads it, it re-reads the
//! repository (docs/security.md).

use std::path::Path;

use sha2::{Digest as _, Sha256};

/// The cache's file name in the state folder.
pub const CACHE_FILE: &str = "last-good.files";
const MAGIC: &[u8; 8] = b"RSCACHE\0";
/// Version 1 had no entry count: read as no cache.
const VERSION: u32 = 2;
/// The entry count of a cache that does not know it.
const UNKNOWN_ENTRIES: u64 = u64::MAX;
const CHECKSUM_BYTES: usize = 32;
/// Bytes a cache may hold beyond its files' bytes (identity, revision, the
/// path and two lengths per file): 4 MiB, room for 10,000 files with
/// paths of 400 bytes.
pub const MAX_OVERHEAD_BYTES: usize = 4 << 20;

/// The files of one revision of one source, as the cache holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cached {
    /// Where the files come from (`Source::cache_identity`): a cache of
    /// another repository, folder or branch is never used.
    pub identity: String,
    /// The revision (commit id, SVN revision number).
    pub revision: String,
    /// The tree entries the full walk of the revision's configuration
    /// counts (`MAX_TREE_ENTRIES` bounds it), when known: Git's
    /// incremental read carries it over (`git_since`).
    pub entries: Option<usize>,
    /// Every configuration file, by path relative to the configuration root.
    pub files: crate::snapshot::Files,
}

/// Why a cache was not used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CacheError {
    #[error("not a rolesync cache")]
    Magic,
    #[error("format version {0}, this rolesync reads version {VERSION}")]
    Version(u32),
    #[error("truncated")]
    Truncated,
    #[error("checksum mismatch")]
    Checksum,
    #[error("{0} bytes, more than the bound of {1}")]
    TooLarge(usize, usize),
    #[error("a path that is not UTF-8, or out of order")]
    BadPath,
    #[error("bytes after the last file")]
    Trailing,
    #[error("of another source ({0})")]
    OtherSource(String),
    #[error("{0}")]
    Io(String),
}

/// The bytes of a cache in the format above.
pub fn encode(
    identity: &str,
    revision: &str,
    entries: Option<usize>,
    files: &crate::snapshot::Files,
) -> Vec<u8> {
    let size: usize = files.iter().map(|(p, b)| p.len() + b.len() + 12).sum();
    let mut out = Vec::with_capacity(size + 64 + identity.len() + revision.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    put_str(&mut out, identity);
    put_str(&mut out, revision);
    let entries = entries.map_or(UNKNOWN_ENTRIES, |n| n as u64);
    out.extend_from_slice(&entries.to_le_bytes());
    out.extend_from_slice(&(files.len() as u32).to_le_bytes());
    for (path, bytes) in files {
        put_str(&mut out, path);
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// The largest cache file read for `max_total_bytes` of files.
pub fn bound(max_total_bytes: usize) -> usize {
    max_total_bytes.saturating_add(MAX_OVERHEAD_BYTES)
}

/// Read a cache back; `max_total_bytes`: the bound on its files together
/// (and, with [`MAX_OVERHEAD_BYTES`], on the whole).
pub fn decode(bytes: &[u8], max_total_bytes: usize) -> Result<Cached, CacheError> {
    if bytes.len() > bound(max_total_bytes) {
        return Err(CacheError::TooLarge(bytes.len(), bound(max_total_bytes)));
    }
    if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(CacheError::Magic);
    }
    let mut r = Reader {
        rest: &bytes[MAGIC.len()..],
    };
    let version = r.u32()?;
    if version != VERSION {
        return Err(CacheError::Version(version));
    }
    let body_len = bytes
        .len()
        .checked_sub(CHECKSUM_BYTES)
        .ok_or(CacheError::Truncated)?;
    if body_len < MAGIC.len() + 4 {
        return Err(CacheError::Truncated);
    }
    if Sha256::digest(&bytes[..body_len])[..] != bytes[body_len..] {
        return Err(CacheError::Checksum);
    }
    r.rest = &bytes[MAGIC.len() + 4..body_len];
    let identity = r.string()?;
    let revision = r.string()?;
    let entries = match r.u64()? {
        UNKNOWN_ENTRIES => None,
        n => Some(usize::try_from(n).map_err(|_| CacheError::Truncated)?),
    };
    let count = r.u32()?;
    // In path order, each path after the one before: the map is built in
    // bulk from the sorted list (no search per file).
    let mut files: Vec<(String, crate::snapshot::FileBytes)> = Vec::new();
    let mut total: usize = 0;
    for _ in 0..count {
        let path = r.string()?;
        if files.last().is_some_and(|(l, _)| *l >= path) {
            return Err(CacheError::BadPath);
        }
        let len = usize::try_from(r.u64()?).map_err(|_| CacheError::Truncated)?;
        total = total.saturating_add(len);
        if total > max_total_bytes {
            return Err(CacheError::TooLarge(total, max_total_bytes));
        }
        files.push((path, crate::snapshot::FileBytes::new(r.take(len)?.to_vec())));
    }
    if !r.rest.is_empty() {
        return Err(CacheError::Trailing);
    }
    Ok(Cached {
        identity,
        revision,
        entries,
        files: files.into_iter().collect(),
    })
}

/// A cursor over the body of a cache.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CacheError> {
        if self.rest.len() < n {
            return Err(CacheError::Truncated);
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, CacheError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, CacheError> {
        let b = self.take(8)?;
        let mut a = [0; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn string(&mut self) -> Result<String, CacheError> {
        let len = self.u32()? as usize;
        let b = self.take(len)?;
        String::from_utf8(b.to_vec()).map_err(|_| CacheError::BadPath)
    }
}

/// Write the cache into the state folder `dir`, atomically (a temporary
/// file in `dir`, then rename, as the access file is written). Not
/// written when its files together pass `max_total_bytes` (a hook would
/// not read it).
pub fn store(
    dir: &Path,
    identity: &str,
    (revision, entries): (&str, Option<usize>),
    files: &crate::snapshot::Files,
    max_total_bytes: usize,
) -> Result<(), CacheError> {
    let total: usize = files.values().map(|b| b.len()).sum();
    if total > max_total_bytes {
        return Err(CacheError::TooLarge(total, max_total_bytes));
    }
    let bytes = encode(identity, revision, entries, files);
    crate::publish::publish(&dir.join(CACHE_FILE), &bytes)
        .map(|_| ())
        .map_err(|e| CacheError::Io(e.to_string()))
}

/// The cache in the state folder `dir`, if it is there, whole, of
/// `identity` and within `max_total_bytes`; why not otherwise.
pub fn load(dir: &Path, identity: &str, max_total_bytes: usize) -> Result<Cached, CacheError> {
    use std::io::Read as _;
    let path = dir.join(CACHE_FILE);
    let io = |e: std::io::Error| CacheError::Io(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(&path).map_err(io)?;
    let mut bytes = Vec::new();
    // One byte past the bound is enough to know it is too large.
    file.take(bound(max_total_bytes) as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let cached = decode(&bytes, max_total_bytes)?;
    if cached.identity != identity {
        return Err(CacheError::OtherSource(cached.identity));
    }
    Ok(cached)
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
