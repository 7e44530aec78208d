//! What a file event under a source's watched paths says of its head: the
//! daemon's watcher asks [`HeadFiles::meaning`] of every event, so that the
//! rename that completes a commit starts a reload at once while the rest of
//! the commit's writes start none. A leaf: paths in, a value out.
//!
//! A Git commit or push writes its objects first and moves a ref last, by
//! renaming `<ref>.lock` onto `<ref>` (`refs/…`, `packed-refs`, `HEAD`); an
//! FSFS commit writes its revision first and bumps `db/current` last, by
//! renaming a temporary file onto it. A reader that resolves the head after
//! that rename finds the whole commit, and one that resolves it before
//! finds the one before, whole: so the rename alone decides. The index,
//! the lock files, `COMMIT_EDITMSG`, `txn-current`, `rep-cache.db` and
//! their like never change what a reader resolves, and mean nothing.

use std::path::{Path, PathBuf};

/// One path to watch for file events, and whether below it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub path: PathBuf,
    pub recursive: bool,
}

/// What happened to a path, as far as the head is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    /// Renamed onto or away from the path.
    Renamed,
    Removed,
    /// Created, written or changed in place (its attributes too).
    Written,
}

/// What an event means for the head, weakest first (an event of several
/// paths means the strongest of theirs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Meaning {
    /// Nothing a reader of the head would see (objects, the index, locks).
    Nothing,
    /// Something a reload may need to see, not known to be whole yet (a
    /// plain folder's change, a head file written in place, a new folder
    /// under `refs/`): reload once the burst is quiet.
    Changed,
    /// The head was replaced whole (a ref or `db/current` renamed onto, or
    /// removed): reload now, without waiting for quiet.
    Moved,
}

/// The files whose replacement moves a source's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadFiles {
    /// A plain folder: every file may matter and none moves at once.
    Folder,
    /// The Git folder: `HEAD`, `packed-refs` and everything under `refs/`.
    Git(PathBuf),
    /// The `db/` folder of an FSFS repository: `current`.
    Svn(PathBuf),
}

impl HeadFiles {
    /// What `touch` on `path` means for the head.
    pub fn meaning(&self, path: &Path, touch: Touch) -> Meaning {
        let is_head = match self {
            HeadFiles::Folder => return Meaning::Changed,
            HeadFiles::Git(git_dir) => is_git_ref(git_dir, path),
            HeadFiles::Svn(db) => path == db.join("current"),
        };
        match (is_head, touch) {
            (false, _) => Meaning::Nothing,
            (true, Touch::Renamed | Touch::Removed) => Meaning::Moved,
            (true, Touch::Written) => Meaning::Changed,
        }
    }
}

/// Whether `path` is `HEAD`, `packed-refs` or under `refs/` in `git_dir`,
/// and no lock file (`*.lock`: a ref being written, not yet in force).
fn is_git_ref(git_dir: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(git_dir) else {
        return false;
    };
    let lock = path.extension().is_some_and(|e| e == "lock");
    let named = rel == Path::new("HEAD") || rel == Path::new("packed-refs");
    !lock && (named || rel.starts_with("refs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(rel: &str, touch: Touch) -> Meaning {
        HeadFiles::Git(PathBuf::from("/r/.git/")).meaning(&Path::new("/r/.git").join(rel), touch)
    }

    #[test]
    fn a_ref_renamed_into_place_moves_the_head() {
        for rel in ["refs/heads/main", "refs/heads/a/b", "packed-refs", "HEAD"] {
            assert_eq!(git(rel, Touch::Renamed), Meaning::Moved, "{rel}");
            assert_eq!(git(rel, Touch::Removed), Meaning::Moved, "{rel}");
        }
    }

    #[test]
    fn a_ref_written_in_place_waits_for_quiet() {
        assert_eq!(git("refs/heads/main", Touch::Written), Meaning::Changed);
        assert_eq!(
            git("refs/heads/new-folder", Touch::Written),
            Meaning::Changed
        );
    }

    #[test]
    fn locks_the_index_and_other_git_files_mean_nothing() {
        for rel in [
            "refs/heads/main.lock",
            "HEAD.lock",
            "packed-refs.lock",
            "index",
            "index.lock",
            "next-index-18014.lock",
            "COMMIT_EDITMSG",
            "ORIG_HEAD",
            "AUTO_MERGE.lock",
            "objects/ab/cdef",
            "logs/HEAD",
            "refsx",
        ] {
            for touch in [Touch::Renamed, Touch::Removed, Touch::Written] {
                assert_eq!(git(rel, touch), Meaning::Nothing, "{rel} {touch:?}");
            }
        }
        let elsewhere = HeadFiles::Git(PathBuf::from("/r/.git"));
        let other = Path::new("/s/.git/refs/heads/main");
        assert_eq!(elsewhere.meaning(other, Touch::Renamed), Meaning::Nothing);
    }

    #[test]
    fn only_db_current_moves_an_svn_head() {
        let heads = HeadFiles::Svn(PathBuf::from("/s/db"));
        let at = |name: &str, touch| heads.meaning(&Path::new("/s/db").join(name), touch);
        assert_eq!(at("current", Touch::Renamed), Meaning::Moved);
        assert_eq!(at("current", Touch::Written), Meaning::Changed);
        for name in [
            "txn-current",
            "svn-xQovu6",
            "write-lock",
            "rep-cache.db",
            "revs",
        ] {
            assert_eq!(at(name, Touch::Renamed), Meaning::Nothing, "{name}");
        }
    }

    #[test]
    fn every_event_in_a_folder_waits_for_quiet() {
        let touched = Path::new("/f/.polarion/security/user-roles.xml");
        for touch in [Touch::Renamed, Touch::Removed, Touch::Written] {
            assert_eq!(HeadFiles::Folder.meaning(touched, touch), Meaning::Changed);
        }
    }
}
