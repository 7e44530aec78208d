//! What lowering keeps of one file or project ([`Part`], [`Assigned`]):
//! the values `LowerMemo` and the checks across files reuse. A leaf of
//! `lower`.

use std::collections::BTreeMap;

use super::super::types::{Account, Loc, Project, Run};
use crate::diag::Diagnostic;
use crate::ident::Login;
use crate::limits::Limits;
use crate::xml;

/// One project lowered: the project, its assignments and permissions, the
/// logins its assignments name, and its diagnostics by step (they are
/// reported among every project's of the same step).
#[derive(Debug)]
pub(super) struct Part {
    /// The project with its permissions (shared with the model).
    pub(super) project: std::sync::Arc<Project>,
    pub(super) assignments: std::sync::Arc<Run>,
    pub(super) seen_logins: Vec<(Login, Loc)>,
    pub(super) project_diags: Vec<Diagnostic>,
    pub(super) assignment_diags: Vec<Diagnostic>,
    pub(super) permission_diags: Vec<Diagnostic>,
}

/// The assignments of one user-roles.xml, the logins they name, and
/// their diagnostics.
#[derive(Debug, Default)]
pub(super) struct Assigned {
    pub(super) assignments: std::sync::Arc<Run>,
    pub(super) seen_logins: Vec<(Login, Loc)>,
    pub(super) diags: Vec<Diagnostic>,
}

/// The accounts (`users/<login>/user.xml`) lowered: `None` when accounts
/// are not managed here, the logins they name, and their diagnostics.
#[derive(Debug, Default)]
pub(super) struct Accounts {
    pub(super) accounts: Option<std::sync::Arc<BTreeMap<Login, Account>>>,
    pub(super) seen_logins: Vec<(Login, Loc)>,
    pub(super) diags: Vec<Diagnostic>,
}

/// groups.xml lowered: each group's members and, for a group the
/// directory backs, the directory's part; the logins its members name, in
/// file order; its diagnostics.
#[derive(Debug, Default)]
pub(super) struct Groups {
    pub(super) members: BTreeMap<crate::ident::GroupId, std::collections::BTreeSet<Login>>,
    pub(super) backed: BTreeMap<crate::ident::GroupId, super::super::types::DirectoryGroup>,
    pub(super) seen_logins: Vec<(Login, Loc)>,
    pub(super) diags: Vec<Diagnostic>,
}

/// The accounts as a lowering memo lowered them from the very account
/// files a build reads again (`LowerMemo::kept_accounts`), handed to that
/// build's `lower_with` instead of the files (`ConfigFiles::kept_accounts`).
#[derive(Clone)]
pub struct KeptAccounts(pub(super) std::sync::Arc<Accounts>);

impl std::fmt::Debug for KeptAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeptAccounts").finish_non_exhaustive()
    }
}

/// What the accounts were lowered from: the limits and each account
/// folder's name and file (the very value read, compared by identity).
pub(super) struct AccountsKey {
    pub(super) limits: Limits,
    pub(super) users: Vec<(String, std::sync::Arc<xml::UserFile>)>,
}
