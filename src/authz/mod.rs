//! Subversion 1.14 path-based authorization ("authz"): a lossless parser of
//! access files, their validation with located diagnostics, evaluation with
//! `svnauthz` semantics, and the rendering of the generated `[groups]`.
//!
//! * [`mod@parse`] — the INI layer: [`parse()`] turns any text into a
//!   [`Doc`] that loses no byte.
//! * [`validate()`] / [`validate_with_groups`] — every condition under which
//!   `svnauthz validate` fails, as located diagnostics;
//!   [`validate_and_cost`] also says what the file costs Subversion to load
//!   ([`Cost`]: distinct users × rule sections, SVN-AUTHZ.md §9.3).
//! * [`render`] — the synchronised access file: generated role groups in
//!   `[groups]`, every other byte copied, the result validated;
//!   [`render_parts`] gives the same from the groups' lines kept between
//!   builds, validating only what is not those lines ([`plain_groups`]).
//! * [`eval`] — [`Authz`]: load once, then [`Authz::access`] answers like
//!   `svnauthz accessof` and [`Authz::list`] tells which sections apply.
//!
//! Internals: `glob` (rule paths and `:glob:` segments), `rules` (what the
//! sections mean, with the checks), `tree` (one prefix trie of all rule
//! sections and its bug-compatible walk).
//!
//! This module is pure: it never touches the file system, processes, the
//! environment, the clock or the network.

mod cost;
pub mod eval;
#[cfg(test)]
mod facts;
mod glob;
pub mod parse;
mod parts;
pub mod render;
mod rules;
mod tree;
mod validate;

pub use cost::Cost;
pub use eval::{Access, Authz, Listed, canonicalize};
pub use parse::{Doc, Entry, Section, parse};
pub use parts::{Parts, PartsMemo, render_parts};
pub use rules::AuthzFile;
pub use rules::sections::plain_groups;
pub use validate::{validate, validate_and_cost, validate_with_groups};

#[cfg(test)]
mod purity {
    /// The module's sources, by name.
    const SOURCES: &[(&str, &str)] = &[
        ("cost.rs", include_str!("cost.rs")),
        ("eval/mod.rs", include_str!("eval/mod.rs")),
        ("eval/answer.rs", include_str!("eval/answer.rs")),
        ("eval/build.rs", include_str!("eval/build.rs")),
        ("eval/rights.rs", include_str!("eval/rights.rs")),
        ("eval/view.rs", include_str!("eval/view.rs")),
        ("eval/tests.rs", include_str!("eval/tests.rs")),
        ("facts.rs", include_str!("facts.rs")),
        ("glob.rs", include_str!("glob.rs")),
        ("parse.rs", include_str!("parse.rs")),
        ("parse/tests.rs", include_str!("parse/tests.rs")),
        ("parts.rs", include_str!("parts.rs")),
        ("parts/tests.rs", include_str!("parts/tests.rs")),
        ("render.rs", include_str!("render.rs")),
        ("render/tests.rs", include_str!("render/tests.rs")),
        ("rules/mod.rs", include_str!("rules/mod.rs")),
        ("rules/entries.rs", include_str!("rules/entries.rs")),
        ("rules/groups.rs", include_str!("rules/groups.rs")),
        ("rules/sections.rs", include_str!("rules/sections.rs")),
        ("tree.rs", include_str!("tree.rs")),
        ("tree/below.rs", include_str!("tree/below.rs")),
        ("validate.rs", include_str!("validate.rs")),
    ];

    #[test]
    fn authz_never_does_io() {
        // Built at run time so that this file does not name them itself.
        let banned: Vec<String> = ["fs", "process", "env", "net", "time", "io"]
            .iter()
            .map(|m| format!("std::{m}"))
            .chain(["tokio", "fs_err", "SystemTime", "Instant"].map(String::from))
            .collect();
        for (file, src) in SOURCES {
            for (n, line) in src.lines().enumerate() {
                for b in &banned {
                    assert!(
                        !line.contains(b.as_str()),
                        "{file}:{}: {b} in the pure authz module",
                        n + 1
                    );
                }
            }
        }
    }
}
