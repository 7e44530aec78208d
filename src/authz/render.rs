//! Rendering the synchronised access file: the generated role groups go
//! into `[groups]`, everything else is copied byte for byte.
//!
//! A file without rolesync's markers (Polarion's own) is taken over: its
//! role groups are replaced by the generated ones, each with a
//! `role-group-taken-over` warning; beside the markers a hand-written role
//! group is refused (`group-collides-with-role`). docs/permissions.md,
//! "Role groups in the access file", gives the reasons.
//!
//! The output is assembled from pieces that are either ranges of the source
//! file or generated text. The whole output then goes through the authz
//! validator, and every diagnostic is mapped back through the pieces to the
//! line of the source file it comes from. So one check both validates the
//! administrator's file (with the role groups it will have) and guarantees
//! that the written file is one Subversion accepts.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use super::cost::Cost;
use super::parse;
use crate::diag::{Code, Diagnostic, Source};

/// The comment that opens the generated block. A line that starts with it
/// opens a block, so the markers of earlier versions, which went on with
/// ` (revision …)`, are recognised as well.
pub const BEGIN_MARKER: &str = "# rolesync: BEGIN generated groups";
/// The comment that closes the generated block.
pub const END_MARKER: &str = "# rolesync: END generated groups";

/// A group to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<'a> {
    pub name: &'a str,
    /// Sorted, distinct, validated logins.
    pub members: Vec<&'a str>,
}

/// The rendered access file and what the check found.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub text: String,
    /// Diagnostics located in the source access file.
    pub diagnostics: Vec<Diagnostic>,
    /// What `text` costs Subversion to load (from the validating parse).
    pub cost: Cost,
    /// Where the generated block lies in `text` ([`BlockMap`]; `None`:
    /// the renderer cannot vouch for what a reader of the lines finds).
    pub block: Option<BlockMap>,
}

/// Where the generated block of a rendered text lies, as the renderer
/// wrote it: the same as a reader of the text's lines finds (the first
/// line starting with [`BEGIN_MARKER`], the lines up to the first that
/// starts with [`END_MARKER`], each `name = members`), without reading
/// them. Made only when that reader would find exactly this: no earlier
/// line starts with the BEGIN marker, and every name is plain (not empty,
/// no `=`, `:`, tab or line end, not starting with `#`, `[`, a space or a
/// tab). The members are logins, as [`Group::members`] are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockMap {
    /// The start of the BEGIN marker's line.
    begin: usize,
    /// The generated lines: from the end of the BEGIN marker's line to the
    /// start of the END marker's.
    lines: Range<usize>,
    /// Each generated line, in order.
    shapes: Vec<LineShape>,
    /// The length of each line's end (`\n`: 1, `\r\n`: 2).
    eol: usize,
}

/// One generated line as [`push_group_line`] wrote it: the lengths in
/// bytes of its name and of its members as written (`a, b`; 0 without).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineShape {
    pub name: u32,
    pub members: u32,
}

impl BlockMap {
    /// The map of `text`, whose block [`Layout::assemble`] wrote with its
    /// BEGIN line at `begin` and the lines `shapes` from `lines_at` on, with
    /// `eol`; `None` when a reader of its lines would find another block
    /// (or none).
    fn of(
        text: &str,
        (begin, lines_at): (usize, usize),
        shapes: Vec<LineShape>,
        eol: &str,
    ) -> Option<BlockMap> {
        // The reader takes the first line that starts with the marker:
        // only the text before the block is read (hand-written bytes).
        if first_line_starting(text, BEGIN_MARKER) != Some(begin) {
            return None;
        }
        let mut map = BlockMap {
            begin,
            lines: lines_at..lines_at,
            shapes,
            eol: eol.len(),
        };
        let (mut at, mut plain) = (lines_at, true);
        for s in &map.shapes {
            let name = text.get(at..at + s.name as usize)?;
            plain &= is_plain_name(name);
            at += line_len(*s, map.eol);
        }
        map.lines.end = at;
        (plain && map.groups(text).is_some()).then_some(map)
    }

    /// The lines between the markers (the markers excluded).
    pub fn lines(&self) -> Range<usize> {
        self.lines.clone()
    }

