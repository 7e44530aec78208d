//! Rule entries: pass 1 reads each line of a rule section, pass 2
//! resolves aliases, merges and looks up groups.

use std::borrow::Cow;
use std::ops::Range;

use crate::diag::Code;

use super::super::glob::Seg;
use super::super::parse::{RawEntry, RawSection};
use super::super::tree::FxHashMap;
use super::{
    CompiledAce, CompiledAcl, Cx, FileId, Merged, PendingAce, PendingAcl, R, W, find_in_value,
    parse_access,
};

impl<'a> Cx<'a> {
    /// The entries of one rule section (pass 1: no alias or group lookups).
    pub(super) fn rule_section(
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
            // Both checks run, so that a line gets every diagnostic it deserves.
            let tokens = self.entry_tokens(e, opt, name, inverted);
            let access = self.entry_access(section.name, e, opt);
            let (Some((anon, authn)), Some(access)) = (tokens, access) else {
                continue;
            };
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

    /// Check an entry name: `Some((anonymous, authenticated))` for the
    /// `*` and `$` tokens (who the line applies to), `Some((false, false))`
    /// for a user, `@group` or `&alias`, `None` (reported) when invalid.
    fn entry_tokens(
        &mut self,
        e: &RawEntry<'a>,
        opt: &str,
        name: &str,
        inverted: bool,
    ) -> Option<(bool, bool)> {
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
        ok.then_some((anon, authn))
    }

    /// Check an entry's access value: its bits, or `None` (reported).
    fn entry_access(&mut self, section: &str, e: &RawEntry<'a>, opt: &str) -> Option<u8> {
        let mut ok = true;
        let access = match parse_access(&e.value) {
            Ok(a) if a & W != 0 && a & R == 0 => {
                self.push(
                    FileId::Authz,
                    Code::AuthzInvalidAccess,
                    e.value_span.clone(),
                    format!(
                        "write-only access entry '{opt}' of rule [{}] is not valid; \
                         write needs read: use 'rw'",
                        section
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
                        section
                    ),
                );
                ok = false;
                0
            }
        };
        ok.then_some(access)
    }

    /// Pass 2 over the rules: resolve aliases, merge, look up groups.
    pub(super) fn finish_acls(
        &mut self,
        pending: Vec<PendingAcl<'a>>,
        nonempty: &[bool],
    ) -> Vec<CompiledAcl<'a>> {
        let mut out = Vec::with_capacity(pending.len());
        let mut index: FxHashMap<Cow<'a, str>, usize> = FxHashMap::default();
        for PendingAcl { mut acl, aces } in pending {
            let merged = self.merge_entries(aces, &mut index);
            acl.aces.reserve_exact(merged.len());
            for (key, name, inverted, access, span) in merged {
                if self.group_entry_counts(&acl, &key, &name, inverted, span, nonempty) {
                    acl.aces.push(CompiledAce {
                        name,
                        inverted,
                        access,
                    });
                }
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

    /// The entries of one section with aliases resolved and entries for the
    /// same name merged: (key, name, inverted, access, span of the first
    /// entry). `index` is scratch space.
    fn merge_entries(
        &mut self,
        aces: Vec<PendingAce<'a>>,
        index: &mut FxHashMap<Cow<'a, str>, usize>,
    ) -> Vec<Merged<'a>> {
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
        merged
    }

    /// Does the (merged) entry `key` for `name` stay in its section? Not
    /// when it names an undefined group (an error) or an empty one (a
    /// warning: Subversion drops the line).
    fn group_entry_counts(
        &mut self,
        acl: &CompiledAcl<'a>,
        key: &str,
        name: &str,
        inverted: bool,
        span: Range<usize>,
        nonempty: &[bool],
    ) -> bool {
        let Some(g) = name.strip_prefix('@') else {
            return true;
        };
        match self.group_index.get(g) {
            None => {
                self.push(
                    FileId::Authz,
                    Code::AuthzUndefinedGroup,
                    span,
                    format!("access entry '{key}' refers to undefined group @{g}"),
                );
                false
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
                false
            }
            Some(_) => true,
        }
    }
}
