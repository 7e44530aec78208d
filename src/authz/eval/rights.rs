//! Subversion's repository-wide min/max rights: the shortcut taken before
//! every lookup, and the answer when no path is given.

use super::super::rules::{R, RW, W};
use super::super::tree::FxHashMap;
use super::Authz;
use super::view::{Base, Subject};

/// Subversion's accumulated min/max rights (`authz_rights_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MinMax {
    pub(super) min: u8,
    pub(super) max: u8,
}

impl MinMax {
    const INIT: MinMax = MinMax { min: RW, max: 0 };

    pub(super) fn update(&mut self, access: u8) {
        self.min &= access;
        self.max |= access;
    }

    pub(super) fn combine(self, other: MinMax) -> MinMax {
        MinMax {
            min: self.min & other.min,
            max: self.max | other.max,
        }
    }

    /// The min/max of accesses given by how many sections give no access,
    /// read, and read-write.
    pub(super) fn of_counts(c: [u32; 3]) -> MinMax {
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
pub(super) fn slot_of(access: u8) -> usize {
    match access {
        0 => 0,
        a if a & W != 0 => 2,
        _ => 1,
    }
}

/// Subversion's `authz_global_rights_t`: rights over neutral sections and
/// per repository.
#[derive(Debug, Clone)]
pub(super) struct Rights {
    pub(super) any: MinMax,
    pub(super) per: FxHashMap<u32, MinMax>,
}

impl Rights {
    pub(super) fn new() -> Self {
        Rights {
            any: MinMax::INIT,
            per: FxHashMap::default(),
        }
    }

    pub(super) fn update(&mut self, repo: Option<u32>, access: u8) {
        match repo {
            None => self.any.update(access),
            Some(r) => self.per.entry(r).or_insert(MinMax::INIT).update(access),
        }
    }

    pub(super) fn resolve(&self, repo: Option<u32>) -> MinMax {
        match repo.and_then(|r| self.per.get(&r)) {
            Some(p) => p.combine(self.any),
            None => self.any,
        }
    }
}

impl Authz {
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
