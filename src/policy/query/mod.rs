//! The query language of custom sets: the part of Polarion's (Lucene)
//! query syntax that custom-set queries use, parsed once at load time and
//! evaluated against the attributes of the object a request is about.
//!
//! Supported: `field:value`, `field:(a OR b)` (bare terms inside take the
//! field), `AND`, `OR`, `NOT` (also `&&`, `||`, `!`, and a leading `-` or
//! `+`), parentheses, juxtaposition as AND (Polarion's default operator),
//! quoted phrases (`title:"a b"`), a trailing `*` (`id:DP-*`; `field:*`
//! means "has a value"), backslash escapes, and `$[user.id]` (the login
//! the request is for). Values compare ASCII-case-insensitively; a phrase
//! or word matches a whole attribute value; a multi-valued attribute
//! matches when any value does; a missing attribute matches nothing (so
//! `NOT status:x` holds for it). `field.id` falls back to the attribute
//! `field` (`assignee.id:$[user.id]` reads `assignee`).
//!
//! A comma list is a list of alternatives (`status:(inreview,reviewed,approved)`
//! is `status:(inreview OR reviewed OR approved)`; 002, "Custom Set
//! Permissions", Scenario 2); `\,` is a literal comma.
//!
//! Query expanders (`SQL`, `linkedWorkItems`, `PLAN`, `TEST_RECORDS`: 003,
//! "Defining Permissions for Artifact Sets") are decomposed by Polarion into
//! a list of IDs from its database, which rolesync does not have. They are
//! parsed (their argument taken as written, parentheses and quotes
//! balanced) into [`Query::Expander`]; evaluating one reads the caller's
//! expansion from the object attribute `expanded:<set>.<n>` (the n-th
//! expander of the set's query, from 1) or `expanded:<set>` (every expander
//! of the set), whose value is `true` (the object is in the expansion) or
//! `false`. Without it the answer is unknown ([`Query::eval`] gives `None`),
//! never a silent non-match.
//!
//! Refused (a load-time diagnostic): unbalanced parentheses or quotes, a
//! term without a field, an operator without an operand, wildcards other
//! than one trailing `*`, ranges, and variables other than `$[user.id]`.
//!
//! The parser recurses once per `(` and per `NOT` (`!`, `-`), and counts:
//! nesting deeper than `max_query_depth` (32 by default, never more than
//! [`MAX_QUERY_DEPTH_CEILING`]) is refused before the next level is
//! entered, so no query can overflow the stack; evaluation and drop then
//! recurse no deeper than the parser did.

mod parse;
mod types;

pub use parse::parse_within;
pub use types::*;

#[cfg(test)]
mod tests;
