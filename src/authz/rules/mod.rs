//! The authz layer above the INI reader: what the sections and lines of an
//! access file (and of a global groups file) mean, checked the way
//! libsvn_repos 1.14.2 checks them, with every problem reported at its own
//! line.
//!
//! [`compile`] turns the parsed documents into rules ([`CompiledAcl`]), groups and
//! aliases, plus diagnostics. Where Subversion stops at the first error,
//! this goes on and collects them all; where Subversion crashes or aborts
//! (a group cycle it does not detect, an alias whose user name clashes with
//! an inverted entry), this reports an error, because either way the file
//! locks everybody out.

mod entries;
mod groups;
pub(super) mod sections;

use std::borrow::Cow;
use std::cell::OnceCell;
use std::ops::Range;

use crate::diag::{Code, Diagnostic, Source};

use super::glob::Seg;
use super::parse::{RawDoc, RawEntry, is_ws, parse_raw};
use super::tree::FxHashMap;

/// Read access.
pub(crate) const R: u8 = 1;
/// Write access (always together with [`R`] in valid files).
pub(crate) const W: u8 = 2;
/// Read and write.
pub(crate) const RW: u8 = R | W;

/// One file of authz rules (the access file or the global groups file):
/// its path (for diagnostics) and its text.
#[derive(Debug, Clone, Copy)]
pub struct AuthzFile<'a> {
    pub path: &'a str,
    pub text: &'a str,
}

/// Which of the two files something is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileId {
    Authz,
    Groups,
}

/// An access entry after aliases are resolved and entries for the same
/// name merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompiledAce<'a> {
    /// A user name, or `@group`.
    pub name: Cow<'a, str>,
    pub inverted: bool,
    pub access: u8,
}

/// One rule section, in the form Subversion evaluates.
#[derive(Debug, Clone)]
pub(crate) struct CompiledAcl<'a> {
    /// The section name and its header line.
    pub name: &'a str,
    pub header: Range<usize>,
    /// `None` for a repository-neutral rule.
    pub repo: Option<&'a str>,
    /// The normalised rule path; empty for the root.
    pub segs: Vec<Seg<'a>>,
    pub has_anon: bool,
    pub anon: u8,
    pub has_authn: bool,
    pub authn: u8,
    /// Inverted entries exist (counted before empty groups are dropped, as
    /// Subversion does for its global shortcut).
    pub has_neg: bool,
    pub neg: u8,
    /// User and group entries, empty-group entries dropped.
    pub aces: Vec<CompiledAce<'a>>,
}

/// A group definition.
#[derive(Debug, Clone)]
pub(crate) struct Group<'a> {
    pub name: &'a str,
    /// Raw members: `@group`, `&alias` or a user name.
    pub members: Vec<Cow<'a, str>>,
}

/// Everything an evaluator needs, in file order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Compiled<'a> {
    pub acls: Vec<CompiledAcl<'a>>,
    pub groups: Vec<Group<'a>>,
    pub aliases: FxHashMap<&'a str, Cow<'a, str>>,
}

/// Parse and check an authz file (and a global groups file). The result is
/// meaningful only when no diagnostic is an error.
pub(crate) fn compile<'a>(
    authz: AuthzFile<'a>,
    groups: Option<AuthzFile<'a>>,
) -> (Compiled<'a>, Vec<Diagnostic>) {
    let (compiled, diags, _) = compile_with(authz, groups, None);
    (compiled, diags)
}

/// Groups known by name only, defined where a `[groups]` section of the
/// access file holds offset `at`, before that section's own entries; each
/// with whether it has members (all of them users). `compile_beside` of a
/// text without these groups' lines checks what `compile` of the text with
/// them checks, when the lines are plain entries (`render::plain_groups`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Beside<'a> {
    pub at: usize,
    pub groups: &'a [(&'a str, bool)],
}

