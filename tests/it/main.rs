//! The one integration-test binary: the real `rolesync` binary against real
//! config trees, Git and SVN repositories made in temporary folders.

mod access_cmd;
mod authz_diff;
