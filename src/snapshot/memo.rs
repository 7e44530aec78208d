//! [`Memo`]: what one build keeps for the next, so that a revision that
//! changed a few files costs in proportion to the change
//! ([`build_cached`](super::build_cached)).
//!
//! Every entry is keyed by CONTENT: the file's path, its exact bytes
//! (compared with the copy the entry keeps, never by a hash, so no crafted
//! collision can bring back a stale parse) and the `Limits` it was read
//! under; each project's lowering is reused when its files are those
//! values and what it reads outside them is unchanged
//! (`model::LowerMemo`); each scope's role groups when what they are
//! made of is equal (`model::GroupMemo`). After a build the memo holds the entries of that build's input
//! only; the rest are evicted, so its size follows the configuration's.

use std::collections::HashMap;
use std::sync::Arc;

use super::parsed::Parsed;
use crate::diag::Source;
use crate::limits::Limits;

/// What `build_cached` keeps from one build for the next. Owned by the
/// caller (the daemon keeps one); `Memo::default()` is empty, and a build
/// with an empty memo is a full build.
#[derive(Default)]
pub struct Memo {
    pub(super) files: FileMemo,
    /// Each project lowered (`model::lower_with`).
    pub(super) lower: crate::model::LowerMemo,
    /// Each scope's role groups (`Model::role_groups_with`).
    pub(super) groups: crate::model::GroupMemo,
    /// Each scope's lines of the access file and the check of the rest
    /// (`snapshot::access`).
    pub(super) access: super::access::AccessMemo,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("stats", &self.stats())
            .finish()
    }
}

/// How much of the last build came from the memo, and what it holds now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Files taken parsed from the memo / parsed afresh.
    pub parse_hits: usize,
    pub parse_misses: usize,
    /// Files the memo holds.
    pub files: usize,
    /// Parts (each project's, the global user-roles.xml's) taken
    /// lowered from the memo / lowered afresh.
    pub project_hits: usize,
    pub project_misses: usize,
    /// Projects the memo holds.
    pub projects: usize,
    /// Scopes whose role groups were taken from the memo / built afresh.
    pub group_hits: usize,
    pub group_misses: usize,
    /// Scopes whose access-file lines were taken from the memo / rendered
    /// afresh; checks of the rest of the access file reused / made (over
    /// the memo's life).
    pub line_hits: usize,
    pub line_misses: usize,
    pub check_hits: usize,
    pub check_misses: usize,
}

impl Memo {
    /// The figures of the last build.
    pub fn stats(&self) -> Stats {
        let (project_hits, project_misses, projects) = self.lower.stats();
        let (group_hits, group_misses, _) = self.groups.stats();
        let (line_hits, line_misses, (check_hits, check_misses)) = self.access.stats();
        Stats {
            parse_hits: self.files.hits,
            parse_misses: self.files.misses,
            files: self.files.entries.len(),
            project_hits,
            project_misses,
            projects,
            group_hits,
            group_misses,
            line_hits,
            line_misses,
            check_hits,
            check_misses,
        }
    }

    /// A memo for one build only (`build`): it keeps no access-file lines,
    /// so the file is rendered in full.
    pub(super) fn one_off() -> Self {
        Memo {
            access: super::access::AccessMemo::off(),
            ..Memo::default()
        }
    }
}

/// Each file parsed: by path, the bytes and limits it was parsed from.
#[derive(Default)]
pub(super) struct FileMemo {
    entries: HashMap<String, FileEntry>,
    hits: usize,
    misses: usize,
}

struct FileEntry {
    text: Box<str>,
    limits: Limits,
    parsed: Arc<Parsed>,
}

/// The entries of the build before, taken from as this build goes.
pub(super) struct Earlier(HashMap<String, FileEntry>);

impl FileMemo {
    /// Start a build: every entry becomes an earlier one, kept again only
    /// when this build's input holds the same file.
    pub(super) fn begin(&mut self) -> Earlier {
        self.hits = 0;
        self.misses = 0;
        Earlier(std::mem::take(&mut self.entries))
    }

    /// The earlier parse of `src` when its path, bytes and limits are
    /// those of `src`; it is kept for the next build as it is.
    pub(super) fn take(
        &mut self,
        earlier: &mut Earlier,
        src: &Source,
        limits: &Limits,
    ) -> Option<Arc<Parsed>> {
        match earlier.0.remove_entry(src.path) {
            Some((path, e)) if *e.text == *src.text && e.limits == *limits => {
                self.hits += 1;
                let parsed = Arc::clone(&e.parsed);
                self.entries.insert(path, e);
                Some(parsed)
            }
            _ => {
                self.misses += 1;
                None
            }
        }
    }

    /// Keep the fresh parse of `src` for the next build.
    pub(super) fn keep(&mut self, src: &Source, limits: &Limits, parsed: Arc<Parsed>) {
        self.entries.insert(
            src.path.to_owned(),
            FileEntry {
                text: src.text.into(),
                limits: *limits,
                parsed,
            },
        );
    }
}
