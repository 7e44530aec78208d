//! Part b: effective SVN access, asked of `authz::Authz` on both access
//! files (the evaluator that answers as `svnauthz accessof`), at the rule
//! paths a change can affect, for the logins it can affect.
//!
//! What changed is found on the parsed files before anything is
//! evaluated:
//! * a rule section whose lines differ (or that exists on one side only):
//!   every login, at every rule path at and below it;
//! * a group (role groups included: the rendered file holds them) or an
//!   alias whose definition differs: the names whose membership differs
//!   (the two expansions compared), at every rule path at and below each
//!   section that names the group, a group containing it, or the alias;
//! * an inverted group entry (`~@g`) whose group becomes empty or stops
//!   being empty: Subversion drops such a line for everybody, so it counts
//!   as a changed section.
//!
//! Rule paths are the paths of every rule section of either file, in each
//! repository the files name (a repository-neutral path in every one of
//! them, and without a repository). A `:glob:` section reaches every path.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::block::Split;
use super::generated::{self, Generated};
use super::types::PathChange;
use crate::authz::render::BlockMap;
use crate::authz::{self, Authz, Doc};

/// An access file's text and the renderer's record of its block (`None`:
/// none, the block is read from the text).
pub(super) type Text<'d> = (&'d str, Option<&'d BlockMap>);

/// Where a rule section applies.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule<'d> {
    repo: Option<&'d str>,
    /// Canonical path (`/` for the root).
    path: String,
    glob: bool,
    entries: Vec<(&'d str, &'d str)>,
}

/// The sections of one access file, by kind.
#[derive(Debug, Default)]
struct Sections<'d> {
    /// The hand-written groups (a generated group of the same name wins).
    groups: BTreeMap<&'d str, &'d str>,
    aliases: BTreeMap<&'d str, &'d str>,
    rules: BTreeMap<&'d str, Rule<'d>>,
    /// The generated groups, read line by line.
    generated: Generated<'d>,
}

impl<'d> Sections<'d> {
    fn of(doc: &'d Doc) -> Sections<'d> {
        let mut out = Sections::default();
        for s in doc.sections.iter().filter(|s| s.well_formed) {
            let entries = s
                .entries
                .iter()
                .map(|e| (e.name.as_str(), e.value.as_str()));
            match s.name.as_str() {
                "groups" => out.groups.extend(entries),
                "aliases" => out.aliases.extend(entries),
                name => {
                    let Some((repo, path, glob)) = rule_target(name) else {
                        continue;
                    };
                    let rule = out.rules.entry(name).or_insert_with(|| Rule {
                        repo,
                        path,
                        glob,
                        entries: Vec::new(),
                    });
                    rule.entries.extend(entries);
                }
            }
        }
        out
    }

    /// The definition of group `g`: its generated line, else its
    /// hand-written one.
    fn group(&self, g: &str) -> Option<&'d str> {
        self.generated
            .get(g)
            .or_else(|| self.groups.get(g).copied())
    }

    /// The hand-written groups a generated one does not replace, with
    /// their definitions (a generated line names logins only, never a
    /// group nor an alias: a login never starts with `@` nor holds `&`).
    fn hand_groups(&self) -> impl Iterator<Item = (&'d str, &'d str)> + '_ {
        self.groups
            .iter()
            .filter(|(g, _)| self.generated.get(g).is_none())
            .map(|(g, v)| (*g, *v))
    }

    /// The names a group stands for, through nested groups and aliases
    /// (a worklist; every group once).
    fn expand(&self, group: &str) -> BTreeSet<&'d str> {
        let mut out = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut work = vec![group];
        while let Some(g) = work.pop() {
            if !seen.insert(g) {
                continue;
            }
            let Some(value) = self.group(g) else {
                continue;
            };
            for member in members(value) {
                if let Some(sub) = member.strip_prefix('@') {
                    work.push(sub);
                } else if let Some(alias) = member.strip_prefix('&') {
                    out.extend(self.aliases.get(alias).copied());
                } else {
                    out.insert(member);
                }
            }
        }
        out
    }

    /// Every user name the file mentions.
    fn names(&self) -> impl Iterator<Item = &'d str> + '_ {
        let in_groups = self
            .hand_groups()
            .map(|(_, v)| v)
            .chain(self.generated.values())
            .flat_map(members)
            .filter(|m| !m.starts_with(['@', '&']));
        let in_rules = self
            .rules
            .values()
            .flat_map(|r| r.entries.iter().map(|(n, _)| n.trim_start_matches('~')))
            .filter(|n| !n.starts_with(['@', '&', '*', '$']));
        in_groups
            .chain(self.aliases.values().copied())
            .chain(in_rules)
    }
}

