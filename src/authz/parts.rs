//! Rendering the access file from parts a caller keeps between builds
//! ([`render_parts`]): the same [`Rendered`] as [`render()`](super::render())
//! — bytes, diagnostics, cost — when one scope's groups changed, at the
//! cost of the change and of copying the output.
//!
//! The caller keeps each group's line rendered (`render::push_group_line`,
//! with the source's `render::eol_of`) and has checked with
//! [`plain_groups`](super::plain_groups) that the lines say nothing but
//! those groups. The validator then checks the file without them (the
//! skeleton: the hand-written bytes and the markers) with the groups
//! defined by name where their lines would be (`rules::Beside`), which
//! finds what it finds in the whole file: the lines between the markers
//! are context-free (a comment ends any continuation), define each group
//! once and name users only. That check is kept ([`PartsMemo`]) and
//! reused while the skeleton's text and the groups' names and emptiness
//! are equal, compared by value. The cost's users are the groups' distinct
//! members (the caller counts them) and the users the skeleton names that
//! are none of them.

use super::cost::Cost;
use super::render::{self, Members, Rendered, locate};
use super::rules::Beside;
use super::validate::{Found, validate_beside};
use crate::diag::Source;

/// The generated groups as the caller keeps them.
pub struct Parts<'a> {
    /// The groups' lines, in order, in chunks (each chunk plain:
    /// [`plain_groups`](super::plain_groups)).
    pub lines: Vec<&'a str>,
    /// The shapes of the lines of each chunk (what `render::push_group_line`
    /// returned for them), in order.
    pub shapes: Vec<&'a [render::LineShape]>,
    /// Each group's name and whether it has members, in order.
    pub groups: Vec<(&'a str, bool)>,
    /// The members of the group of a name.
    pub members: &'a Members<'a>,
    /// How many distinct members the groups have together.
    pub users: u64,
    /// Whether a name is a member of some group.
    pub is_member: &'a dyn Fn(&str) -> bool,
}

impl std::fmt::Debug for Parts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts")
            .field("lines", &self.lines)
            .field("groups", &self.groups)
            .field("users", &self.users)
            .finish_non_exhaustive()
    }
}

/// The last check of a skeleton, kept for the next build.
#[derive(Default)]
pub struct PartsMemo {
    kept: Option<Kept>,
    hits: usize,
    misses: usize,
}

impl std::fmt::Debug for PartsMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartsMemo")
            .field("kept", &self.kept.is_some())
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish()
    }
}

impl PartsMemo {
    /// Checks of the skeleton reused / made, since the memo was made.
    pub fn stats(&self) -> (usize, usize) {
        (self.hits, self.misses)
    }
}

struct Kept {
    skeleton: String,
    at: usize,
    groups: Vec<(Box<str>, bool)>,
    found: Found,
}

impl Kept {
    fn is_for(&self, skeleton: &str, at: usize, groups: &[(&str, bool)]) -> bool {
        self.at == at
            && self.skeleton == skeleton
            && self.groups.len() == groups.len()
            && self
                .groups
                .iter()
                .zip(groups)
                .all(|((n, u), (m, v))| **n == **m && u == v)
    }
}

/// [`render()`](super::render()) of `source` with the groups of `parts`;
/// `None` when their definitions would not stand where the lines go (the
/// block is in a section the validator does not read as `[groups]`): the
/// caller then renders in full.
pub fn render_parts(
    path: &str,
    source: &str,
    parts: &Parts,
    memo: &mut PartsMemo,
) -> Option<Rendered> {
    let src = Source::new(path, source);
    let layout = render::layout(source, &src, parts.members);
    let skeleton = layout.assemble(source, &[]);
    let at = skeleton.lines_at;
    match &memo.kept {
        Some(kept) if kept.is_for(&skeleton.text, at, &parts.groups) => memo.hits += 1,
        _ => {
            memo.misses += 1;
            let beside = Beside {
                at,
                groups: &parts.groups,
            };
            let found = validate_beside(path, &skeleton.text, beside);
            memo.kept = Some(Kept {
                skeleton: skeleton.text.clone(),
                at,
                groups: parts.groups.iter().map(|&(n, u)| (n.into(), u)).collect(),
                found,
            });
        }
    }
    let found = &memo.kept.as_ref()?.found;
    if !found.defined {
        return None;
    }
    let out = layout.assemble(source, &parts.lines);
    let shapes = parts.shapes.iter().flat_map(|s| s.iter().copied());
    let block = out.block_map(shapes.collect(), layout.eol);
    let to_source = |offset| skeleton.to_source(offset, layout.anchor);
    let mut diagnostics = layout.diagnostics;
    diagnostics.extend(
        found
            .diagnostics
            .iter()
            .map(|d| locate(d.clone(), &src, &to_source)),
    );
    let named = found.users.iter().filter(|u| !(parts.is_member)(u)).count() as u64;
    Some(Rendered {
        text: out.text,
        diagnostics,
        cost: Cost {
            users: parts.users + named,
            rule_sections: found.rule_sections,
        },
        block,
    })
}

#[cfg(test)]
mod tests;