/// [`compile`] of an access file with `beside`'s groups defined in it; the
/// flag tells whether they were (the section holding `at` is a well-formed
/// `[groups]` whose entries all follow `at`, and every name is one a
/// definition may have, defined once).
pub(crate) fn compile_beside<'a>(
    authz: AuthzFile<'a>,
    beside: Beside<'a>,
) -> (Compiled<'a>, Vec<Diagnostic>, bool) {
    compile_with(authz, None, Some(beside))
}

fn compile_with<'a>(
    authz: AuthzFile<'a>,
    groups: Option<AuthzFile<'a>>,
    beside: Option<Beside<'a>>,
) -> (Compiled<'a>, Vec<Diagnostic>, bool) {
    let mut cx = Cx {
        authz,
        groups,
        sources: [OnceCell::new(), OnceCell::new()],
        diags: Vec::new(),
        group_defs: Vec::new(),
        group_index: FxHashMap::default(),
        aliases: FxHashMap::default(),
        alias_spans: FxHashMap::default(),
        beside,
        injected: false,
    };
    let doc = parse_raw(authz.text);
    cx.ini_errors(FileId::Authz, &doc);
    let pending = cx.authz_sections(&doc);
    let local_group_defs = cx.group_defs.len();
    if let Some(g) = groups {
        let gdoc = parse_raw(g.text);
        cx.ini_errors(FileId::Groups, &gdoc);
        if local_group_defs > 0 {
            for s in doc
                .sections
                .iter()
                .filter(|s| s.name == "groups" && !s.entries.is_empty())
            {
                cx.push(
                    FileId::Authz,
                    Code::AuthzGroupsFileConflict,
                    s.header.clone(),
                    "this file defines groups, but a global groups file is in use \
                     (svnserve groups-db, --groups-file); Subversion refuses the pair",
                );
            }
        }
        cx.groups_file_sections(&gdoc);
    }
    let nonempty = cx.check_groups();
    let acls = cx.finish_acls(pending, &nonempty);
    let groups = std::mem::take(&mut cx.group_defs)
        .into_iter()
        .map(|d| Group {
            name: d.name,
            members: d.members.into_iter().map(|(m, _)| m).collect(),
        })
        .collect();
    let compiled = Compiled {
        acls,
        groups,
        aliases: cx.aliases,
    };
    (compiled, cx.diags, cx.injected)
}

/// A group definition with its locations.
struct GroupDef<'a> {
    name: &'a str,
    file: FileId,
    name_span: Range<usize>,
    members: Vec<(Cow<'a, str>, Range<usize>)>,
    /// A group of [`Beside`] with members: it has users, though `members`
    /// is empty.
    users: bool,
}

/// A rule section before aliases and groups are resolved.
struct PendingAcl<'a> {
    acl: CompiledAcl<'a>,
    /// Entries for users and groups: (key with `~`, name, inverted, access, name span).
    aces: Vec<PendingAce<'a>>,
}

/// An entry after alias resolution: (key with `~`, name, inverted, access,
/// span of the first entry).
type Merged<'a> = (Cow<'a, str>, Cow<'a, str>, bool, u8, Range<usize>);

struct PendingAce<'a> {
    /// The entry name as written (with `~`).
    key: &'a str,
    /// `@group`, `&alias` or a user name.
    name: &'a str,
    inverted: bool,
    access: u8,
    span: Range<usize>,
}

struct Cx<'a> {
    authz: AuthzFile<'a>,
    groups: Option<AuthzFile<'a>>,
    /// Line indexes, made on the first diagnostic.
    sources: [OnceCell<Source<'a>>; 2],
    diags: Vec<Diagnostic>,
    group_defs: Vec<GroupDef<'a>>,
    group_index: FxHashMap<&'a str, usize>,
    aliases: FxHashMap<&'a str, Cow<'a, str>>,
    alias_spans: FxHashMap<&'a str, Range<usize>>,
    /// Groups defined by name only, and whether they were.
    beside: Option<Beside<'a>>,
    injected: bool,
}

/// The kind of a section, from its name.
enum Kind<'a> {
    Groups,
    Aliases,
    Rule {
        glob: bool,
        repo: Option<&'a str>,
        path: &'a str,
    },
}

