//! What the daemon keeps across restarts (the last applied revision), its
//! audit log (one JSON line per reload: who gained or lost which group, and
//! what the change did, as `rolesync diff` shows it) and the lock that keeps
//! a second daemon off the same state folder.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::diag::DiagnosticJson;
use crate::diff::Diff;
use crate::diff::json::DiffJson;

pub const STATE_FILE: &str = "state.json";
const AUDIT_FILE: &str = "audit.jsonl";
/// Held (`flock`, exclusive) by the daemon that owns the state folder; it
/// holds that daemon's pid.
pub const LOCK_FILE: &str = "rolesync.lock";

/// The persisted state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Persisted {
    /// The revision last applied (its access file is in place; its bytes may
    /// be an earlier revision's, left untouched).
    pub applied_revision: Option<String>,
}

/// Read the state; a missing file is the empty state. An empty or corrupt
/// file is set aside as `state.json.corrupt-<unix seconds>` with a warning
/// and the empty state is returned: the daemon rebuilds it from the next
/// good revision.
pub fn load(dir: &Path) -> anyhow::Result<Persisted> {
    let path = dir.join(STATE_FILE);
    let bytes = match fs_err::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Persisted::default()),
        Err(e) => return Err(e.into()),
    };
    match serde_json::from_slice(&bytes) {
        Ok(state) => Ok(state),
        Err(e) => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let aside = dir.join(format!("{STATE_FILE}.corrupt-{secs}"));
            fs_err::rename(&path, &aside)?;
            tracing::warn!(
                path = %path.display(),
                aside = %aside.display(),
                error = %e,
                "the daemon state is corrupt; set aside, rebuilding it"
            );
            Ok(Persisted::default())
        }
    }
}

/// Write the state atomically (same way as the access file).
pub fn save(dir: &Path, state: &Persisted) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec_pretty(state)?;
    crate::publish::publish(&dir.join(STATE_FILE), &bytes)?;
    Ok(())
}

/// The exclusive lock on a state folder, held as long as this value lives.
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another rolesync daemon{} uses the state folder {}; stop it or give another --state-dir",
        pid.as_ref().map(|p| format!(" (pid {p})")).unwrap_or_default(),
        dir.display()
    )]
    Held { dir: PathBuf, pid: Option<String> },
    #[error("cannot lock the state folder {}: {source}", dir.display())]
    Io {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Take the state folder's lock (`rolesync.lock`) and write our pid into
/// it; fails at once when another process holds it.
pub fn lock(dir: &Path) -> Result<Lock, LockError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let io = |source| LockError::Io {
        dir: dir.to_owned(),
        source,
    };
    let path = dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut file, &mut text);
            let pid = text.trim();
            return Err(LockError::Held {
                dir: dir.to_owned(),
                pid: (!pid.is_empty()).then(|| pid.to_owned()),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    file.set_len(0).map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    Ok(Lock { _file: file })
}

pub use super::changes::{Changes, changes};

/// What an applied change did: the diff of the snapshot applied before and
/// the new one (`None`: nothing was applied before, so there is nothing to
/// compare with), or why it could not be computed.
pub type ChangeDiff = Option<Result<Box<Diff>, String>>;

/// The audit record's `diff` and `diff_error` of what a change did: the
/// version-1 JSON of the diff (docs/diff.md; within the diff's own
/// `Bounds`: at most `max_listed` changes listed per part, all counted), or
/// why there is none.
pub fn diff_fields(diff: &ChangeDiff) -> (Option<DiffJson>, Option<&str>) {
    match diff {
        None => (None, None),
        Some(Ok(d)) => (Some(crate::diff::json::to_json(d)), None),
        Some(Err(e)) => (None, Some(e.as_str())),
    }
}

/// One line of the audit log: a reload that applied a revision (with who
/// gained or lost which group, and the diff of what the change did) or
/// failed (with its errors). Fields in alphabetical order, as `json!` wrote
/// them.
#[derive(Debug, serde::Serialize)]
pub struct Record<'a> {
    pub author: Option<&'a str>,
    pub commit_time: Option<i64>,
    /// What the applied change did, in the version-1 shape of `rolesync
    /// diff --format json`; `null` for a failure and when nothing was
    /// applied before (or the diff failed: `diff_error`).
    pub diff: Option<DiffJson>,
    /// Why the diff of an applied change could not be computed.
    pub diff_error: Option<&'a str>,
    /// The directory answer (`[ldap]`) the revision was built with, or
    /// the one held back; absent without a directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory_revision: Option<&'a str>,
    /// Each in the one JSON shape of a diagnostic (`Diagnostic::to_json`).
    pub errors: Vec<DiagnosticJson<'a>>,
    pub gained: Option<&'a BTreeMap<String, BTreeSet<String>>>,
    pub lost: Option<&'a BTreeMap<String, BTreeSet<String>>>,
    /// Why a followed remote's head was refused (`result: "refused"`);
    /// absent from every other record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    /// Who pushed the revision (the hooks' notification; in SVN the
    /// author, who committed it); `null` when unknown.
    pub pusher: Option<&'a str>,
    pub result: &'static str,
    pub revision: &'a str,
    /// What caused the change: `repository`, `directory` or `both`;
    /// absent without a directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
    /// RFC 3339, in seconds.
    pub time: String,
    pub warnings: Vec<DiagnosticJson<'a>>,
}

