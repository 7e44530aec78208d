//! Atomic, safe publication of the access file (and the daemon's state).
//!
//! Subversion servers read the access file at every connection; a partly
//! written file locks everybody out or, worse, grants a valid prefix. So the
//! file is only ever replaced by rename: write a temporary file in the same
//! folder, fsync it, rename it over the target, fsync the folder (the old
//! file held open until then, so that the rename does not wait for its
//! blocks to be freed). Identical
//! bytes (with the wanted mode and group) are not rewritten, which keeps the
//! file's inode and mtime and Subversion's parse cache warm.
//!
//! The folder may be writable by someone who must not be able to steer a
//! root daemon's writes, so:
//! - the temporary file has an unpredictable name (a random suffix from
//!   `/dev/urandom`) and is created with `O_CREAT | O_EXCL | O_NOFOLLOW`
//!   (mode 0600 until it is complete): a planted file or symlink is never
//!   opened, only skipped for another name;
//! - the previous file is read with `O_NOFOLLOW | O_NONBLOCK` and must be a
//!   regular file; a symlink or a special file at the target is refused;
//! - owner, group and mode of the previous file are kept (`fchown`/`fchmod`
//!   on the temporary file before the rename); [`Options`] may set the mode
//!   and the group instead;
//! - a symlinked target is followed once, when the daemon starts
//!   ([`Target::resolve`]), only if the link belongs to root or to the
//!   daemon's own user; if it later points elsewhere, publishing is refused.
//!
//! Leftovers of a killed writer (`.NAME.rolesync-*.tmp`) are removed by
//! [`remove_leftovers`], which never follows a symlink.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// What `publish` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// The file already had these bytes; nothing was written.
    Unchanged,
    /// The file was replaced (or created).
    Written,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot publish {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot publish {path}: it is a symlink; rolesync never writes through or over one")]
    Symlink { path: PathBuf },
    #[error("cannot publish {path}: it is not a regular file")]
    NotAFile { path: PathBuf },
    #[error(
        "cannot publish {link}: the symlink pointed to {was} when the daemon started and now points to {now}; restart the daemon to follow it"
    )]
    Redirected {
        link: PathBuf,
        was: PathBuf,
        now: String,
    },
    #[error(
        "cannot follow the symlink {link}: it belongs to uid {owner}, neither root nor this daemon's user; give its target instead"
    )]
    ForeignSymlink { link: PathBuf, owner: u32 },
    #[error(
        "cannot follow the symlink {link}: it points to another symlink ({target}); give the final target instead"
    )]
    SymlinkChain { link: PathBuf, target: PathBuf },
    #[error(
        "cannot publish {path}: cannot give the new file the owner {uid}:{gid} (the previous file's, or access_group): {source}; run the daemon as root, or as the file's owner in that group"
    )]
    Owner {
        path: PathBuf,
        uid: u32,
        gid: u32,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Mode and group of the published file. `None` keeps the previous file's
/// (mode 0644 and the daemon's group for a new file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Permission bits (at most 0o777).
    pub mode: Option<u32>,
    /// A numeric group id.
    pub group: Option<u32>,
}

/// The mode of a new file when neither the previous file nor [`Options`] say.
pub const DEFAULT_MODE: u32 = 0o644;

/// `"0640"` or `"640"` → 0o640; anything beyond the permission bits (no
/// setuid, setgid or sticky bit) is refused.
pub fn parse_mode(text: &str) -> Result<u32, String> {
    let digits = text.trim();
    match u32::from_str_radix(digits, 8) {
        Ok(m) if m <= 0o777 && !digits.is_empty() && !digits.starts_with('+') => Ok(m),
        _ => Err(format!(
            "access mode {text:?} is not an octal permission mode from 0000 to 0777 (e.g. \"0640\")"
        )),
    }
}

/// A group given by number, or by name looked up in `etc_group` (the text
/// of `/etc/group`: `name:password:gid:members`).
pub fn parse_group(text: &str, etc_group: &str) -> Result<u32, String> {
    let name = text.trim();
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        return name
            .parse()
            .map_err(|_| format!("group id {text:?} is out of range"));
    }
    etc_group
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let mut fields = l.split(':');
            (fields.next() == Some(name))
                .then(|| fields.nth(1))
                .flatten()
                .and_then(|gid| gid.trim().parse().ok())
        })
        .ok_or_else(|| format!("no group {text:?} in /etc/group (give its name or number)"))
}

