//! rolesync keeps Subversion access files in step with Polarion-style role
//! configuration that administrators commit to a versioned repository.
//!
//! Modules in reading order. The first group is pure (values in, values
//! out: no file system, clock, environment or network); the second does the
//! I/O. `ARCHITECTURE.md` has the map and the invariants.

// pure core
pub mod diag;
pub mod ident;
pub mod xml;
pub mod model;
pub mod authz;
pub mod snapshot;

// I/O shell
pub mod repo;
pub mod publish;
pub mod daemon;
pub mod api;
pub mod cli;
pub mod cmd;