impl<'a> Record<'a> {
    /// A record of `result` at `revision`, timed now, with nothing else.
    pub fn new(revision: &'a str, result: crate::current::ReloadResult) -> Self {
        Record {
            author: None,
            commit_time: None,
            diff: None,
            diff_error: None,
            directory_revision: None,
            errors: Vec::new(),
            gained: None,
            lost: None,
            message: None,
            pusher: None,
            result: result.as_str(),
            revision,
            source: None,
            time: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            warnings: Vec::new(),
        }
    }
}

/// When the audit log is rotated (`audit_max_bytes`, `audit_keep`): before
/// a record would take `audit.jsonl` past `max_bytes`, it is renamed
/// `audit.jsonl.1` (`.1` to `.2` and so on; the one beyond `keep` is
/// removed) and the record starts a new file. A record is never split
/// across two files. `max_bytes` 0: never rotated (logrotate may, with
/// `copytruncate` or by renaming: the daemon opens the log per record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub max_bytes: u64,
    pub keep: usize,
}

impl Rotation {
    /// The default bound of `audit.jsonl`: 16 MiB.
    pub const DEFAULT_MAX_BYTES: u64 = 16 << 20;
    /// The default count of rotated files kept.
    pub const DEFAULT_KEEP: usize = 4;
    /// The most rotated files that may be kept.
    pub const MAX_KEEP: usize = 100;
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation {
            max_bytes: Self::DEFAULT_MAX_BYTES,
            keep: Self::DEFAULT_KEEP,
        }
    }
}

/// The audit log in a state folder. Clones share one lock: the daemon's
/// writers (the recorder, the follower) append and rotate one at a time.
#[derive(Debug, Clone)]
pub struct Audit {
    path: PathBuf,
    rotation: Rotation,
    lock: std::sync::Arc<std::sync::Mutex<()>>,
}

impl Audit {
    /// The audit log of `dir`, rotated by default (`Rotation::default`).
    pub fn new(dir: &Path) -> Self {
        Self::with_rotation(dir, Rotation::default())
    }

    pub fn with_rotation(dir: &Path, rotation: Rotation) -> Self {
        Audit {
            path: dir.join(AUDIT_FILE),
            rotation,
            lock: std::sync::Arc::default(),
        }
    }

    /// Append one record (one line of JSON) and flush it to disk. A
    /// symlink planted at the log's name is refused, never appended through.
    pub fn append(&self, record: &impl serde::Serialize) -> anyhow::Result<()> {
        self.append_line(&serde_json::to_string(record)?)
    }

    /// Append `line`, one record already serialised (without its newline),
    /// and flush it to disk, as [`Audit::append`]; rotate first when the
    /// line would take the log past its bound.
    pub fn append_line(&self, line: &str) -> anyhow::Result<()> {
        let _held = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        let mut file = self.open()?;
        let len = file.metadata()?.len();
        let max = self.rotation.max_bytes;
        if max > 0 && len > 0 && len + bytes.len() as u64 > max {
            drop(file);
            self.rotate()?;
            file = self.open()?;
        }
        file.write_all(&bytes)?;
        file.sync_data()?;
        Ok(())
    }

