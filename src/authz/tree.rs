//! The filtered prefix tree of one (user, repository) and its path walk, a
//! faithful re-statement of libsvn_repos 1.14 (`authz.c`: `insert_path`,
//! `trim_tree`, `finalize_tree`, `lookup`), bug for bug:
//!
//! * the walk looks up the root path `/` as one empty segment *below* the
//!   root, so `/*` (and `/**/*`, `/***`) rules apply to the root itself;
//! * while matching one segment, a node with `*suffix` children reverses
//!   the segment in place and never restores it; nodes examined later in
//!   the same step see the reversed text. Node order therefore matters and
//!   follows Subversion's: literal child, `*`, the node itself if it is
//!   `**`, prefix patterns (sorted, walked through prefix links), other
//!   patterns (sorted), suffix patterns;
//! * rules eclipsed by a later `**` rule above them are trimmed before the
//!   walk, which decides whether a node still has suffix children.
//!
//! Subversion's per-node min/max shortcuts only end the walk early with the
//! answer the full walk would give, so this walk always runs to the end and
//! returns the access at the path, from which both the write and the read
//! check follow.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::glob::{Seg, SegKind, fnmatch};

/// No rule at this node.
pub(crate) const NO_SEQ: i32 = -1;

/// A small, fast, non-cryptographic hasher (FxHash) for path segments.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }

    fn write_u32(&mut self, i: u32) {
        self.write(&i.to_le_bytes());
    }

    fn write_u64(&mut self, i: u64) {
        self.write(&i.to_le_bytes());
    }

    fn write_usize(&mut self, i: usize) {
        self.write(&i.to_le_bytes());
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;
pub(crate) type FxHashMap<K, V> = HashMap<K, V, FxBuild>;

/// An entry of a sorted pattern array, with the link to the next entry
/// that is a prefix of this one.
#[derive(Debug, Clone, Copy)]
struct Sorted {
    node: u32,
    next: Option<u32>,
}

#[derive(Debug, Default)]
struct Pat {
    any: Option<u32>,
    any_var: Option<u32>,
    prefixes: Vec<Sorted>,
    /// Suffix patterns, stored reversed.
    suffixes: Vec<Sorted>,
    complex: Vec<Sorted>,
    /// This node is a `**` node: it also matches the next level.
    repeat: bool,
}

#[derive(Debug)]
struct Node {
    seg: Box<[u8]>,
    seq: i32,
    acc: u8,
    sub: Option<FxHashMap<Box<[u8]>, u32>>,
    pat: Option<Box<Pat>>,
}

impl Node {
    fn new(seg: &[u8]) -> Self {
        Node {
            seg: seg.into(),
            seq: NO_SEQ,
            acc: 0,
            sub: None,
            pat: None,
        }
    }
}

/// The rule tree of one (user, repository).
#[derive(Debug)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
}

/// Which array of a pattern node.
#[derive(Clone, Copy)]
enum Arr {
    Prefixes,
    Suffixes,
    Complex,
}

impl Pat {
    fn arr(&self, which: Arr) -> &Vec<Sorted> {
        match which {
            Arr::Prefixes => &self.prefixes,
            Arr::Suffixes => &self.suffixes,
            Arr::Complex => &self.complex,
        }
    }

    fn arr_mut(&mut self, which: Arr) -> &mut Vec<Sorted> {
        match which {
            Arr::Prefixes => &mut self.prefixes,
            Arr::Suffixes => &mut self.suffixes,
            Arr::Complex => &mut self.complex,
        }
    }
}

