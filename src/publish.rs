//! Atomic publication of the access file.
//!
//! Subversion servers read the access file at every connection; a partly
//! written file locks everybody out or, worse, grants a valid prefix. So the
//! file is only ever replaced by rename: write a temporary file in the same
//! folder, fsync it, rename it over the target, fsync the folder. The
//! target's permission bits are kept. Identical bytes are not rewritten,
//! which keeps the file's inode and mtime and Subversion's parse cache warm.

use std::io::Write as _;
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
#[error("cannot publish {path}: {source}")]
pub struct Error {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Replace `target` with `bytes` atomically, unless it already holds them.
pub fn publish(target: &Path, bytes: &[u8]) -> Result<Published, Error> {
    let err = |source| Error {
        path: target.to_owned(),
        source,
    };
    match std::fs::read(target) {
        Ok(current) if current == bytes => return Ok(Published::Unchanged),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| err(std::io::Error::other("the target has no file name")))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".rolesync-{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        if let Ok(meta) = std::fs::metadata(target) {
            file.set_permissions(meta.permissions())?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, target)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(Published::Written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn writes_new_file_then_keeps_identical_bytes_untouched() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("access");
        assert_eq!(
            publish(&target, b"[/]\n").expect("publish"),
            Published::Written
        );
        assert_eq!(std::fs::read(&target).expect("read"), b"[/]\n");
        let before = std::fs::metadata(&target).expect("meta");
        assert_eq!(
            publish(&target, b"[/]\n").expect("publish"),
            Published::Unchanged
        );
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
        assert_eq!(
            publish(&target, b"new").expect("publish"),
            Published::Written
        );
        assert_eq!(std::fs::read(&target).expect("read"), b"new");
        let mode = std::fs::metadata(&target)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o640);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["access"]);
    }
}
