//! rolesync keeps Subversion access files in step with Polarion-style role
//! configuration that administrators commit to a versioned repository.
//!
//! Modules in two groups, each in alphabetical order (rustfmt sorts them).
//! The first group is pure (values in, values out: no file system, clock,
//! environment or network; `tests/it/purity.rs` holds it to that); the
//! second does the I/O. `ARCHITECTURE.md` has the map and the invariants.

// pure core
pub mod authz;
pub mod diag;
pub mod diff;
pub mod directory;
pub mod fxhash;
pub mod ident;
pub mod limits;
pub mod model;
pub mod policy;
pub mod policytest;
pub mod rails;
pub mod snapshot;
pub mod xml;

// I/O shell
pub mod api;
pub mod cli;
pub mod cmd;
pub mod current;
pub mod daemon;
pub mod histogram;
pub mod ldap;
pub mod publish;
pub mod repo;