/// The members of a `[groups]` value.
fn members(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|m| !m.is_empty())
}

/// `[repo:/path]`, `[/path]`, `[:glob:…]` → (repository, canonical path,
/// glob); `None` for other sections.
fn rule_target(name: &str) -> Option<(Option<&str>, String, bool)> {
    let (glob, rest) = match name.strip_prefix(":glob:") {
        Some(rest) => (true, rest),
        None => (false, name),
    };
    let (repo, path) = if rest.starts_with('/') {
        (None, rest)
    } else {
        let (repo, path) = rest.split_once(':')?;
        if !path.starts_with('/') {
            return None;
        }
        (Some(repo), path)
    };
    Some((repo, authz::canonicalize(path), glob))
}

/// One place access is asked about: (repository, path).
type Point<'d> = (Option<&'d str>, String);

/// Who is asked at a point: every login, or the names whose membership
/// of a changed group or alias differs (one set for the whole diff).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    All,
    Affected,
}

/// How much of the two files the path part reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// The generated lines that differ (walked side by side) and the
    /// hand-written part parsed once when both files share it.
    Changed,
    /// Every generated line by name and both files parsed: what the
    /// property test compares `Changed` with.
    #[cfg_attr(not(test), allow(dead_code))]
    Whole,
}

/// What the path part found.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub changes: Vec<PathChange>,
    pub unevaluated: usize,
}

/// Every (login, rule path) whose access differs between the two access
/// files, within `max_evaluations`; `everybody` gives the accounts of both
/// models (asked only when a rule section itself changed).
pub(super) fn paths(
    (old, old_block): Text,
    (new, new_block): Text,
    everybody: &dyn Fn() -> BTreeSet<String>,
    max_evaluations: usize,
    reading: Reading,
) -> Result<Found, String> {
    if old == new {
        return Ok(Found::default());
    }
    // The generated groups are read line by line, never parsed as INI;
    // the hand-written part is parsed once when both files share it.
    let split_old = Split::recorded(old, old_block);
    let split_new = Split::recorded(new, new_block);
    let same_rest = reading == Reading::Changed && split_old.same_rest(&split_new);
    let rest_old = split_old.rest();
    let rest_new = if same_rest {
        Cow::Borrowed(&*rest_old)
    } else {
        split_new.rest()
    };
    let old_doc = authz::parse(&rest_old);
    let parsed_new = (!same_rest).then(|| authz::parse(&rest_new));
    let new_doc = parsed_new.as_ref().unwrap_or(&old_doc);
    let (mut a, mut b) = (Sections::of(&old_doc), Sections::of(new_doc));
    let referenced = referenced(&a, &b);
    let by_groups = named(&a, &b, |_| false);
    a.generated = Generated::new(&split_old.lines);
    b.generated = Generated::new(&split_new.lines);
    let hand: BTreeSet<&str> = a.groups.keys().chain(b.groups.keys()).copied().collect();
    let aligned = reading == Reading::Changed;
    let mut candidates = generated::compare(&mut a.generated, &mut b.generated, &hand, aligned);
    candidates.extend(hand);
    let (tasks, affected) = tasks(&a, &b, &candidates);
    if tasks.is_empty() {
        return Ok(Found::default());
    }
    let any_all = tasks.values().any(|w| *w == Who::All);
    // Only the logins asked about need their memberships in the files
    // the evaluator loads.
    let asked = (!any_all).then_some(&affected);
    let (before, after) = evaluators(
        Side {
            split: &split_old,
            rest: &rest_old,
            doc: &old_doc,
            sections: &a,
        },
        Side {
            split: &split_new,
            rest: &rest_new,
            doc: new_doc,
            sections: &b,
        },
        &tasks,
        asked,
        (&referenced, &by_groups),
    )?;
    let all: BTreeSet<String> = if any_all {
        let mut all = everybody();
        all.extend(a.names().chain(b.names()).map(str::to_owned));
        all
    } else {
        BTreeSet::new()
    };
    let mut found = Found::default();
    let mut budget = max_evaluations;
    for ((repo, path), who) in &tasks {
        let names: Box<dyn Iterator<Item = &str>> = match who {
            Who::All => Box::new(all.iter().map(String::as_str)),
            Who::Affected => Box::new(affected.iter().copied()),
        };
        for login in names {
            if budget == 0 {
                found.unevaluated += 1;
                continue;
            }
            budget -= 1;
            let from = before.access(Some(login), *repo, Some(path));
            let to = after.access(Some(login), *repo, Some(path));
            if from != to {
                found.changes.push(PathChange {
                    repository: repo.map(str::to_owned),
                    path: path.clone(),
                    login: login.to_owned(),
                    from,
                    to,
                });
            }
        }
    }
    Ok(found)
}

