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
//!
//! A snapshot's text comes with the renderer's record of its block
//! (`Snapshot::access_block`, an `authz::render::BlockMap`):
//! [`Split::recorded`] takes it instead of reading the lines — the same
//! split [`Split::of`] finds, for the cost of one entry per group — and
//! reads them when there is no record or it does not fit the text.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::ops::Range;

use crate::authz::render::{BEGIN_MARKER, BlockMap, END_MARKER};
use crate::fxhash::FxBuild;

type FxHashSet<T> = std::collections::HashSet<T, FxBuild>;

/// A rendered access file, its generated block apart.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Split<'t> {
    text: &'t str,
    /// The lines between the markers (the markers excluded).
    block: Option<Range<usize>>,
    /// The generated groups: (name, members as written).
    pub lines: Vec<(&'t str, &'t str)>,
}

impl<'t> Split<'t> {
    /// The split of `text` from the renderer's record of its block, where
    /// it has one that fits; else [`Split::of`] (the same split either way).
    pub fn recorded(text: &'t str, block: Option<&BlockMap>) -> Split<'t> {
        let recorded = block.and_then(|b| {
            Some(Split {
                text,
                lines: b.groups(text)?,
                block: Some(b.lines()),
            })
        });
        match recorded {
            Some(split) => {
                debug_assert_eq!(split, Split::of(text), "the record of the block");
                split
            }
            None => Split::of(text),
        }
    }

    /// The split of `text`, read line by line.
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

    use crate::authz::render::{Group, render};

    /// The split the renderer's record gives of `text`, without falling
    /// back to reading the lines (`None`: no record, or it does not fit).
    fn from_record<'t>(text: &'t str, block: &BlockMap) -> Option<Split<'t>> {
        Some(Split {
            text,
            lines: block.groups(text)?,
            block: Some(block.lines()),
        })
    }

    /// Render `source` with `groups` and compare the record with the
    /// lines read; whether there was a record.
    fn check(source: &str, groups: &[(&str, &[&str])]) -> bool {
        let groups: Vec<Group> = groups
            .iter()
            .map(|(name, members)| Group {
                name,
                members: members.to_vec(),
            })
            .collect();
        let rendered = render("access", source, &groups);
        let text = &rendered.text;
        let Some(block) = &rendered.block else {
            return false;
        };
        let split = from_record(text, block).expect("the record fits its own text");
        assert_eq!(split, Split::of(text), "{source:?} rendered as {text:?}");
        assert!(split.block.is_some(), "{text:?}");
        assert_eq!(Split::recorded(text, Some(block)), split);
        true
    }

    const GROUPS: &[(&str, &[&str])] = &[
        ("admin", &["alice", "bob"]),
        ("p-project_user", &[]),
        ("p-project_admin", &["x@corp.example"]),
    ];

    #[test]
    fn the_renderers_record_is_the_split_read_from_the_lines() {
        for source in [
            "",
            "\n",
            "[/]\n* = r\n",
            "# a comment, no section\n",
            "[groups]",
            "[groups]\n",
            "[groups]\nteam = carol, @admin\n\n[/]\n@team = rw\n",
            "[aliases]\nj = joe\n[groups]\nteam = &j\n[/]\n@team = r\n",
            "[/]\n* = r\n[groups]\nteam = carol\n",
            "[/]\n* = r\n[groups]",
            "[groups]\r\nteam = carol\r\n[/]\r\n@admin = rw\r\n",
            "[/]\r\n* = r\r\n",
            // An earlier generated block, in [groups]: replaced.
            "[groups]\n# rolesync: BEGIN generated groups (revision 3); x\nold = a\n# rolesync: END generated groups\nteam = b\n",
            // Only an END marker, or only a BEGIN one.
            "[groups]\n# rolesync: END generated groups\n",
            "[groups]\n# rolesync: BEGIN generated groups\nteam = b\n",
            // A BEGIN marker after the block: the first one is the block's.
            "[/]\r\n# rolesync: BEGIN generated groups\r\n* = r\r\n",
        ] {
            for groups in [GROUPS, &GROUPS[..1], &GROUPS[1..2], &[]] {
                assert!(check(source, groups), "no record of {source:?}");
            }
        }
    }

    #[test]
    fn no_record_where_the_lines_read_another_block() {
        // A BEGIN marker before the block (at the file's start, or in a rule
        // section ahead of [groups]): the lines read take that one.
        for source in [
            "# rolesync: BEGIN generated groups\n[groups]\n",
            "# rolesync: BEGIN generated groups",
            "[/]\n# rolesync: BEGIN generated groups\n* = r\n[groups]\nteam = a\n",
            "[/]\r\n# rolesync: BEGIN generated groups\r\n* = r\r\n[groups]\r\n",
        ] {
            assert!(!check(source, GROUPS), "a record of {source:?}");
            let text = render("access", source, &[]).text;
            assert_eq!(Split::recorded(&text, None), Split::of(&text));
        }
        // A name the lines read would not take for a generated group's.
        for name in ["a:b", "#a", "[a]", " a", "a\tb", ""] {
            assert!(
                !check("[groups]\n", &[("ok", &["u"]), (name, &["u"])]),
                "{name:?}"
            );
        }
    }

    #[test]
    fn a_record_that_does_not_fit_the_text_is_not_taken() {
        let rendered = render(
            "access",
            "[groups]\nteam = carol\n",
            &[Group {
                name: "admin",
                members: vec!["alice", "bob"],
            }],
        );
        let block = rendered.block.expect("a record");
        for other in [
            // The same block elsewhere, another member, a file without one.
            format!("\n{}", rendered.text),
            rendered.text.replace("alice", "alicia"),
            rendered.text.replace("bob", "b"),
            "[/]\n* = r\n".to_owned(),
            String::new(),
        ] {
            assert!(from_record(&other, &block).is_none(), "{other:?}");
            assert_eq!(Split::recorded(&other, Some(&block)), Split::of(&other));
        }
    }

    #[test]
    fn a_text_without_a_block_is_kept_whole() {
        let s = Split::of("[/]\n* = r\n");
        assert!(s.lines.is_empty());
        assert_eq!(s.rest(), "[/]\n* = r\n");
    }
}
