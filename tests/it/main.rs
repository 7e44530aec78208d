//! The one integration-test binary: the real `rolesync` binary against real
//! config trees, Git and SVN repositories made in temporary folders, and
//! Subversion's own tools as the oracle.

mod access_api;
mod access_cmd;
mod authz_diff;
mod cache;
mod caddy;
mod check;
mod daemon;
mod diagnostics;
mod diff;
mod directory;
mod fleet;
mod follow;
mod follow_remote;
mod git;
mod hook_cache;
mod hook_directory;
mod hooks;
mod http_limits;
mod ldap;
mod limits;
mod logs;
mod nginx;
mod observe;
mod packaging;
mod policy_api;
mod policy_tests;
mod proxy;
mod publish;
mod purity;
mod rails;
mod render;
mod repo_safety;
mod schemes;
mod service;
mod signed;
mod slapd;
mod svn;
mod svnauthz_cli;
mod util;
