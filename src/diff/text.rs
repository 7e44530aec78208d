//! The text form of a diff: a one-screen summary (counts per part, the
//! largest changes), then the full list.

use std::fmt::Write as _;

use super::types::{Diff, GroupChange, Part, Tally};
use crate::diag::escape_controls;

/// A part in the summary: name, total, unevaluated, largest changes.
type PartLine<'a> = (&'a str, usize, usize, &'a [(String, Tally)]);

/// Counts per part and the `TOP` largest changes of each.
pub(super) fn summary(d: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "rolesync diff {} -> {}", d.from, d.to);
    if d.is_empty() {
        out.push_str("no change of role groups, SVN access or permissions\n");
        notes(&mut out, d);
        return out;
    }
    let parts: [PartLine; 3] = [
        (
            "role groups",
            d.groups.total,
            d.groups.unevaluated,
            &d.top_groups,
        ),
        (
            "SVN access",
            d.paths.total,
            d.paths.unevaluated,
            &d.top_paths,
        ),
        (
            "permissions",
            d.permissions.total,
            d.permissions.unevaluated,
            &d.top_permissions,
        ),
    ];
    for (name, total, unevaluated, top) in parts {
        let _ = write!(out, "{name}: {total} change(s)");
        if unevaluated > 0 {
            let _ = write!(out, " ({unevaluated} not evaluated: bound reached)");
        }
        out.push('\n');
        for (what, t) in top {
            let what = escape_controls(what);
            let _ = writeln!(out, "  {what}: +{} -{}", t.gained, t.lost);
        }
    }
    let _ = writeln!(
        out,
        "logins losing access: {}; gaining: {}",
        d.losing.len(),
        d.gaining.len()
    );
    notes(&mut out, d);
    out
}

fn notes(out: &mut String, d: &Diff) {
    for note in &d.notes {
        let _ = writeln!(out, "note: {note}");
    }
}

/// One role-group change as `full` lists it: `login joins|leaves group (reasons)`.
pub(super) fn group_line(c: &GroupChange) -> String {
    let why: Vec<String> = c.reasons.iter().map(ToString::to_string).collect();
    format!(
        "{} {} {} ({})",
        c.login,
        c.direction.as_str(),
        c.group,
        why.join(", ")
    )
}

/// The summary, then every listed change, one a line.
pub(super) fn full(d: &Diff) -> String {
    let mut out = summary(d);
    section(&mut out, "role groups", &d.groups, group_line);
    section(&mut out, "SVN access", &d.paths, |c| {
        let repo = c
            .repository
            .as_deref()
            .map_or(String::new(), |r| format!("{r}:"));
        // Names and paths of a hand-written access file: never raw.
        let (login, place) = (escape_controls(&c.login), escape_controls(&c.path));
        format!(
            "{login} {}{place}: {} -> {}",
            escape_controls(&repo),
            c.from,
            c.to
        )
    });
    section(&mut out, "permissions", &d.permissions, |c| {
        let ctx = c.project.as_ref().map_or("global", |p| p.as_str());
        format!(
            "{} {} in {ctx}: {} -> {}",
            c.login,
            c.permission,
            c.from.as_str(),
            c.to.as_str()
        )
    });
    out
}

fn section<T>(out: &mut String, name: &str, part: &Part<T>, line: impl Fn(&T) -> String) {
    if part.total == 0 {
        return;
    }
    let _ = writeln!(out, "\n{name}:");
    for c in &part.listed {
        let _ = writeln!(out, "  {}", line(c));
    }
    if part.total > part.listed.len() {
        let _ = writeln!(out, "  ... and {} more", part.total - part.listed.len());
    }
}
