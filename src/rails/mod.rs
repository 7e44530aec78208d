//! Guard rails: what a well-formed change may still not do. Each rail
//! compares the configuration in force (`old`) with the one that would
//! replace it (`new`) and is configured in `old`'s `.polarion/rolesync.toml`
//! ([`config`]): a change to the rails takes effect from the next change,
//! so no change can switch off the rail that would refuse it.
//!
//! * `last_admin` ([`admin`]): no change leaves no active global `admin`;
//! * `maintainer_lockout` ([`lockout`]): no change takes write access to
//!   the configuration from everybody who has it;
//! * `emptied_group` ([`emptied`]): a rule naming a group the change
//!   empties is reported;
//! * `mass_change` ([`mass`]): a change that removes access from more than
//!   a threshold of logins needs the trailer `Rolesync-Allow: mass-change`.
//!
//! [`directory`] is the directory's own rail (`[ldap] max_removed_share`):
//! it judges an answer of LDAP, not a change of the repository, before
//! anything is built on it.
//!
//! Pure: the hooks (`cmd::hook`) and the daemon call [`judge`] with
//! snapshots they built; docs/security.md says what the rails defend.

mod admin;
mod change;
pub mod config;
pub mod directory;
mod emptied;
mod lockout;
mod mass;
pub mod trailer;

pub use admin::admins;
pub use change::{Change, Target};
pub use config::Config;
pub use mass::{OVERRIDE, threshold};

use crate::diag::{self, Diagnostic};
use crate::diff::Diff;
use crate::snapshot::{Report, Snapshot};

/// Every rail's diagnostics for one change (errors refuse it).
pub fn check(change: &Change) -> Vec<Diagnostic> {
    let mut diags = check_undiffed(change);
    diags.extend(mass::check(change));
    diag::sort(&mut diags);
    diags
}

/// The diagnostics of the rails that do not read the diff (all but the
/// mass-change rail), unsorted.
pub fn check_undiffed(change: &Change) -> Vec<Diagnostic> {
    let mut diags: Vec<Diagnostic> = admin::check(change).into_iter().collect();
    diags.extend(lockout::check(change));
    diags.extend(emptied::check(change));
    diags
}

/// Whether `new` may replace `old`: `Ok` with the rails' warnings, or
/// `Err` with the errors of the rails that refuse it. Without a
/// configuration in force (a first push, a daemon that has applied nothing
/// yet) there is nothing to compare, and no rail applies.
pub fn judge(
    old: Option<&Snapshot>,
    new: &Snapshot,
    target: &Target,
) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    let diags = old.map_or_else(Vec::new, |old| {
        check(&Change {
            old,
            new,
            target,
            diff: None,
        })
    });
    if diag::has_errors(&diags) {
        Err(diags.into_iter().filter(Diagnostic::is_error).collect())
    } else {
        Ok(diags)
    }
}

/// The rails applied to a built report (as the hooks and `validate
/// --previous` show them): every rail diagnostic joins the report's, and
/// a refusal leaves the report without a snapshot (invalid). True when
/// the rails refused it.
pub fn apply(
    report: &mut Report,
    old: Option<&Snapshot>,
    target: &Target,
    diff: Option<&Diff>,
) -> bool {
    let (Some(new), Some(old)) = (&report.snapshot, old) else {
        return false;
    };
    let diags = check(&Change {
        old,
        new,
        target,
        diff,
    });
    join(report, diags)
}

/// [`apply`] in two halves, so that a caller can compute the diff beside
/// the first (`daemon::validate_verdict::apply_diffing` does, on a second
/// thread): [`check_undiffed`] gives the rails that do not read the diff,
/// then this adds the mass-change rail's verdict on `diff` and joins them
/// to the report as [`apply`] would. True when the rails refuse.
pub fn apply_checked(
    report: &mut Report,
    old: &Snapshot,
    target: &Target,
    mut undiffed: Vec<Diagnostic>,
    diff: Option<&Diff>,
) -> bool {
    let Some(new) = &report.snapshot else {
        return false;
    };
    undiffed.extend(mass::check(&Change {
        old,
        new,
        target,
        diff,
    }));
    join(report, undiffed)
}

/// The rails' diagnostics `diags` joined to the report's; a refusal
/// leaves it without a snapshot. True when they refuse.
fn join(report: &mut Report, mut diags: Vec<Diagnostic>) -> bool {
    diag::sort(&mut diags);
    let refused = diag::has_errors(&diags);
    if refused {
        report.snapshot = None;
    }
    report.diagnostics.extend(diags);
    diag::sort(&mut report.diagnostics);
    refused
}

#[cfg(test)]
pub(crate) mod tests;
