//! [`Memo`]: what one build keeps for the next, so that a revision that
//! changed a few files costs in proportion to the change
//! ([`build_cached`](super::build_cached)).
//!
//! Every entry is keyed by CONTENT: the file's path (entries in path
//! order, merged with the input's, no hashing), its exact bytes (the
//! very buffer the entry keeps — a reader hands an unchanged file's
//! buffer on, `FileBytes` — or else compared with it byte by byte; never
//! a hash, so no crafted collision can bring back a stale parse) and the `Limits` it was read
//! under (one for the whole memo: other limits empty it); each project's lowering is reused when its files are those
//! values and what it reads outside them is unchanged
//! (`model::LowerMemo`); each scope's role groups when what they are
//! made of is equal (`model::GroupMemo`); each part of the policy index
//! likewise (`policy::IndexMemo`). After a build the memo holds the entries of that build's input
//! only; the rest are evicted, so its size follows the configuration's.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use super::file_bytes::FileBytes;
use super::kind::USERS_DIR;
use super::parsed::Parsed;
use crate::diag::{Diagnostic, Source};
use crate::limits::Limits;
use crate::model::KeptAccounts;

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
    /// The policy index's parts (`policy::Index::build_cached`).
    pub(super) index: crate::policy::IndexMemo,
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
    /// Account files not read at all (among the hits): the very files
    /// kept, whose accounts the lowering memo held.
    pub accounts_kept: usize,
    /// Parts (each project's, the global user-roles.xml's) taken
    /// lowered from the memo / lowered afresh.
    pub project_hits: usize,
    pub project_misses: usize,
    /// Projects the memo holds.
    pub projects: usize,
    /// Scopes whose role groups were taken from the memo / built afresh.
    pub group_hits: usize,
    pub group_misses: usize,
    /// Parts of the policy index (each project's, the global one, the
    /// rules) taken from the memo / built afresh.
    pub index_hits: usize,
    pub index_misses: usize,
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
        let (index_hits, index_misses) = self.index.stats();
        let (line_hits, line_misses, (check_hits, check_misses)) = self.access.stats();
        Stats {
            parse_hits: self.files.hits,
            parse_misses: self.files.misses,
            files: self.files.entries.len() + self.files.users.len(),
            accounts_kept: self.files.users_kept,
            project_hits,
            project_misses,
            projects,
            group_hits,
            group_misses,
            index_hits,
            index_misses,
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
            files: FileMemo::off(),
            access: super::access::AccessMemo::off(),
            ..Memo::default()
        }
    }
}

/// Each file parsed: by path (in path order, the order `build` reads
/// them in), the bytes and limits it was parsed from. The account files
/// (under `USERS_DIR`: most of a large configuration's files) are kept
/// apart, with a generation: while a build's account files are the very
/// ones kept (path and buffer, one look each) and the lowering memo holds
/// the accounts lowered from them, the build takes those accounts and
/// reads none of these files (`begin`).
#[derive(Default)]
pub(super) struct FileMemo {
    /// The files outside `USERS_DIR`.
    entries: Vec<FileEntry>,
    /// The account files.
    users: Vec<FileEntry>,
    /// The generation of `users`: a new number (unique in the process)
    /// whenever they may have changed; 0 before any.
    users_generation: u64,
    /// The readers' diagnostics of `users`, in path order.
    users_diags: Vec<Diagnostic>,
    /// Account files the last build did not read (`Stats::accounts_kept`).
    users_kept: usize,
    /// The limits every entry was read under (one per build).
    limits: Limits,
    hits: usize,
    misses: usize,
    /// A one-off build's: keeps no file (no copy of the files is made).
    off: bool,
}

/// One file parsed: its path, the bytes it was parsed from (under the
/// memo's limits: the input's own buffer, shared, so that the next
/// revision's unchanged file is known by identity), and the parse (which
/// holds its kind, so a kept file is not classified again).
pub(super) struct FileEntry {
    path: Box<str>,
    bytes: FileBytes,
    parsed: Arc<Parsed>,
}

impl FileEntry {
    /// A fresh parse of `src`, whose text is `bytes`, to keep for the next
    /// build.
    pub(super) fn new(src: &Source, bytes: FileBytes, parsed: Arc<Parsed>) -> Self {
        debug_assert!(bytes.is(src.text.as_bytes()));
        FileEntry {
            path: src.path.into(),
            bytes,
            parsed,
        }
    }

    pub(super) fn parsed(&self) -> &Arc<Parsed> {
        &self.parsed
    }

    /// Whether the entry's bytes are `src`'s by identity (the very buffer
    /// it keeps); when they are only equal, the entry takes `src`'s buffer
    /// (`bytes_of` finds it) so that the next build knows it by identity.
    fn refresh(&mut self, src: &Source, bytes_of: impl FnOnce() -> Option<FileBytes>) {
        if !self.bytes.is(src.text.as_bytes())
            && let Some(b) = bytes_of()
        {
            self.bytes = b;
        }
    }
}

