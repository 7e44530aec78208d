//! Query time: the lazy, cached views — per repository what users a
//! section does not name see (the base), per (user, repository) the base
//! patched with the sections that name the user or its groups.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use super::super::tree::FxHashMap;
use super::rights::{MinMax, slot_of};
use super::types::{Authz, Base, CACHE_BUDGET, NONE, Subject, View, Who};

impl Authz {
    pub(super) fn subject(&self, user: Option<&str>) -> Subject {
        match user {
            None | Some("") => Subject::Anonymous,
            Some(u) => self
                .users
                .get(u)
                .map_or(Subject::Unnamed, |&id| Subject::User(id)),
        }
    }

    pub(super) fn repo(&self, repository: Option<&str>) -> Option<u32> {
        repository.and_then(|r| self.repos.get(r).copied())
    }

    pub(super) fn view(&self, user: Option<&str>, repository: Option<&str>) -> Arc<View> {
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
    pub(super) fn groups_of(&self, u: u32) -> Vec<u32> {
        let mut seen: std::collections::HashSet<u32, super::super::tree::FxBuild> =
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
    pub(super) fn base_access(&self, anonymous: bool, a: u32) -> Option<u8> {
        let acl = &self.acls[a as usize];
        if anonymous {
            acl.has_anon.then_some(acl.anon)
        } else {
            self.base_authn[a as usize]
        }
    }

    /// `svn_authz__get_acl_access` for a named user in groups `groups`.
    pub(super) fn user_access(&self, a: u32, u: u32, groups: &[u32]) -> Option<u8> {
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
    pub(super) fn touched(
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
    pub(super) fn base(&self, anonymous: bool, repo: Option<u32>) -> Arc<Base> {
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

    /// The sections whose lines name `subject` (or one of its groups) in
    /// `repo`, sorted by section, with the access those lines give.
    pub(super) fn touched_by(&self, subject: Subject, repo: Option<u32>) -> Vec<(u32, Option<u8>)> {
        let groups = match subject {
            Subject::User(u) => self.groups_of(u),
            _ => Vec::new(),
        };
        self.touched(subject, repo, &groups)
    }

    /// The access section `a` gives: from `touched` (see
    /// [`Authz::touched_by`]) where it names the subject, else the base.
    pub(super) fn access_of(
        &self,
        touched: &[(u32, Option<u8>)],
        anonymous: bool,
        a: u32,
    ) -> Option<u8> {
        match touched.binary_search_by_key(&a, |&(t, _)| t) {
            Ok(i) => touched[i].1,
            Err(_) => self.base_access(anonymous, a),
        }
    }

    pub(super) fn compute_view(&self, subject: Subject, repo: Option<u32>) -> View {
        let anonymous = subject == Subject::Anonymous;
        let base = self.base(anonymous, repo);
        let touched = self.touched_by(subject, repo);
        let access = |a: u32| self.access_of(&touched, anonymous, a);
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
    pub(super) fn global_rights(
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
