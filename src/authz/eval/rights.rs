//! Subversion's repository-wide min/max rights: the shortcut taken before
//! every lookup, and the answer when no path is given.

use super::super::rules::{R, RW, W};
use super::super::tree::FxHashMap;

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