/// The entries of the build before, in path order, taken from as this
/// build goes (its files come in path order too: one merge per kind of
/// entry, no hashing): the account files, and the others.
pub(super) struct Earlier {
    rest: std::iter::Peekable<std::vec::IntoIter<FileEntry>>,
    users: std::iter::Peekable<std::vec::IntoIter<FileEntry>>,
}

/// The next generation of account files (never 0).
fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, AtomicOrdering::Relaxed)
}

/// Whether `path` is an account file's (kept with the account files).
fn is_user_path(path: &str) -> bool {
    path.starts_with(USERS_DIR)
}

impl FileMemo {
    /// A memo that keeps no file (a one-off build's).
    pub(super) fn off() -> Self {
        FileMemo {
            off: true,
            ..FileMemo::default()
        }
    }

    /// Start a build under `limits` whose account files are `users`: every
    /// entry becomes an earlier one, kept again only when this build's
    /// input holds the same file; none under other limits. When `users`
    /// are the very account files kept (each path equal and each text the
    /// buffer kept) and `lowered` has the accounts of their generation,
    /// those accounts are returned and the account files stay as kept
    /// (counted as hits): the build reads none of them.
    pub(super) fn begin(
        &mut self,
        limits: &Limits,
        users: &[Source],
        lowered: impl FnOnce(u64) -> Option<KeptAccounts>,
    ) -> (Earlier, Option<KeptAccounts>) {
        self.hits = 0;
        self.misses = 0;
        self.users_kept = 0;
        if self.limits != *limits {
            self.entries.clear();
            self.users.clear();
            self.users_diags.clear();
            self.users_generation = next_generation();
            self.limits = *limits;
        }
        let unchanged = !self.off
            && !users.is_empty()
            && self.users.len() == users.len()
            && (self.users.iter().zip(users))
                .all(|(e, s)| *e.path == *s.path && e.bytes.is(s.text.as_bytes()));
        if !unchanged {
            self.users_generation = next_generation();
        }
        let kept = unchanged.then(|| lowered(self.users_generation)).flatten();
        let earlier_users = match kept {
            Some(_) => {
                self.hits += self.users.len();
                self.users_kept = self.users.len();
                Vec::new()
            }
            None => std::mem::take(&mut self.users),
        };
        let earlier = Earlier {
            rest: std::mem::take(&mut self.entries).into_iter().peekable(),
            users: earlier_users.into_iter().peekable(),
        };
        (earlier, kept)
    }

    /// The generation of the account files kept (`ConfigFiles::users_generation`).
    pub(super) fn users_generation(&self) -> u64 {
        self.users_generation
    }

    /// The readers' diagnostics of the account files kept.
    pub(super) fn users_diags(&self) -> &[Diagnostic] {
        &self.users_diags
    }

    /// After a build that read the account files: note their readers'
    /// diagnostics, for a build that will take them as kept.
    pub(super) fn settle_users(&mut self) {
        self.users_diags = (self.users.iter())
            .flat_map(|e| e.parsed.diags.iter().cloned())
            .collect();
    }

    /// The earlier entry of `src.path` (the files before it in path order
    /// are dropped: `src` must come after the path of the last call), when
    /// its bytes are those of `src`: the very buffer (no byte compared), or
    /// equal bytes (then the entry takes `src`'s buffer from `bytes_of`);
    /// the limits are those of [`begin`](Self::begin). Not kept yet: hand
    /// it to [`keep`](Self::keep).
    pub(super) fn take(
        &mut self,
        earlier: &mut Earlier,
        src: &Source,
        bytes_of: impl FnOnce() -> Option<FileBytes>,
    ) -> Option<FileEntry> {
        // One comparison of the paths per entry passed (they share long
        // prefixes): the earlier ones dropped, the equal one taken.
        let stream = match is_user_path(src.path) {
            true => &mut earlier.users,
            false => &mut earlier.rest,
        };
        let mut same = None;
        while let Some(e) = stream.peek() {
            match e.path.as_ref().cmp(src.path) {
                std::cmp::Ordering::Less => drop(stream.next()),
                std::cmp::Ordering::Equal => {
                    same = stream.next();
                    break;
                }
                std::cmp::Ordering::Greater => break,
            }
        }
        let text = src.text.as_bytes();
        match same {
            Some(mut e) if e.bytes.is(text) || *e.bytes == *text => {
                e.refresh(src, bytes_of);
                self.hits += 1;
                Some(e)
            }
            _ => {
                self.misses += 1;
                None
            }
        }
    }

    /// Whether the files parsed are kept for the next build (when not,
    /// no [`FileEntry`] need be made).
    pub(super) fn keeps(&self) -> bool {
        !self.off
    }

    /// Keep `entry` for the next build; entries are kept in path order.
    pub(super) fn keep(&mut self, entry: FileEntry) {
        let kept = match is_user_path(&entry.path) {
            true => &mut self.users,
            false => &mut self.entries,
        };
        debug_assert!(kept.last().is_none_or(|l| l.path < entry.path));
        kept.push(entry);
    }
}
