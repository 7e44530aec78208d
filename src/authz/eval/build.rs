//! Load time: the files checked and compiled, then the compiled rules
//! interned into the indexes of [`Authz`].

use std::sync::RwLock;
use std::sync::atomic::AtomicUsize;

use crate::diag::{self, Diagnostic};

use super::super::glob::Seg;
use super::super::rules::{self, AuthzFile, Compiled, compile};
use super::super::tree::{FxHashMap, Trie};
use super::rights::Rights;
use super::types::{Ace, Acl, Authz, Who, id, slot};

impl Authz {
    /// Load an access file and, if given, a global groups file. On success
    /// the warnings are kept ([`Authz::warnings`]); on failure every
    /// diagnostic (errors and warnings) is returned. Diagnostics name the
    /// files `authz` and `groups`; use [`Authz::load_input`] for real paths.
    pub fn load(text: &str, groups_text: Option<&str>) -> Result<Authz, Vec<Diagnostic>> {
        Authz::load_input(
            AuthzFile {
                path: "authz",
                text,
            },
            groups_text.map(|text| AuthzFile {
                path: "groups",
                text,
            }),
        )
    }

    /// [`Authz::load`] with the paths to use in diagnostics.
    pub fn load_input(
        authz: AuthzFile<'_>,
        groups: Option<AuthzFile<'_>>,
    ) -> Result<Authz, Vec<Diagnostic>> {
        let (compiled, mut diags) = compile(authz, groups);
        diag::sort(&mut diags);
        if diag::has_errors(&diags) {
            return Err(diags);
        }
        Ok(Authz::build(compiled, diags))
    }

    /// The warnings of the loaded files (entries Subversion ignores).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Every user the files name (as a group member, an alias target or
    /// in a rule), in no particular order.
    pub fn named_users(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(|u| &**u)
    }
}

impl Authz {
    /// The load-time pipeline: intern users and groups, number the
    /// repositories, intern the sections, index them, put them in the trie.
    /// Nothing is computed per user.
    pub(super) fn build(c: Compiled<'_>, warnings: Vec<Diagnostic>) -> Authz {
        let mut users = Users::default();
        let groups = groups(&c, &mut users);
        let repos = repositories(&c.acls);
        let neg_rights = negated_rights(&c.acls, &repos);
        let sections = sections(&c, &groups.ids, &repos, &mut users);
        let user_groups = groups.user_groups(users.0.len());
        let index = Index::of(
            &sections.acls,
            users.0.len(),
            c.groups.len(),
            repos.names.len() + 1,
        );
        let Twins {
            twin,
            specific_twin,
        } = twins(&sections.acls, &sections.segs);
        let trie = Trie::build(
            sections
                .segs
                .iter()
                .enumerate()
                .map(|(i, s)| (id(i), sections.seqs[i], *s)),
        );
        Authz {
            anon_rights: rights(&sections.acls, |a| a.has_anon.then_some(a.anon)),
            authn_rights: rights(&sections.acls, |a| a.has_authn.then_some(a.authn)),
            acls: sections.acls,
            base_authn: index.base_authn,
            users: users.0,
            repos: repos.ids,
            repo_names: repos.names,
            user_groups,
            group_parents: groups.parents,
            touch_user: index.touch_user,
            touch_group: index.touch_group,
            generic: index.generic,
            anonymous: index.anonymous,
            twin,
            specific_twin,
            trie,
            neg_rights,
            warnings,
            bases: RwLock::new(FxHashMap::default()),
            views: RwLock::new(FxHashMap::default()),
            cached_bytes: AtomicUsize::new(0),
        }
    }
}

/// User names interned in the order they are first met.
#[derive(Default)]
struct Users(FxHashMap<Box<str>, u32>);

impl Users {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.0.get(name) {
            return id;
        }
        let n = id(self.0.len());
        self.0.insert(name.into(), n);
        n
    }
}

