//! Load time: the compiled rules interned into the indexes of [`Authz`].

use std::ops::Range;
use std::sync::RwLock;
use std::sync::atomic::AtomicUsize;

use crate::diag::Diagnostic;

use super::super::glob::Seg;
use super::super::rules::Compiled;
use super::super::tree::{FxHashMap, Trie};
use super::rights::Rights;
use super::{Authz, id, slot};

/// One rule section, interned.
#[derive(Debug)]
pub(super) struct Acl {
    /// `None` for the implicit root rule that denies everybody.
    pub(super) section: Option<(Box<str>, Range<usize>)>,
    pub(super) repo: Option<u32>,
    pub(super) has_anon: bool,
    pub(super) anon: u8,
    pub(super) has_authn: bool,
    pub(super) authn: u8,
    pub(super) aces: Box<[Ace]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Who {
    User(u32),
    Group(u32),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Ace {
    pub(super) who: Who,
    pub(super) inverted: bool,
    pub(super) access: u8,
}

impl Authz {
    pub(super) fn build(c: Compiled<'_>, warnings: Vec<Diagnostic>) -> Authz {
        let mut users: FxHashMap<Box<str>, u32> = FxHashMap::default();
        let mut intern = |name: &str| -> u32 {
            if let Some(&id) = users.get(name) {
                return id;
            }
            let n = id(users.len());
            users.insert(name.into(), n);
            n
        };
        // Groups: ids in definition order; members resolved.
        let group_ids: FxHashMap<&str, u32> = c
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.name, id(i)))
            .collect();
        let mut group_parents: Vec<Vec<u32>> = vec![Vec::new(); c.groups.len()];
        let mut memberships: Vec<(u32, u32)> = Vec::new();
        for (gi, g) in c.groups.iter().enumerate() {
            for m in &g.members {
                if let Some(sub) = m.strip_prefix('@') {
                    if let Some(&s) = group_ids.get(sub) {
                        group_parents[s as usize].push(id(gi));
                    }
                } else if let Some(alias) = m.strip_prefix('&') {
                    if let Some(user) = c.aliases.get(alias) {
                        memberships.push((intern(user), id(gi)));
                    }
                } else {
                    memberships.push((intern(m), id(gi)));
                }
            }
        }
        for target in c.aliases.values() {
            intern(target);
        }
        // Repositories.
        let mut repos: FxHashMap<Box<str>, u32> = FxHashMap::default();
        let mut repo_names: Vec<Box<str>> = Vec::new();
        for acl in &c.acls {
            if let Some(r) = acl.repo
                && !repos.contains_key(r)
            {
                repos.insert(r.into(), id(repo_names.len()));
                repo_names.push(r.into());
            }
        }
        // Sections; the implicit root rule first when there is no [/].
        let explicit_root = c.acls.iter().any(|a| a.repo.is_none() && a.segs.is_empty());
        let mut acls: Vec<Acl> = Vec::with_capacity(c.acls.len() + 1);
        let mut seqs: Vec<i32> = Vec::with_capacity(c.acls.len() + 1);
        let mut segs: Vec<&[Seg<'_>]> = Vec::with_capacity(c.acls.len() + 1);
        if !explicit_root {
            acls.push(Acl {
                section: None,
                repo: None,
                has_anon: true,
                anon: 0,
                has_authn: true,
                authn: 0,
                aces: Box::new([]),
            });
            seqs.push(0);
            segs.push(&[]);
        }
        let mut neg_rights = Rights::new();
        let mut has_neg = false;
        for (i, a) in c.acls.iter().enumerate() {
            let repo = a.repo.and_then(|r| repos.get(r).copied());
            if a.has_neg {
                has_neg = true;
                neg_rights.update(repo, a.neg);
            }
            let aces = a
                .aces
                .iter()
                .filter_map(|ace| {
                    let who = match ace.name.strip_prefix('@') {
                        Some(g) => Who::Group(*group_ids.get(g)?),
                        None => Who::User(intern(&ace.name)),
                    };
                    Some(Ace {
                        who,
                        inverted: ace.inverted,
                        access: ace.access,
                    })
                })
                .collect();
            acls.push(Acl {
                section: Some((a.name.into(), a.header.clone())),
                repo,
                has_anon: a.has_anon,
                anon: a.anon,
                has_authn: a.has_authn,
                authn: a.authn,
                aces,
            });
            seqs.push(i32::try_from(i + 1).unwrap_or(i32::MAX));
            segs.push(&a.segs);
        }
        let mut user_groups: Vec<Vec<u32>> = vec![Vec::new(); users.len()];
        for (u, g) in memberships {
            user_groups[u as usize].push(g);
        }
        // Indexes.
        let nslots = repo_names.len() + 1;
        let mut touch_user: Vec<Vec<u32>> = vec![Vec::new(); users.len()];
        let mut touch_group: Vec<Vec<u32>> = vec![Vec::new(); c.groups.len()];
        let mut generic: Vec<Vec<u32>> = vec![Vec::new(); nslots];
        let mut anonymous: Vec<Vec<u32>> = vec![Vec::new(); nslots];
        let mut base_authn: Vec<Option<u8>> = Vec::with_capacity(acls.len());
        let mut anon_rights = Rights::new();
        let mut authn_rights = Rights::new();
        let (mut has_anon_rights, mut has_authn_rights) = (false, false);
        let mut neutral_by_rule: FxHashMap<&[Seg<'_>], u32> = FxHashMap::default();
        for (i, a) in acls.iter().enumerate() {
            let i = id(i);
            if a.has_anon {
                has_anon_rights = true;
                anon_rights.update(a.repo, a.anon);
                anonymous[slot(a.repo)].push(i);
            }
            if a.has_authn {
                has_authn_rights = true;
                authn_rights.update(a.repo, a.authn);
            }
            let mut base = a.has_authn.then_some(a.authn);
            for e in &a.aces {
                if e.inverted {
                    base = Some(base.unwrap_or(0) | e.access);
                }
                let list = match e.who {
                    Who::User(u) => &mut touch_user[u as usize],
                    Who::Group(g) => &mut touch_group[g as usize],
                };
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
            if base.is_some() {
                generic[slot(a.repo)].push(i);
            }
            base_authn.push(base);
            if a.repo.is_none() {
                neutral_by_rule.insert(segs[i as usize], i);
            }
        }
        let twin: Vec<Option<u32>> = acls
            .iter()
            .enumerate()
            .map(|(i, a)| a.repo.and_then(|_| neutral_by_rule.get(segs[i]).copied()))
            .collect();
        let mut specific_twin = FxHashMap::default();
        for (i, t) in twin.iter().enumerate() {
            if let (Some(n), Some(r)) = (t, acls[i].repo) {
                specific_twin.insert((*n, r), id(i));
            }
        }
        let trie = Trie::build(segs.iter().enumerate().map(|(i, s)| (id(i), seqs[i], *s)));
        Authz {
            acls,
            base_authn,
            users,
            repos,
            repo_names,
            user_groups,
            group_parents,
            touch_user,
            touch_group,
            generic,
            anonymous,
            twin,
            specific_twin,
            trie,
            anon_rights: has_anon_rights.then_some(anon_rights),
            authn_rights: has_authn_rights.then_some(authn_rights),
            neg_rights: has_neg.then_some(neg_rights),
            warnings,
            bases: RwLock::new(FxHashMap::default()),
            views: RwLock::new(FxHashMap::default()),
            cached_bytes: AtomicUsize::new(0),
        }
    }
}
