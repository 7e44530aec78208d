//! The verdict of a hook on one change, shared by the hook's own build
//! (`cmd::hook`) and the daemon's validation of a hook's change
//! (`daemon::validate`), so that the two cannot drift: a read that failed,
//! an invalid configuration with its diagnostics, a valid one with its
//! warnings, the guard rails' judgement against the configuration in
//! force and the diff summary, printed the same way.

use crate::repo;
use crate::snapshot;

/// How a checked revision is named in the hook's messages.
#[derive(Debug)]
pub struct Named<'a> {
    /// `commit 0123456789ab on main`, `this commit`, `revision 7`.
    pub what: &'a str,
    /// What follows `what` when the configuration there is invalid.
    pub invalid: &'a str,
}

/// What the guard rails judge a change against: the configuration in
/// force (`None`: there is none, so no rail applies) and where it lives.
#[derive(Debug)]
pub struct Rails<'a> {
    pub in_force: Option<&'a snapshot::Snapshot>,
    pub target: crate::rails::Target,
}

/// What [`check`] found (its messages already printed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Valid; `warnings`: it has some.
    Accepted {
        warnings: bool,
    },
    Invalid,
    Unreadable,
}

/// The check every hook makes of one revision or transaction, Git or SVN
/// alike: a read that failed is printed as such, an invalid configuration
/// with its diagnostics, a valid one (with `warn`) with its warnings. With
/// `rails`, the guard rails judge the change too: a refusal is printed like
/// an invalid configuration, their warnings like the others.
pub fn check(
    err: &mut dyn std::io::Write,
    name: &Named,
    built: &mut Result<snapshot::Report, repo::Error>,
    warn: bool,
    rails: Option<&Rails>,
) -> std::io::Result<Verdict> {
    let report = match built {
        Ok(report) => report,
        Err(e) => {
            writeln!(err, "rolesync: {} cannot be read: {e}", name.what)?;
            return Ok(Verdict::Unreadable);
        }
    };
    let (refused, diff) = match rails {
        Some(r) => {
            let (refused, diff) = crate::rails::apply_diffing(
                report,
                r.in_force,
                &r.target,
                |old, new| crate::diff::diff(old, new).ok(),
                Option::as_ref,
            );
            (refused, diff.flatten())
        }
        None => (false, None),
    };
    if report.is_valid() {
        if warn {
            print_warnings(err, name.what, report)?;
        }
        if let Some(diff) = &diff {
            writeln!(err, "rolesync: what {} changes:", name.what)?;
            for line in diff.summary().lines() {
                writeln!(err, "  {line}")?;
            }
        }
        return Ok(Verdict::Accepted {
            warnings: !report.diagnostics.is_empty(),
        });
    }
    if refused {
        writeln!(
            err,
            "rolesync: {} is refused by the guard rails (README, \"Guard rails\"):",
            name.what
        )?;
    } else {
        writeln!(err, "rolesync: {} {}:", name.what, name.invalid)?;
    }
    for d in &report.diagnostics {
        print_diagnostic(err, d)?;
    }
    Ok(Verdict::Invalid)
}

/// Print the warnings of a valid report (nothing when there are none): the
/// push or commit is accepted, but a misspelt role that drops a grant
/// should not go unnoticed.
fn print_warnings(
    err: &mut dyn std::io::Write,
    what: &str,
    report: &snapshot::Report,
) -> std::io::Result<()> {
    let warnings: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .collect();
    if warnings.is_empty() {
        return Ok(());
    }
    writeln!(
        err,
        "rolesync: {what} is accepted, with {} warning{}:",
        warnings.len(),
        if warnings.len() == 1 { "" } else { "s" }
    )?;
    for d in warnings {
        print_diagnostic(err, d)?;
    }
    Ok(())
}

/// One diagnostic as the pusher or committer sees it: its line, then its
/// notes (how to fix or override a rail, a failed policy test's
/// explanation), indented.
fn print_diagnostic(
    err: &mut dyn std::io::Write,
    d: &crate::diag::Diagnostic,
) -> std::io::Result<()> {
    writeln!(err, "{}", d.one_line())?;
    for note in &d.notes {
        writeln!(err, "  note: {}", crate::diag::escape_controls(note))?;
    }
    Ok(())
}
