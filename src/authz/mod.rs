//! Subversion 1.14 path-based authorization ("authz"): a lossless parser of
//! access files, their validation with located diagnostics, evaluation with
//! `svnauthz` semantics, and the rendering of the generated `[groups]`.
//!
//! * [`parse`] — the INI layer: [`parse::parse`] turns any text into a
//!   [`parse::Doc`] that loses no byte.

pub mod parse;

pub use parse::{Doc, Entry, Section, parse};
