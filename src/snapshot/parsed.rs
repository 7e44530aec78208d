//! One file read into its wire type, owned (no borrow of its text), so
//! that the [`Memo`](super::memo::Memo) can keep it from one build to the
//! next. A leaf of `snapshot`.

use std::sync::Arc;

use super::kind::FileKind;
use crate::diag::Diagnostic;
use crate::xml;

/// The wire content of one file.
#[derive(Debug)]
pub(super) enum Wire {
    UserRoles(Arc<xml::UserRolesFile>),
    Permissions(Arc<xml::PermissionsFile>),
    Roles(Arc<xml::RolesFile>),
    Groups(Arc<xml::GroupsFile>),
    User(Arc<xml::UserFile>),
    Project(Arc<xml::ProjectFile>),
}

/// A file parsed on its own: what it is, its wire content (`None` when
/// its reader refused it) and the reader's diagnostics.
#[derive(Debug)]
pub(super) struct Parsed {
    pub(super) kind: FileKind,
    pub(super) wire: Option<Wire>,
    pub(super) diags: Vec<Diagnostic>,
}
