//! The immutable, validated model of a configuration at one revision.
//!
//! [`lower`] turns the wire types read from the files into a [`Model`]:
//! every name validated into its newtype, every cross-reference checked,
//! every problem collected as a diagnostic. The model derives no serde: it
//! is not a wire format.

mod group_memo;
mod groups;
mod lower;
mod types;

pub use group_memo::GroupMemo;
pub use lower::directory::{MAX_INVALID_MEMBERS_SHOWN, group_ref};
pub use lower::{ConfigFiles, KeptAccounts, LowerMemo, ProjectFiles, Read, lower, lower_with};
pub use types::*;
