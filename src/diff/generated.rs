//! The generated groups of the two access files compared line by line,
//! so that the path part costs the lines that changed, not a map of
//! every generated group of both files.
//!
//! The renderer writes the role groups in one order (global, then each
//! project, each scope's roles sorted), never writes one name twice (a
//! `role-group-collision` is an error: no snapshot has one) and writes
//! logins only (never a group nor an alias). So the two
//! blocks are walked side by side: equal names are compared by value; at
//! a name that differs the walk looks a few lines ahead on either side for
//! the other's name, and the lines skipped are on one side only. Whatever
//! the walk cannot align (a name skipped on both sides, a block reordered)
//! makes it give up, and every generated name is compared through a map,
//! as before. [`Generated`] answers a group's generated value from what
//! the walk learnt, and from a map of every line only for a name it did
//! not see (a hand-written group naming an unchanged role group, or every
//! name when the walk gave up).

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

use crate::fxhash::FxHashMap;

/// How far the walk looks ahead for the other side's name.
const LOOKAHEAD: usize = 32;

/// One file's generated groups: (name, members as written), in order.
#[derive(Debug, Default)]
pub(super) struct Generated<'d> {
    lines: &'d [(&'d str, &'d str)],
    /// Names whose generated value here is known (`None`: not generated).
    known: BTreeMap<&'d str, Option<&'d str>>,
    /// Every line by name, made when a name not known is asked about.
    all: OnceCell<FxHashMap<&'d str, &'d str>>,
}

impl<'d> Generated<'d> {
    pub fn new(lines: &'d [(&'d str, &'d str)]) -> Self {
        Generated {
            lines,
            ..Generated::default()
        }
    }

    /// The generated value of group `g` in this file (`None`: not generated).
    pub fn get(&self, g: &str) -> Option<&'d str> {
        if self.lines.is_empty() {
            return None;
        }
        match self.known.get(g) {
            Some(v) => *v,
            None => self.map().get(g).copied(),
        }
    }

    /// Every generated group's value.
    pub fn values(&self) -> impl Iterator<Item = &'d str> + '_ {
        self.map().values().copied()
    }

    fn map(&self) -> &FxHashMap<&'d str, &'d str> {
        self.all
            .get_or_init(|| self.lines.iter().copied().collect())
    }

    /// Learn the generated value (or absence) of each of `names`.
    fn learn(&mut self, names: &BTreeSet<&'d str>) {
        if names.is_empty() || self.lines.is_empty() {
            return;
        }
        let filter = Filter::of(names);
        for &(n, v) in self.lines {
            if filter.may_hold(n) && names.contains(n) {
                self.known.insert(n, Some(v));
            }
        }
        for n in names {
            self.known.entry(n).or_insert(None);
        }
    }
}

/// The generated names whose value may differ between `a` and `b` (a
/// superset: the caller compares each by [`Generated::get`]); `a` and `b`
/// learn the values of those names and of `hand` (the hand-written
/// groups' names). Not `aligned`: every name, by the maps.
pub(super) fn compare<'d>(
    a: &mut Generated<'d>,
    b: &mut Generated<'d>,
    hand: &BTreeSet<&'d str>,
    aligned: bool,
) -> BTreeSet<&'d str> {
    a.learn(hand);
    b.learn(hand);
    match walk(a.lines, b.lines).filter(|_| aligned) {
        Some(found) => {
            let mut out = BTreeSet::new();
            for (name, (x, y)) in found {
                a.known.insert(name, x);
                b.known.insert(name, y);
                out.insert(name);
            }
            out
        }
        None => {
            // Not aligned: every name, each answered by the maps.
            a.known.clear();
            b.known.clear();
            a.map().keys().chain(b.map().keys()).copied().collect()
        }
    }
}

/// Per name whose line differs, its value in `x` and in `y`; `None` when
/// the blocks cannot be aligned.
type Differing<'d> = BTreeMap<&'d str, (Option<&'d str>, Option<&'d str>)>;