/// The groups, numbered in definition order, with their members resolved.
struct Groups<'a> {
    ids: FxHashMap<&'a str, u32>,
    /// Groups that name each group as `@member`.
    parents: Vec<Vec<u32>>,
    /// (user, group) for every user and alias member.
    memberships: Vec<(u32, u32)>,
}

impl Groups<'_> {
    /// Direct groups of each of `users` users.
    fn user_groups(&self, users: usize) -> Vec<Vec<u32>> {
        let mut user_groups: Vec<Vec<u32>> = vec![Vec::new(); users];
        for &(u, g) in &self.memberships {
            user_groups[u as usize].push(g);
        }
        user_groups
    }
}

/// Step 1: the groups and their members; then the alias targets, so that
/// every user named in `[groups]` and `[aliases]` has an id.
fn groups<'a>(c: &Compiled<'a>, users: &mut Users) -> Groups<'a> {
    let ids: FxHashMap<&str, u32> = c
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name, id(i)))
        .collect();
    let mut parents: Vec<Vec<u32>> = vec![Vec::new(); c.groups.len()];
    let mut memberships: Vec<(u32, u32)> = Vec::new();
    for (gi, g) in c.groups.iter().enumerate() {
        for m in &g.members {
            if let Some(sub) = m.strip_prefix('@') {
                if let Some(&s) = ids.get(sub) {
                    parents[s as usize].push(id(gi));
                }
            } else if let Some(alias) = m.strip_prefix('&') {
                if let Some(user) = c.aliases.get(alias) {
                    memberships.push((users.intern(user), id(gi)));
                }
            } else {
                memberships.push((users.intern(m), id(gi)));
            }
        }
    }
    for target in c.aliases.values() {
        users.intern(target);
    }
    Groups {
        ids,
        parents,
        memberships,
    }
}

/// The repositories the sections name, numbered in file order.
struct Repos {
    ids: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

/// Step 2: number the repositories.
fn repositories(acls: &[rules::CompiledAcl<'_>]) -> Repos {
    let mut ids: FxHashMap<Box<str>, u32> = FxHashMap::default();
    let mut names: Vec<Box<str>> = Vec::new();
    for acl in acls {
        if let Some(r) = acl.repo
            && !ids.contains_key(r)
        {
            ids.insert(r.into(), id(names.len()));
            names.push(r.into());
        }
    }
    Repos { ids, names }
}

/// Subversion's rights from inverted entries (counted before empty groups
/// are dropped), for users not named in the file.
fn negated_rights(acls: &[rules::CompiledAcl<'_>], repos: &Repos) -> Option<Rights> {
    let mut rights = Rights::new();
    let mut any = false;
    for a in acls.iter().filter(|a| a.has_neg) {
        any = true;
        rights.update(a.repo.and_then(|r| repos.ids.get(r).copied()), a.neg);
    }
    any.then_some(rights)
}

/// The interned sections, each with its sequence number and rule path.
struct Sections<'c> {
    acls: Vec<Acl>,
    seqs: Vec<i32>,
    segs: Vec<&'c [Seg<'c>]>,
}

/// Step 3: intern the sections; the implicit root rule first when there
/// is no `[/]`.
fn sections<'c>(
    c: &'c Compiled<'_>,
    group_ids: &FxHashMap<&str, u32>,
    repos: &Repos,
    users: &mut Users,
) -> Sections<'c> {
    let explicit_root = c.acls.iter().any(|a| a.repo.is_none() && a.segs.is_empty());
    let mut out = Sections {
        acls: Vec::with_capacity(c.acls.len() + 1),
        seqs: Vec::with_capacity(c.acls.len() + 1),
        segs: Vec::with_capacity(c.acls.len() + 1),
    };
    if !explicit_root {
        out.acls.push(Acl {
            section: None,
            repo: None,
            has_anon: true,
            anon: 0,
            has_authn: true,
            authn: 0,
            aces: Box::new([]),
        });
        out.seqs.push(0);
        out.segs.push(&[]);
    }
    for (i, a) in c.acls.iter().enumerate() {
        out.acls.push(intern_acl(a, group_ids, repos, users));
        out.seqs.push(i32::try_from(i + 1).unwrap_or(i32::MAX));
        out.segs.push(&a.segs);
    }
    out
}