    /// The generated groups of `text` as the map says: (name, members as
    /// written), in order; `None` when `text` is not the one the map was
    /// made of (a marker or a line not where the map puts it).
    pub fn groups<'t>(&self, text: &'t str) -> Option<Vec<(&'t str, &'t str)>> {
        let marked = text.get(self.begin..)?.starts_with(BEGIN_MARKER)
            && text.get(self.lines.end..)?.starts_with(END_MARKER)
            && text.get(..self.lines.start)?.ends_with('\n');
        if !marked {
            return None;
        }
        let mut out = Vec::with_capacity(self.shapes.len());
        let mut at = self.lines.start;
        for s in &self.shapes {
            let name = text.get(at..at + s.name as usize)?;
            let value_at = at + s.name as usize + 2 + usize::from(s.members > 0);
            let value = text.get(value_at..value_at + s.members as usize)?;
            out.push((name, value));
            at += line_len(*s, self.eol);
        }
        (at == self.lines.end).then_some(out)
    }
}

/// The length of a generated line of shape `s`, its end included.
fn line_len(s: LineShape, eol: usize) -> usize {
    s.name as usize + 2 + usize::from(s.members > 0) + s.members as usize + eol
}

/// Whether a reader of the block takes `name` for a generated group's.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['#', '[', ' ', '\t'])
        && !name.contains(['=', ':', '\t', '\n', '\r'])
}

/// The start of the first line of `text` that starts with `prefix`.
fn first_line_starting(text: &str, prefix: &str) -> Option<usize> {
    let mut at = 0;
    loop {
        if text[at..].starts_with(prefix) {
            return Some(at);
        }
        at += text[at..].find('\n')? + 1;
    }
}

#[derive(Debug)]
pub(crate) enum Piece {
    Source(Range<usize>),
    Generated(String),
    /// The generated block: its BEGIN marker, the groups' lines, its END
    /// marker.
    Block,
}

/// Where the pieces of the output come from, before the groups' lines are
/// known: what `layout` found in the source.
pub(crate) struct Layout {
    pub pieces: Vec<Piece>,
    /// The source offset generated text is blamed on (the `[groups]`
    /// header, or where the generated one goes).
    pub anchor: usize,
    pub eol: &'static str,
    /// What taking hand-written role groups over found.
    pub diagnostics: Vec<Diagnostic>,
}

/// The output of `Layout::assemble`, and where each piece went.
pub(crate) struct Assembled {
    pub text: String,
    /// Each piece's range in `text`, and its start in the source (`None`
    /// for generated text).
    map: Vec<(Range<usize>, Option<usize>)>,
    /// Where the BEGIN marker's line starts in `text`.
    pub begin_at: usize,
    /// Where the groups' lines start in `text` (after the BEGIN marker).
    pub lines_at: usize,
}

/// The members of the generated group of a name, if there is one.
pub type Members<'g> = dyn Fn(&str) -> Option<Vec<&'g str>> + 'g;

/// The line end of the generated lines: the one of the source's first line.
pub fn eol_of(source: &str) -> &'static str {
    if source
        .split_once('\n')
        .is_some_and(|(l, _)| l.ends_with('\r'))
    {
        "\r\n"
    } else {
        "\n"
    }
}

/// Render `source` (the access file at `path`) with `groups` generated into
/// its `[groups]` section.
///
/// The result depends on `source` and `groups` only, not on the revision
/// they come from: a commit that changes nothing the access file holds
/// renders the same bytes, so the published file is left untouched and
/// Subversion keeps its parsed copy (it caches by content).
pub fn render(path: &str, source: &str, groups: &[Group]) -> Rendered {
    let src = Source::new(path, source);
    let by_name = std::cell::OnceCell::new();
    let members = |name: &str| {
        by_name
            .get_or_init(|| {
                groups
                    .iter()
                    .map(|g| (g.name, g))
                    .collect::<HashMap<_, _>>()
            })
            .get(name)
            .map(|g| g.members.clone())
    };
    let layout = layout(source, &src, &members);
    let mut lines = String::new();
    let shapes = generated_lines(&mut lines, groups, layout.eol);
    let out = layout.assemble(source, &[&lines]);
    let block = out.block_map(shapes, layout.eol);
    let (found, cost) = super::validate::validate_and_cost(path, &out.text);
    let mut diagnostics = layout.diagnostics;
    let to_source = |offset| out.to_source(offset, layout.anchor);
    diagnostics.extend(found.into_iter().map(|d| locate(d, &src, &to_source)));
    Rendered {
        text: out.text,
        diagnostics,
        cost,
        block,
    }
}