/// One access file as the path part reads it.
struct Side<'s, 'd> {
    split: &'s Split<'d>,
    rest: &'s str,
    doc: &'s Doc,
    sections: &'s Sections<'d>,
}

/// The evaluators of the two files: when only `asked` are asked about,
/// loaded from the sections that reach a point of `tasks` and the groups
/// they name ([`reached`]); else from the whole files.
fn evaluators<'d>(
    old: Side<'_, 'd>,
    new: Side<'_, 'd>,
    tasks: &BTreeMap<Point, Who>,
    asked: Option<&BTreeSet<&str>>,
    (referenced, by_groups): (&BTreeSet<&str>, &BTreeSet<&str>),
) -> Result<(Authz, Authz), String> {
    let load = |text: &str| {
        Authz::load(text, None).map_err(|d| {
            d.first()
                .map_or_else(|| "invalid access file".to_owned(), |d| d.one_line())
        })
    };
    let Some(asked) = asked else {
        return Ok((
            load(&old.split.reduced(None, referenced))?,
            load(&new.split.reduced(None, referenced))?,
        ));
    };
    let points: BTreeSet<&Point> = tasks.keys().collect();
    let mut needed = referenced_reaching(old.sections, new.sections, &points);
    needed.extend(by_groups);
    let text = |side: &Side| {
        reached(side, &points, Some(asked), &needed)
            .unwrap_or_else(|| side.split.reduced(Some(asked), referenced).into_owned())
    };
    Ok((load(&text(&old))?, load(&text(&new))?))
}

/// The access file `text` reduced to what decides access at `(repo,
/// path)`: the rule sections that reach it and the groups their lines and
/// the hand-written groups name, every member kept (as [`reached`] reduces
/// a file for the evaluator), so that every answer there is the whole
/// file's. `None` when the generated lines are not inside a section.
pub(super) fn reduced_at((text, block): Text, repo: Option<&str>, path: &str) -> Option<String> {
    let split = Split::recorded(text, block);
    let rest = split.rest();
    let doc = authz::parse(&rest);
    let sections = Sections::of(&doc);
    let point: Point = (repo, authz::canonicalize(path));
    let points = BTreeSet::from([&point]);
    let mut needed = referenced_reaching(&sections, &sections, &points);
    needed.extend(named(&sections, &sections, |_| false));
    let side = Side {
        split: &split,
        rest: &rest,
        doc: &doc,
        sections: &sections,
    };
    reached(&side, &points, None, &needed)
}

/// The groups a rule line or a hand-written group of either file names
/// (`a` and `b` before the generated groups join them).
fn referenced<'d>(a: &Sections<'d>, b: &Sections<'d>) -> BTreeSet<&'d str> {
    named(a, b, |_| true)
}

/// The groups a rule line of a section that reaches one of `points`, of
/// either file, names.
fn referenced_reaching<'d>(
    a: &Sections<'d>,
    b: &Sections<'d>,
    points: &BTreeSet<&Point>,
) -> BTreeSet<&'d str> {
    named_by(a, b, |r| points.iter().any(|p| reaches(r, p)), false)
}

