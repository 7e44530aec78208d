//! `emptied_group`: a rule of the access file that names a group the
//! change empties is reported (a warning by default, an error with
//! `emptied_group = "error"`, nothing with `"off"`). Subversion ignores
//! such a line, so whoever it let in is silently locked out — the failure
//! that takes a server's users out when a group is renamed.
//!
//! A group is empty when, with its subgroups expanded, it names no user
//! or alias (as the authz validator's `authz-empty-group-rule` judges);
//! it is emptied when it had members in the access file in force.

use std::collections::{BTreeMap, BTreeSet};

use super::change::Change;
use crate::authz::parse;
use crate::diag::{Code, Diagnostic, Source};
use crate::snapshot::ACCESS_FILE;

pub fn check(change: &Change) -> Vec<Diagnostic> {
    let Some(severity) = change.old.rails.emptied_group else {
        return Vec::new();
    };
    if none_emptied_by_lines(&change.old.access, &change.new.access) {
        return Vec::new();
    }
    let before = nonempty_groups(&change.old.access);
    let after = nonempty_groups(&change.new.access);
    let emptied: BTreeSet<&str> = before
        .iter()
        .filter(|g| !after.contains(*g))
        .map(String::as_str)
        .collect();
    if emptied.is_empty() {
        return Vec::new();
    }
    // Rule lines are copied from the repository's file: locate them there.
    let text = &change.new.access_source;
    let src = Source::new(ACCESS_FILE, text);
    let doc = parse::parse(text);
    let mut diags = Vec::new();
    for section in doc
        .sections
        .iter()
        .filter(|s| !matches!(s.name.as_str(), "groups" | "aliases"))
    {
        for entry in &section.entries {
            let name = entry.name.trim_start_matches('~');
            let Some(group) = name.strip_prefix('@').filter(|g| emptied.contains(g)) else {
                continue;
            };
            let mut d = src
                .diag(
                    Code::RailEmptiedGroup,
                    entry.name_span.clone(),
                    format!(
                        "this change empties group @{group}, so Subversion ignores the entry '{}' of rule [{}]: \
                         whoever it gave access loses it",
                        entry.name, section.name
                    ),
                )
                .with_note(
                    "if the group was renamed, rename it here too; `emptied_group` under [rails] in \
                     .polarion/rolesync.toml makes this an error or turns it off",
                );
            d.severity = severity;
            diags.push(d);
        }
    }
    diags
}

/// The groups of `text`'s `[groups]` that have members once subgroups are
/// expanded (a user or an `&alias` member counts).
/// Whether the lines that differ between the two access files show that
/// the change empties no group, without reading the rest: the files
/// differ only in `name = value` lines of one `[groups]` section (no
/// header, continuation, `:` separator or CR among them), every group
/// such a line defines in `new` has a member that is no `@group`, and every
/// group the changed lines of `old` define is defined there. A group that
/// was nonempty then still is: its chain of subgroups down to a member
/// either runs through unchanged lines or reaches a changed group, which
/// is nonempty. `false`: [`nonempty_groups`] of both files must answer.
pub(super) fn none_emptied_by_lines(old: &str, new: &str) -> bool {
    if old == new {
        return true;
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (
        old.split_inclusive('\n').collect(),
        new.split_inclusive('\n').collect(),
    );
    let pre = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let room = a.len().min(b.len()) - pre;
    let suf = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    let in_groups = a[..pre]
        .iter()
        .rev()
        .find(|l| l.starts_with('['))
        .is_some_and(|h| h.trim_end_matches(['\n', '\r']) == "[groups]");
    let next_continues = a
        .get(a.len() - suf)
        .is_some_and(|l| l.starts_with([' ', '\t']));
    if pre == 0 || !in_groups || next_continues {
        return false;
    }
    let (Some(before), Some(after)) = (
        defined(&a[pre..a.len() - suf], false),
        defined(&b[pre..b.len() - suf], true),
    ) else {
        return false;
    };
    before.iter().all(|g| after.contains(g))
}

/// The groups `lines` (of a `[groups]` section) define, or `None` for a
/// line that is not a plain `name = value` option (or, with `direct`, one
/// without a member that is no `@group`).
fn defined<'t>(lines: &[&'t str], direct: bool) -> Option<BTreeSet<&'t str>> {
    let mut names = BTreeSet::new();
    for line in lines {
        let line = line.strip_suffix('\n').unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t', '[']) || line.contains('\r') {
            return None;
        }
        let (name, value) = line.split_once('=')?;
        if name.contains(':') {
            return None;
        }
        let mut members = value.split(',').map(str::trim).filter(|m| !m.is_empty());
        if direct && !members.any(|m| !m.starts_with('@')) {
            return None;
        }
        names.insert(name.trim_end());
    }
    Some(names)
}

pub fn nonempty_groups(text: &str) -> BTreeSet<String> {
    let doc = parse::parse(text);
    let mut parents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut stack: Vec<&str> = Vec::new();
    for section in doc.sections.iter().filter(|s| s.name == "groups") {
        for entry in &section.entries {
            let group = entry.name.as_str();
            for member in entry
                .value
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
            {
                match member.strip_prefix('@') {
                    Some(sub) => parents.entry(sub).or_default().push(group),
                    None => stack.push(group),
                }
            }
        }
    }
    let mut nonempty: BTreeSet<String> = BTreeSet::new();
    while let Some(g) = stack.pop() {
        if nonempty.insert(g.to_owned()) {
            stack.extend(parents.get(g).into_iter().flatten().copied());
        }
    }
    nonempty
}

#[cfg(test)]
#[path = "emptied_tests.rs"]
mod tests;
