//! Evaluation: who may read or write what, answered exactly as `svnauthz
//! accessof` (Subversion 1.14.2) answers it.
//!
//! [`Authz::load`] checks the file (see [`super::validate`]) and builds
//! indexes: users and groups are interned, each user knows the groups that
//! contain it, every rule section is listed under the users and groups its
//! lines name, and all rule sections go into one prefix trie
//! (`tree`). Nothing is computed per user at load time, unlike
//! Subversion, which evaluates every user named in the file against every
//! section.
//!
//! Answers are computed lazily and cached:
//!
//! * per repository, a *base view*: what each section gives a user that it
//!   does not name (`*`, `$authenticated`, inverted entries), and the same
//!   for anonymous users;
//! * per (user, repository), a *view*: the base view patched with the
//!   sections that name the user or one of its groups (found through the
//!   indexes, never by scanning users or sections), and Subversion's
//!   repository-wide min/max shortcut for that user;
//! * a path query walks the shared trie, asking the view which rules count.
//!
//! Kept bug-compatible with 1.14.2 (SVN-AUTHZ.md §5): the repository-wide
//! shortcut (including the empty-group quirk: an `~@empty` line is dropped
//! from its section but its rights still count in the shortcut for users
//! not named in the file), the root path matched as an empty segment, the
//! suffix-pattern reversal, and `[//x]` as the root rule.

use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use crate::diag::{self, Diagnostic};

use super::glob::Seg;
use super::rules::{Compiled, Input, R, RW, W, compile};
use super::tree::{FxHashMap, NO_SEQ, Rule, Scratch, Trie};

/// The access a user has: what `svnauthz accessof` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// `no`
    No,
    /// `r`
    Read,
    /// `rw`
    ReadWrite,
}

impl Access {
    /// `no`, `r` or `rw`.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::No => "no",
            Access::Read => "r",
            Access::ReadWrite => "rw",
        }
    }

    fn from_bits(bits: u8) -> Access {
        if bits & W != 0 {
            Access::ReadWrite
        } else if bits & R != 0 {
            Access::Read
        } else {
            Access::No
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One section that applies to a user, as [`Authz::list`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The section name as written (without brackets).
    pub section: String,
    /// The header line in the access file.
    pub header: Range<usize>,
    /// The repository of a repository-specific section.
    pub repository: Option<String>,
    /// What the section's lines give the user (they are OR-ed).
    pub access: Access,
    /// For a repository-neutral section: the `[repository:/path]` section for
    /// the same path that applies to the user too and therefore replaces it.
    pub replaced_by: Option<String>,
}

/// A loaded, valid access file (plus global groups file), ready for queries.
/// Queries take `&self` and may run on many threads at once.
#[derive(Debug)]
pub struct Authz {
    acls: Vec<Acl>,

    /// Per section: the access it gives an authenticated user it does not
    /// name (through `*`, `$authenticated`, `~$anonymous` and inverted
    /// entries), if it applies to such a user.
    base_authn: Vec<Option<u8>>,
    users: FxHashMap<Box<str>, u32>,
    repos: FxHashMap<Box<str>, u32>,
    repo_names: Vec<Box<str>>,
    /// Direct groups of each user (members and alias members).
    user_groups: Vec<Vec<u32>>,
    /// Groups that name each group as `@member`.
    group_parents: Vec<Vec<u32>>,
    /// Sections with an entry (inverted or not) for the user / the group.
    touch_user: Vec<Vec<u32>>,
    touch_group: Vec<Vec<u32>>,
    /// Sections that apply to users they do not name, per repository slot
    /// (0: repository-neutral; `1 + repo id`: that repository).
    generic: Vec<Vec<u32>>,
    /// Sections that apply to anonymous users, per repository slot.
    anonymous: Vec<Vec<u32>>,
    /// Repository-neutral twin (same rule path) of each specific section.
    twin: Vec<Option<u32>>,
    /// (neutral section, repository) -> the specific twin.
    specific_twin: FxHashMap<(u32, u32), u32>,
    /// Every rule section in one prefix trie.
    trie: Trie,
    anon_rights: Option<Rights>,
    authn_rights: Option<Rights>,
    neg_rights: Option<Rights>,
    warnings: Vec<Diagnostic>,
    bases: RwLock<FxHashMap<BaseKey, Arc<Base>>>,
    views: RwLock<FxHashMap<ViewKey, Arc<View>>>,
    cached_bytes: AtomicUsize,
}

/// How many bytes of views the cache may hold before it starts afresh.
const CACHE_BUDGET: usize = 256 << 20;

/// "This section does not count for the user".
const NONE: u8 = 0xff;

/// One rule section, interned.
#[derive(Debug)]
struct Acl {
    /// `None` for the implicit root rule that denies everybody.
    section: Option<(Box<str>, Range<usize>)>,
    repo: Option<u32>,
    has_anon: bool,
    anon: u8,
    has_authn: bool,
    authn: u8,
    aces: Box<[Ace]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    User(u32),
    Group(u32),
}

#[derive(Debug, Clone, Copy)]
struct Ace {
    who: Who,
    inverted: bool,
    access: u8,
}

/// Subversion's accumulated min/max rights (`authz_rights_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MinMax {
    min: u8,
    max: u8,
}

impl MinMax {
    const INIT: MinMax = MinMax { min: RW, max: 0 };

    fn update(&mut self, access: u8) {
        self.min &= access;
        self.max |= access;
    }

    fn combine(self, other: MinMax) -> MinMax {
        MinMax {
            min: self.min & other.min,
            max: self.max | other.max,
        }
    }

    /// The min/max of accesses given by how many sections give no access,
    /// read, and read-write.
    fn of_counts(c: [u32; 3]) -> MinMax {
        let mut m = MinMax::INIT;
        for (i, bits) in [0, R, RW].into_iter().enumerate() {
            if c[i] > 0 {
                m.update(bits);
            }
        }
        m
    }
}

/// Index of an access in count arrays.
fn slot_of(access: u8) -> usize {
    match access {
        0 => 0,
        a if a & W != 0 => 2,
        _ => 1,
    }
}

/// Subversion's `authz_global_rights_t`: rights over neutral sections and
/// per repository.
#[derive(Debug, Clone)]
struct Rights {
    any: MinMax,
    per: FxHashMap<u32, MinMax>,
}

impl Rights {
    fn new() -> Self {
        Rights {
            any: MinMax::INIT,
            per: FxHashMap::default(),
        }
    }

    fn update(&mut self, repo: Option<u32>, access: u8) {
        match repo {
            None => self.any.update(access),
            Some(r) => self.per.entry(r).or_insert(MinMax::INIT).update(access),
        }
    }

    fn resolve(&self, repo: Option<u32>) -> MinMax {
        match repo.and_then(|r| self.per.get(&r)) {
            Some(p) => p.combine(self.any),
            None => self.any,
        }
    }
}

/// Who a view is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Subject {
    Anonymous,
    /// Any authenticated user not named in the files: all such users are
    /// treated alike.
    Unnamed,
    User(u32),
}

