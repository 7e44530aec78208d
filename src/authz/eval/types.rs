//! The types the evaluator's files share: the answers ([`Access`],
//! [`Listed`]), the interned sections, the cached views and [`Authz`]
//! itself. A leaf of `eval`: it imports none of its siblings but `rights`.

use std::fmt;
use std::ops::Range;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, RwLock};

use super::super::rules::{R, W};
use super::super::tree::{FxHashMap, NO_SEQ, Rule, Trie};
use super::rights::{MinMax, Rights};
use crate::diag::Diagnostic;

/// The access a user has: what `svnauthz accessof` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// `no`
    No,
    /// `r`
    Read,
    /// `rw`
    ReadWrite,
}

impl Access {
    /// `no`, `r` or `rw`.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::No => "no",
            Access::Read => "r",
            Access::ReadWrite => "rw",
        }
    }

    pub(super) fn from_bits(bits: u8) -> Access {
        if bits & W != 0 {
            Access::ReadWrite
        } else if bits & R != 0 {
            Access::Read
        } else {
            Access::No
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One section that applies to a user, as [`Authz::list`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The section name as written (without brackets).
    pub section: String,
    /// The header line in the access file.
    pub header: Range<usize>,
    /// The repository of a repository-specific section.
    pub repository: Option<String>,
    /// What the section's lines give the user (they are OR-ed).
    pub access: Access,
    /// For a repository-neutral section: the `[repository:/path]` section for
    /// the same path that applies to the user too and therefore replaces it.
    pub replaced_by: Option<String>,
}

/// A loaded, valid access file (plus global groups file), ready for queries.
/// Queries take `&self` and may run on many threads at once.
#[derive(Debug)]
pub struct Authz {
    pub(super) acls: Vec<Acl>,

    /// Per section: the access it gives an authenticated user it does not
    /// name (through `*`, `$authenticated`, `~$anonymous` and inverted
    /// entries), if it applies to such a user.
    pub(super) base_authn: Vec<Option<u8>>,
    pub(super) users: FxHashMap<Box<str>, u32>,
    pub(super) repos: FxHashMap<Box<str>, u32>,
    pub(super) repo_names: Vec<Box<str>>,
    /// Direct groups of each user (members and alias members).
    pub(super) user_groups: Vec<Vec<u32>>,
    /// Groups that name each group as `@member`.
    pub(super) group_parents: Vec<Vec<u32>>,
    /// Sections with an entry (inverted or not) for the user / the group.
    pub(super) touch_user: Vec<Vec<u32>>,
    pub(super) touch_group: Vec<Vec<u32>>,
    /// Sections that apply to users they do not name, per repository slot
    /// (0: repository-neutral; `1 + repo id`: that repository).
    pub(super) generic: Vec<Vec<u32>>,
    /// Sections that apply to anonymous users, per repository slot.
    pub(super) anonymous: Vec<Vec<u32>>,
    /// Repository-neutral twin (same rule path) of each specific section.
    pub(super) twin: Vec<Option<u32>>,
    /// (neutral section, repository) -> the specific twin.
    pub(super) specific_twin: FxHashMap<(u32, u32), u32>,
    /// Every rule section in one prefix trie.
    pub(super) trie: Trie,
    pub(super) anon_rights: Option<Rights>,
    pub(super) authn_rights: Option<Rights>,
    pub(super) neg_rights: Option<Rights>,
    pub(super) warnings: Vec<Diagnostic>,
    pub(super) bases: RwLock<FxHashMap<BaseKey, Arc<Base>>>,
    pub(super) views: RwLock<FxHashMap<ViewKey, Arc<View>>>,
    pub(super) cached_bytes: AtomicUsize,
}

/// How many bytes of views the cache may hold before it starts afresh.
pub(super) const CACHE_BUDGET: usize = 256 << 20;

/// "This section does not count for the user".
pub(super) const NONE: u8 = 0xff;

pub(super) fn id(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Repository slot of a section: 0 neutral, `1 + id` specific.
pub(super) fn slot(repo: Option<u32>) -> usize {
    repo.map_or(0, |r| r as usize + 1)
}

/// One rule section, interned.
#[derive(Debug)]
pub(super) struct Acl {
    /// `None` for the implicit root rule that denies everybody.
    pub(super) section: Option<(Box<str>, Range<usize>)>,
    pub(super) repo: Option<u32>,
    pub(super) has_anon: bool,
    pub(super) anon: u8,
    pub(super) has_authn: bool,
    pub(super) authn: u8,
    pub(super) aces: Box<[Ace]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Who {
    User(u32),
    Group(u32),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Ace {
    pub(super) who: Who,
    pub(super) inverted: bool,
    pub(super) access: u8,
}

/// Who a view is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Subject {
    Anonymous,
    /// Any authenticated user not named in the files: all such users are
    /// treated alike.
    Unnamed,
    User(u32),
}

/// (subject, repository id or `None` for "neutral sections only").
pub(super) type ViewKey = (Subject, Option<u32>);

/// (anonymous?, repository id or `None`).
pub(super) type BaseKey = (bool, Option<u32>);

/// What every user a section does not name sees in one repository (or
/// every anonymous user).
#[derive(Debug)]
pub(super) struct Base {
    /// Per section: its access, or [`NONE`] when it does not apply or loses
    /// to its repository twin.
    pub(super) eff: Box<[u8]>,
    /// How many applicable neutral / repository sections give no access,
    /// read, read-write (for the repository-wide shortcut).
    pub(super) counts: [[u32; 3]; 2],
    /// The applicable sections, in file order.
    pub(super) applicable: Vec<u32>,
}

/// What one (user, repository) sees: the base, patched.
#[derive(Debug)]
pub(super) struct View {
    pub(super) global: MinMax,
    pub(super) base: Arc<Base>,
    /// (section, access or [`NONE`]) where the user differs from the base,
    /// sorted by section.
    pub(super) overrides: Box<[(u32, u8)]>,
    /// Per trie node: does it reverse segments for this user?
    pub(super) reverses: Mutex<FxHashMap<u32, bool>>,
}

impl View {
    pub(super) fn eff(&self, acl: u32) -> u8 {
        if !self.overrides.is_empty()
            && let Ok(i) = self.overrides.binary_search_by_key(&acl, |&(a, _)| a)
        {
            return self.overrides[i].1;
        }
        self.base.eff[acl as usize]
    }
}

/// A view as the trie walk asks it.
pub(super) struct Walk<'a> {
    pub(super) view: &'a View,
}

impl super::super::tree::View for Walk<'_> {
    fn rule(&self, rules: &[Rule]) -> (i32, u8) {
        let mut best = (NO_SEQ, 0);
        for &(a, seq) in rules {
            if seq > best.0 {
                let acc = self.view.eff(a);
                if acc != NONE {
                    best = (seq, acc);
                }
            }
        }
        best
    }

    fn latest(&self, rules: &[Rule]) -> i32 {
        rules
            .iter()
            .filter(|&&(a, _)| self.view.eff(a) != NONE)
            .map(|&(_, seq)| seq)
            .max()
            .unwrap_or(NO_SEQ)
    }

    fn memo(&self, node: u32, compute: &dyn Fn() -> bool) -> bool {
        if let Some(&v) = self
            .view
            .reverses
            .lock()
            .ok()
            .as_ref()
            .and_then(|m| m.get(&node))
        {
            return v;
        }
        let v = compute();
        if let Ok(mut m) = self.view.reverses.lock() {
            m.insert(node, v);
        }
        v
    }
}
