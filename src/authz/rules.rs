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

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use crate::diag::{Code, Diagnostic, Source};

use super::glob::{Seg, parse_rule_path};
use super::parse::{RawDoc, RawEntry, RawSection, is_ws, parse_raw, trim_ws};
use super::tree::FxHashMap;

/// Read access.
pub(crate) const R: u8 = 1;
/// Write access (always together with [`R`] in valid files).
pub(crate) const W: u8 = 2;
/// Read and write.
pub(crate) const RW: u8 = R | W;

/// One input file: its path (for diagnostics) and its text.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
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
    authz: Input<'a>,
    groups: Option<Input<'a>>,
) -> (Compiled<'a>, Vec<Diagnostic>) {
    let mut cx = Cx {
        authz,
        groups,
        sources: [OnceCell::new(), OnceCell::new()],
        diags: Vec::new(),
        group_defs: Vec::new(),
        group_index: FxHashMap::default(),
        aliases: FxHashMap::default(),
        alias_spans: FxHashMap::default(),
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
    (compiled, cx.diags)
}

/// A group definition with its locations.
struct GroupDef<'a> {
    name: &'a str,
    file: FileId,
    name_span: Range<usize>,
    members: Vec<(Cow<'a, str>, Range<usize>)>,
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
    authz: Input<'a>,
    groups: Option<Input<'a>>,
    /// Line indexes, made on the first diagnostic.
    sources: [OnceCell<Source<'a>>; 2],
    diags: Vec<Diagnostic>,
    group_defs: Vec<GroupDef<'a>>,
    group_index: FxHashMap<&'a str, usize>,
    aliases: FxHashMap<&'a str, Cow<'a, str>>,
    alias_spans: FxHashMap<&'a str, Range<usize>>,
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
    fn input(&self, file: FileId) -> Input<'a> {
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

    /// Pass 1 over the authz file: sections, groups, aliases, rule entries.
    fn authz_sections(&mut self, doc: &RawDoc<'a>) -> Vec<PendingAcl<'a>> {
        let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
        // Rule keys by hash: (hash of repository and path) -> pending ACLs.
        let mut rule_keys: FxHashMap<u64, usize> = FxHashMap::default();
        let mut same_hash: Vec<usize> = Vec::with_capacity(doc.sections.len());
        let mut merge: FxHashMap<&'a str, usize> = FxHashMap::default();
        let mut acls: Vec<PendingAcl<'a>> = Vec::with_capacity(doc.sections.len());
        for (index, section) in doc.sections.iter().enumerate() {
            if !section.well_formed {
                continue;
            }
            let duplicate = match seen.get(section.name) {
                Some(&first) => {
                    self.push_dup(
                        FileId::Authz,
                        Code::AuthzDuplicateSection,
                        section.header.clone(),
                        format!("section [{}] appears more than once", section.name),
                        (FileId::Authz, doc.sections[first].header.clone()),
                    );
                    true
                }
                None => {
                    seen.insert(section.name, index);
                    false
                }
            };
            match classify(section.name) {
                Err(msg) => self.push(
                    FileId::Authz,
                    Code::AuthzInvalidSection,
                    section.header.clone(),
                    msg,
                ),
                Ok(Kind::Groups) => self.group_section(FileId::Authz, section),
                Ok(Kind::Aliases) => self.alias_section(section),
                Ok(Kind::Rule { glob, repo, path }) => match parse_rule_path(path, glob) {
                    Err(e) => self.push(
                        FileId::Authz,
                        Code::AuthzInvalidSection,
                        section.header.clone(),
                        format!(
                            "non-canonical path '{path}' in rule [{}]: {}",
                            section.name,
                            e.describe()
                        ),
                    ),
                    Ok(segs) => {
                        if !duplicate {
                            let hash = {
                                use std::hash::BuildHasher;
                                rule_keys.hasher().hash_one((repo, &segs))
                            };
                            let mut same = None;
                            let mut at = rule_keys.get(&hash).copied();
                            while let Some(i) = at {
                                if acls[i].acl.repo == repo && acls[i].acl.segs == segs {
                                    same = Some(i);
                                    break;
                                }
                                at = (same_hash[i] != usize::MAX).then_some(same_hash[i]);
                            }
                            if let Some(first) = same {
                                let first_name = acls[first].acl.name;
                                self.push_dup(
                                    FileId::Authz,
                                    Code::AuthzDuplicateSection,
                                    section.header.clone(),
                                    format!(
                                        "section [{}] describes the same rule as section [{}]",
                                        section.name, first_name
                                    ),
                                    (FileId::Authz, acls[first].acl.header.clone()),
                                );
                            } else {
                                let prev = rule_keys.insert(hash, acls.len());
                                same_hash.resize(acls.len(), usize::MAX);
                                same_hash.push(prev.unwrap_or(usize::MAX));
                            }
                        }
                        acls.push(self.rule_section(section, repo, segs, &mut merge));
                    }
                },
            }
        }
        acls
    }

    /// Group definitions of one `[groups]` section.
    fn group_section(&mut self, file: FileId, section: &RawSection<'a>) {
        let text = self.input(file).text;
        for e in &section.entries {
            let kind = if file == FileId::Groups {
                "global group"
            } else {
                "group"
            };
            if let Err(msg) = check_definition_name(kind, e.name) {
                self.push(file, Code::AuthzInvalidName, e.name_span.clone(), msg);
                continue;
            }
            if let Some(&first) = self.group_index.get(e.name) {
                let def = &self.group_defs[first];
                let first = (def.file, def.name_span.clone());
                self.push_dup(
                    file,
                    Code::AuthzDuplicateDefinition,
                    e.name_span.clone(),
                    format!("{kind} @{} is defined more than once", e.name),
                    first,
                );
                continue;
            }
            let mut from = e.value_span.start;
            let members = split_members(&e.value)
                .into_iter()
                .map(|m| {
                    let span = find_in_value(text, e, &mut from, &m);
                    (m, span)
                })
                .collect();
            self.group_index.insert(e.name, self.group_defs.len());
            self.group_defs.push(GroupDef {
                name: e.name,
                file,
                name_span: e.name_span.clone(),
                members,
            });
        }
    }

    fn alias_section(&mut self, section: &RawSection<'a>) {
        for e in &section.entries {
            if let Err(msg) = check_definition_name("alias", e.name) {
                self.push(
                    FileId::Authz,
                    Code::AuthzInvalidName,
                    e.name_span.clone(),
                    msg,
                );
                continue;
            }
            if let Some(first) = self.alias_spans.get(e.name) {
                let first = (FileId::Authz, first.clone());
                self.push_dup(
                    FileId::Authz,
                    Code::AuthzDuplicateDefinition,
                    e.name_span.clone(),
                    format!("alias &{} is defined more than once", e.name),
                    first,
                );
                continue;
            }
            self.alias_spans.insert(e.name, e.name_span.clone());
            self.aliases.insert(e.name, e.value.clone());
        }
    }

    /// The entries of one rule section (pass 1: no alias or group lookups).
    fn rule_section(
        &mut self,
        section: &RawSection<'a>,
        repo: Option<&'a str>,
        segs: Vec<Seg<'a>>,
        merge: &mut FxHashMap<&'a str, usize>,
    ) -> PendingAcl<'a> {
        merge.clear();
        let mut acl = CompiledAcl {
            name: section.name,
            header: section.header.clone(),
            repo,
            segs,
            has_anon: false,
            anon: 0,
            has_authn: false,
            authn: 0,
            has_neg: false,
            neg: 0,
            aces: Vec::new(),
        };
        let mut aces: Vec<PendingAce<'a>> = Vec::new();
        for e in &section.entries {
            let opt = e.name;
            let inverted = opt.starts_with('~');
            let name = if inverted { &opt[1..] } else { opt };
            let (mut anon, mut authn) = (false, false);
            let mut ok = true;
            if name.starts_with('~') {
                self.push(
                    FileId::Authz,
                    Code::AuthzInvalidEntry,
                    e.name_span.clone(),
                    format!(
                        "access entry '{opt}' has more than one inversion; \
                         double negatives are not permitted"
                    ),
                );
                ok = false;
            } else if name.starts_with('*') {
                if name != "*" {
                    self.push(
                        FileId::Authz,
                        Code::AuthzInvalidEntry,
                        e.name_span.clone(),
                        format!("access entry '{opt}' is not valid; it must be a single '*'"),
                    );
                    ok = false;
                } else if inverted {
                    self.push(
                        FileId::Authz,
                        Code::AuthzInvalidEntry,
                        e.name_span.clone(),
                        "access entry '~*' will never match",
                    );
                    ok = false;
                } else {
                    anon = true;
                    authn = true;
                }
            } else if name.starts_with('$') {
                match name {
                    "$anonymous" => {
                        authn = inverted;
                        anon = !inverted;
                    }
                    "$authenticated" => {
                        anon = inverted;
                        authn = !inverted;
                    }
                    _ => {
                        self.push(
                            FileId::Authz,
                            Code::AuthzInvalidEntry,
                            e.name_span.clone(),
                            format!(
                                "access entry token '{opt}' is not valid; \
                                 it should be '$anonymous' or '$authenticated'"
                            ),
                        );
                        ok = false;
                    }
                }
            }
            let access = match parse_access(&e.value) {
                Ok(a) if a & W != 0 && a & R == 0 => {
                    self.push(
                        FileId::Authz,
                        Code::AuthzInvalidAccess,
                        e.value_span.clone(),
                        format!(
                            "write-only access entry '{opt}' of rule [{}] is not valid; \
                             write needs read: use 'rw'",
                            section.name
                        ),
                    );
                    ok = false;
                    a
                }
                Ok(a) => a,
                Err(c) => {
                    let text = self.authz.text;
                    let mut from = e.value_span.start;
                    let span = find_in_value(text, e, &mut from, &c.to_string());
                    let hint = if c == '#' {
                        " (there are no inline comments)"
                    } else {
                        ""
                    };
                    self.push(
                        FileId::Authz,
                        Code::AuthzInvalidAccess,
                        span,
                        format!(
                            "the access mode '{c}' in access entry '{opt}' of rule [{}] is \
                             not valid; use 'r', 'rw' or nothing{hint}",
                            section.name
                        ),
                    );
                    ok = false;
                    0
                }
            };
            if !ok {
                continue;
            }
            if anon || authn {
                if anon {
                    acl.has_anon = true;
                    acl.anon |= access;
                }
                if authn {
                    acl.has_authn = true;
                    acl.authn |= access;
                }
                continue;
            }
            if inverted {
                acl.has_neg = true;
                acl.neg |= access;
            }
            match merge.get(opt) {
                Some(&i) => aces[i].access |= access,
                None => {
                    merge.insert(opt, aces.len());
                    aces.push(PendingAce {
                        key: opt,
                        name,
                        inverted,
                        access,
                        span: e.name_span.clone(),
                    });
                }
            }
        }
        PendingAcl { acl, aces }
    }

    fn groups_file_sections(&mut self, doc: &RawDoc<'a>) {
        let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
        for section in &doc.sections {
            if !section.well_formed {
                continue;
            }
            if let Some(&first) = seen.get(section.name) {
                let first = (FileId::Groups, doc_header_at(doc, first));
                self.push_dup(
                    FileId::Groups,
                    Code::AuthzDuplicateSection,
                    section.header.clone(),
                    format!(
                        "section [{}] appears more than once in the global groups file",
                        section.name
                    ),
                    first,
                );
            } else {
                seen.insert(section.name, section.header.start);
            }
            if section.name == "groups" {
                self.group_section(FileId::Groups, section);
            } else {
                self.push(
                    FileId::Groups,
                    Code::AuthzInvalidSection,
                    section.header.clone(),
                    format!(
                        "section [{}] is not valid in a global groups file; it may only \
                         hold [groups]",
                        section.name
                    ),
                );
            }
        }
    }

    /// Pass 2 over the groups: undefined members, cycles. Returns which
    /// groups have members after expansion.
    fn check_groups(&mut self) -> Vec<bool> {
        let n = self.group_defs.len();
        let mut subgroups: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut has_user = vec![false; n];
        let mut problems = Vec::new();
        for (gi, def) in self.group_defs.iter().enumerate() {
            for (m, span) in &def.members {
                if let Some(g) = m.strip_prefix('@') {
                    match self.group_index.get(g) {
                        Some(&sub) => subgroups[gi].push(sub),
                        None => problems.push((
                            def.file,
                            Code::AuthzUndefinedGroup,
                            span.clone(),
                            format!("group @{} names undefined group @{g}", def.name),
                        )),
                    }
                } else if let Some(a) = m.strip_prefix('&') {
                    if self.aliases.contains_key(a) {
                        has_user[gi] = true;
                    } else {
                        problems.push((
                            def.file,
                            Code::AuthzUndefinedAlias,
                            span.clone(),
                            format!(
                                "group @{} names alias &{a}, which is never defined",
                                def.name
                            ),
                        ));
                    }
                } else {
                    has_user[gi] = true;
                }
            }
        }
        // Groups with problems (and groups containing them) get no
        // empty-group warnings: their members are unknown.
        let mut broken = vec![false; n];
        for (gi, def) in self.group_defs.iter().enumerate() {
            broken[gi] = def.members.iter().any(|(m, _)| {
                m.strip_prefix('@')
                    .is_some_and(|g| !self.group_index.contains_key(g))
                    || m.strip_prefix('&')
                        .is_some_and(|a| !self.aliases.contains_key(a))
            });
        }
        for (file, code, span, msg) in problems {
            self.push(file, code, span, msg);
        }
        let cycles = find_cycles(&subgroups);
        for cycle in &cycles {
            for &g in cycle {
                broken[g] = true;
            }
        }
        for cycle in cycles {
            let first = cycle[0];
            let mut names: Vec<String> = cycle
                .iter()
                .map(|&g| format!("@{}", self.group_defs[g].name))
                .collect();
            names.push(names[0].clone());
            let def = &self.group_defs[first];
            let (file, span) = (def.file, def.name_span.clone());
            let msg = if cycle.len() == 1 {
                format!("group @{} contains itself", def.name)
            } else {
                format!("groups contain each other: {}", names.join(" -> "))
            };
            self.push(file, Code::AuthzGroupCycle, span, msg);
        }
        // A group has members if it names a user or alias, or a group that has.
        let mut parents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (g, subs) in subgroups.iter().enumerate() {
            for &s in subs {
                parents[s].push(g);
            }
        }
        // A broken group counts as having members: no warning about it.
        let mut nonempty: Vec<bool> = (0..n).map(|g| has_user[g] || broken[g]).collect();
        let mut stack: Vec<usize> = (0..n).filter(|&g| nonempty[g]).collect();
        while let Some(g) = stack.pop() {
            for &p in &parents[g] {
                if !nonempty[p] {
                    nonempty[p] = true;
                    stack.push(p);
                }
            }
        }
        nonempty
    }

    /// Pass 2 over the rules: resolve aliases, merge, look up groups.
    fn finish_acls(
        &mut self,
        pending: Vec<PendingAcl<'a>>,
        nonempty: &[bool],
    ) -> Vec<CompiledAcl<'a>> {
        let mut out = Vec::with_capacity(pending.len());
        let mut index: FxHashMap<Cow<'a, str>, usize> = FxHashMap::default();
        for PendingAcl { mut acl, aces } in pending {
            // (key, name, inverted, access, span of the first entry)
            let mut merged: Vec<Merged<'a>> = Vec::with_capacity(aces.len());
            index.clear();
            let mut alias_entries = Vec::new();
            for a in aces {
                if a.name.starts_with('&') {
                    alias_entries.push(a);
                    continue;
                }
                index.insert(Cow::Borrowed(a.key), merged.len());
                merged.push((
                    Cow::Borrowed(a.key),
                    Cow::Borrowed(a.name),
                    a.inverted,
                    a.access,
                    a.span,
                ));
            }
            for a in alias_entries {
                let alias = &a.name[1..];
                let Some(user) = self.aliases.get(alias).cloned() else {
                    self.push(
                        FileId::Authz,
                        Code::AuthzUndefinedAlias,
                        a.span.clone(),
                        format!(
                            "access entry '{}' names alias &{alias}, which is never defined",
                            a.key
                        ),
                    );
                    continue;
                };
                let key: Cow<'a, str> = if a.inverted {
                    Cow::Owned(format!("~{user}"))
                } else {
                    user.clone()
                };
                match index.get(&key) {
                    Some(&i) if merged[i].2 != a.inverted => {
                        let msg = format!(
                            "access entry '{}' stands for '{key}', which clashes with the \
                             entry '{}' of the same name but the other inversion; Subversion \
                             aborts on this file",
                            a.key, merged[i].0
                        );
                        self.push(FileId::Authz, Code::AuthzInvalidEntry, a.span.clone(), msg);
                    }
                    Some(&i) => merged[i].3 |= a.access,
                    None => {
                        index.insert(key.clone(), merged.len());
                        merged.push((key, user, a.inverted, a.access, a.span));
                    }
                }
            }
            acl.aces.reserve_exact(merged.len());
            for (key, name, inverted, access, span) in merged {
                if let Some(g) = name.strip_prefix('@') {
                    match self.group_index.get(g) {
                        None => {
                            self.push(
                                FileId::Authz,
                                Code::AuthzUndefinedGroup,
                                span,
                                format!("access entry '{key}' refers to undefined group @{g}"),
                            );
                            continue;
                        }
                        Some(&gi) if !nonempty[gi] => {
                            let mut d = self.source(FileId::Authz).diag(
                                Code::AuthzEmptyGroupRule,
                                span,
                                format!(
                                    "group @{g} has no members, so Subversion ignores the entry \
                                     '{key}' of rule [{}]",
                                    acl.name
                                ),
                            );
                            if inverted {
                                d = d.with_note(format!(
                                    "'~@{g}' does not mean everybody: the whole line is \
                                     ignored (and still widens Subversion's repository-wide \
                                     shortcut for users not named in the file)"
                                ));
                            }
                            self.diags.push(d);
                            continue;
                        }
                        Some(_) => {}
                    }
                }
                acl.aces.push(CompiledAce {
                    name,
                    inverted,
                    access,
                });
            }
            if acl.repo.is_none() && acl.segs.is_empty() {
                // The neutral root rule applies to everybody.
                acl.has_anon = true;
                acl.has_authn = true;
            }
            out.push(acl);
        }
        out
    }
}