/// The groups the rule lines of the sections `keep` admits, or a
/// group of either file (hand-written ones: before the generated ones
/// join them), of either file names.
fn named<'d>(
    a: &Sections<'d>,
    b: &Sections<'d>,
    keep: impl Fn(&Rule) -> bool,
) -> BTreeSet<&'d str> {
    named_by(a, b, keep, true)
}

/// The groups the rule lines of the sections `keep` admits (and, with
/// `groups`, the groups' members) name.
fn named_by<'d>(
    a: &Sections<'d>,
    b: &Sections<'d>,
    keep: impl Fn(&Rule) -> bool,
    groups: bool,
) -> BTreeSet<&'d str> {
    let mut out = BTreeSet::new();
    for s in [a, b] {
        let in_rules = s
            .rules
            .values()
            .filter(|r| keep(r))
            .flat_map(|r| r.entries.iter().map(|(n, _)| *n));
        let in_groups = s
            .groups
            .values()
            .filter(|_| groups)
            .flat_map(|v| members(v));
        for name in in_rules.chain(in_groups) {
            if let Some(g) = name.trim_start_matches('~').strip_prefix('@') {
                out.insert(g);
            }
        }
    }
    out
}

/// The text the evaluator loads when only `asked` are asked about at
/// `points`: the file without the rule sections that reach none of them
/// (they cannot change an answer there), its generated lines reduced to
/// the groups in `needed` and the members asked about
/// ([`Split::reduced_lines`]; `None`: every member). Every other section (groups, aliases, one
/// that is no rule or not well formed) is kept as it is. `None` when the
/// generated lines are not inside a section of the file.
fn reached(
    side: &Side,
    points: &BTreeSet<&Point>,
    asked: Option<&BTreeSet<&str>>,
    needed: &BTreeSet<&str>,
) -> Option<String> {
    let keep = |s: &authz::parse::Section| {
        !s.well_formed
            || side
                .sections
                .rules
                .get(s.name.as_str())
                .is_none_or(|r| points.iter().any(|p| reaches(r, p)))
    };
    let (split, rest) = (side.split, side.rest);
    let pieces = std::iter::once(side.doc.preamble.clone()).chain(
        side.doc
            .sections
            .iter()
            .filter(|s| keep(s))
            .map(|s| s.header.start..s.body.end),
    );
    let lines = split
        .block_in_rest()
        .map(|at| (at, split.reduced_lines(asked, needed)));
    let mut out = String::with_capacity(rest.len() / 4);
    let mut inserted = lines.is_none();
    for piece in pieces {
        match &lines {
            Some((at, text)) if piece.contains(at) => {
                out.push_str(&rest[piece.start..*at]);
                out.push_str(text);
                out.push_str(&rest[*at..piece.end]);
                inserted = true;
            }
            _ => out.push_str(&rest[piece]),
        }
    }
    inserted.then_some(out)
}

/// The points to evaluate and who is asked there; the affected names.
type Tasks<'d> = (BTreeMap<Point<'d>, Who>, BTreeSet<&'d str>);

/// The (point, who) pairs to evaluate; `candidates`: every group whose
/// definition may differ.
fn tasks<'d>(a: &Sections<'d>, b: &Sections<'d>, candidates: &BTreeSet<&'d str>) -> Tasks<'d> {
    let points = points(a, b);
    let mut tasks: BTreeMap<Point<'d>, Who> = BTreeMap::new();
    let (names, affected) = changed_names(a, b, candidates);
    let mut at_and_below = |rule: &Rule<'d>, who: Who| {
        for p in points.iter().filter(|p| reaches(rule, p)) {
            let at = tasks.entry(p.clone()).or_insert(who);
            if who == Who::All {
                *at = Who::All;
            }
        }
    };
    let rule_names: BTreeSet<&str> = a.rules.keys().chain(b.rules.keys()).copied().collect();
    for name in rule_names {
        let (ra, rb) = (a.rules.get(name), b.rules.get(name));
        let changed = ra.map(|r| &r.entries) != rb.map(|r| &r.entries)
            || [ra, rb]
                .into_iter()
                .flatten()
                .any(|r| drops_inverted(r, a, b, &names));
        for rule in [ra, rb].into_iter().flatten() {
            if changed {
                at_and_below(rule, Who::All);
            } else if names_any(rule, &names) {
                at_and_below(rule, Who::Affected);
            }
        }
    }
    (tasks, affected)
}