    fn open(&self) -> anyhow::Result<fs_err::File> {
        use fs_err::os::unix::fs::OpenOptionsExt as _;
        Ok(fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&self.path)?)
    }

    /// The `n`th rotated file (`audit.jsonl.n`; 0: the log itself).
    fn rotated(&self, n: usize) -> PathBuf {
        match n {
            0 => self.path.clone(),
            n => self.path.with_extension(format!("jsonl.{n}")),
        }
    }

    /// Shift the rotated files up by one (`rename` moves a link, never
    /// its target), the log to `.1`, the one beyond `keep` removed; then
    /// fsync the folder, so that no rename is lost.
    fn rotate(&self) -> anyhow::Result<()> {
        let keep = self.rotation.keep;
        let gone = |r: std::io::Result<()>| match r {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
        for n in (0..=keep).rev() {
            let from = self.rotated(n);
            match n {
                n if n == keep => gone(fs_err::remove_file(&from))?,
                n => gone(fs_err::rename(&from, self.rotated(n + 1)))?,
            }
        }
        if let Some(dir) = self.path.parent() {
            fs_err::File::open(dir)?.sync_all()?;
        }
        tracing::info!(path = %self.path.display(), keep, "audit log rotated");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_folder_is_refused_and_names_the_holder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let held = lock(dir.path()).expect("first lock");
        let err = lock(dir.path()).expect_err("second lock");
        let pid = std::process::id().to_string();
        assert!(
            matches!(&err, LockError::Held { pid: Some(p), .. } if *p == pid),
            "{err}"
        );
        assert!(err.to_string().contains(&format!("(pid {pid})")), "{err}");
        drop(held);
        lock(dir.path()).expect("free again");
    }

    #[test]
    fn the_audit_log_is_never_appended_through_a_symlink() {
        let dir = tempfile::tempdir().expect("temp dir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("write");
        std::os::unix::fs::symlink(&victim, dir.path().join(AUDIT_FILE)).expect("link");
        let audit = Audit::new(dir.path());
        audit
            .append(&serde_json::json!({"x": 1}))
            .expect_err("refused");
        assert_eq!(std::fs::read(&victim).expect("read"), b"precious");
    }

    /// Every record of the log and its rotated files, oldest first, each
    /// file within `max` bytes and every line a whole record.
    fn records(dir: &Path, keep: usize, max: u64) -> Vec<u64> {
        let audit = Audit::new(dir);
        let mut out = Vec::new();
        for n in (0..=keep).rev() {
            let Ok(text) = std::fs::read_to_string(audit.rotated(n)) else {
                continue;
            };
            assert!(text.len() as u64 <= max, "file {n}: {} bytes", text.len());
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line).expect("a whole record");
                out.push(v["n"].as_u64().expect("n"));
            }
        }
        out
    }

    #[test]
    fn the_audit_log_rotates_by_size_keeping_whole_records_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (max, keep) = (200, 3);
        let audit = Audit::with_rotation(
            dir.path(),
            Rotation {
                max_bytes: max,
                keep,
            },
        );
        for n in 0..100u64 {
            audit
                .append(&serde_json::json!({"n": n, "pad": "x".repeat(20)}))
                .expect("append");
        }
        let kept = records(dir.path(), keep, max);
        // The newest records, none missing, none twice; older files are gone.
        let first = *kept.first().expect("records");
        assert_eq!(kept, (first..100).collect::<Vec<_>>());
        assert!(kept.len() > 3 * 4, "{kept:?}");
        assert!(!audit.rotated(keep + 1).exists());
    }

    #[test]
    fn writers_sharing_the_log_never_split_or_lose_a_record() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (max, keep) = (4096, Rotation::MAX_KEEP);
        let audit = Audit::with_rotation(
            dir.path(),
            Rotation {
                max_bytes: max,
                keep,
            },
        );
        let writers: Vec<_> = (0..4u64)
            .map(|w| {
                let audit = audit.clone();
                std::thread::spawn(move || {
                    for i in 0..250 {
                        let record = serde_json::json!({"n": w * 1000 + i, "pad": "y".repeat(50)});
                        audit.append(&record).expect("append");
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().expect("writer");
        }
        let mut kept = records(dir.path(), keep, max);
        kept.sort_unstable();
        let want: Vec<u64> = (0..4)
            .flat_map(|w| (0..250).map(move |i| w * 1000 + i))
            .collect();
        assert_eq!(kept, want);
    }

    #[test]
    fn without_a_bound_the_audit_log_is_never_rotated() {
        let dir = tempfile::tempdir().expect("temp dir");
        let audit = Audit::with_rotation(
            dir.path(),
            Rotation {
                max_bytes: 0,
                keep: 2,
            },
        );
        for n in 0..50u64 {
            audit.append(&serde_json::json!({"n": n})).expect("append");
        }
        assert_eq!(
            records(dir.path(), 2, u64::MAX),
            (0..50).collect::<Vec<_>>()
        );
        assert!(!audit.rotated(1).exists());
    }

    #[test]
    fn a_corrupt_state_is_set_aside_and_a_missing_one_is_empty() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(load(dir.path()).expect("load"), Persisted::default());
        for junk in ["", "{", "null", "[1]"] {
            std::fs::write(dir.path().join(STATE_FILE), junk).expect("write");
            assert_eq!(load(dir.path()).expect("load"), Persisted::default());
            assert!(!dir.path().join(STATE_FILE).exists(), "{junk:?}");
        }
        let state = Persisted {
            applied_revision: Some("abc".into()),
        };
        save(dir.path(), &state).expect("save");
        assert_eq!(load(dir.path()).expect("load"), state);
    }
}