/// [`parse_group`] against this system's `/etc/group` (only read for a name).
pub fn resolve_group(text: &str) -> Result<u32, String> {
    let numeric = text.trim().bytes().all(|b| b.is_ascii_digit()) && !text.trim().is_empty();
    let etc = if numeric {
        String::new()
    } else {
        std::fs::read_to_string("/etc/group")
            .map_err(|e| format!("cannot resolve group {text:?}: /etc/group: {e}"))?
    };
    parse_group(text, &etc)
}

/// Where the daemon publishes: the configured path, or the target of the
/// configured symlink as it was when the daemon started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    configured: PathBuf,
    /// The file actually replaced.
    actual: PathBuf,
    /// The symlink's text at start, when `configured` is a symlink.
    link_text: Option<PathBuf>,
}

impl Target {
    /// Resolve `path` once: a symlink is followed to its target when the
    /// link belongs to root or to this process's user (the rule of the
    /// kernel's `fs.protected_symlinks`), and refused otherwise; a link to a
    /// link is refused.
    pub fn resolve(path: &Path) -> Result<Target, Error> {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Target::plain(path)),
            Err(e) => return Err(io(path)(e)),
        };
        if !meta.file_type().is_symlink() {
            return Ok(Target::plain(path));
        }
        let me = std::fs::metadata("/proc/self").map_or(0, |m| m.uid());
        if meta.uid() != 0 && meta.uid() != me {
            return Err(Error::ForeignSymlink {
                link: path.to_owned(),
                owner: meta.uid(),
            });
        }
        let text = std::fs::read_link(path).map_err(io(path))?;
        let actual = folder_of(path).join(&text);
        if std::fs::symlink_metadata(&actual).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Error::SymlinkChain {
                link: path.to_owned(),
                target: actual,
            });
        }
        Ok(Target {
            configured: path.to_owned(),
            actual,
            link_text: Some(text),
        })
    }

    fn plain(path: &Path) -> Target {
        Target {
            configured: path.to_owned(),
            actual: path.to_owned(),
            link_text: None,
        }
    }

    /// The file that is replaced.
    pub fn path(&self) -> &Path {
        &self.actual
    }

    /// Whether the configured path is a symlink that was followed.
    pub fn is_link(&self) -> bool {
        self.link_text.is_some()
    }

    /// Still the same as at start: a followed symlink still points to the
    /// same place (a plain path is checked by [`publish`] itself).
    pub fn check(&self) -> Result<(), Error> {
        let Some(was) = &self.link_text else {
            return Ok(());
        };
        let now = match std::fs::symlink_metadata(&self.configured) {
            Ok(m) if m.file_type().is_symlink() => std::fs::read_link(&self.configured)
                .map_or_else(|e| format!("? ({e})"), |t| t.display().to_string()),
            Ok(_) => "nothing: it was replaced by a file".to_owned(),
            Err(e) => format!("nothing: {e}"),
        };
        if now == was.display().to_string() {
            return Ok(());
        }
        Err(Error::Redirected {
            link: self.configured.clone(),
            was: was.clone(),
            now,
        })
    }

    /// [`publish`] to the target, after [`Target::check`].
    pub fn publish(&self, bytes: &[u8], options: &Options) -> Result<Published, Error> {
        self.stage(bytes, options)?.commit_to(self)
    }

    /// [`stage_with`] to the target, after [`Target::check`]; put in place
    /// by [`Staged::commit_to`] this target, which checks it again.
    pub fn stage(&self, bytes: &[u8], options: &Options) -> Result<Staged, Error> {
        self.check()?;
        stage_with(&self.actual, bytes, options)
    }
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// The previous file: bytes (when they may equal), owner, group, mode,
/// and the file itself, held open until the new one is in place: the
/// rename then only unlinks the old inode, and freeing its blocks (a few
/// milliseconds for a large file on ext4) waits for the close, after the
/// new file is visible, instead of delaying the rename.
struct Previous {
    same_bytes: bool,
    uid: u32,
    gid: u32,
    mode: u32,
    _open: std::fs::File,
}