/// Groups (`@g`) and aliases (`&a`) whose meaning differs — a changed
/// definition (among `candidates`: no other group's can differ) and every
/// group that contains one — and the names whose membership in them
/// differs.
fn changed_names<'d>(
    a: &Sections<'d>,
    b: &Sections<'d>,
    candidates: &BTreeSet<&'d str>,
) -> (BTreeSet<String>, BTreeSet<&'d str>) {
    let mut affected = BTreeSet::new();
    let mut changed = BTreeSet::new();
    for &g in candidates {
        if a.group(g) != b.group(g) {
            let (x, y) = (a.expand(g), b.expand(g));
            affected.extend(x.symmetric_difference(&y).copied());
            changed.insert(format!("@{g}"));
        }
    }
    let aliases: BTreeSet<&str> = a.aliases.keys().chain(b.aliases.keys()).copied().collect();
    for al in aliases {
        let (x, y) = (a.aliases.get(al), b.aliases.get(al));
        if x != y {
            affected.extend(x.into_iter().chain(y).copied());
            changed.insert(format!("&{al}"));
        }
    }
    // Every group that contains a changed one (in either file) changes too.
    let mut parents: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for s in [a, b] {
        // Most hand-written values name no group nor alias either: one
        // scan of the bytes says so before any member is split off.
        let names_some = |v: &&str| v.bytes().any(|b| b == b'@' || b == b'&');
        for (g, value) in s.hand_groups().filter(|(_, v)| names_some(v)) {
            for m in members(value).filter(|m| m.starts_with(['@', '&'])) {
                parents.entry(m.to_owned()).or_default().insert(g);
            }
        }
    }
    let mut work: Vec<String> = changed.iter().cloned().collect();
    while let Some(n) = work.pop() {
        for p in parents.get(&n).into_iter().flatten() {
            let name = format!("@{p}");
            if changed.insert(name.clone()) {
                work.push(name);
            }
        }
    }
    (changed, affected)
}

/// Whether a rule line names one of `names` (inverted or not).
fn names_any(rule: &Rule, names: &BTreeSet<String>) -> bool {
    rule.entries
        .iter()
        .any(|(n, _)| names.contains(n.trim_start_matches('~')))
}

/// Whether the rule has an inverted line of a changed group that is empty
/// on one side only (Subversion drops such a line, for everybody).
fn drops_inverted(rule: &Rule, a: &Sections, b: &Sections, names: &BTreeSet<String>) -> bool {
    rule.entries.iter().any(|(n, _)| {
        n.strip_prefix('~')
            .filter(|g| names.contains(*g))
            .and_then(|g| g.strip_prefix('@'))
            .is_some_and(|g| a.expand(g).is_empty() != b.expand(g).is_empty())
    })
}

/// Every rule path of either file, in every repository they name.
fn points<'d>(a: &Sections<'d>, b: &Sections<'d>) -> BTreeSet<Point<'d>> {
    let rules: Vec<&Rule<'d>> = a.rules.values().chain(b.rules.values()).collect();
    let repos: BTreeSet<Option<&str>> = std::iter::once(None)
        .chain(rules.iter().filter_map(|r| r.repo.map(Some)))
        .collect();
    let mut out = BTreeSet::new();
    for r in rules {
        match r.repo {
            Some(repo) => {
                out.insert((Some(repo), r.path.clone()));
            }
            None => out.extend(repos.iter().map(|&repo| (repo, r.path.clone()))),
        }
    }
    out
}

/// Whether a rule section can change the answer at a point: a glob
/// anywhere; otherwise at and below its path, in its repository (a
/// repository-neutral one in every repository).
fn reaches(rule: &Rule, (repo, path): &Point) -> bool {
    if rule.glob {
        return true;
    }
    if rule.repo.is_some() && rule.repo != *repo {
        return false;
    }
    rule.path == "/"
        || path == &rule.path
        || path
            .strip_prefix(rule.path.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
}
