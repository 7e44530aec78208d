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
}

#[derive(Debug)]
enum Piece {
    Source(Range<usize>),
    Generated(String),
}

/// Render `source` (the access file at `path`) with `groups` generated into
/// its `[groups]` section.
///
/// The result depends on `source` and `groups` only, not on the revision
/// they come from: a commit that changes nothing the access file holds
/// renders the same bytes, so the published file is left untouched and
/// Subversion keeps its parsed copy (it caches by content).
pub fn render(path: &str, source: &str, groups: &[Group]) -> Rendered {
    let doc = parse::parse(source);
    let src = Source::new(path, source);
    let eol = if source
        .split_once('\n')
        .is_some_and(|(l, _)| l.ends_with('\r'))
    {
        "\r\n"
    } else {
        "\n"
    };
    let block = generated_block(groups, eol);
    let mut diagnostics = Vec::new();
    let mut pieces = Vec::new();

    let anchor = match doc.sections.iter().find(|s| s.name == "groups") {
        Some(section) => {
            pieces.push(Piece::Source(0..section.body.start));
            if section.body.start == source.len() && !source.ends_with('\n') {
                pieces.push(Piece::Generated(eol.to_owned()));
            }
            pieces.push(Piece::Generated(block));
            keep_hand_written(section, source, groups, &src, &mut pieces, &mut diagnostics);
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
            let trailer = if at < source.len() { eol } else { "" };
            pieces.push(Piece::Generated(format!("[groups]{eol}{block}{trailer}")));
            pieces.push(Piece::Source(at..source.len()));
            at
        }
    };

    // The output is written in one pass into a buffer of its exact size.
    let size = pieces
        .iter()
        .map(|p| match p {
            Piece::Source(r) => r.len(),
            Piece::Generated(g) => g.len(),
        })
        .sum();
    let mut text = String::with_capacity(size);
    let mut map = Vec::with_capacity(pieces.len());
    for piece in &pieces {
        let out_start = text.len();
        match piece {
            Piece::Source(r) => text.push_str(&source[r.clone()]),
            Piece::Generated(g) => text.push_str(g),
        }
        map.push((out_start..text.len(), piece));
    }

    // Back from an offset of the output to the source it was copied from;
    // generated text maps to the `[groups]` header.
    let to_source = |offset: usize| {
        map.iter()
            .find(|(out, _)| out.contains(&offset) || (out.start == offset && out.is_empty()))
            .map_or(anchor, |(out, piece)| match piece {
                Piece::Source(r) => r.start + (offset - out.start),
                Piece::Generated(_) => anchor,
            })
    };
    let (found, cost) = super::validate::validate_and_cost(path, &text);
    diagnostics.extend(found.into_iter().map(|d| locate(d, &src, &to_source)));
    Rendered {
        text,
        diagnostics,
        cost,
    }
}