impl Tree {
    /// Build the tree from the rules that apply to the user: (sequence
    /// number, access, rule path). The root gets the "no access" default
    /// (sequence 0) when no rule names it.
    pub(crate) fn build<'a>(rules: impl IntoIterator<Item = (i32, u8, &'a [Seg])>) -> Tree {
        let mut t = Tree {
            nodes: vec![Node::new(b"")],
        };
        for (seq, acc, segs) in rules {
            t.insert(seq, acc, segs);
        }
        if t.nodes[0].seq == NO_SEQ {
            t.nodes[0].seq = 0;
            t.nodes[0].acc = 0;
        }
        t.trim(0, NO_SEQ);
        t.link(0);
        t
    }

    /// Number of nodes (for cache accounting).
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    fn new_node(&mut self, seg: &[u8]) -> u32 {
        let id = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        self.nodes.push(Node::new(seg));
        id
    }

    fn pat_mut(&mut self, node: u32) -> &mut Pat {
        self.nodes[node as usize]
            .pat
            .get_or_insert_with(Box::default)
    }

    fn insert(&mut self, seq: i32, acc: u8, segs: &[Seg]) {
        let mut node = 0u32;
        for seg in segs {
            node = match seg.kind {
                SegKind::Any => match self.pat_mut(node).any {
                    Some(n) => n,
                    None => {
                        let n = self.new_node(b"");
                        self.pat_mut(node).any = Some(n);
                        n
                    }
                },
                SegKind::AnyRecursive => {
                    let n = match self.pat_mut(node).any_var {
                        Some(n) => n,
                        None => {
                            let n = self.new_node(b"");
                            self.pat_mut(node).any_var = Some(n);
                            n
                        }
                    };
                    self.pat_mut(n).repeat = true;
                    n
                }
                SegKind::Prefix => self.in_array(node, Arr::Prefixes, &seg.pat),
                SegKind::Suffix => {
                    let mut rev = seg.pat.clone();
                    rev.reverse();
                    self.in_array(node, Arr::Suffixes, &rev)
                }
                SegKind::Fnmatch => self.in_array(node, Arr::Complex, &seg.pat),
                SegKind::Literal => {
                    let found = self.nodes[node as usize]
                        .sub
                        .as_ref()
                        .and_then(|s| s.get(seg.pat.as_slice()).copied());
                    match found {
                        Some(n) => n,
                        None => {
                            let n = self.new_node(&seg.pat);
                            self.nodes[node as usize]
                                .sub
                                .get_or_insert_with(FxHashMap::default)
                                .insert(seg.pat.clone().into_boxed_slice(), n);
                            n
                        }
                    }
                }
            };
        }
        let n = &mut self.nodes[node as usize];
        if n.seq < seq {
            n.seq = seq;
            n.acc = acc;
        }
    }

    /// The node for `seg` in a sorted array of `node`, created if needed.
    fn in_array(&mut self, node: u32, which: Arr, seg: &[u8]) -> u32 {
        let pos = {
            let nodes = &self.nodes;
            let arr = self.nodes[node as usize]
                .pat
                .as_ref()
                .map(|p| p.arr(which).as_slice())
                .unwrap_or(&[]);
            arr.binary_search_by(|e| nodes[e.node as usize].seg.as_ref().cmp(seg))
        };
        match pos {
            Ok(i) => self.pat_mut(node).arr(which)[i].node,
            Err(i) => {
                let n = self.new_node(seg);
                self.pat_mut(node).arr_mut(which).insert(
                    i,
                    Sorted {
                        node: n,
                        next: None,
                    },
                );
                n
            }
        }
    }

    /// Remove rules eclipsed by a later `**` rule above them; true when no
    /// rule is left in the subtree of `node`.
    fn trim(&mut self, node: u32, mut latest: i32) -> bool {
        let i = node as usize;
        if let Some(av) = self.nodes[i].pat.as_ref().and_then(|p| p.any_var) {
            let s = self.nodes[av as usize].seq;
            if s > latest {
                latest = s;
            }
        }
        let mut removed_all = true;
        if self.nodes[i].seq != NO_SEQ {
            if self.nodes[i].seq >= latest {
                removed_all = false;
            } else {
                self.nodes[i].seq = NO_SEQ;
            }
        }
        if let Some(mut sub) = self.nodes[i].sub.take() {
            sub.retain(|_, &mut child| !self.trim(child, latest));
            if !sub.is_empty() {
                removed_all = false;
                self.nodes[i].sub = Some(sub);
            }
        }
        if let Some(mut pat) = self.nodes[i].pat.take() {
            for slot in [&mut pat.any, &mut pat.any_var] {
                if let Some(child) = *slot {
                    if self.trim(child, latest) {
                        *slot = None;
                    } else {
                        removed_all = false;
                    }
                }
            }
            for which in [Arr::Prefixes, Arr::Suffixes, Arr::Complex] {
                let mut arr = std::mem::take(pat.arr_mut(which));
                arr.retain(|e| !self.trim(e.node, latest));
                if !arr.is_empty() {
                    removed_all = false;
                }
                *pat.arr_mut(which) = arr;
            }
            if !removed_all {
                self.nodes[i].pat = Some(pat);
            }
        }
        removed_all
    }

    /// Link each prefix/suffix entry to the closest earlier entry that is a
    /// proper prefix of it (Subversion's `link_prefix_patterns`).
    fn link(&mut self, node: u32) {
        let i = node as usize;
        let children: Vec<u32> = {
            let n = &self.nodes[i];
            let mut c: Vec<u32> = n.sub.iter().flat_map(|s| s.values().copied()).collect();
            if let Some(p) = &n.pat {
                c.extend(p.any);
                c.extend(p.any_var);
                for which in [Arr::Prefixes, Arr::Suffixes, Arr::Complex] {
                    c.extend(p.arr(which).iter().map(|e| e.node));
                }
            }
            c
        };
        for c in children {
            self.link(c);
        }
        if let Some(mut pat) = self.nodes[i].pat.take() {
            link_array(&self.nodes, &mut pat.prefixes);
            link_array(&self.nodes, &mut pat.suffixes);
            self.nodes[i].pat = Some(pat);
        }
    }

    /// The access at `path` (canonical, starting with `/`), as the end of
    /// Subversion's `lookup` leaves it.
    pub(crate) fn access_at(&self, path: &str, scratch: &mut Scratch) -> u8 {
        let root = &self.nodes[0];
        let mut st = (root.seq, root.acc);
        let mut parent = st;
        let Scratch { current, next, seg } = scratch;
        current.clear();
        current.push(0);
        if let Some(av) = root.pat.as_ref().and_then(|p| p.any_var) {
            let n = &self.nodes[av as usize];
            if st.0 < n.seq {
                st = (n.seq, n.acc);
            }
            current.push(av);
        }
        let trimmed = path.trim_end_matches('/');
        let mut rest: Option<&[u8]> = Some(trimmed.trim_start_matches('/').as_bytes());
        while let Some(r) = rest {
            if current.is_empty() {
                break;
            }
            let (s, after) = match r.iter().position(|&b| b == b'/') {
                Some(j) => {
                    let mut k = j;
                    while k < r.len() && r[k] == b'/' {
                        k += 1;
                    }
                    (&r[..j], Some(&r[k..]))
                }
                None => (r, None),
            };
            rest = after;
            seg.clear();
            seg.extend_from_slice(s);
            st = (NO_SEQ, 0);
            next.clear();
            for &c in current.iter() {
                let node = &self.nodes[c as usize];
                if let Some(sub) = &node.sub {
                    if let Some(&n) = sub.get(seg.as_slice()) {
                        self.add(n, &mut st, next);
                    }
                }
                let Some(pat) = &node.pat else {
                    continue;
                };
                if let Some(n) = pat.any {
                    self.add(n, &mut st, next);
                }
                if pat.repeat {
                    self.add(c, &mut st, next);
                }
                if !pat.prefixes.is_empty() {
                    self.add_prefixes(seg, &pat.prefixes, &mut st, next);
                }
                for e in &pat.complex {
                    if fnmatch(&self.nodes[e.node as usize].seg, seg) {
                        self.add(e.node, &mut st, next);
                    }
                }
                if !pat.suffixes.is_empty() {
                    // Subversion reverses the segment in place and never
                    // restores it (bug kept for bit-exact answers).
                    seg.reverse();
                    self.add_prefixes(seg, &pat.suffixes, &mut st, next);
                }
            }
            if st.0 == NO_SEQ {
                st = parent;
            }
            if rest.is_some() {
                std::mem::swap(current, next);
                parent = st;
            }
        }
        st.1
    }

    fn add(&self, n: u32, st: &mut (i32, u8), next: &mut Vec<u32>) {
        let node = &self.nodes[n as usize];
        if st.0 < node.seq {
            *st = (node.seq, node.acc);
        }
        next.push(n);
        if let Some(av) = node.pat.as_ref().and_then(|p| p.any_var) {
            let a = &self.nodes[av as usize];
            if st.0 < a.seq {
                *st = (a.seq, a.acc);
            }
            next.push(av);
        }
    }

    fn add_prefixes(&self, seg: &[u8], arr: &[Sorted], st: &mut (i32, u8), next: &mut Vec<u32>) {
        let i = arr.partition_point(|e| self.nodes[e.node as usize].seg.as_ref() < seg);
        if let Some(e) = arr.get(i) {
            if seg.starts_with(&self.nodes[e.node as usize].seg) {
                self.add(e.node, st, next);
            }
        }
        let mut p = i.checked_sub(1);
        while let Some(j) = p {
            let e = arr[j];
            if seg.starts_with(&self.nodes[e.node as usize].seg) {
                self.add(e.node, st, next);
            }
            p = e.next.map(|x| x as usize);
        }
    }
}

