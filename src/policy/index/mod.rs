//! [`Index`]: the model rearranged once, at load, so that a decision never
//! scans users, roles or files — and the decision itself, written once and
//! run either plainly ([`Index::check`]) or with a recorder that keeps
//! every step ([`Index::explain`]). Both take the same path, so an
//! explanation always ends in the verdict `check` gives.
//!
//! What is indexed: names (roles, projects, permissions) interned to
//! numbers; per login, the roles held globally (the global part), per
//! project and login the roles held there (one part per project), and
//! per login the projects it holds roles in, directly or through user
//! groups; per (file, permission), the grants and denies by role; per
//! file, the custom sets with their parsed queries; per permission, its
//! parent. The parts are shared by `Arc` with the index of the revision
//! before when their inputs are equal ([`IndexMemo`], `memo.rs`), so a
//! change to one project rebuilds that project's part.

mod build;
mod decide;
mod members;
mod memo;
mod record;
mod types;
mod users;
mod view;

pub use memo::IndexMemo;
pub use types::{Index, Request, RequestError};
pub use view::{RoleHeld, UserView};
