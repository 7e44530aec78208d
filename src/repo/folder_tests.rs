//! The stamped folder read equals the full read over random edits, and
//! reuses the bytes of the files that did not change.

use std::collections::BTreeMap;

use super::*;
use crate::repo::test_util::{Rng, assert_same_read};

const FILES: &[&str] = &[
    ".polarion/user-management/users/ann/user.xml",
    ".polarion/user-management/users/bob/user.xml",
    ".polarion/security/user-roles.xml",
    "A/p1/.polarion/security/user-roles.xml",
    "A/p1/.polarion/polarion-project.xml",
    "A/p2/.polarion/polarion-project.xml",
    "A/notes.txt",
];

/// One random edit; every write changes the file's size (the stamps
/// cannot tell a same-size write within one timestamp tick, which the
/// racy rule leaves to the next read).
fn edit(root: &Path, rng: &mut Rng, sizes: &mut BTreeMap<&'static str, usize>) {
    let f = FILES[rng.below(FILES.len())];
    let path = root.join(f);
    let _ = std::fs::create_dir_all(path.parent().expect("parent"));
    match rng.below(10) {
        0 => {
            let _ = std::fs::remove_file(&path);
        }
        1 => {
            let _ = std::fs::remove_file(&path);
            let _ = std::os::unix::fs::symlink("/etc/passwd", &path);
        }
        _ => {
            let _ = std::fs::remove_file(&path);
            let size = sizes.entry(f).or_insert(4);
            *size += 1 + rng.below(40);
            std::fs::write(&path, vec![b'x'; *size]).expect("write");
        }
    }
}

#[test]
fn stamped_reads_equal_full_reads_over_random_edits() {
    let limits = Limits {
        max_file_bytes: 100,
        max_total_bytes: 400,
        ..Limits::default()
    };
    let mut reused = 0;
    for seed in 1..=8u64 {
        let tmp = tempfile::tempdir().expect("temp dir");
        let stamps = Stamps::default();
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut sizes = BTreeMap::new();
        let mut prev: Option<Input> = None;
        for step in 0..40 {
            for _ in 0..1 + rng.below(2) {
                edit(tmp.path(), &mut rng, &mut sizes);
            }
            let full = read(tmp.path(), limits);
            let before = stamps.0.lock().expect("stamps").clone();
            // Every file stamped, however recent (the edits change sizes).
            let inc = read_stamped(tmp.path(), prev.take(), limits, &stamps, i64::MAX);
            assert_same_read(&inc, &full, &format!("seed {seed} step {step}"));
            if let (Some((_, old)), Ok(now)) = (before, &inc) {
                reused += now.files.keys().filter(|p| old.contains_key(*p)).count();
            }
            prev = inc.ok();
        }
    }
    assert!(reused > 200, "{reused}");
}

#[test]
fn a_file_changed_just_now_is_read_again_next_time() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = tmp.path().join(".polarion/security/user-roles.xml");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, "one").expect("write");
    let stamps = Stamps::default();
    let first = read_newest(tmp.path(), None, Limits::default(), &stamps).expect("read");
    // The same size, within the same second: only the racy rule sees it.
    std::fs::write(&path, "two").expect("write");
    let second = read_newest(tmp.path(), Some(first), Limits::default(), &stamps).expect("read");
    assert_eq!(second.files[".polarion/security/user-roles.xml"], b"two");
}
