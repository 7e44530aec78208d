//! [`Index`]: the model rearranged once, at load, so that a decision never
//! scans users, roles or files — and the decision itself, written once and
//! run either plainly ([`Index::check`]) or with a recorder that keeps
//! every step ([`Index::explain`]). Both take the same path, so an
//! explanation always ends in the verdict `check` gives.
//!
//! What is indexed: names (roles, projects, logins, permissions) interned
//! to numbers; per login, the roles held globally and per project (sorted
//! by project), directly or through user groups; per (file, permission),
//! the grants and denies by role; per file, the custom sets with their
//! parsed queries; per permission, its parent.

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