/// The pieces of the output for `source` (`src` locates it), the
/// generated block standing in as [`Piece::Block`]; `members` says which
/// names the generated groups have.
pub(crate) fn layout(source: &str, src: &Source, members: &Members) -> Layout {
    let doc = parse::parse(source);
    let eol = eol_of(source);
    let mut diagnostics = Vec::new();
    let mut pieces = Vec::new();

    let anchor = match doc.sections.iter().find(|s| s.name == "groups") {
        Some(section) => {
            pieces.push(Piece::Source(0..section.body.start));
            if section.body.start == source.len() && !source.ends_with('\n') {
                pieces.push(Piece::Generated(eol.to_owned()));
            }
            pieces.push(Piece::Block);
            keep_hand_written(section, source, members, src, &mut pieces, &mut diagnostics);
            pieces.push(Piece::Source(section.body.end..source.len()));
            section.header.start
        }
        None => {
            let at = doc
                .sections
                .first()
                .map_or(source.len(), |s| s.header.start);
            pieces.push(Piece::Source(0..at));
            if at > 0 && !source[..at].ends_with('\n') {
                pieces.push(Piece::Generated(eol.to_owned()));
            }
            pieces.push(Piece::Generated(format!("[groups]{eol}")));
            pieces.push(Piece::Block);
            if at < source.len() {
                pieces.push(Piece::Generated(eol.to_owned()));
            }
            pieces.push(Piece::Source(at..source.len()));
            at
        }
    };
    Layout {
        pieces,
        anchor,
        eol,
        diagnostics,
    }
}

impl Layout {
    /// The output with `lines` (the generated groups' lines, in order) in
    /// the block, written in one pass into a buffer of its exact size.
    pub(crate) fn assemble(&self, source: &str, lines: &[&str]) -> Assembled {
        let begin = format!(
            "{BEGIN_MARKER}; edit the role files, not these lines{}",
            self.eol
        );
        let block = begin.len()
            + lines.iter().map(|l| l.len()).sum::<usize>()
            + END_MARKER.len()
            + self.eol.len();
        let size = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Source(r) => r.len(),
                Piece::Generated(g) => g.len(),
                Piece::Block => block,
            })
            .sum();
        let mut text = String::with_capacity(size);
        let mut map = Vec::with_capacity(self.pieces.len());
        let (mut begin_at, mut lines_at) = (0, 0);
        for piece in &self.pieces {
            let out_start = text.len();
            let from = match piece {
                Piece::Source(r) => {
                    text.push_str(&source[r.clone()]);
                    Some(r.start)
                }
                Piece::Generated(g) => {
                    text.push_str(g);
                    None
                }
                Piece::Block => {
                    begin_at = text.len();
                    text.push_str(&begin);
                    lines_at = text.len();
                    for l in lines {
                        text.push_str(l);
                    }
                    text.push_str(END_MARKER);
                    text.push_str(self.eol);
                    None
                }
            };
            map.push((out_start..text.len(), from));
        }
        Assembled {
            text,
            map,
            begin_at,
            lines_at,
        }
    }
}

impl Assembled {
    /// The [`BlockMap`] of the text, its lines of `shapes` with `eol`.
    pub(crate) fn block_map(&self, shapes: Vec<LineShape>, eol: &str) -> Option<BlockMap> {
        BlockMap::of(&self.text, (self.begin_at, self.lines_at), shapes, eol)
    }

    /// Back from an offset of the output to the source it was copied from;
    /// generated text maps to `anchor`.
    pub(crate) fn to_source(&self, offset: usize, anchor: usize) -> usize {
        self.map
            .iter()
            .find(|(out, _)| out.contains(&offset) || (out.start == offset && out.is_empty()))
            .map_or(anchor, |(out, from)| match from {
                Some(start) => start + (offset - out.start),
                None => anchor,
            })
    }
}

/// A diagnostic of the output, moved to the source (`src`) through
/// `to_source` (an offset of the output to one of the source).
pub(crate) fn locate(
    d: Diagnostic,
    src: &Source,
    to_source: &impl Fn(usize) -> usize,
) -> Diagnostic {
    let len = src.text.len();
    let start = to_source(d.span.start);
    let end = start + d.span.len().min(len.saturating_sub(start));
    let mut located = src.diag(d.code, start..end, d.message);
    located.notes = d.notes;
    for r in d.related {
        let at = to_source(r.span.start);
        let rlen = r.span.len().min(len.saturating_sub(at));
        located.related.push(src.related(at..at + rlen, r.label));
    }
    located
}

/// The lines of `groups`, each `name = a, b` and `eol`, appended to `out`;
/// their shapes.
fn generated_lines(out: &mut String, groups: &[Group], eol: &str) -> Vec<LineShape> {
    // Sized once: each line is the name, ` =`, each member with its
    // separator, the line end.
    let lines: usize = groups
        .iter()
        .map(|g| {
            g.name.len() + 2 + g.members.iter().map(|m| m.len() + 2).sum::<usize>() + eol.len()
        })
        .sum();
    out.reserve(lines);
    groups
        .iter()
        .map(|g| push_group_line(out, g.name, g.members.iter().copied(), eol))
        .collect()
}