/// (subject, repository id or `None` for "neutral sections only").
type ViewKey = (Subject, Option<u32>);

/// (anonymous?, repository id or `None`).
type BaseKey = (bool, Option<u32>);

/// What every user a section does not name sees in one repository (or
/// every anonymous user).
#[derive(Debug)]
struct Base {
    /// Per section: its access, or [`NONE`] when it does not apply or loses
    /// to its repository twin.
    eff: Box<[u8]>,
    /// How many applicable neutral / repository sections give no access,
    /// read, read-write (for the repository-wide shortcut).
    counts: [[u32; 3]; 2],
    /// The applicable sections, in file order.
    applicable: Vec<u32>,
}

/// What one (user, repository) sees: the base, patched.
#[derive(Debug)]
struct View {
    global: MinMax,
    base: Arc<Base>,
    /// (section, access or [`NONE`]) where the user differs from the base,
    /// sorted by section.
    overrides: Box<[(u32, u8)]>,
    /// Per trie node: does it reverse segments for this user?
    reverses: Mutex<FxHashMap<u32, bool>>,
}

impl View {
    fn eff(&self, acl: u32) -> u8 {
        if !self.overrides.is_empty()
            && let Ok(i) = self.overrides.binary_search_by_key(&acl, |&(a, _)| a)
        {
            return self.overrides[i].1;
        }
        self.base.eff[acl as usize]
    }
}

/// A view as the trie walk asks it.
struct Walk<'a> {
    view: &'a View,
}

impl super::tree::View for Walk<'_> {
    fn rule(&self, rules: &[Rule]) -> (i32, u8) {
        let mut best = (NO_SEQ, 0);
        for &(a, seq) in rules {
            if seq > best.0 {
                let acc = self.view.eff(a);
                if acc != NONE {
                    best = (seq, acc);
                }
            }
        }
        best
    }

    fn latest(&self, rules: &[Rule]) -> i32 {
        rules
            .iter()
            .filter(|&&(a, _)| self.view.eff(a) != NONE)
            .map(|&(_, seq)| seq)
            .max()
            .unwrap_or(NO_SEQ)
    }

    fn memo(&self, node: u32, compute: &dyn Fn() -> bool) -> bool {
        if let Some(&v) = self
            .view
            .reverses
            .lock()
            .ok()
            .as_ref()
            .and_then(|m| m.get(&node))
        {
            return v;
        }
        let v = compute();
        if let Ok(mut m) = self.view.reverses.lock() {
            m.insert(node, v);
        }
        v
    }
}