fn link_array(nodes: &[Node], arr: &mut [Sorted]) {
    for i in 1..arr.len() {
        let cur = &nodes[arr[i].node as usize].seg;
        let prev_first = nodes[arr[i - 1].node as usize].seg.first();
        if prev_first != cur.first() {
            continue;
        }
        let mut p = Some(i - 1);
        while let Some(j) = p {
            let ps = &nodes[arr[j].node as usize].seg;
            if ps.len() < cur.len() && cur.starts_with(ps) {
                arr[i].next = u32::try_from(j).ok();
                break;
            }
            p = arr[j].next.map(|x| x as usize);
        }
    }
}

/// Reusable buffers for walks.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    current: Vec<u32>,
    next: Vec<u32>,
    seg: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::super::glob::parse_rule_path;
    use super::*;

    /// rules: (sequence, access, rule path, glob?)
    fn at(rules: &[(i32, u8, &str, bool)], path: &str) -> u8 {
        let parsed: Vec<(i32, u8, Vec<Seg>)> = rules
            .iter()
            .map(|&(s, a, p, g)| (s, a, parse_rule_path(p, g).expect("canonical test rule")))
            .collect();
        let tree = Tree::build(parsed.iter().map(|(s, a, p)| (*s, *a, p.as_slice())));
        tree.access_at(path, &mut Scratch::default())
    }

    #[test]
    fn default_root_denies() {
        assert_eq!(at(&[], "/"), 0);
        assert_eq!(at(&[], "/a/b"), 0);
    }

    #[test]
    fn nearest_ancestor_rule_wins() {
        let rules = [
            (1, 1, "/", false),
            (2, 3, "/a", false),
            (3, 0, "/a/b", false),
        ];
        assert_eq!(at(&rules, "/x"), 1);
        assert_eq!(at(&rules, "/a/x"), 3);
        assert_eq!(at(&rules, "/a/b/c"), 0);
    }

    #[test]
    fn later_rule_wins_at_the_same_level() {
        let rules = [(1, 1, "/", false), (2, 3, "/a*", true), (3, 0, "/*b", true)];
        assert_eq!(at(&rules, "/ab"), 0);
        assert_eq!(at(&rules, "/a"), 3);
    }

    #[test]
    fn star_glob_applies_to_the_root_path() {
        assert_eq!(at(&[(1, 3, "/", false), (2, 1, "/*", true)], "/"), 1);
    }

    #[test]
    fn suffix_reversal_bug() {
        let rules = [
            (1, 1, "/", false),
            (2, 3, "/**/ab", true),
            (3, 1, "/*b/x", true),
        ];
        assert_eq!(at(&rules, "/ab"), 1);
        assert_eq!(at(&rules, "/ba"), 3);
        assert_eq!(at(&rules, "/xy/ab"), 3);
    }

    #[test]
    fn recursive_glob_matches_zero_levels_and_eclipses_earlier_rules() {
        let rules = [
            (1, 1, "/", false),
            (2, 0, "/a/b", false),
            (3, 3, "/a/**", true),
        ];
        assert_eq!(at(&rules, "/a"), 3);
        assert_eq!(at(&rules, "/a/b"), 3);
        assert_eq!(at(&rules, "/ab"), 1);
    }

    #[test]
    fn prefix_links_find_every_prefix() {
        let rules = [
            (1, 0, "/", false),
            (2, 1, "/a*", true),
            (3, 3, "/ab*", true),
            (4, 1, "/abc*", true),
            (5, 3, "/b*", true),
        ];
        assert_eq!(at(&rules, "/abcd"), 1);
        assert_eq!(at(&rules, "/abd"), 3);
        assert_eq!(at(&rules, "/ax"), 1);
        assert_eq!(at(&rules, "/c"), 0);
    }

    #[test]
    fn hasher_spreads_segments() {
        let mut a = FxHasher::default();
        a.write(b"trunk");
        let mut b = FxHasher::default();
        b.write(b"trunl");
        assert_ne!(a.finish(), b.finish());
    }
}
