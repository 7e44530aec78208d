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
            let (refused, diff) = apply_diffing(
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

/// `rails::apply` with the diff of `old` and the report's snapshot computed
/// by `diff` on a second thread, beside the rails that do not read it
/// (`rails::check_undiffed`); the mass-change rail then reads what
/// `as_diff` finds in its result (`rails::apply_checked`). The judge of a
/// change takes the longer of the two, not their sum (the daemon's reload
/// and the hooks' verdicts call this). Whether the rails refused, and
/// `diff`'s result (`None` without both snapshots: nothing to compare,
/// nothing computed).
pub fn apply_diffing<D: Send>(
    report: &mut snapshot::Report,
    old: Option<&snapshot::Snapshot>,
    target: &crate::rails::Target,
    diff: impl FnOnce(&snapshot::Snapshot, &snapshot::Snapshot) -> D + Send,
    as_diff: impl Fn(&D) -> Option<&crate::diff::Diff>,
) -> (bool, Option<D>) {
    let (Some(new), Some(old)) = (&report.snapshot, old) else {
        return (false, None);
    };
    let undiffed = crate::rails::Change {
        old,
        new,
        target,
        diff: None,
    };
    let (computed, diags) = std::thread::scope(|s| {
        let differ = s.spawn(|| diff(old, new));
        let diags = crate::rails::check_undiffed(&undiffed);
        // A diff that panicked panics here, as it would have inline.
        let computed = differ
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (computed, diags)
    });
    let refused = crate::rails::apply_checked(report, old, target, diags, as_diff(&computed));
    (refused, Some(computed))
}

#[cfg(test)]
#[path = "validate_verdict_tests.rs"]
mod tests;