/// Classify a section name like libsvn_repos' `rules_open_section`.
fn classify(name: &str) -> Result<Kind<'_>, String> {
    let mut rule = name;
    let mut glob = false;
    if let Some(rest) = rule.strip_prefix(':') {
        let Some(colon) = rest.find(':') else {
            return Err(format!("empty repository name in rule [{name}]"));
        };
        let token = &rest[..colon];
        if token != "glob" {
            return Err(format!(
                "invalid type token '{token}' in rule [{name}]; the only one is ':glob:'"
            ));
        }
        glob = true;
        rule = &rest[colon + 1..];
    }
    let mut repo = None;
    if !rule.starts_with('/')
        && let Some(colon) = rule.find(':')
    {
        if colon == 0 {
            return Err(format!("empty repository name in rule [{name}]"));
        }
        repo = Some(&rule[..colon]);
        rule = &rule[colon + 1..];
    }
    if rule.starts_with('/') {
        return Ok(Kind::Rule {
            glob,
            repo,
            path: rule,
        });
    }
    match name {
        "groups" => Ok(Kind::Groups),
        "aliases" => Ok(Kind::Aliases),
        _ => Err(format!(
            "section [{name}] is not valid in an authz file; use [groups], [aliases], \
             [/path], [repository:/path] or [:glob:/path]"
        )),
    }
}

/// Parse an access value: `r`, `w` and whitespace. Returns the bits, or the
/// first offending character.
fn parse_access(value: &str) -> Result<u8, char> {
    let mut acc = 0;
    for c in value.chars() {
        match c {
            'r' => acc |= R,
            'w' => acc |= W,
            c if c.is_ascii() && is_ws(c as u8) => {}
            c => return Err(c),
        }
    }
    Ok(acc)
}

/// The span of `needle` in the value of `entry`, searching from `from`;
/// the whole value span when it cannot be found (continuation lines).
fn find_in_value(text: &str, entry: &RawEntry<'_>, from: &mut usize, needle: &str) -> Range<usize> {
    let start = (*from).max(entry.value_span.start);
    // A member borrowed from the value is where it points: the search
    // below would find it there too (only blanks and commas lie between
    // members), so skip the search.
    let at = needle.as_ptr() as usize;
    let base = text.as_ptr() as usize;
    if !needle.is_empty()
        && at >= base + start
        && at + needle.len() <= base + entry.value_span.end.min(text.len())
    {
        let s = at - base;
        *from = s + needle.len();
        return s..s + needle.len();
    }
    let hay = text.get(start..entry.value_span.end).unwrap_or("");
    match hay.find(needle) {
        Some(i) if !needle.is_empty() => {
            let s = start + i;
            *from = s + needle.len();
            s..s + needle.len()
        }
        _ => entry.value_span.clone(),
    }
}

impl<'a> Cx<'a> {
    fn input(&self, file: FileId) -> AuthzFile<'a> {
        match (file, self.groups) {
            (FileId::Groups, Some(g)) => g,
            _ => self.authz,
        }
    }

    fn source(&self, file: FileId) -> &Source<'a> {
        let i = usize::from(file == FileId::Groups && self.groups.is_some());
        self.sources[i].get_or_init(|| {
            let input = self.input(file);
            Source::new(input.path, input.text)
        })
    }

    fn push(&mut self, file: FileId, code: Code, span: Range<usize>, msg: impl Into<String>) {
        let d = self.source(file).diag(code, span, msg);
        self.diags.push(d);
    }

    /// Push a diagnostic that refers to a second place, `first`.
    fn push_dup(
        &mut self,
        file: FileId,
        code: Code,
        span: Range<usize>,
        msg: impl Into<String>,
        first: (FileId, Range<usize>),
    ) {
        let related = self.source(first.0).related(first.1, "first");
        let d = self
            .source(file)
            .diag(code, span, msg)
            .with_related(related);
        self.diags.push(d);
    }

    fn ini_errors(&mut self, file: FileId, doc: &RawDoc<'_>) {
        for (span, msg) in &doc.errors {
            self.push(file, Code::AuthzSyntax, span.clone(), *msg);
        }
    }
}