/// The two blocks walked side by side.
fn walk<'d>(x: &[(&'d str, &'d str)], y: &[(&'d str, &'d str)]) -> Option<Differing<'d>> {
    let mut out: Differing = BTreeMap::new();
    let (mut only_x, mut only_y) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < x.len() && j < y.len() {
        let ((nx, vx), (ny, vy)) = (x[i], y[j]);
        if nx == ny {
            if vx != vy {
                out.insert(nx, (Some(vx), Some(vy)));
            }
            i += 1;
            j += 1;
            continue;
        }
        match resync(x, i, y, j) {
            Skip::X(k) => {
                only_x.extend_from_slice(&x[i..i + k]);
                i += k;
            }
            Skip::Y(k) => {
                only_y.extend_from_slice(&y[j..j + k]);
                j += k;
            }
            Skip::Both => {
                only_x.push(x[i]);
                only_y.push(y[j]);
                i += 1;
                j += 1;
            }
        }
    }
    only_x.extend_from_slice(&x[i..]);
    only_y.extend_from_slice(&y[j..]);
    // A name skipped on both sides was not aligned (reordered, or further
    // away than the look-ahead): give up.
    let skipped: BTreeSet<&str> = only_x.iter().map(|(n, _)| *n).collect();
    if only_y.iter().any(|(n, _)| skipped.contains(n)) {
        return None;
    }
    out.extend(only_x.into_iter().map(|(n, v)| (n, (Some(v), None))));
    out.extend(only_y.into_iter().map(|(n, v)| (n, (None, Some(v)))));
    Some(out)
}

/// Where the walk goes on after two names that differ.
enum Skip {
    /// The next `k` lines of `x` are in `x` only.
    X(usize),
    /// The next `k` lines of `y` are in `y` only.
    Y(usize),
    /// Neither name is near on the other side.
    Both,
}

fn resync(x: &[(&str, &str)], i: usize, y: &[(&str, &str)], j: usize) -> Skip {
    for k in 1..=LOOKAHEAD {
        if x.get(i + k).is_some_and(|(n, _)| *n == y[j].0) {
            return Skip::X(k);
        }
        if y.get(j + k).is_some_and(|(n, _)| *n == x[i].0) {
            return Skip::Y(k);
        }
    }
    Skip::Both
}

/// A cheap first test of whether a name can be one of a few: its length
/// and first byte are those of one of them.
struct Filter {
    lengths: u64,
    firsts: [u64; 4],
}

impl Filter {
    fn of(names: &BTreeSet<&str>) -> Filter {
        let mut f = Filter {
            lengths: 0,
            firsts: [0; 4],
        };
        for n in names {
            f.lengths |= 1 << (n.len() % 64);
            let b = n.bytes().next().unwrap_or(0);
            f.firsts[usize::from(b / 64)] |= 1 << (b % 64);
        }
        f
    }

    fn may_hold(&self, n: &str) -> bool {
        let b = n.bytes().next().unwrap_or(0);
        self.lengths & (1 << (n.len() % 64)) != 0
            && self.firsts[usize::from(b / 64)] & (1 << (b % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the walk must find: every name whose value differs, by maps.
    fn by_maps<'d>(x: &[(&'d str, &'d str)], y: &[(&'d str, &'d str)]) -> BTreeSet<&'d str> {
        let (a, b): (BTreeMap<_, _>, BTreeMap<_, _>) =
            (x.iter().copied().collect(), y.iter().copied().collect());
        a.keys()
            .chain(b.keys())
            .copied()
            .filter(|n| a.get(n) != b.get(n))
            .collect()
    }

    fn check(x: &[(&str, &str)], y: &[(&str, &str)], aligned: bool) {
        let (mut a, mut b) = (Generated::new(x), Generated::new(y));
        let found = compare(&mut a, &mut b, &BTreeSet::from(["team"]), true);
        let differing: BTreeSet<&str> = found
            .iter()
            .copied()
            .filter(|n| a.get(n) != b.get(n))
            .collect();
        assert_eq!(differing, by_maps(x, y));
        assert_eq!(walk(x, y).is_some(), aligned);
        assert_eq!(a.get("team"), None);
    }

    #[test]
    fn lines_added_removed_and_changed_are_found_without_a_map() {
        let x = [("admin", "a"), ("p1-u", "b"), ("p2-u", "c"), ("p3-u", "d")];
        let y = [
            ("admin", "a"),
            ("p2-u", "c, e"),
            ("p25-u", "f"),
            ("p3-u", "d"),
        ];
        check(&x, &y, true);
        check(&y, &x, true);
        check(&x, &[], true);
    }

    #[test]
    fn a_reordered_block_is_compared_by_maps() {
        let x = [("a", "1"), ("b", "2"), ("c", "3")];
        let y = [("c", "3"), ("b", "2"), ("a", "1")];
        check(&x, &y, false);
    }
}