/// The members of a group definition: split on `,`, trimmed, empty ones
/// dropped.
fn split_members<'a>(value: &Cow<'a, str>) -> Vec<Cow<'a, str>> {
    let pieces = |v: &str| -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = 0;
        for piece in v.split(',') {
            let t = trim_ws(piece);
            if !t.is_empty() {
                let off = start + (t.as_ptr() as usize - piece.as_ptr() as usize);
                out.push((off, off + t.len()));
            }
            start += piece.len() + 1;
        }
        out
    };
    match value {
        Cow::Borrowed(v) => pieces(v)
            .into_iter()
            .map(|(a, b)| Cow::Borrowed(&v[a..b]))
            .collect(),
        Cow::Owned(v) => pieces(v)
            .into_iter()
            .map(|(a, b)| Cow::Owned(v[a..b].to_owned()))
            .collect(),
    }
}

/// Group and alias names: non-empty, not starting with `@ $ & * ~`.
fn check_definition_name(kind: &str, name: &str) -> Result<(), String> {
    match name.chars().next() {
        None => Err(format!("{kind} name is empty")),
        Some(c @ ('@' | '$' | '&' | '*' | '~')) => {
            Err(format!("{kind} name '{name}' may not begin with '{c}'"))
        }
        Some(_) => Ok(()),
    }
}