fn previous(target: &Path, bytes: &[u8]) -> Result<Option<Previous>, Error> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(target);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Error::Symlink {
                path: target.to_owned(),
            });
        }
        Err(e) => return Err(io(target)(e)),
    };
    let meta = file.metadata().map_err(io(target))?;
    if !meta.file_type().is_file() {
        return Err(Error::NotAFile {
            path: target.to_owned(),
        });
    }
    let same_bytes = meta.len() == bytes.len() as u64 && {
        let mut current = Vec::with_capacity(bytes.len());
        (&mut file)
            .take(bytes.len() as u64 + 1)
            .read_to_end(&mut current)
            .map_err(io(target))?;
        current == bytes
    };
    Ok(Some(Previous {
        same_bytes,
        uid: meta.uid(),
        gid: meta.gid(),
        mode: meta.mode() & 0o777,
        _open: file,
    }))
}

/// Sixteen hex digits from the kernel's random source.
pub(crate) fn random_suffix() -> std::io::Result<String> {
    let mut raw = [0u8; 8];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut raw)?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

/// `.NAME.rolesync-` — every temporary file of `NAME` starts so.
fn temp_prefix(name: &std::ffi::OsStr) -> String {
    format!(".{}.rolesync-", name.to_string_lossy())
}

const TEMP_SUFFIX: &str = ".tmp";