/// A diagnostic of the output, moved to the source (`src`) through
/// `to_source` (an offset of the output to one of the source).
fn locate(d: Diagnostic, src: &Source, to_source: &impl Fn(usize) -> usize) -> Diagnostic {
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

fn generated_block(groups: &[Group], eol: &str) -> String {
    let mut out = format!("{BEGIN_MARKER}; edit the role files, not these lines{eol}");
    // Sized once: each line is the name, ` =`, each member with its
    // separator, the line end.
    let lines: usize = groups
        .iter()
        .map(|g| {
            g.name.len() + 2 + g.members.iter().map(|m| m.len() + 2).sum::<usize>() + eol.len()
        })
        .sum();
    out.reserve(lines + END_MARKER.len() + eol.len());
    for g in groups {
        out.push_str(g.name);
        out.push_str(" =");
        for (i, m) in g.members.iter().enumerate() {
            out.push_str(if i == 0 { " " } else { ", " });
            out.push_str(m);
        }
        out.push_str(eol);
    }
    out.push_str(END_MARKER);
    out.push_str(eol);
    out
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
    groups: &[Group],
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
    let generated: HashMap<&str, &Group> = groups.iter().map(|g| (g.name, g)).collect();
    let blocks = dropped.len();
    for entry in &section.entries {
        if dropped[..blocks]
            .iter()
            .any(|d| d.contains(&entry.lines.start))
        {
            continue;
        }
        let Some(group) = generated.get(entry.name.as_str()) else {
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
                    member_changes(&entry.value, &group.members)
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
mod tests {
    use super::*;

    fn groups() -> Vec<Group<'static>> {
        vec![
            Group {
                name: "admin",
                members: vec!["alice"],
            },
            Group {
                name: "lib-project_user",
                members: vec![],
            },
        ]
    }

    /// Render `source` and compare the text with `expect`; return the codes.
    fn check(source: &str, expect: &str) -> Vec<&'static str> {
        let out = render("access", source, &groups());
        assert_eq!(out.text, expect, "\n--- got ---\n{}", out.text);
        out.diagnostics.iter().map(|d| d.code.as_str()).collect()
    }

    const BLOCK: &str = "# rolesync: BEGIN generated groups; edit the role files, not these lines\n\
                         admin = alice\nlib-project_user =\n# rolesync: END generated groups\n";

    /// The generated block as the previous version wrote it: its BEGIN
    /// marker named the revision.
    const OLD_BLOCK: &str = "# rolesync: BEGIN generated groups (revision 0123456789abcdef0123456789abcdef01234567); edit the role files, not these lines\n\
                             admin = alice\nlib-project_user =\n# rolesync: END generated groups\n";

    /// The marker names no revision (`render` is not told one): the bytes
    /// of the access file depend only on its content, so a commit that
    /// changes nothing the file holds leaves it byte for byte (and
    /// Subversion's parse cache warm), and the same input always renders
    /// the same bytes.
    #[test]
    fn the_generated_block_names_no_revision() {
        let source = "[groups]\nteam = bob\n[/]\n@team = r\n";
        let first = render("access", source, &groups());
        let again = render("access", source, &groups());
        assert_eq!(first.text, again.text);
        assert_eq!(
            first.text,
            format!("[groups]\n{BLOCK}team = bob\n[/]\n@team = r\n")
        );
        assert!(!first.text.contains("revision"), "{}", first.text);
    }

    /// A file the previous version wrote (its marker names a revision) is
    /// recognised as rolesync's: its block is replaced by the new one,
    /// nothing is taken over, and rendering the result again changes
    /// nothing.
    #[test]
    fn a_block_whose_marker_names_a_revision_is_recognised() {
        let old = format!("[groups]\n{OLD_BLOCK}team = carol\n[/]\n@team = r\n");
        let expect = format!("[groups]\n{BLOCK}team = carol\n[/]\n@team = r\n");
        assert!(check(&old, &expect).is_empty());
        assert!(check(&expect, &expect).is_empty());
        let crlf = old.replace('\n', "\r\n");
        assert!(check(&crlf, &expect.replace('\n', "\r\n")).is_empty());
    }

    /// Beside the markers of the previous version a hand-written role group
    /// is refused, as beside the new ones; nothing is taken over.
    #[test]
    fn a_role_group_beside_an_old_marker_is_refused() {
        for source in [
            format!("[groups]\n{OLD_BLOCK}admin = mallory\n[/]\n@admin = rw\n"),
            format!("[groups]\n{BLOCK}admin = mallory\n[/]\n@admin = rw\n"),
        ] {
            let (text, found) = render_lines(&source);
            assert_eq!(text, format!("[groups]\n{BLOCK}[/]\n@admin = rw\n"));
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(
                found[0].starts_with("6 group-collides-with-role"),
                "{found:?}"
            );
        }
    }

    #[test]
    fn a_file_without_groups_gets_them_before_its_first_section() {
        let expect = format!("# rules\n[groups]\n{BLOCK}\n[/]\n@admin = rw\n");
        assert!(check("# rules\n[/]\n@admin = rw\n", &expect).is_empty());
    }

    #[test]
    fn hand_written_groups_follow_the_generated_block() {
        let source = "[groups] # ours\nteam = @admin, bob\n\n[/]\n@team = r\n";
        let expect = format!("[groups] # ours\n{BLOCK}team = @admin, bob\n\n[/]\n@team = r\n");
        assert!(check(source, &expect).is_empty());
    }

    #[test]
    fn an_earlier_generated_block_is_replaced() {
        let old = "[groups]\n# rolesync: BEGIN generated groups (revision 6); x\nadmin = bob\n# rolesync: END generated groups\nteam = carol\n[/]\n@team = r\n";
        let expect = format!("[groups]\n{BLOCK}team = carol\n[/]\n@team = r\n");
        assert!(check(old, &expect).is_empty());
        // And rendering the result again changes nothing.
        assert!(check(&expect, &expect).is_empty());
    }

    #[test]
    fn crlf_files_get_crlf_lines() {
        let out = render("access", "[groups]\r\n[/]\r\n@admin = rw\r\n", &groups());
        assert!(
            out.text.contains("admin = alice\r\nlib-project_user =\r\n"),
            "{:?}",
            out.text
        );
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn a_groups_header_at_the_end_of_the_file_without_newline() {
        let expect = format!("[/]\n@admin = rw\n[groups]\n{BLOCK}");
        assert!(check("[/]\n@admin = rw\n[groups]", &expect).is_empty());
    }

    /// Render `source` and return the text and each diagnostic as
    /// `line code: message`.
    fn render_lines(source: &str) -> (String, Vec<String>) {
        let out = render("access", source, &groups());
        let diags = out
            .diagnostics
            .iter()
            .map(|d| format!("{} {}: {}", d.line, d.code, d.message))
            .collect();
        (out.text, diags)
    }

    /// Seed 003, "Synchronizing Roles with Repository": the synchronisation
    /// "ensures that access file contains group for every user role and
    /// that group membership is in sync with role assignment", and "only
    /// the first part of the access file is affected". An access file
    /// without rolesync's markers (Polarion's own, or hand-written) is
    /// taken over: each role group is replaced by the generated one, with
    /// a warning naming the members added and removed; every other group
    /// and every other byte stays.
    #[test]
    fn a_file_without_markers_is_taken_over() {
        // (what, source, expected text, expected diagnostics)
        let cases: &[(&str, &str, String, &[&str])] = &[
            (
                "role groups as Polarion writes them, members out of step",
                "[groups]\nadmin = mallory, alice\nlib-project_user = carol\nteam = @admin, bob\n\n[/]\n@admin = rw\n@team = r\n",
                format!("[groups]\n{BLOCK}team = @admin, bob\n\n[/]\n@admin = rw\n@team = r\n"),
                &[
                    "2 role-group-taken-over: the role group `admin` is taken over (the file has no rolesync markers yet) and replaced by the generated one: added none; removed mallory",
                    "3 role-group-taken-over: the role group `lib-project_user` is taken over (the file has no rolesync markers yet) and replaced by the generated one: added none; removed carol",
                ],
            ),
            (
                "members already in step",
                "[groups]\nadmin = alice\n[/]\n@admin = rw\n",
                format!("[groups]\n{BLOCK}[/]\n@admin = rw\n"),
                &[
                    "2 role-group-taken-over: the role group `admin` is taken over (the file has no rolesync markers yet) and replaced by the generated one: members unchanged",
                ],
            ),
            (
                "members on continuation lines, a nested group, `:` as separator",
                "[groups]\nadmin: @ops,\n  bob\n# kept\nops = carol\n[/]\n@admin = rw\n",
                format!("[groups]\n{BLOCK}# kept\nops = carol\n[/]\n@admin = rw\n"),
                &[
                    "2 role-group-taken-over: the role group `admin` is taken over (the file has no rolesync markers yet) and replaced by the generated one: added alice; removed @ops, bob",
                ],
            ),
            (
                "an empty role group is taken over too",
                "[groups]\nlib-project_user =\n[/]\n* = r\n",
                format!("[groups]\n{BLOCK}[/]\n* = r\n"),
                &[
                    "2 role-group-taken-over: the role group `lib-project_user` is taken over (the file has no rolesync markers yet) and replaced by the generated one: members unchanged",
                ],
            ),
            (
                "a group of a project or role rolesync does not generate is hand-written",
                "[groups]\noldproj-project_user = bob\n[/]\n@oldproj-project_user = r\n",
                format!(
                    "[groups]\n{BLOCK}oldproj-project_user = bob\n[/]\n@oldproj-project_user = r\n"
                ),
                &[],
            ),
            (
                "CRLF lines",
                "[groups]\r\nadmin = bob\r\nteam = bob\r\n[/]\r\n@admin = rw\r\n",
                format!(
                    "[groups]\r\n{}team = bob\r\n[/]\r\n@admin = rw\r\n",
                    BLOCK.replace('\n', "\r\n")
                ),
                &[
                    "2 role-group-taken-over: the role group `admin` is taken over (the file has no rolesync markers yet) and replaced by the generated one: added alice; removed bob",
                ],
            ),
        ];
        for (what, source, expect, diags) in cases {
            let (text, found) = render_lines(source);
            assert_eq!(&text, expect, "{what}:\n{text}");
            assert_eq!(found, *diags, "{what}");
            // The result is a file with markers: rendering it again takes
            // nothing over and changes nothing.
            let (again, found) = render_lines(&text);
            assert_eq!(again, text, "{what}: second run");
            assert!(found.is_empty(), "{what}: second run: {found:?}");
        }
    }

    /// Once the file carries rolesync's markers, a role group written by
    /// hand beside them is refused (a choice, docs/permissions.md "Role
    /// groups in the access file"): the administrator already knows the
    /// groups are generated, so the hand-written one is a mistake whose
    /// members would silently be undone.
    #[test]
    fn a_role_group_beside_the_markers_is_refused() {
        let cases: &[(&str, &str)] = &[
            (
                "below a complete block",
                "[groups]\n# rolesync: BEGIN generated groups (revision 6); x\nadmin = alice\n# rolesync: END generated groups\nadmin = mallory\n[/]\n@admin = rw\n",
            ),
            (
                "below a BEGIN without END",
                "[groups]\n# rolesync: BEGIN generated groups (revision 6); x\nadmin = mallory\n[/]\n@admin = rw\n",
            ),
        ];
        for (what, source) in cases {
            let (text, found) = render_lines(source);
            assert_eq!(
                text,
                format!("[groups]\n{BLOCK}[/]\n@admin = rw\n"),
                "{what}"
            );
            assert_eq!(found.len(), 1, "{what}: {found:?}");
            assert!(
                found[0].contains("group-collides-with-role"),
                "{what}: {found:?}"
            );
        }
    }

    #[test]
    fn diagnostics_point_at_lines_of_the_source() {
        let source = "[groups]\nteam = @ghost\n\n[/]\n@lib-project_user = r\n";
        let out = render("access", source, &groups());
        let found: Vec<(u32, &str)> = out
            .diagnostics
            .iter()
            .map(|d| (d.line, d.code.as_str()))
            .collect();
        assert_eq!(
            found,
            [(2, "authz-undefined-group"), (5, "authz-empty-group-rule")]
        );
    }

    proptest::proptest! {
        /// Whatever the hand-written file, every byte outside `[groups]`
        /// is kept, in order, and so is every hand-written group that is
        /// no role group (role groups are taken over).
        #[test]
        fn bytes_outside_groups_are_kept(
            pre in "(#[ a-z]{0,8}\n|\n){0,3}",
            sections in proptest::collection::vec(("/[a-z]{1,3}", "[a-z]{1,4}", "(r|rw|)"), 0..4),
            hand in proptest::collection::vec(("(admin|lib-project_user|g[a-z]{1,3})", "[a-z]{1,4}"), 0..4),
            groups_first in proptest::bool::ANY,
        ) {
            let body: String = sections.iter().map(|(p, u, r)| format!("[{p}]\n{u} = {r}\n")).collect();
            let hand_text: String = hand.iter().map(|(g, u)| format!("{g} = {u}\n")).collect();
            let source = if groups_first { format!("{pre}[groups]\n{hand_text}{body}") } else { format!("{pre}{body}[groups]\n{hand_text}") };
            let out = render("access", &source, &groups());
            let strip = |t: &str| -> String {
                let mut keep = String::new();
                let mut inside = false;
                for line in t.split_inclusive('\n') {
                    if line.starts_with('[') { inside = line.starts_with("[groups]"); }
                    if !inside { keep.push_str(line); }
                }
                keep
            };
            proptest::prop_assert_eq!(strip(&out.text), strip(&source));
            proptest::prop_assert!(out.text.contains(BLOCK));
            for (g, u) in &hand {
                let line = format!("{g} = {u}\n");
                let role_group = groups().iter().any(|r| r.name == g);
                proptest::prop_assert_eq!(out.text.contains(&line), !role_group || line == "admin = alice\n", "{}", line);
            }
        }
    }
}
