//! `last_admin`: no change may leave the repository with no active account
//! holding the global `admin` role (directly or through a user group) when
//! the configuration in force has one. A configuration that never had an
//! admin (a first import, a tree that does not manage admins) is not
//! refused: only the step from at least one to none is.

use std::collections::BTreeSet;

use super::change::{Change, names};
use crate::diag::{Code, Diagnostic};
use crate::ident::Login;
use crate::model::{Model, Scope};
use crate::snapshot::{RAILS_FILE, USER_ROLES};

/// The global role the rail keeps held.
pub const ADMIN: &str = "admin";

/// The active accounts holding the global `admin` role.
pub fn admins(model: &Model) -> BTreeSet<&Login> {
    admins_in(model).collect()
}

/// [`admins`] as they are found (with repetitions).
fn admins_in(model: &Model) -> impl Iterator<Item = &Login> {
    model
        .assignments
        .iter()
        .filter(|a| a.scope == Scope::Global && a.role.as_str() == ADMIN)
        .flat_map(|a| model.logins_of(&a.holder))
        .filter(|l| model.is_active(l))
}

pub fn check(change: &Change) -> Option<Diagnostic> {
    if !change.old.rails.last_admin {
        return None;
    }
    // The usual change keeps an admin: the first one found ends the check.
    if admins_in(&change.new.model).next().is_some() {
        return None;
    }
    let before = admins(&change.old.model);
    if before.is_empty() {
        return None;
    }
    let names = names(before.iter().map(|l| l.as_str()));
    Some(
        Diagnostic::file(
            Code::RailLastAdmin,
            USER_ROLES,
            format!(
                "this change leaves no active account with the global `{ADMIN}` role (it had: {names})"
            ),
        )
        .with_note(format!(
            "keep `<role name=\"{ADMIN}\"/>` on an active account (directly or through a user group); \
             an account that is disabled or has no user.xml does not count"
        ))
        .with_note(format!(
            "to allow it on purpose, first commit `last_admin = false` under [rails] in {RAILS_FILE}: \
             the rails in force judge a change"
        )),
    )
}