/// Every cycle of the group graph, one per strongly connected component
/// that holds one (Tarjan), each as a path of groups starting at the
/// component's first group in definition order.
fn find_cycles(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut comps: Vec<Vec<usize>> = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // Iterative Tarjan: (node, next edge position).
        let mut work = vec![(root, 0usize)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut pos)) = work.last_mut() {
            if *pos < edges[v].len() {
                let w = edges[v][*pos];
                *pos += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comps.push(comp);
                }
            }
        }
    }
    let mut cycles = Vec::new();
    for comp in comps {
        let Some(&start) = comp.iter().min() else {
            continue;
        };
        if comp.len() == 1 && !edges[start].contains(&start) {
            continue;
        }
        let set: HashSet<usize> = comp.iter().copied().collect();
        cycles.push(cycle_path(edges, &set, start));
    }
    cycles.sort();
    cycles
}

/// A shortest cycle through `start` inside one component (breadth first).
fn cycle_path(edges: &[Vec<usize>], comp: &HashSet<usize>, start: usize) -> Vec<usize> {
    if edges[start].contains(&start) {
        return vec![start];
    }
    let mut prev: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &edges[v] {
            if !comp.contains(&w) {
                continue;
            }
            if w == start {
                let mut path = vec![v];
                let mut at = v;
                while at != start {
                    at = prev[&at];
                    path.push(at);
                }
                path.reverse();
                return path;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(w) {
                e.insert(v);
                queue.push_back(w);
            }
        }
    }
    vec![start]
}

/// The header span of the section whose header starts at `start`.
fn doc_header_at(doc: &RawDoc<'_>, start: usize) -> Range<usize> {
    doc.sections
        .iter()
        .find(|s| s.header.start == start)
        .map_or(start..start, |s| s.header.clone())
}
