//! What lowering keeps of one file or project ([`Part`], [`Assigned`]):
//! the values `LowerMemo` and the checks across files reuse. A leaf of
//! `lower`.

use super::super::types::{Assignment, Loc, PermissionSet, Project};
use crate::diag::Diagnostic;
use crate::ident::Login;

/// One project lowered: the project, its assignments and permissions, the
/// logins its assignments name, and its diagnostics by step (they are
/// reported among every project's of the same step).
#[derive(Debug)]
pub(super) struct Part {
    pub(super) project: Project,
    pub(super) assignments: Vec<Assignment>,
    pub(super) permissions: Option<PermissionSet>,
    pub(super) seen_logins: Vec<(Login, Loc)>,
    pub(super) project_diags: Vec<Diagnostic>,
    pub(super) assignment_diags: Vec<Diagnostic>,
    pub(super) permission_diags: Vec<Diagnostic>,
}

/// The assignments of one user-roles.xml, the logins they name, and
/// their diagnostics.
#[derive(Debug, Default)]
pub(super) struct Assigned {
    pub(super) assignments: Vec<Assignment>,
    pub(super) seen_logins: Vec<(Login, Loc)>,
    pub(super) diags: Vec<Diagnostic>,
}