/// One section with its users, groups and repository as ids; entries for
/// undefined groups dropped.
fn intern_acl(
    a: &rules::CompiledAcl<'_>,
    group_ids: &FxHashMap<&str, u32>,
    repos: &Repos,
    users: &mut Users,
) -> Acl {
    let aces = a
        .aces
        .iter()
        .filter_map(|ace| {
            let who = match ace.name.strip_prefix('@') {
                Some(g) => Who::Group(*group_ids.get(g)?),
                None => Who::User(users.intern(&ace.name)),
            };
            Some(Ace {
                who,
                inverted: ace.inverted,
                access: ace.access,
            })
        })
        .collect();
    Acl {
        section: Some((a.name.into(), a.header.clone())),
        repo: a.repo.and_then(|r| repos.ids.get(r).copied()),
        has_anon: a.has_anon,
        anon: a.anon,
        has_authn: a.has_authn,
        authn: a.authn,
        aces,
    }
}

/// The sections under the users and groups they name, and under the
/// repositories where they apply to users they do not name.
struct Index {
    touch_user: Vec<Vec<u32>>,
    touch_group: Vec<Vec<u32>>,
    generic: Vec<Vec<u32>>,
    anonymous: Vec<Vec<u32>>,
    base_authn: Vec<Option<u8>>,
}

impl Index {
    /// Step 4: index the sections.
    fn of(acls: &[Acl], users: usize, groups: usize, slots: usize) -> Index {
        let mut ix = Index {
            touch_user: vec![Vec::new(); users],
            touch_group: vec![Vec::new(); groups],
            generic: vec![Vec::new(); slots],
            anonymous: vec![Vec::new(); slots],
            base_authn: Vec::with_capacity(acls.len()),
        };
        for (i, a) in acls.iter().enumerate() {
            let i = id(i);
            if a.has_anon {
                ix.anonymous[slot(a.repo)].push(i);
            }
            let mut base = a.has_authn.then_some(a.authn);
            for e in &a.aces {
                if e.inverted {
                    base = Some(base.unwrap_or(0) | e.access);
                }
                let list = match e.who {
                    Who::User(u) => &mut ix.touch_user[u as usize],
                    Who::Group(g) => &mut ix.touch_group[g as usize],
                };
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
            if base.is_some() {
                ix.generic[slot(a.repo)].push(i);
            }
            ix.base_authn.push(base);
        }
        ix
    }
}

/// The repository-wide rights of the accesses `of` gives, over the
/// sections where it gives one; `None` when no section does.
fn rights(acls: &[Acl], of: impl Fn(&Acl) -> Option<u8>) -> Option<Rights> {
    let mut rights = Rights::new();
    let mut any = false;
    for a in acls {
        if let Some(access) = of(a) {
            any = true;
            rights.update(a.repo, access);
        }
    }
    any.then_some(rights)
}

/// Repository-neutral and repository-specific sections for the same rule
/// path.
struct Twins {
    /// The neutral twin of each specific section.
    twin: Vec<Option<u32>>,
    /// (neutral section, repository) -> the specific twin.
    specific_twin: FxHashMap<(u32, u32), u32>,
}

/// Step 5: pair each specific section with its neutral twin.
fn twins(acls: &[Acl], segs: &[&[Seg<'_>]]) -> Twins {
    let neutral_by_rule: FxHashMap<&[Seg<'_>], u32> = acls
        .iter()
        .enumerate()
        .filter(|(_, a)| a.repo.is_none())
        .map(|(i, _)| (segs[i], id(i)))
        .collect();
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
    Twins {
        twin,
        specific_twin,
    }
}
