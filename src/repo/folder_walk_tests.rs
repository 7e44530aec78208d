//! The parallel walk and reads equal a walk that reads one file after the
//! other (the walk rolesync had before them), over random folders with
//! refusals and bounds; a link or FIFO opened in place of a file is
//! refused, never followed nor waited on.

use std::path::Path;

use super::*;
use crate::repo::folder;
use crate::repo::test_util::{Rng, assert_same_read};
use crate::snapshot::Input;

/// The sequential walk: a folder's entries in the order listed, each file
/// read as it is met, then the subfolders, the last listed first.
fn sequential(root: &Path, limits: Limits) -> Result<Input, Error> {
    let mut input = Input {
        limits,
        ..Input::default()
    };
    let mut total = 0;
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        for entry in std::fs::read_dir(&dir).expect("list") {
            let entry = entry.expect("entry");
            let name = entry.file_name().into_string().expect("UTF-8");
            let path = match rel.is_empty() {
                true => name.clone(),
                false => format!("{rel}/{name}"),
            };
            let file_type = entry.file_type().expect("type");
            let expected = crate::repo::expected_kind(&path);
            if let Some(kind) = expected
                && !file_type.is_dir()
                && !file_type.is_file()
            {
                let what = special_kind(file_type);
                return Err(Error::Refused { path, what, kind });
            }
            if file_type.is_dir() {
                if !SKIP.contains(&name.as_str()) {
                    stack.push(path);
                }
            } else if file_type.is_file() && expected == Some("file") {
                let mut bytes = std::fs::read(entry.path()).expect("read");
                bytes.truncate(limits.max_file_bytes + 1);
                total += bytes.len();
                input.files.insert(path.clone(), bytes.into());
                if total > limits.max_total_bytes {
                    input.incomplete = Some(path);
                    input.revision = folder::digest(&input);
                    return Ok(input);
                }
            }
        }
    }
    input.revision = folder::digest(&input);
    Ok(input)
}

/// A random configuration folder of about 150 files, some of them links
/// where a file or a folder is expected, some account folders holding
/// more than their `user.xml` (or a folder by that name).
fn random_tree(root: &Path, rng: &mut Rng) {
    for i in 0..150 {
        let rel = match rng.below(3) {
            0 => format!(".polarion/user-management/users/u{i}/user.xml"),
            1 => format!("D{}/p{i}/.polarion/security/user-roles.xml", i % 7),
            _ => format!("D{}/p{i}/.polarion/polarion-project.xml", i % 7),
        };
        let path = root.join(&rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        match rng.below(60) {
            0 => std::os::unix::fs::symlink("/etc/passwd", &path).expect("link"),
            1 => {
                let dir = path.parent().expect("parent");
                std::fs::remove_dir_all(dir).expect("rm");
                std::os::unix::fs::symlink("/tmp", dir).expect("link");
            }
            // An account folder (probed, not listed) with a folder named
            // `user.xml`, or with other files and folders beside it.
            2 if rel.ends_with("/user.xml") => std::fs::create_dir(&path).expect("mkdir"),
            3 if rel.ends_with("/user.xml") => {
                let dir = path.parent().expect("parent");
                std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
                std::fs::write(dir.join("sub/user.xml"), "x").expect("write");
                std::os::unix::fs::symlink("/etc/passwd", dir.join("avatar")).expect("link");
                std::fs::write(&path, vec![b'x'; rng.below(300)]).expect("write");
            }
            _ => std::fs::write(&path, vec![b'x'; rng.below(300)]).expect("write"),
        }
    }
}

#[test]
fn the_parallel_read_equals_the_sequential_walk() {
    let mut refused = 0;
    let mut incomplete = 0;
    for seed in 1..=24u64 {
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        random_tree(tmp.path(), &mut rng);
        let limits = Limits {
            max_file_bytes: 200,
            max_total_bytes: [1_000, 10_000, 30_000, 1 << 20][rng.below(4)],
            ..Limits::default()
        };
        let ours = folder::read(tmp.path(), limits);
        let theirs = sequential(tmp.path(), limits);
        assert_same_read(&ours, &theirs, &format!("seed {seed}"));
        refused += usize::from(ours.is_err());
        incomplete += usize::from(ours.is_ok_and(|i| i.incomplete.is_some()));
    }
    assert!(refused > 2 && incomplete > 2, "{refused} {incomplete}");
}

#[test]
fn a_link_or_fifo_opened_as_a_file_is_refused_and_never_waited_on() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink("/etc/passwd", &link).expect("link");
    let fifo = tmp.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    for (path, what) in [(&link, "a symbolic link"), (&fifo, "a FIFO")] {
        match read_limited(path, "x/user.xml", 100) {
            Err(Error::Refused {
                path,
                what: w,
                kind,
            }) => {
                assert_eq!((path.as_str(), w, kind), ("x/user.xml", what, "file"));
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}
