//! Subversion 1.14 path-based authorization ("authz"): a lossless parser of
//! access files, their validation with located diagnostics, evaluation with
//! `svnauthz` semantics, and the rendering of the generated `[groups]`.
//!
//! * [`parse`] — the INI layer: [`parse()`] turns any text into a [`Doc`]
//!   that loses no byte.
//! * [`validate()`] / [`validate_with_groups`] — every condition under which
//!   `svnauthz validate` fails, as located diagnostics.
//! * [`render`] — the synchronised access file: generated role groups in
//!   `[groups]`, every other byte copied, the result validated.
//!
//! Internals: `glob` (rule paths and `:glob:` segments), `rules` (what the
//! sections mean, with the checks).
//!
//! This module is pure: it never touches the file system, processes, the
//! environment, the clock or the network.

#[cfg(test)]
mod facts;
mod glob;
pub mod parse;
pub mod render;
mod rules;
mod validate;

pub use parse::{Doc, Entry, Section, parse};
pub use validate::{validate, validate_with_groups};
