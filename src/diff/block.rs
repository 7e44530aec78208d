//! The generated block of a rendered access file, kept apart so that a diff
//! never parses or loads more than it needs.
//!
//! The rendered file holds the role groups between the renderer's BEGIN
//! and END markers, one `name = a, b` line each: most of the file on a
//! large configuration. [`Split::of`] finds them (one scan of lines), so
//! that the parser sees only the rest (the hand-written part), and
//! [`Split::reduced`] writes the text the evaluator loads when only some
//! logins are asked about: the lines of the groups some rule or
//! hand-written group names, with the role-group members not asked about
//! left out. That changes no answer for the logins asked
//! about: their memberships are kept, and a group that loses members keeps
//! one placeholder member, so that no group becomes empty (Subversion
//! drops an inverted entry of an empty group, for everybody).
//!
//! A block that does not look like the renderer's (it always does in a
//! snapshot) is not split: the whole text is then parsed and loaded.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::ops::Range;

use crate::authz::render::{BEGIN_MARKER, END_MARKER};
use crate::fxhash::FxBuild;

type FxHashSet<T> = std::collections::HashSet<T, FxBuild>;

/// A rendered access file, its generated block apart.
#[derive(Debug)]
pub(super) struct Split<'t> {
    text: &'t str,
    /// The lines between the markers (the markers excluded).
    block: Option<Range<usize>>,
    /// The generated groups: (name, members as written).
    pub lines: Vec<(&'t str, &'t str)>,
}

impl<'t> Split<'t> {
    pub fn of(text: &'t str) -> Split<'t> {
        Split::try_of(text).unwrap_or(Split {
            text,
            block: None,
            lines: Vec::new(),
        })
    }

    fn try_of(text: &'t str) -> Option<Split<'t>> {
        let begin = line_starting(text, 0, BEGIN_MARKER)?;
        let start = text[begin..].find('\n').map(|i| begin + i + 1)?;
        let end = line_starting(text, start, END_MARKER)?;
        let mut lines = Vec::new();
        for line in text[start..end].lines() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let (name, value) = line.split_once(" =")?;
            let plain = |s: &str| {
                !s.is_empty()
                    && !s.starts_with(['#', '[', ' ', '\t'])
                    && !s.contains(['=', ':', '\t'])
            };
            if !plain(name) {
                return None;
            }
            lines.push((name, value.trim_start_matches(' ')));
        }
        Some(Split {
            text,
            block: Some(start..end),
            lines,
        })
    }

    /// The text without the generated lines (borrowed when there are none).
    pub fn rest(&self) -> Cow<'t, str> {
        match &self.block {
            None => Cow::Borrowed(self.text),
            Some(b) => Cow::Owned(format!("{}{}", &self.text[..b.start], &self.text[b.end..])),
        }
    }