/// One generated group's line: `name = a, b` (`name =` without members)
/// and `eol`; its shape (a length past `u32` saturates, and a
/// [`BlockMap`] of it is then refused: its lines do not add up).
pub fn push_group_line<'m>(
    out: &mut String,
    name: &str,
    members: impl IntoIterator<Item = &'m str>,
    eol: &str,
) -> LineShape {
    out.push_str(name);
    out.push_str(" =");
    let at = out.len();
    for (i, m) in members.into_iter().enumerate() {
        out.push_str(if i == 0 { " " } else { ", " });
        out.push_str(m);
    }
    let written = (out.len() - at).saturating_sub(1);
    out.push_str(eol);
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    LineShape {
        name: len(name.len()),
        members: len(written),
    }
}

/// Copy the body of `[groups]` except an earlier generated block and the
/// hand-written groups that have a role group's name.
///
/// Such a group is taken over (replaced by the generated one, with a
/// warning naming the members added and removed) when the section has no
/// rolesync marker yet: the file is Polarion's own or predates rolesync,
/// and seed 003 ("Synchronizing Roles with Repository") says the
/// synchronisation puts every role group in step. Beside the markers the
/// same group is refused (`group-collides-with-role`): the file is already
/// rolesync's, so the group is a hand edit that would silently be undone.
fn keep_hand_written(
    section: &parse::Section,
    source: &str,
    members: &Members,
    src: &Source,
    pieces: &mut Vec<Piece>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut dropped: Vec<Range<usize>> = Vec::new();
    // An earlier generated block: from its BEGIN to its END comment.
    let mut pos = section.body.start;
    let mut inside = None;
    let mut marked = false;
    while pos < section.body.end {
        let line_end = source[pos..section.body.end]
            .find('\n')
            .map_or(section.body.end, |i| pos + i + 1);
        let line = &source[pos..line_end];
        if line.starts_with(BEGIN_MARKER) {
            inside = Some(pos);
            marked = true;
        } else if line.starts_with(END_MARKER) {
            dropped.push(inside.take().unwrap_or(pos)..line_end);
            marked = true;
        }
        pos = line_end;
    }
    if let Some(start) = inside {
        // A BEGIN without END: drop only the marker line; role groups below
        // it are reported as collisions.
        let end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i + 1);
        dropped.push(start..end);
    }
    let blocks = dropped.len();
    for entry in &section.entries {
        if dropped[..blocks]
            .iter()
            .any(|d| d.contains(&entry.lines.start))
        {
            continue;
        }
        let Some(generated) = members(entry.name.as_str()) else {
            continue;
        };
        let diagnostic = if marked {
            src.diag(
                Code::GroupCollidesWithRole,
                entry.name_span.clone(),
                format!("the hand-written group `{}` has the name of a role group, which rolesync generates", entry.name),
            )
        } else {
            src.diag(
                Code::RoleGroupTakenOver,
                entry.name_span.clone(),
                format!(
                    "the role group `{}` is taken over (the file has no rolesync markers yet) and replaced by the generated one: {}",
                    entry.name,
                    member_changes(&entry.value, &generated)
                ),
            )
        };
        diagnostics.push(diagnostic);
        dropped.push(entry.lines.clone());
    }
    dropped.sort_by_key(|r| r.start);
    let mut at = section.body.start;
    for d in dropped {
        if d.start > at {
            pieces.push(Piece::Source(at..d.start));
        }
        at = at.max(d.end);
    }
    if at < section.body.end {
        pieces.push(Piece::Source(at..section.body.end));
    }
}

/// What replacing a hand-written group's members (`value`, as Subversion
/// reads it) by `generated` changes: `added a, b; removed c`, with `none`
/// for an empty side, or `members unchanged`. Members are compared as
/// Subversion's tokens, so a nested `@group` or an `&alias` is a member of
/// its own.
fn member_changes(value: &str, generated: &[&str]) -> String {
    let old: BTreeSet<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    let new: BTreeSet<&str> = generated.iter().copied().collect();
    let added: Vec<&str> = new.difference(&old).copied().collect();
    let removed: Vec<&str> = old.difference(&new).copied().collect();
    if added.is_empty() && removed.is_empty() {
        return "members unchanged".to_owned();
    }
    let list = |names: &[&str]| {
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    format!("added {}; removed {}", list(&added), list(&removed))
}

#[cfg(test)]
mod tests;
