//! [`Members`]: the projects each login holds roles in (what a decision
//! "anywhere" — logging in — and the user view read across projects),
//! made from the project parts, and brought up to date from the parts
//! that changed: only the shards of the logins a changed part adds,
//! removes or gives `user` anew are copied. Either way the result is the
//! same value (logins sorted within a shard, projects sorted).

use std::hash::Hasher as _;
use std::sync::Arc;

use super::types::*;
use crate::ident::Login;

/// How many shards the logins are spread over. More: less copied per
/// changed login, more pointers per index.
const SHARDS: usize = 1024;

/// The shard of a login (under the process's hash keys).
fn shard_of(login: &str) -> usize {
    let mut h = crate::fxhash::FxHasher::default();
    h.write(login.as_bytes());
    (h.finish() % SHARDS as u64) as usize
}

/// Whether a login's roles in one project include `user`.
fn holds_user(held: &[Assigned], user: u32) -> bool {
    held.iter().any(|h| h.role == user)
}

impl Members {
    /// The memberships of every login in `parts` (by project number),
    /// each shard sorted on `pool` when there is one.
    pub(super) fn build(
        parts: &[Arc<ProjectPart>],
        user: u32,
        pool: Option<&rayon::ThreadPool>,
    ) -> Members {
        let mut pairs: Vec<Vec<(&Login, u32, bool)>> = vec![Vec::new(); SHARDS];
        for (p, part) in parts.iter().enumerate() {
            for (login, held) in part.each_holder() {
                pairs[shard_of(login.as_str())].push((login, to_u32(p), holds_user(held, user)));
            }
        }
        let shard = |mut pairs: Vec<(&Login, u32, bool)>| {
            pairs.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            let mut shard = Shard::default();
            for (login, p, u) in pairs {
                match shard.0.last_mut() {
                    Some((l, list)) if l == login => list.push((p, u)),
                    _ => shard.0.push((login.clone(), vec![(p, u)])),
                }
            }
            Arc::new(shard)
        };
        let shards = match pool {
            Some(pool) => {
                use rayon::prelude::*;
                pool.install(|| pairs.into_par_iter().map(shard).collect())
            }
            None => pairs.into_iter().map(shard).collect(),
        };
        Members(Arc::new(shards))
    }

    /// These memberships (of the parts `old`) brought to the parts `new`,
    /// project by project the same projects: only the parts that are not
    /// the same `Arc` are compared.
    pub(super) fn update(
        &self,
        old: &[Arc<ProjectPart>],
        new: &[Arc<ProjectPart>],
        user: u32,
    ) -> Members {
        let mut shards: Vec<Arc<Shard>> = self.0.as_ref().clone();
        for (p, (old, new)) in old.iter().zip(new).enumerate() {
            if Arc::ptr_eq(old, new) {
                continue;
            }
            let p = to_u32(p);
            for login in old.holders.keys() {
                if !new.holders.contains_key(login) {
                    let shard = Arc::make_mut(&mut shards[shard_of(login.as_str())]);
                    shard.remove(login, p);
                }
            }
            for (login, held) in new.each_holder() {
                let now = holds_user(held, user);
                let before = (old.holders.contains_key(login))
                    .then(|| holds_user(old.held_by(login.as_str()), user));
                if before != Some(now) {
                    let shard = Arc::make_mut(&mut shards[shard_of(login.as_str())]);
                    shard.set(login, p, now);
                }
            }
        }
        Members(Arc::new(shards))
    }

    /// The projects a login holds roles in, by project.
    pub(super) fn get(&self, login: &str) -> &[(u32, bool)] {
        let shard = &self.0[shard_of(login)].0;
        match shard.binary_search_by(|(l, _)| l.as_str().cmp(login)) {
            Ok(i) => &shard[i].1,
            Err(_) => &[],
        }
    }
}

impl Shard {
    fn set(&mut self, login: &Login, p: u32, user: bool) {
        match self.0.binary_search_by(|(l, _)| l.cmp(login)) {
            Ok(i) => {
                let list = &mut self.0[i].1;
                match list.binary_search_by_key(&p, |(q, _)| *q) {
                    Ok(j) => list[j].1 = user,
                    Err(j) => list.insert(j, (p, user)),
                }
            }
            Err(i) => self.0.insert(i, (login.clone(), vec![(p, user)])),
        }
    }

    fn remove(&mut self, login: &Login, p: u32) {
        if let Ok(i) = self.0.binary_search_by(|(l, _)| l.cmp(login)) {
            let list = &mut self.0[i].1;
            list.retain(|(q, _)| *q != p);
            if list.is_empty() {
                self.0.remove(i);
            }
        }
    }
}
