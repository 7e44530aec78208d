//! The lowering context: the files read ([`ConfigFiles`]) and what every
//! step shares ([`Cx`]: the diagnostics so far, the limits, the logins
//! seen). A leaf of `lower`.

use std::ops::Range;

use super::super::types::Loc;
use crate::diag::{Code, Diagnostic, Source};
use crate::ident::{IdentError, Login};
use crate::limits::Limits;
use crate::xml::{self, Spanned};

/// A file that was read: its source and its wire content (shared: the
/// snapshot's memo keeps it for the next build).
#[derive(Debug)]
pub struct Read<'s, T> {
    pub src: &'s Source<'s>,
    pub value: std::sync::Arc<T>,
}

/// The files of one project folder.
#[derive(Debug)]
pub struct ProjectFiles<'s> {
    /// The project folder, relative to the repository root (never empty).
    pub folder: String,
    pub descriptor: Read<'s, xml::ProjectFile>,
    pub user_roles: Option<Read<'s, xml::UserRolesFile>>,
    pub permissions: Option<Read<'s, xml::PermissionsFile>>,
    /// The project's own role definitions (`<folder>/.polarion/security/roles.xml`).
    pub roles: Option<Read<'s, xml::RolesFile>>,
}

/// Every configuration file that could be read, by kind.
#[derive(Debug, Default)]
pub struct ConfigFiles<'s> {
    pub user_roles: Option<Read<'s, xml::UserRolesFile>>,
    pub permissions: Option<Read<'s, xml::PermissionsFile>>,
    pub roles: Option<Read<'s, xml::RolesFile>>,
    pub groups: Option<Read<'s, xml::GroupsFile>>,
    /// `(login folder name, user.xml)`; empty when `kept_accounts` is set.
    pub users: Vec<(&'s str, Read<'s, xml::UserFile>)>,
    /// The generation of the account files read, as the memo of the files
    /// numbers them (the same number: the very same files; unique in the
    /// process); `None` when no memo keeps them.
    pub users_generation: Option<u64>,
    /// The accounts the lowering memo lowered from the account files of
    /// `users_generation`, when a build reads those very files again: then
    /// `users` is left empty and these are the accounts.
    pub kept_accounts: Option<super::part::KeptAccounts>,
    pub projects: Vec<ProjectFiles<'s>>,
    /// The limits names are checked against.
    pub limits: Limits,
    /// What the directory answered (`None`: no directory snapshot).
    pub directory: Option<std::sync::Arc<crate::directory::DirectorySnapshot>>,
}

/// What every lowering step shares: the diagnostics so far, the limits,
/// and every login named anywhere (for the checks across files).
pub(super) struct Cx {
    pub(super) diags: Vec<Diagnostic>,
    pub(super) limits: Limits,
    pub(super) seen_logins: Vec<(Login, Loc)>,
}

/// The code of a refused name: its kind's (`invalid-login`, …), unless it
/// was refused for its length or for a confusable character.
pub(super) fn ident_code(code: Code, e: &IdentError) -> Code {
    match e {
        IdentError::TooLong { .. } => Code::NameTooLong,
        e if e.is_confusable() => Code::ConfusableId,
        _ => code,
    }
}

pub(super) fn loc(src: &Source, span: &Range<usize>) -> Loc {
    let (line, col) = src.line_col(span.start);
    Loc {
        file: src.shared_path(),
        line,
        col,
        offset: span.start,
    }
}

impl Cx {
    pub(super) fn new(limits: Limits) -> Self {
        Cx {
            diags: Vec::new(),
            limits,
            seen_logins: Vec::new(),
        }
    }

    pub(super) fn ident<T>(
        &mut self,
        src: &Source,
        name: &Spanned<String>,
        what: &str,
        code: Code,
        make: fn(&str, &Limits) -> Result<T, IdentError>,
    ) -> Option<T> {
        match make(&name.value, &self.limits) {
            Ok(v) => Some(v),
            Err(e) => {
                // A name too long is shown by its start only.
                let shown = match e {
                    IdentError::TooLong { .. } => format!("{}…", prefix_of(&name.value, 40)),
                    _ => name.value.clone(),
                };
                self.diags.push(src.diag(
                    ident_code(code, &e),
                    name.span.clone(),
                    format!("{what} `{}` {e}", shown.escape_debug()),
                ));
                None
            }
        }
    }
}

/// The first `max` bytes of `s` or fewer, on a character boundary.
pub(super) fn prefix_of(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
