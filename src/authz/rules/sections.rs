//! Pass 1 over the files: sections, `[groups]`, `[aliases]`, and which
//! rule paths repeat.

use std::borrow::Cow;
use std::ops::Range;

use crate::diag::Code;

use super::super::glob::{Seg, parse_rule_path};
use super::super::parse::{RawDoc, RawSection, trim_ws};
use super::super::tree::FxHashMap;
use super::{Cx, FileId, GroupDef, Kind, PendingAcl, classify, find_in_value};

impl<'a> Cx<'a> {
    /// Pass 1 over the authz file: sections, groups, aliases, rule entries.
    pub(super) fn authz_sections(&mut self, doc: &RawDoc<'a>) -> Vec<PendingAcl<'a>> {
        let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
        let mut rules = RuleKeys::default();
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
                        if !duplicate && let Some(first) = rules.first(&acls, repo, &segs) {
                            self.push_dup(
                                FileId::Authz,
                                Code::AuthzDuplicateSection,
                                section.header.clone(),
                                format!(
                                    "section [{}] describes the same rule as section [{}]",
                                    section.name, acls[first].acl.name
                                ),
                                (FileId::Authz, acls[first].acl.header.clone()),
                            );
                        }
                        acls.push(self.rule_section(section, repo, segs, &mut merge));
                    }
                },
            }
        }
        acls
    }

    /// Group definitions of one `[groups]` section.
    pub(super) fn group_section(&mut self, file: FileId, section: &RawSection<'a>) {
        let text = self.input(file).text;
        if file == FileId::Authz {
            self.define_beside(section);
        }
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
                users: false,
            });
        }
    }

    /// Define the groups of `Beside` when `section` is where they are: the
    /// first `[groups]` that holds `at` ahead of its entries. Each name
    /// passes the checks its line would (`check_definition_name`, defined
    /// once), or none is defined.
    fn define_beside(&mut self, section: &RawSection<'a>) {
        let Some(beside) = self.beside else {
            return;
        };
        let holds = section.body.start <= beside.at
            && beside.at < section.body.end
            && section
                .entries
                .first()
                .is_none_or(|e| e.lines.start > beside.at);
        if !holds || self.injected {
            return;
        }
        self.beside = None;
        let fits = |cx: &Self, name: &str| {
            check_definition_name("group", name).is_ok() && !cx.group_index.contains_key(name)
        };
        let start = self.group_defs.len();
        for &(name, users) in beside.groups {
            if !fits(self, name) {
                for def in self.group_defs.drain(start..) {
                    self.group_index.remove(def.name);
                }
                return;
            }
            self.group_index.insert(name, self.group_defs.len());
            self.group_defs.push(GroupDef {
                name,
                file: FileId::Authz,
                name_span: beside.at..beside.at + name.len(),
                members: Vec::new(),
                users,
            });
        }
        self.injected = true;
    }

    pub(super) fn alias_section(&mut self, section: &RawSection<'a>) {
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

    pub(super) fn groups_file_sections(&mut self, doc: &RawDoc<'a>) {
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
}

/// The rule sections seen so far by (repository, rule path), to find a
/// section that repeats an earlier rule.
#[derive(Default)]
struct RuleKeys {
    /// Hash of (repository, path) -> the latest pending section with it.
    keys: FxHashMap<u64, usize>,
    /// Per pending section: the previous one with the same hash, or
    /// `usize::MAX`.
    same_hash: Vec<usize>,
}

impl RuleKeys {
    /// The earlier section of `acls` with the same rule as the one about
    /// to be pushed at `acls.len()`; if there is none, that one is
    /// remembered.
    fn first(
        &mut self,
        acls: &[PendingAcl<'_>],
        repo: Option<&str>,
        segs: &[Seg<'_>],
    ) -> Option<usize> {
        let hash = {
            use std::hash::BuildHasher;
            self.keys.hasher().hash_one((repo, segs))
        };
        let mut at = self.keys.get(&hash).copied();
        while let Some(i) = at {
            if acls[i].acl.repo == repo && acls[i].acl.segs == segs {
                return Some(i);
            }
            at = (self.same_hash[i] != usize::MAX).then_some(self.same_hash[i]);
        }
        let prev = self.keys.insert(hash, acls.len());
        self.same_hash.resize(acls.len(), usize::MAX);
        self.same_hash.push(prev.unwrap_or(usize::MAX));
        None
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

/// The header span of the section whose header starts at `start`.
fn doc_header_at(doc: &RawDoc<'_>, start: usize) -> Range<usize> {
    doc.sections
        .iter()
        .find(|s| s.header.start == start)
        .map_or(start..start, |s| s.header.clone())
}

/// Whether `lines` (generated `name = a, b` lines, each with its line end)
/// read, in a `[groups]` section, as exactly the definitions of `groups`:
/// one entry per group, in order, with its name and its members, every
/// member a user (no `@group`, no `&alias`), every name one a definition
/// may have. Such lines can be left out of a check and given to it as
/// `Beside` groups instead: they say nothing else.
pub fn plain_groups<'g, M>(lines: &str, groups: impl IntoIterator<Item = (&'g str, M)>) -> bool
where
    M: IntoIterator<Item = &'g str>,
{
    let text = format!("[groups]\n{lines}");
    let doc = super::super::parse::parse_raw(&text);
    let [section] = doc.sections.as_slice() else {
        return false;
    };
    if !doc.errors.is_empty() || !section.well_formed || section.name != "groups" {
        return false;
    }
    let mut entries = section.entries.iter();
    for (name, members) in groups {
        let Some(e) = entries.next() else {
            return false;
        };
        if e.name != name || check_definition_name("group", name).is_err() {
            return false;
        }
        let split = split_members(&e.value);
        let mut split = split.iter();
        for m in members {
            match split.next() {
                Some(s) if **s == *m && !m.starts_with(['@', '&']) => {}
                _ => return false,
            }
        }
        if split.next().is_some() {
            return false;
        }
    }
    entries.next().is_none()
}