fn id(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Repository slot of a section: 0 neutral, `1 + id` specific.
fn slot(repo: Option<u32>) -> usize {
    repo.map_or(0, |r| r as usize + 1)
}

impl Authz {
    /// Load an access file and, if given, a global groups file. On success
    /// the warnings are kept ([`Authz::warnings`]); on failure every
    /// diagnostic (errors and warnings) is returned. Diagnostics name the
    /// files `authz` and `groups`; use [`Authz::load_input`] for real paths.
    pub fn load(text: &str, groups_text: Option<&str>) -> Result<Authz, Vec<Diagnostic>> {
        Authz::load_input(
            Input {
                path: "authz",
                text,
            },
            groups_text.map(|text| Input {
                path: "groups",
                text,
            }),
        )
    }

    /// [`Authz::load`] with the paths to use in diagnostics.
    pub fn load_input(
        authz: Input<'_>,
        groups: Option<Input<'_>>,
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

    fn build(c: Compiled<'_>, warnings: Vec<Diagnostic>) -> Authz {
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

    /// The access of `user` to `path` in `repository`, exactly as `svnauthz
    /// accessof --username U --repository R --path P` prints it.
    ///
    /// * `user`: `None` or `""` is the anonymous user;
    /// * `repository`: `None` or `""` means only repository-neutral sections
    ///   count (what svnserve does when its root is the repository);
    /// * `path`: `None` asks for the highest access anywhere in the
    ///   repository (Subversion's shortcut); a path is canonicalised like
    ///   `svnauthz` does (leading `/` added, `//`, trailing `/` and `.`
    ///   segments removed, `..` kept).
    pub fn access(
        &self,
        user: Option<&str>,
        repository: Option<&str>,
        path: Option<&str>,
    ) -> Access {
        let view = self.view(user, repository);
        let at = OnceLock::new();
        let granted = |required: u8| -> bool {
            if view.global.min & required == required {
                return true;
            }
            if view.global.max & required != required {
                return false;
            }
            let Some(p) = path else {
                return true;
            };
            let bits = *at.get_or_init(|| {
                let walk = Walk { view: &view };
                let canonical = canonical(p);
                SCRATCH.with(|s| self.trie.access_at(&canonical, &walk, &mut s.borrow_mut()))
            });
            bits & required == required
        };
        if granted(RW) {
            Access::ReadWrite
        } else if granted(R) {
            Access::Read
        } else {
            Access::No
        }
    }

    /// Every section that applies to `user` in `repository` (same
    /// conventions as [`Authz::access`]), in file order, with the access its
    /// lines give the user. Computed from the indexes; no other user is
    /// looked at.
    pub fn list(&self, user: Option<&str>, repository: Option<&str>) -> Vec<Listed> {
        let subject = self.subject(user);
        let repo = self.repo(repository);
        let groups = match subject {
            Subject::User(u) => self.groups_of(u),
            _ => Vec::new(),
        };
        let touched = self.touched(subject, repo, &groups);
        let access = |a: u32| -> Option<u8> {
            match touched.binary_search_by_key(&a, |&(t, _)| t) {
                Ok(i) => touched[i].1,
                Err(_) => self.base_access(subject == Subject::Anonymous, a),
            }
        };
        let base = self.base(subject == Subject::Anonymous, repo);
        let mut all: Vec<u32> = base.applicable.clone();
        all.extend(touched.iter().map(|&(a, _)| a));
        all.sort_unstable();
        all.dedup();
        all.into_iter()
            .filter_map(|a| {
                let acc = access(a)?;
                let acl = &self.acls[a as usize];
                let (name, header) = acl.section.clone()?;
                let replaced_by = repo
                    .and_then(|r| self.specific_twin.get(&(a, r)))
                    .filter(|&&s| access(s).is_some())
                    .and_then(|&s| self.acls[s as usize].section.as_ref())
                    .map(|(n, _)| n.to_string());
                Some(Listed {
                    section: name.into(),
                    header,
                    repository: acl.repo.map(|r| self.repo_names[r as usize].to_string()),
                    access: Access::from_bits(acc),
                    replaced_by,
                })
            })
            .collect()
    }

    fn subject(&self, user: Option<&str>) -> Subject {
        match user {
            None | Some("") => Subject::Anonymous,
            Some(u) => self
                .users
                .get(u)
                .map_or(Subject::Unnamed, |&id| Subject::User(id)),
        }
    }

    fn repo(&self, repository: Option<&str>) -> Option<u32> {
        repository.and_then(|r| self.repos.get(r).copied())
    }

    fn view(&self, user: Option<&str>, repository: Option<&str>) -> Arc<View> {
        let key = (self.subject(user), self.repo(repository));
        if let Ok(views) = self.views.read()
            && let Some(v) = views.get(&key)
        {
            return Arc::clone(v);
        }
        let view = Arc::new(self.compute_view(key.0, key.1));
        if let Ok(mut views) = self.views.write() {
            let size = 128 + 8 * view.overrides.len();
            if self.cached_bytes.fetch_add(size, Ordering::Relaxed) > CACHE_BUDGET {
                views.clear();
                self.cached_bytes.store(size, Ordering::Relaxed);
            }
            return Arc::clone(views.entry(key).or_insert(view));
        }
        view
    }

    /// The groups that contain user `u`, directly or through other groups,
    /// sorted.
    fn groups_of(&self, u: u32) -> Vec<u32> {
        let mut seen: std::collections::HashSet<u32, super::tree::FxBuild> =
            std::collections::HashSet::default();
        let mut stack: Vec<u32> = self.user_groups[u as usize].clone();
        while let Some(g) = stack.pop() {
            if seen.insert(g) {
                stack.extend(self.group_parents[g as usize].iter().copied());
            }
        }
        let mut groups: Vec<u32> = seen.into_iter().collect();
        groups.sort_unstable();
        groups
    }

    /// The access of a section for anonymous users, or for authenticated
    /// users it does not name.
    fn base_access(&self, anonymous: bool, a: u32) -> Option<u8> {
        let acl = &self.acls[a as usize];
        if anonymous {
            acl.has_anon.then_some(acl.anon)
        } else {
            self.base_authn[a as usize]
        }
    }

    /// `svn_authz__get_acl_access` for a named user in groups `groups`.
    fn user_access(&self, a: u32, u: u32, groups: &[u32]) -> Option<u8> {
        let acl = &self.acls[a as usize];
        let mut has = acl.has_authn;
        let mut acc = if has { acl.authn } else { 0 };
        for e in acl.aces.iter() {
            let matched = match e.who {
                Who::User(x) => x == u,
                Who::Group(g) => groups.binary_search(&g).is_ok(),
            };
            if matched != e.inverted {
                acc |= e.access;
                has = true;
            }
        }
        has.then_some(acc)
    }

    /// The sections in `repo` (and neutral ones) that name the subject or
    /// one of its groups, with the subject's access: (section, access or
    /// `None`), sorted.
    fn touched(
        &self,
        subject: Subject,
        repo: Option<u32>,
        groups: &[u32],
    ) -> Vec<(u32, Option<u8>)> {
        let Subject::User(u) = subject else {
            return Vec::new();
        };
        let mut t: Vec<u32> = self.touch_user[u as usize].clone();
        for &g in groups {
            t.extend_from_slice(&self.touch_group[g as usize]);
        }
        t.retain(|&a| {
            let r = self.acls[a as usize].repo;
            r.is_none() || r == repo
        });
        t.sort_unstable();
        t.dedup();
        t.into_iter()
            .map(|a| (a, self.user_access(a, u, groups)))
            .collect()
    }

    /// The base view of a repository, computed once.
    fn base(&self, anonymous: bool, repo: Option<u32>) -> Arc<Base> {
        let key = (anonymous, repo);
        if let Ok(bases) = self.bases.read()
            && let Some(b) = bases.get(&key)
        {
            return Arc::clone(b);
        }
        let lists = if anonymous {
            &self.anonymous
        } else {
            &self.generic
        };
        let mut applicable: Vec<u32> = lists[0].clone();
        if let Some(r) = repo {
            applicable.extend_from_slice(&lists[r as usize + 1]);
            applicable.sort_unstable();
        }
        let mut eff = vec![NONE; self.acls.len()].into_boxed_slice();
        let mut counts = [[0u32; 3]; 2];
        for &a in &applicable {
            let Some(acc) = self.base_access(anonymous, a) else {
                continue;
            };
            let specific = self.acls[a as usize].repo.is_some();
            counts[usize::from(specific)][slot_of(acc)] += 1;
            let lost = repo
                .and_then(|r| self.specific_twin.get(&(a, r)))
                .is_some_and(|&s| self.base_access(anonymous, s).is_some());
            if !lost {
                eff[a as usize] = acc;
            }
        }
        let base = Arc::new(Base {
            eff,
            counts,
            applicable,
        });
        if let Ok(mut bases) = self.bases.write() {
            return Arc::clone(bases.entry(key).or_insert(base));
        }
        base
    }

    fn compute_view(&self, subject: Subject, repo: Option<u32>) -> View {
        let anonymous = subject == Subject::Anonymous;
        let base = self.base(anonymous, repo);
        let groups = match subject {
            Subject::User(u) => self.groups_of(u),
            _ => Vec::new(),
        };
        let touched = self.touched(subject, repo, &groups);
        let access = |a: u32| -> Option<u8> {
            match touched.binary_search_by_key(&a, |&(t, _)| t) {
                Ok(i) => touched[i].1,
                Err(_) => self.base_access(anonymous, a),
            }
        };
        // Sections whose effective access may differ from the base: the
        // touched ones and the neutral twins of touched specific ones.
        let mut affected: Vec<u32> = touched.iter().map(|&(a, _)| a).collect();
        affected.extend(touched.iter().filter_map(|&(a, _)| self.twin[a as usize]));
        affected.sort_unstable();
        affected.dedup();
        let mut overrides = Vec::new();
        for a in affected {
            let lost = repo
                .and_then(|r| self.specific_twin.get(&(a, r)))
                .is_some_and(|&s| access(s).is_some());
            let eff = match access(a) {
                Some(acc) if !lost => acc,
                _ => NONE,
            };
            if eff != base.eff[a as usize] {
                overrides.push((a, eff));
            }
        }
        let global = self.global_rights(subject, repo, &base, &touched);
        View {
            global,
            base,
            overrides: overrides.into_boxed_slice(),
            reverses: Mutex::new(FxHashMap::default()),
        }
    }

    /// Subversion's repository-wide min/max rights of the subject
    /// (`svn_authz__get_global_rights`), used as a shortcut before every
    /// lookup and as the answer when no path is given.
    fn global_rights(
        &self,
        subject: Subject,
        repo: Option<u32>,
        base: &Base,
        touched: &[(u32, Option<u8>)],
    ) -> MinMax {
        let authn = self.authn_rights.as_ref().map(|r| r.resolve(repo));
        let own = match subject {
            Subject::Anonymous => {
                return self
                    .anon_rights
                    .as_ref()
                    .map_or(MinMax { min: 0, max: 0 }, |r| r.resolve(repo));
            }
            Subject::User(_) => {
                // Every applicable section counts, twins included.
                let mut counts = base.counts;
                for &(a, acc) in touched {
                    let specific = usize::from(self.acls[a as usize].repo.is_some());
                    if let Some(b) = self.base_authn[a as usize] {
                        counts[specific][slot_of(b)] -= 1;
                    }
                    if let Some(u) = acc {
                        counts[specific][slot_of(u)] += 1;
                    }
                }
                let any = MinMax::of_counts(counts[0]);
                let per: u32 = counts[1].iter().sum();
                Some(if repo.is_some() && per > 0 {
                    MinMax::of_counts(counts[1]).combine(any)
                } else {
                    any
                })
            }
            Subject::Unnamed => self.neg_rights.as_ref().map(|r| r.resolve(repo)),
        };
        match (own, authn) {
            (Some(o), Some(a)) => o.combine(a),
            (Some(o), None) => o,
            (None, Some(a)) => a,
            (None, None) => MinMax { min: 0, max: 0 },
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Is `path` already what [`canonicalize`] would make of it?
fn is_canonical(path: &str) -> bool {
    path == "/"
        || (path.starts_with('/')
            && !path.ends_with('/')
            && !path.contains("//")
            && !path.contains("/./")
            && !path.ends_with("/."))
}

fn canonical(path: &str) -> std::borrow::Cow<'_, str> {
    if is_canonical(path) {
        std::borrow::Cow::Borrowed(path)
    } else {
        std::borrow::Cow::Owned(canonicalize(path))
    }
}

/// Canonicalise a repository path the way `svnauthz` does
/// (`svn_fspath__canonicalize`): a leading `/`, no empty or `.` segments,
/// no trailing `/`; `..` is kept.
pub fn canonicalize(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    for seg in path.split('/') {
        if seg.is_empty() || seg == "." {
            continue;
        }
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Authz {
        match Authz::load(text, None) {
            Ok(a) => a,
            Err(e) => panic!("test file is invalid: {e:#?}"),
        }
    }

    fn opt(s: &str) -> Option<&str> {
        (!s.is_empty()).then_some(s)
    }

    /// Queries: (user, repository, path, expected); "" is "not given".
    fn check(text: &str, queries: &[(&str, &str, &str, &str)]) {
        let authz = load(text);
        for &(user, repo, path, want) in queries {
            let got = authz.access(opt(user), opt(repo), opt(path));
            assert_eq!(
                got.as_str(),
                want,
                "user {user:?} repo {repo:?} path {path:?}"
            );
        }
    }

    // ---- SVN-AUTHZ.md §0: the rules most often got wrong

    #[test]
    fn lines_of_a_section_are_ored() {
        check("[/]\n* = rw\nharry =\n", &[("harry", "", "/", "rw")]);
        check("[/]\nharry =\n* = rw\n", &[("harry", "", "/", "rw")]);
    }

    #[test]
    fn section_counts_only_if_a_line_matches_the_user() {
        let text = "[/]\nsally = rw\n[/a]\nharry = r\n";
        check(
            text,
            &[
                ("sally", "", "/a", "rw"),
                ("bob", "", "/a", "no"),
                ("harry", "", "/a", "r"),
            ],
        );
    }

    #[test]
    fn empty_right_still_makes_the_section_apply() {
        check(
            "[/]\n* = r\n[/a]\nharry =\n",
            &[("harry", "", "/a/b", "no"), ("sally", "", "/a/b", "r")],
        );
    }

    #[test]
    fn deepest_applicable_level_wins() {
        let text = "[/]\n* = r\n[/trunk]\nharry = rw\n[/trunk/secret]\nharry =\n";
        check(
            text,
            &[
                ("harry", "", "/trunk/secret/y", "no"),
                ("harry", "", "/trunk/x", "rw"),
                ("sally", "", "/trunk/secret", "r"),
            ],
        );
    }

    #[test]
    fn later_glob_beats_earlier_literal_at_the_same_level() {
        check(
            "[/]\n* = r\n[/trunk]\nharry = rw\n[:glob:/*]\nharry =\n",
            &[("harry", "", "/trunk/x", "no")],
        );
    }

    #[test]
    fn later_literal_beats_earlier_glob_at_the_same_level() {
        let text = "[/]\n* = r\n[:glob:/*]\nharry =\n[/trunk]\nharry = rw\n";
        check(
            text,
            &[
                ("harry", "", "/trunk/x", "rw"),
                ("harry", "", "/branches", "no"),
            ],
        );
    }

    #[test]
    fn deeper_glob_beats_later_shallower_literal() {
        check(
            "[/]\nh = r\n[:glob:/a/*]\nh =\n[/a]\nh = rw\n",
            &[("h", "", "/a/x", "no"), ("h", "", "/a", "rw")],
        );
    }

    #[test]
    fn repository_section_wins_when_it_applies() {
        let text = "[/]\n* = r\n[/a]\nharry = rw\n[repo:/a]\nharry = r\n";
        check(
            text,
            &[
                ("harry", "repo", "/a", "r"),
                ("harry", "other", "/a", "rw"),
                ("harry", "", "/a", "rw"),
            ],
        );
    }

    #[test]
    fn neutral_section_used_when_the_repository_section_does_not_apply() {
        let text = "[/]\n* = r\n[/a]\nharry = rw\n[repo:/a]\nsally = r\n";
        check(
            text,
            &[("harry", "repo", "/a", "rw"), ("sally", "repo", "/a", "r")],
        );
    }

    #[test]
    fn repository_and_neutral_sections_are_never_merged_and_order_does_not_matter() {
        let text = "[repo:/a]\nharry = r\n[/]\n* = r\n[/a]\nharry = rw\nsally = rw\n";
        check(
            text,
            &[("harry", "repo", "/a", "r"), ("sally", "repo", "/a", "rw")],
        );
    }

    #[test]
    fn repository_root_section_competes_with_the_root_rule() {
        check(
            "[/]\n* = r\n[repo:/]\n* = rw\n",
            &[("x", "repo", "/", "rw"), ("x", "", "/", "r")],
        );
        check(
            "[repo:/]\nh = rw\n",
            &[("h", "repo", "/x", "rw"), ("h", "other", "/x", "no")],
        );
    }

    #[test]
    fn default_deny_at_the_root() {
        check(
            "[/a]\nharry = rw\n",
            &[
                ("harry", "", "/", "no"),
                ("harry", "", "/a/b", "rw"),
                ("harry", "", "/b", "no"),
            ],
        );
    }

    #[test]
    fn anonymous_is_matched_only_by_star_and_anonymous_tokens() {
        let text = "[/]\n$anonymous = r\n[/c]\n~$authenticated = rw\n[/b]\n~$anonymous = r\n\
                    [/d]\n* = rw\n[/e]\nharry = rw\n$authenticated = rw\n";
        check(
            text,
            &[
                ("", "", "/c", "rw"),
                ("harry", "", "/c", "no"),
                ("harry", "", "/b", "r"),
                ("", "", "/b", "r"),
                ("", "", "/d", "rw"),
                ("", "", "/e", "r"),
            ],
        );
    }

    #[test]
    fn inverted_entries_never_match_anonymous() {
        check(
            "[/]\n~harry = rw\n",
            &[
                ("harry", "", "/", "no"),
                ("sally", "", "/", "rw"),
                ("", "", "/", "no"),
            ],
        );
    }

    #[test]
    fn empty_user_name_is_anonymous() {
        let authz = load("[/]\n$anonymous = r\n$authenticated = rw\n");
        assert_eq!(authz.access(Some(""), None, Some("/")), Access::Read);
        assert_eq!(authz.access(None, None, Some("/")), Access::Read);
    }

    #[test]
    fn repeated_entry_in_a_section_is_ored() {
        check("[/]\nharry = rw\nharry =\n", &[("harry", "", "/", "rw")]);
        check("[/]\nharry =\nharry = r\n", &[("harry", "", "/", "r")]);
    }

    #[test]
    fn repeated_section_or_group_is_an_error() {
        assert!(Authz::load("[/]\n[/]\n", None).is_err());
        assert!(Authz::load("[groups]\ng = a\ng = b\n", None).is_err());
    }

    #[test]
    fn non_canonical_sections_are_errors_but_double_slash_is_the_root() {
        for bad in ["[/trunk/]\n", "[/a//b]\n", "[/a/./b]\n"] {
            assert!(Authz::load(bad, None).is_err(), "{bad}");
        }
        check(
            "[//x]\nh = rw\n",
            &[
                ("h", "", "/", "rw"),
                ("h", "", "/q", "rw"),
                ("h", "", "/x", "rw"),
            ],
        );
    }

    #[test]
    fn no_inline_comments() {
        assert!(Authz::load("[/]\nharry = rw # x\n", None).is_err());
        let text = "[groups]\ng = a, b # x\n[/]\n@g = rw\n";
        check(
            text,
            &[
                ("b", "", "/", "no"),
                ("b # x", "", "/", "rw"),
                ("a", "", "/", "rw"),
            ],
        );
    }

    #[test]
    fn indented_line_after_an_option_is_a_continuation() {
        check(
            "[groups]\ng = a,\n  b\n[/]\n@g = rw\n",
            &[("b", "", "/", "rw")],
        );
        check(
            "[groups]\ng = a\n  b\n[/]\n@g = rw\n",
            &[("a", "", "/", "no"), ("a b", "", "/", "rw")],
        );
    }

    #[test]
    fn everything_is_case_sensitive() {
        let text = "[Repo:/Trunk]\nHarry = rw\n";
        check(
            text,
            &[
                ("Harry", "Repo", "/Trunk", "rw"),
                ("harry", "Repo", "/Trunk", "no"),
                ("Harry", "repo", "/Trunk", "no"),
                ("Harry", "Repo", "/trunk", "no"),
            ],
        );
    }

    #[test]
    fn group_cycles_are_errors() {
        assert!(Authz::load("[groups]\na = @b\nb = @a\n", None).is_err());
        assert!(Authz::load("[groups]\na = @b\nb = @c\nc = @b\n[/]\n@a = r\n", None).is_err());
    }

    #[test]
    fn rule_for_empty_group_is_dropped_even_inverted() {
        let text = "[groups]\ne =\n[/]\n* = r\n[/a]\n@e = rw\n[/b]\n~@e = rw\n";
        let authz = load(text);
        assert_eq!(authz.warnings().len(), 2);
        check(
            text,
            &[
                ("bob", "", "/a", "r"),
                ("bob", "", "/b", "r"),
                ("", "", "/b", "r"),
            ],
        );
    }

    #[test]
    fn invalid_file_loads_nothing_and_so_denies_everybody() {
        let err = Authz::load("[/]\n* = rw\n[/x]\nh = w\n", None).err();
        assert!(err.is_some_and(|d| d.iter().any(Diagnostic::is_error)));
    }

    #[test]
    fn loading_computes_nothing_per_user() {
        let mut text = String::from("[/]\n* = r\n");
        for s in 0..200 {
            text.push_str(&format!("[/p{s}]\n"));
            for u in 0..50 {
                text.push_str(&format!("u{u}x{s} = rw\n"));
            }
        }
        let authz = load(&text);
        let views = || authz.views.read().map(|v| v.len()).unwrap_or(usize::MAX);
        assert_eq!(views(), 0);
        assert_eq!(
            authz.access(Some("u3x7"), None, Some("/p7/a")),
            Access::ReadWrite
        );
        assert_eq!(authz.access(Some("u3x7"), None, Some("/p8")), Access::Read);
        assert_eq!(views(), 1, "one view for the one user asked about");
    }

    // ---- SVN-AUTHZ.md §5: quirks of 1.14.2, reproduced

    #[test]
    fn quirk_star_glob_applies_to_the_root_path() {
        check(
            "[/]\nsally = rw\n[:glob:/*]\nsally = r\n",
            &[("sally", "", "/", "r"), ("harry", "", "/", "no")],
        );
        check(
            "[/]\nh = rw\n[:glob:/**/*]\nh = r\n",
            &[("h", "", "/", "r")],
        );
        check("[/]\nh = rw\n[:glob:/***]\nh = r\n", &[("h", "", "/", "r")]);
    }

    #[test]
    fn quirk_other_patterns_do_not_match_the_root_path() {
        check(
            "[/]\nh = rw\n[:glob:/?]\nh = r\n[:glob:/a*]\nh = r\n[:glob:/*b]\nh = r\n",
            &[("h", "", "/", "rw")],
        );
    }

    #[test]
    fn quirk_double_slash_section_is_the_root_rule() {
        check(
            "[//anything]\nh = rw\n",
            &[("h", "", "/", "rw"), ("h", "", "/anything", "rw")],
        );
        assert!(Authz::load("[//]\nh = rw\n[/]\nh = r\n", None).is_err());
    }

    #[test]
    fn quirk_suffix_pattern_reverses_the_segment() {
        let text = "[/]\nh = r\n[:glob:/**/ab]\nh = rw\n[:glob:/*b/x]\nh = r\n";
        check(
            text,
            &[
                ("h", "", "/ab", "r"),
                ("h", "", "/ba", "rw"),
                ("h", "", "/xy/ab", "rw"),
            ],
        );
    }

    #[test]
    fn quirk_suffix_reversal_depends_on_rules_a_later_recursive_glob_eclipses() {
        // `/**` eclipses `/*b/x` for h, Subversion trims it away, and the
        // segment is not reversed; for s the suffix rule does not apply.
        let text = "[/]\nh = r\n[:glob:/*b/x]\nh = r\n[:glob:/**]\nh = r\n[:glob:/**/ab]\nh = rw\n";
        check(text, &[("h", "", "/ab", "rw"), ("h", "", "/ba", "r")]);
        let text = "[/]\nh = r\n[:glob:/*b/x]\ns = r\n[:glob:/**/ab]\nh = rw\n";
        check(text, &[("h", "", "/ab", "rw")]);
    }

    #[test]
    fn quirk_empty_group_widens_the_shortcut_for_unnamed_users() {
        let text = "[groups]\ne =\nk = carol\n[/]\n* = rw\n[/a]\n~@e = rw\n~bob = r\n";
        // The walk gives dave `r` (from `~bob`), but the shortcut, widened
        // by the dropped `~@e = rw`, answers first; carol is named in the
        // file and gets the walk's answer.
        check(
            text,
            &[
                ("dave", "", "/a", "rw"),
                ("carol", "", "/a", "r"),
                ("bob", "", "/a", "rw"),
            ],
        );
        let without = "[groups]\nk = carol\n[/]\n* = rw\n[/a]\n~bob = r\n";
        check(without, &[("dave", "", "/a", "r")]);
    }

    #[test]
    fn quirk_undetected_cycle_is_reported_not_crashed_on() {
        let err = Authz::load("[groups]\na = @b\nb = @c\nc = @b\n[/]\n@a = r\n", None).err();
        assert!(err.is_some_and(|d| {
            d.iter()
                .any(|d| d.code == crate::diag::Code::AuthzGroupCycle)
        }));
    }

    #[test]
    fn quirk_character_classes_cannot_be_written() {
        check(
            "[/]\nh = r\n[:glob:/x[ab]]\nh = rw\n",
            &[("h", "", "/xa", "r"), ("h", "", "/x[ab", "rw")],
        );
    }

    #[test]
    fn quirk_no_path_answer_is_the_highest_right_anywhere() {
        check(
            "[/a]\nh = rw\n",
            &[
                ("h", "", "", "rw"),
                ("h", "", "/", "no"),
                ("x", "", "", "no"),
            ],
        );
        check(
            "[/]\n* = r\n[r1:/a]\nh = rw\n",
            &[
                ("h", "", "", "r"),
                ("h", "r1", "", "rw"),
                ("h", "r2", "", "r"),
            ],
        );
    }

    // ---- §4.7 worked examples not covered above

    #[test]
    fn member_star_is_a_literal_user() {
        check(
            "[groups]\ng = *\n[/]\n@g = rw\n",
            &[("bob", "", "/", "no"), ("*", "", "/", "rw")],
        );
    }

    #[test]
    fn inverted_group() {
        check(
            "[groups]\ng = harry\n[/]\n~@g = r\n",
            &[
                ("harry", "", "/", "no"),
                ("sally", "", "/", "r"),
                ("", "", "/", "no"),
            ],
        );
    }

    #[test]
    fn later_recursive_glob_eclipses_deeper_rules() {
        check(
            "[/]\n* = r\n[/a/b]\nharry =\n[:glob:/a/**]\nharry = rw\n",
            &[("harry", "", "/a/b", "rw")],
        );
        check(
            "[/]\n* = r\n[:glob:/a/**]\nharry = rw\n[/a/b]\nharry =\n",
            &[
                ("harry", "", "/a", "rw"),
                ("harry", "", "/a/b", "no"),
                ("harry", "", "/a/b/c", "rw"),
            ],
        );
    }

    #[test]
    fn aliases_resolve_in_entries_and_groups() {
        let text = "[aliases]\njoe = /C=XZ/O=Snake Oil, Ltd./CN=Joe\nh = harry\n[groups]\ng = &h\n\
                    [/]\n&joe = rw\n[/g]\n@g = rw\n[/x]\n~&h = r\n";
        check(
            text,
            &[
                ("/C=XZ/O=Snake Oil, Ltd./CN=Joe", "", "/", "rw"),
                ("harry", "", "/g", "rw"),
                ("harry", "", "/x", "no"),
                ("sally", "", "/x", "r"),
            ],
        );
    }

    #[test]
    fn alias_standing_for_a_group_name_acts_as_the_group() {
        check(
            "[groups]\ng = bob\n[aliases]\na = @g\n[/]\n&a = rw\n",
            &[("bob", "", "/", "rw"), ("@g", "", "/", "no")],
        );
    }

    #[test]
    fn nested_groups_are_transitive() {
        let text = "[groups]\na = @b\nb = @c, x\nc = y\n[/]\n@a = rw\n";
        check(
            text,
            &[
                ("y", "", "/", "rw"),
                ("x", "", "/", "rw"),
                ("z", "", "/", "no"),
            ],
        );
    }

    #[test]
    fn groups_file_supplies_the_groups() {
        let authz = Authz::load(
            "[aliases]\nal = a\n[/]\n@g = rw\n",
            Some("[groups]\ng = &al, b\n"),
        );
        let authz = authz.unwrap_or_else(|e| panic!("{e:#?}"));
        assert_eq!(authz.access(Some("a"), None, Some("/")), Access::ReadWrite);
        assert_eq!(authz.access(Some("c"), None, Some("/")), Access::No);
    }

    // ---- paths

    #[test]
    fn paths_are_canonicalised_like_svnauthz() {
        assert_eq!(canonicalize(""), "/");
        assert_eq!(canonicalize("/"), "/");
        assert_eq!(canonicalize("a//b/"), "/a/b");
        assert_eq!(canonicalize("/./a/./b/."), "/a/b");
        assert_eq!(canonicalize("/a/../b"), "/a/../b");
        check(
            "[/]\nh = r\n[/a/b]\nh = rw\n",
            &[("h", "", "a//b/", "rw"), ("h", "", "/a/./b", "rw")],
        );
    }

    #[test]
    fn dot_dot_is_a_plain_segment() {
        check("[/]\nh = r\n[/b]\nh = rw\n", &[("h", "", "/a/../b", "r")]);
    }

    // ---- list

    fn listed(text: &str, user: &str, repo: &str) -> Vec<(String, &'static str, Option<String>)> {
        load(text)
            .list(opt(user), opt(repo))
            .into_iter()
            .map(|l| (l.section, l.access.as_str(), l.replaced_by))
            .collect()
    }

    #[test]
    fn list_shows_applicable_sections_with_their_access() {
        let text = "[groups]\ng = harry\n[/]\n* = r\n[/a]\n@g = rw\n[/b]\nsally = rw\n[:glob:/**/c]\n~harry =\n";
        assert_eq!(
            listed(text, "harry", ""),
            vec![("/".to_owned(), "r", None), ("/a".to_owned(), "rw", None)]
        );
        assert_eq!(
            listed(text, "sally", ""),
            vec![
                ("/".to_owned(), "r", None),
                ("/b".to_owned(), "rw", None),
                (":glob:/**/c".to_owned(), "no", None)
            ]
        );
    }

    #[test]
    fn list_marks_neutral_sections_replaced_by_their_repository_twin() {
        let text = "[/]\n* = r\n[/a]\nh = rw\n[r1:/a]\nh = r\n[r2:/a]\nh =\n";
        assert_eq!(
            listed(text, "h", "r1"),
            vec![
                ("/".to_owned(), "r", None),
                ("/a".to_owned(), "rw", Some("r1:/a".to_owned())),
                ("r1:/a".to_owned(), "r", None)
            ]
        );
    }

    #[test]
    fn list_for_anonymous() {
        assert_eq!(
            listed("[/]\nh = rw\n[/p]\n$anonymous = r\n", "", ""),
            vec![("/".to_owned(), "no", None), ("/p".to_owned(), "r", None)]
        );
    }

    #[test]
    fn queries_from_many_threads() {
        let authz = load("[groups]\ng = a\n[/]\n* = r\n[/x]\n@g = rw\n");
        std::thread::scope(|s| {
            for t in 0..4 {
                let authz = &authz;
                s.spawn(move || {
                    for i in 0..200 {
                        let user = if (i + t) % 2 == 0 { "a" } else { "b" };
                        let want = if user == "a" {
                            Access::ReadWrite
                        } else {
                            Access::Read
                        };
                        assert_eq!(authz.access(Some(user), None, Some("/x/y")), want);
                    }
                });
            }
        });
    }
}
