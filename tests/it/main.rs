//! The one integration-test binary: the real `rolesync` binary against real
//! config trees, Git and SVN repositories made in temporary folders, and
//! Subversion's own tools as the oracle.

mod diagnostics;
mod git;
mod purity;
mod render;
mod util;
