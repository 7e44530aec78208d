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
mod types;
mod view;

pub use answer::canonicalize;
pub use types::{Access, Authz, Listed};

#[cfg(test)]
mod tests;