/// Create the temporary file: a fresh random name, exclusively, never
/// through a symlink; a collision just draws another name.
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> std::io::Result<(PathBuf, std::fs::File)> {
    let mut last = None;
    for _ in 0..16 {
        let tmp = dir.join(format!(
            "{}{}{TEMP_SUFFIX}",
            temp_prefix(name),
            random_suffix()?
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

/// [`publish_with`] the default [`Options`]: keep the previous file's
/// owner, group and mode.
pub fn publish(target: &Path, bytes: &[u8]) -> Result<Published, Error> {
    publish_with(target, bytes, &Options::default())
}

/// Replace `target` with `bytes` atomically, unless it already holds them
/// with the wanted mode and group. A missing folder is (re)created.
pub fn publish_with(target: &Path, bytes: &[u8], options: &Options) -> Result<Published, Error> {
    stage_with(target, bytes, options)?.commit()
}

/// A publication made up to its rename ([`stage_with`]): the temporary
/// file written, given its owner, group and mode, and fsynced — or
/// nothing to write. [`Staged::commit`] puts it in place; dropping it
/// instead removes the temporary file, so a publication that is not
/// committed leaves the target and its folder as they were.
#[derive(Debug)]
pub struct Staged {
    /// `None`: the target already holds the bytes (mode and group too).
    written: Option<Written>,
}

/// The temporary file of a [`Staged`] publication.
struct Written {
    target: PathBuf,
    tmp: PathBuf,
    /// Removed when the publication is dropped uncommitted.
    pending: bool,
    /// Held open until the new file is in place ([`Previous`]).
    _prev: Option<Previous>,
}

impl std::fmt::Debug for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Written")
            .field("target", &self.target)
            .field("tmp", &self.tmp)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl Drop for Written {
    fn drop(&mut self) {
        if self.pending {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl Staged {
    /// [`Staged::commit`] after [`Target::check`] (a refused check removes
    /// the temporary file).
    pub fn commit_to(self, target: &Target) -> Result<Published, Error> {
        target.check()?;
        self.commit()
    }

    /// Rename the temporary file over the target and fsync the folder
    /// (nothing when the target already held the bytes); the temporary
    /// file is removed when that fails.
    pub fn commit(self) -> Result<Published, Error> {
        let Some(mut w) = self.written else {
            return Ok(Published::Unchanged);
        };
        let target = w.target.clone();
        let err = io(&target);
        std::fs::rename(&w.tmp, &target).map_err(&err)?;
        w.pending = false;
        std::fs::File::open(folder_of(&target))
            .and_then(|d| d.sync_all())
            .map_err(&err)?;
        // The old file's blocks are freed here, after the rename.
        drop(w);
        Ok(Published::Written)
    }
}

/// [`publish_with`] up to the rename: the temporary file beside `target`
/// written and fsynced, to be put in place by [`Staged::commit`] (or
/// removed by dropping the [`Staged`]).
pub fn stage_with(target: &Path, bytes: &[u8], options: &Options) -> Result<Staged, Error> {
    let err = io(target);
    let prev = previous(target, bytes)?;
    let mode = options
        .mode
        .or(prev.as_ref().map(|p| p.mode))
        .unwrap_or(DEFAULT_MODE);
    if let Some(p) = &prev
        && p.same_bytes
        && p.mode == mode
        && options.group.is_none_or(|g| g == p.gid)
    {
        return Ok(Staged { written: None });
    }
    let dir = folder_of(target);
    let name = target
        .file_name()
        .ok_or_else(|| err(std::io::Error::other("the target has no file name")))?;
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let (tmp, mut file) = create_temp(&dir, name).map_err(&err)?;
    let (uid, gid) = (prev.as_ref().map(|p| p.uid), prev.as_ref().map(|p| p.gid));
    // From here on, dropping `written` removes the temporary file.
    let written = Written {
        target: target.to_owned(),
        tmp,
        pending: true,
        _prev: prev,
    };
    let meta = file.metadata().map_err(&err)?;
    let uid = uid.unwrap_or(meta.uid());
    let gid = options.group.or(gid).unwrap_or(meta.gid());
    if (uid, gid) != (meta.uid(), meta.gid()) {
        std::os::unix::fs::fchown(&file, Some(uid), Some(gid)).map_err(|source| Error::Owner {
            path: target.to_owned(),
            uid,
            gid,
            source,
        })?;
    }
    file.write_all(bytes).map_err(&err)?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(&err)?;
    file.sync_all().map_err(&err)?;
    Ok(Staged {
        written: Some(written),
    })
}

/// Whether `file_name` is one of our temporary names for `target_name`:
/// `.NAME.rolesync-XXXX.tmp` with an alphanumeric `XXXX` (the random
/// suffix, or the process id older versions used).
pub fn is_temp_name(target_name: &std::ffi::OsStr, file_name: &std::ffi::OsStr) -> bool {
    let prefix = temp_prefix(target_name);
    file_name
        .to_str()
        .and_then(|n| n.strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|mid| !mid.is_empty() && mid.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Remove the temporary files a killed writer left beside `target` (only
/// names [`is_temp_name`] accepts; a symlink is unlinked, never followed;
/// folders are left alone). Returns what was removed.
pub fn remove_leftovers(target: &Path) -> Result<Vec<PathBuf>, Error> {
    let dir = folder_of(target);
    let Some(name) = target.file_name() else {
        return Ok(Vec::new());
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&dir)(e)),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(&dir))?;
        if !is_temp_name(name, &entry.file_name()) {
            continue;
        }
        let kind = entry.file_type().map_err(io(&entry.path()))?;
        if kind.is_file() || kind.is_symlink() {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(io(&path))?;
            removed.push(path);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    fn publish_plain(target: &Path, bytes: &[u8]) -> Published {
        publish(target, bytes).expect("publish")
    }

    #[test]
    fn writes_new_file_then_keeps_identical_bytes_untouched() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("access");
        assert_eq!(publish_plain(&target, b"[/]\n"), Published::Written);
        assert_eq!(std::fs::read(&target).expect("read"), b"[/]\n");
        let before = std::fs::metadata(&target).expect("meta");
        assert_eq!(before.mode() & 0o777, DEFAULT_MODE);
        assert_eq!(publish_plain(&target, b"[/]\n"), Published::Unchanged);
        let after = std::fs::metadata(&target).expect("meta");
        assert_eq!(
            before.modified().expect("mtime"),
            after.modified().expect("mtime")
        );
    }

    #[test]
    fn replacing_keeps_the_mode_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("access");
        std::fs::write(&target, "old").expect("write");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        assert_eq!(publish_plain(&target, b"new"), Published::Written);
        assert_eq!(std::fs::read(&target).expect("read"), b"new");
        let mode = std::fs::metadata(&target).expect("meta").mode() & 0o777;
        assert_eq!(mode, 0o640);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["access"]);
    }

    fn names_in(dir: &Path) -> Vec<std::ffi::OsString> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_staged_file_is_in_place_only_once_committed_and_gone_when_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("access");
        std::fs::write(&target, "old").expect("write");
        let before = std::fs::metadata(&target).expect("meta");
        let staged = stage_with(&target, b"new", &Options::default()).expect("stage");
        // Written beside the target, which is untouched.
        assert_eq!(names_in(dir.path()).len(), 2);
        assert_eq!(std::fs::read(&target).expect("read"), b"old");
        drop(staged);
        assert_eq!(names_in(dir.path()), ["access"]);
        let after = std::fs::metadata(&target).expect("meta");
        assert_eq!((before.ino(), before.mtime()), (after.ino(), after.mtime()));
        assert_eq!(std::fs::read(&target).expect("read"), b"old");
        let staged = stage_with(&target, b"new", &Options::default()).expect("stage");
        assert_eq!(staged.commit().expect("commit"), Published::Written);
        assert_eq!(std::fs::read(&target).expect("read"), b"new");
        assert_eq!(names_in(dir.path()), ["access"]);
        // The same bytes: nothing staged, nothing written.
        let staged = stage_with(&target, b"new", &Options::default()).expect("stage");
        assert_eq!(names_in(dir.path()), ["access"]);
        assert_eq!(staged.commit().expect("commit"), Published::Unchanged);
    }

    #[test]
    fn a_different_mode_alone_rewrites_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("access");
        assert_eq!(publish_plain(&target, b"x"), Published::Written);
        let opts = Options {
            mode: Some(0o600),
            group: None,
        };
        assert_eq!(
            publish_with(&target, b"x", &opts).expect("publish"),
            Published::Written
        );
        assert_eq!(
            std::fs::metadata(&target).expect("meta").mode() & 0o777,
            0o600
        );
        assert_eq!(
            publish_with(&target, b"x", &opts).expect("publish"),
            Published::Unchanged
        );
    }

    #[test]
    fn a_symlink_or_a_fifo_at_the_target_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("write");
        let target = dir.path().join("access");
        std::os::unix::fs::symlink(&victim, &target).expect("link");
        let e = publish(&target, b"new").expect_err("refused");
        assert!(matches!(e, Error::Symlink { .. }), "{e}");
        assert_eq!(std::fs::read(&victim).expect("read"), b"precious");
        std::fs::remove_file(&target).expect("rm");
        std::fs::create_dir(&target).expect("mkdir");
        let e = publish(&target, b"new").expect_err("refused");
        assert!(matches!(e, Error::NotAFile { .. }), "{e}");
    }

    #[test]
    fn temporary_names_are_unpredictable_and_recognised() {
        let a = random_suffix().expect("random");
        let b = random_suffix().expect("random");
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        let name = OsStr::new("access");
        for ours in [
            ".access.rolesync-4242.tmp",
            ".access.rolesync-00ff00ff00ff00ff.tmp",
        ] {
            assert!(is_temp_name(name, OsStr::new(ours)), "{ours}");
        }
        for other in [
            "access",
            ".access.rolesync-.tmp",
            ".access.rolesync-1.tmp.keep",
            ".access.rolesync-a/b.tmp",
            ".access.rolesync-1-2.tmp",
            ".other.rolesync-1.tmp",
            "x.access.rolesync-1.tmp",
        ] {
            assert!(!is_temp_name(name, OsStr::new(other)), "{other}");
        }
    }

    #[test]
    fn modes_and_groups_parse() {
        assert_eq!(parse_mode("0640"), Ok(0o640));
        assert_eq!(parse_mode("640"), Ok(0o640));
        assert_eq!(parse_mode("0"), Ok(0));
        for bad in ["", "4755", "0o640", "rw-r-----", "-640", "+640", "888"] {
            assert!(parse_mode(bad).is_err(), "{bad:?}");
        }
        let etc = "# comment\nroot:x:0:\nsvn:x:1001:alice,bob\nnogroup:x:65534:\n";
        assert_eq!(parse_group("svn", etc), Ok(1001));
        assert_eq!(parse_group("nogroup", etc), Ok(65534));
        assert_eq!(parse_group("1234", etc), Ok(1234));
        assert!(parse_group("sv", etc).is_err());
        assert!(parse_group("alice", etc).is_err());
        assert!(parse_group("", etc).is_err());
    }

    #[test]
    fn a_symlinked_target_is_followed_until_it_is_redirected() {
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("real");
        let link = dir.path().join("access");
        std::os::unix::fs::symlink("real", &link).expect("link");
        let target = Target::resolve(&link).expect("resolve");
        assert_eq!(target.path(), real);
        assert_eq!(
            target
                .publish(b"one", &Options::default())
                .expect("publish"),
            Published::Written
        );
        assert_eq!(std::fs::read(&real).expect("read"), b"one");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("lstat")
                .file_type()
                .is_symlink()
        );
        std::fs::remove_file(&link).expect("rm");
        std::os::unix::fs::symlink("other", &link).expect("relink");
        let e = target
            .publish(b"two", &Options::default())
            .expect_err("refused");
        assert!(matches!(e, Error::Redirected { .. }), "{e}");
        assert_eq!(std::fs::read(&real).expect("read"), b"one");
        assert!(!dir.path().join("other").exists());
    }
}