    /// The text to load when only `asked` are asked about (`None`: all,
    /// the text as it is): generated groups that nothing in `referenced`
    /// names are left out too (a group counts only where a line names it).
    pub fn reduced(
        &self,
        asked: Option<&BTreeSet<&str>>,
        referenced: &BTreeSet<&str>,
    ) -> Cow<'t, str> {
        let (Some(b), Some(asked)) = (&self.block, asked) else {
            return Cow::Borrowed(self.text);
        };
        let mut out =
            String::with_capacity(b.start + (self.text.len() - b.end) + 64 * self.lines.len());
        out.push_str(&self.text[..b.start]);
        out.push_str(&self.reduced_lines(Some(asked), referenced));
        out.push_str(&self.text[b.end..]);
        Cow::Owned(out)
    }

    /// Whether `other`'s [`Split::rest`] is this one's (compared in place,
    /// not assembled; `false` may also mean one has no block).
    pub fn same_rest(&self, other: &Split) -> bool {
        match (&self.block, &other.block) {
            (Some(a), Some(b)) => {
                self.text[..a.start] == other.text[..b.start]
                    && self.text[a.end..] == other.text[b.end..]
            }
            (None, None) => self.text == other.text,
            _ => false,
        }
    }

    /// Where the generated lines were in [`Split::rest`] (`None`: the text
    /// has no block).
    pub fn block_in_rest(&self) -> Option<usize> {
        self.block.as_ref().map(|b| b.start)
    }

    /// The generated lines of [`Split::reduced`] alone (`None`: every
    /// member of the groups kept).
    pub fn reduced_lines(
        &self,
        asked: Option<&BTreeSet<&str>>,
        referenced: &BTreeSet<&str>,
    ) -> String {
        let Some(asked) = asked else {
            return self.referenced_lines(referenced);
        };
        let placeholder = placeholder(asked);
        // Hashed: every member of every generated line is looked up.
        let asked: FxHashSet<&str> = asked.iter().copied().collect();
        let mut out = String::new();
        for (name, value) in self.lines.iter().filter(|(n, _)| referenced.contains(n)) {
            out.push_str(name);
            out.push_str(" =");
            let mut first = true;
            let mut dropped = false;
            // The renderer writes `a, b`: split on the byte, not the pair.
            for m in value
                .split(',')
                .map(|m| m.trim_start_matches(' '))
                .filter(|m| !m.is_empty())
            {
                if !asked.contains(m) {
                    dropped = true;
                    continue;
                }
                out.push_str(if first { " " } else { ", " });
                out.push_str(m);
                first = false;
            }
            if dropped {
                out.push_str(if first { " " } else { ", " });
                out.push_str(&placeholder);
            }
            out.push('\n');
        }
        out
    }
}

impl Split<'_> {
    /// The generated lines of the groups in `referenced`, whole.
    fn referenced_lines(&self, referenced: &BTreeSet<&str>) -> String {
        let mut out = String::new();
        for (name, value) in self.lines.iter().filter(|(n, _)| referenced.contains(n)) {
            out.push_str(name);
            out.push_str(" =");
            if !value.is_empty() {
                out.push(' ');
                out.push_str(value);
            }
            out.push('\n');
        }
        out
    }
}

/// The start of the first line at or after `from` that starts with `prefix`.
fn line_starting(text: &str, from: usize, prefix: &str) -> Option<usize> {
    let mut at = from;
    loop {
        if text[at..].starts_with(prefix) {
            return Some(at);
        }
        at += text[at..].find('\n')? + 1;
    }
}

/// A member name none of `asked` has.
fn placeholder(asked: &BTreeSet<&str>) -> String {
    let mut name = String::from("rolesync-diff-placeholder");
    while asked.contains(name.as_str()) {
        name.push('_');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[groups]\n# rolesync: BEGIN generated groups (revision 7); x\nadmin = alice, bob\nlib-project_user =\n# rolesync: END generated groups\nteam = carol\n\n[/]\n@admin = rw\n";

    #[test]
    fn the_block_is_split_off_and_reduced_to_the_logins_asked() {
        let s = Split::of(TEXT);
        assert_eq!(s.lines, [("admin", "alice, bob"), ("lib-project_user", "")]);
        assert!(!s.rest().contains("alice"));
        assert!(s.rest().contains("team = carol"));
        let asked = BTreeSet::from(["bob"]);
        let all = BTreeSet::from(["admin", "lib-project_user"]);
        let r = s.reduced(Some(&asked), &all);
        assert!(
            r.contains("admin = bob, rolesync-diff-placeholder\nlib-project_user =\n"),
            "{r}"
        );
        // A group no line names is left out.
        let r = s.reduced(Some(&asked), &BTreeSet::from(["admin"]));
        assert!(!r.contains("lib-project_user"), "{r}");
        assert_eq!(s.reduced(None, &all), TEXT);
    }

    #[test]
    fn a_text_without_a_block_is_kept_whole() {
        let s = Split::of("[/]\n* = r\n");
        assert!(s.lines.is_empty());
        assert_eq!(s.rest(), "[/]\n* = r\n");
    }
}
