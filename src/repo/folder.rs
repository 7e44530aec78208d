//! The plain-folder backend: walk the folder, read the files rolesync knows.
//!
//! Symbolic links are not followed (a link could point outside the
//! configuration), version-control folders are skipped, and a file larger
//! than the limit is read only up to the limit plus one byte, so that
//! `snapshot::build` reports it without holding it in memory.

use std::io::Read as _;
use std::path::Path;

use super::Error;
use crate::snapshot::{self, Input, Limits};

/// Folders never descended into.
const SKIP: &[&str] = &[".git", ".svn", ".hg", "target", "node_modules"];

pub fn read(root: &Path, limits: Limits) -> Result<Input, Error> {
    let mut input = Input {
        limits,
        ..Input::default()
    };
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
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
                tracing::warn!(folder = %dir.display(), "skipping a name that is not UTF-8");
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
            if file_type.is_dir() {
                if !SKIP.contains(&name.as_str()) {
                    stack.push(path);
                }
            } else if file_type.is_file() && snapshot::classify(&path).is_some() {
                let bytes = read_limited(&entry.path(), limits.max_file_bytes)?;
                input.files.insert(path, bytes);
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
        // The revision a rendered access file names is left out, so that
        // rendering into the folder itself reaches a fixed point.
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
