//! `maintainer_lockout`: no change may take write access to the
//! configuration from every account that can commit it.
//!
//! * SVN (the access file governs the configuration repository too): the
//!   logins with `rw` at the configuration's path (`config_repository`,
//!   `config_path`) under the access file in force must not all lose it,
//!   evaluated with `authz::Authz`, exactly as Subversion will.
//! * Any source, when `maintainers` is given: at least one of them must
//!   stay an active account (a user.xml that is not disabled, or accounts
//!   not managed in this repository). For Git this is the only check: the
//!   Git server, not the access file, decides who may push.

use std::collections::BTreeSet;

use super::change::{Change, Target, names};
use crate::authz::{Access, Authz};
use crate::diag::{Code, Diagnostic};
use crate::snapshot::{ACCESS_FILE, RAILS_FILE, Snapshot};

pub fn check(change: &Change) -> Vec<Diagnostic> {
    let rails = &change.old.rails;
    if !rails.maintainer_lockout {
        return Vec::new();
    }
    let mut diags = Vec::new();
    if let Target::Svn { repository, path } = change.target {
        let repository = rails.config_repository.as_deref().unwrap_or(repository);
        let path = rails.config_path.as_deref().unwrap_or(path);
        diags.extend(svn_writers(change, repository, path));
    }
    diags.extend(maintainers(change));
    diags
}

fn svn_writers(change: &Change, repository: &str, path: &str) -> Option<Diagnostic> {
    let repo = (!repository.is_empty()).then_some(repository);
    if a_writer_keeps_rw(change, repo, path) {
        return None;
    }
    let old = Authz::load(&change.old.access, None).ok()?;
    let new = Authz::load(&change.new.access, None).ok()?;
    let has_rw =
        |authz: &Authz, u: &str| authz.access(Some(u), repo, Some(path)) == Access::ReadWrite;
    // Who may commit now: every user the access file in force names, and
    // every account of the configuration (`*` or `$authenticated` may give
    // `rw` to users it does not name).
    let accounts = change.old.model.active_accounts();
    let mut candidates: BTreeSet<&str> = old.named_users().collect();
    candidates.extend(accounts.iter().map(|l| l.as_str()));
    // The first writer who keeps `rw` ends the check (the usual case): the
    // rest are evaluated only for a refusal, which names them.
    let mut before: BTreeSet<&str> = BTreeSet::new();
    for u in candidates.into_iter().filter(|u| has_rw(&old, u)) {
        if has_rw(&new, u) {
            return None;
        }
        before.insert(u);
    }
    if before.is_empty() {
        return None;
    }
    let at = match repo {
        Some(r) => format!("{r}:{path}"),
        None => path.to_owned(),
    };
    Some(
        Diagnostic::file(
            Code::RailMaintainerLockout,
            ACCESS_FILE,
            format!(
                "this change takes write access to the configuration ({at}) from every account that has it: {}",
                names(before.iter().copied())
            ),
        )
        .with_note("keep `rw` at the configuration's path for at least one of them, or nobody can commit the fix")
        .with_note(format!(
            "the repository and path are `config_repository` and `config_path` under [rails] in {RAILS_FILE}; \
             to allow it on purpose, first commit `maintainer_lockout = false` there"
        )),
    )
}

/// Whether some user or account with `rw` at the configuration's path
/// keeps it, asked of the two access files reduced to what decides access
/// there (`diff::reduced_at`: the same answers, for a fraction of the
/// load). `true` is the whole files' answer (the users the reduced file
/// names are among those the whole file names); `false` leaves the
/// decision, and the names a refusal lists, to the whole files.
fn a_writer_keeps_rw(change: &Change, repo: Option<&str>, path: &str) -> bool {
    let load = |s: &Snapshot| {
        crate::diff::reduced_at(&s.access, s.access_block.as_ref(), repo, path)
            .and_then(|t| Authz::load(&t, None).ok())
    };
    let (Some(old), Some(new)) = (load(change.old), load(change.new)) else {
        return false;
    };
    let has_rw =
        |authz: &Authz, u: &str| authz.access(Some(u), repo, Some(path)) == Access::ReadWrite;
    let keeps = |u: &str| has_rw(&old, u) && has_rw(&new, u);
    old.named_users().any(keeps) || change.old.model.any_active_account(|l| keeps(l.as_str()))
}

fn maintainers(change: &Change) -> Option<Diagnostic> {
    let listed = &change.old.rails.maintainers;
    let active = |s: &Snapshot| listed.iter().any(|m| s.model.is_active(m));
    // Only the step from some to none: a list of which nobody was active
    // is no lock-out this change makes.
    if !active(change.old) || active(change.new) {
        return None;
    }
    Some(
        Diagnostic::file(
            Code::RailMaintainerLockout,
            RAILS_FILE,
            format!(
                "this change leaves none of the maintainers an active account: {}",
                names(listed.iter().map(|l| l.as_str()))
            ),
        )
        .with_note("keep at least one of them with a user.xml that is not disabled")
        .with_note(format!(
            "the list is `maintainers` under [rails] in {RAILS_FILE}; the list in force judges a change"
        )),
    )
}
