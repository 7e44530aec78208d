//! Evaluation: who may read or write what, answered exactly as `svnauthz
//! accessof` (Subversion 1.14.2) answers it.
//!
//! [`Authz::load`] checks the file (see [`super::validate`]) and builds
//! indexes: users and groups are interned, each user knows the groups that
//! contain it, every rule section is listed under the users and groups its
//! lines name, and all rule sections go into one prefix trie
//! (`tree`). Nothing is computed per user at load time, unlike
//! Subversion, which evaluates every user named in the file against every
//! section.
//!
//! Answers are computed lazily and cached:
//!
//! * per repository, a *base view*: what each section gives a user that it
//!   does not name (`*`, `$authenticated`, inverted entries), and the same
//!   for anonymous users;
//! * per (user, repository), a *view*: the base view patched with the
//!   sections that name the user or one of its groups (found through the
//!   indexes, never by scanning users or sections), and Subversion's
//!   repository-wide min/max shortcut for that user;
//! * a path query walks the shared trie, asking the view which rules count.
//!
//! Kept bug-compatible with 1.14.2 (SVN-AUTHZ.md §5): the repository-wide
//! shortcut (including the empty-group quirk: an `~@empty` line is dropped
//! from its section but its rights still count in the shortcut for users
//! not named in the file), the root path matched as an empty segment, the
//! suffix-pattern reversal, and `[//x]` as the root rule.

mod answer;
mod build;
mod rights;
mod view;

use std::fmt;
use std::ops::Range;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, RwLock};

use crate::diag::{self, Diagnostic};

use super::rules::{Input, R, W, compile};
use super::tree::{FxHashMap, Trie};

pub use answer::canonicalize;
use build::Acl;
use rights::Rights;
use view::{Base, BaseKey, View, ViewKey};

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

    fn from_bits(bits: u8) -> Access {
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
    acls: Vec<Acl>,

    /// Per section: the access it gives an authenticated user it does not
    /// name (through `*`, `$authenticated`, `~$anonymous` and inverted
    /// entries), if it applies to such a user.
    base_authn: Vec<Option<u8>>,
    users: FxHashMap<Box<str>, u32>,
    repos: FxHashMap<Box<str>, u32>,
    repo_names: Vec<Box<str>>,
    /// Direct groups of each user (members and alias members).
    user_groups: Vec<Vec<u32>>,
    /// Groups that name each group as `@member`.
    group_parents: Vec<Vec<u32>>,
    /// Sections with an entry (inverted or not) for the user / the group.
    touch_user: Vec<Vec<u32>>,
    touch_group: Vec<Vec<u32>>,
    /// Sections that apply to users they do not name, per repository slot
    /// (0: repository-neutral; `1 + repo id`: that repository).
    generic: Vec<Vec<u32>>,
    /// Sections that apply to anonymous users, per repository slot.
    anonymous: Vec<Vec<u32>>,
    /// Repository-neutral twin (same rule path) of each specific section.
    twin: Vec<Option<u32>>,
    /// (neutral section, repository) -> the specific twin.
    specific_twin: FxHashMap<(u32, u32), u32>,
    /// Every rule section in one prefix trie.
    trie: Trie,
    anon_rights: Option<Rights>,
    authn_rights: Option<Rights>,
    neg_rights: Option<Rights>,
    warnings: Vec<Diagnostic>,
    bases: RwLock<FxHashMap<BaseKey, Arc<Base>>>,
    views: RwLock<FxHashMap<ViewKey, Arc<View>>>,
    cached_bytes: AtomicUsize,
}

/// How many bytes of views the cache may hold before it starts afresh.
const CACHE_BUDGET: usize = 256 << 20;

/// "This section does not count for the user".
const NONE: u8 = 0xff;

fn id(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Repository slot of a section: 0 neutral, `1 + id` specific.
fn slot(repo: Option<u32>) -> usize {
    repo.map_or(0, |r| r as usize + 1)
}

impl Authz {
    /// Load an access file and, if given, a global groups file. On success
    /// the warnings are kept ([`Authz::warnings`]); on failure every
    /// diagnostic (errors and warnings) is returned. Diagnostics name the
    /// files `authz` and `groups`; use [`Authz::load_input`] for real paths.
    pub fn load(text: &str, groups_text: Option<&str>) -> Result<Authz, Vec<Diagnostic>> {
        Authz::load_input(
            Input {
                path: "authz",
                text,
            },
            groups_text.map(|text| Input {
                path: "groups",
                text,
            }),
        )
    }

    /// [`Authz::load`] with the paths to use in diagnostics.
    pub fn load_input(
        authz: Input<'_>,
        groups: Option<Input<'_>>,
    ) -> Result<Authz, Vec<Diagnostic>> {
        let (compiled, mut diags) = compile(authz, groups);
        diag::sort(&mut diags);
        if diag::has_errors(&diags) {
            return Err(diags);
        }
        Ok(Authz::build(compiled, diags))
    }

    /// The warnings of the loaded files (entries Subversion ignores).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Every user the files name (as a group member, an alias target or
    /// in a rule), in no particular order.
    pub fn named_users(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(|u| &**u)
    }
}

#[cfg(test)]
mod tests;
