//! The rule trie and its path walk: a faithful re-statement of the lookup
//! in libsvn_repos 1.14 (`authz.c`: `insert_path`, `trim_tree`,
//! `finalize_tree`, `lookup`), bug for bug, but built once for all users.
//!
//! Subversion builds one prefix tree per (user, repository) from the rules
//! that apply to that user. This trie holds every rule section of the file
//! once; a walk asks a [`View`] which sections apply to the user (and with
//! which access). That gives the same answers because nodes that hold no
//! rule for the user never change the walk's result, with one exception
//! that is modelled explicitly (see below).
//!
//! Quirks kept:
//!
//! * the walk looks up the root path `/` as one empty segment *below* the
//!   root, so `/*` (and `/**/*`, `/***`) rules apply to the root itself;
//! * while matching one segment, a node with `*suffix` children reverses
//!   the segment in place and never restores it; nodes examined later in
//!   the same step see the reversed text. Node order therefore follows
//!   Subversion's: literal child, `*`, the node itself if it is `**`, prefix
//!   patterns (sorted, walked through prefix links), other patterns
//!   (sorted), suffix patterns. Whether a node "has suffix children" is
//!   decided on the user's trimmed tree: a suffix child counts only if its
//!   subtree holds a rule for the user that no later `**` rule above it
//!   eclipses ([`Trie::reverses`]).
//!
//! Subversion's per-node min/max shortcuts only end the walk early with the
//! answer the full walk would give, and rules eclipsed by a later `**` rule
//! never win a step (that `**` node is always a candidate too), so the walk
//! runs to the end without them and returns the access at the path, from
//! which both the write and the read check follow.

use super::glob::{Seg, SegKind, fnmatch};

mod below;

/// No rule.
pub(crate) const NO_SEQ: i32 = -1;

pub(crate) use crate::fxhash::{FxBuild, FxHashMap, FxHasher};
use std::hash::Hasher as _;

/// A section at a trie node: (section index, sequence number).
pub(crate) type Rule = (u32, i32);

/// What a walk needs to know about the user it walks for.
pub(crate) trait View {
    /// The sequence number and access of the rule at a node for this user:
    /// the latest of `rules` that applies (after the repository/neutral
    /// choice), or `(NO_SEQ, 0)`.
    fn rule(&self, rules: &[Rule]) -> (i32, u8);
    /// The latest sequence number among `rules` that apply, or `NO_SEQ`.
    fn latest(&self, rules: &[Rule]) -> i32;
    /// A memo for [`Trie::reverses`], per node.
    fn memo(&self, node: u32, compute: &dyn Fn() -> bool) -> bool;
}

/// An entry of a sorted pattern array, with the link to the next entry
/// that is a proper prefix of this one.
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
    /// The segment (pattern), in [`Trie::bytes`].
    seg_start: u32,
    seg_len: u32,
    parent: u32,
    /// The next literal child of the same parent whose (long) segment has
    /// the same hash (collision chain of [`Trie::children`]).
    next_same: u32,
    /// The sections whose rule path ends here: `rules[rules_lo..rules_hi]`.
    rules_lo: u32,
    rules_hi: u32,
    pat: Option<Box<Pat>>,
}

/// "No node".
const NIL: u32 = u32::MAX;

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

/// Every rule section of a file in one prefix trie.
#[derive(Debug)]
pub(crate) struct Trie {
    nodes: Vec<Node>,
    /// All segments, back to back.
    bytes: Vec<u8>,
    /// Literal children by [`child_key`] (the segment itself when short, its
    /// hash otherwise, then with a collision chain).
    children: FxHashMap<ChildKey, u32>,
    /// The sections of all nodes, grouped by node.
    rules: Vec<Rule>,
    /// For suffix children: every section in the subtree.
    subtree: FxHashMap<u32, Vec<Rule>>,
}

/// (parent, segment length, 16 bytes): segments of up to 16 bytes are stored
/// in the key itself; longer ones by hash.
type ChildKey = (u32, u32, u64, u64);

/// Longest segment kept inside a [`ChildKey`].
const INLINE: usize = 16;

fn child_key(parent: u32, seg: &[u8]) -> ChildKey {
    let len = u32::try_from(seg.len()).unwrap_or(u32::MAX);
    if seg.len() > INLINE {
        return (parent, len, seg_hash(seg), 0);
    }
    let mut buf = [0u8; INLINE];
    buf[..seg.len()].copy_from_slice(seg);
    let mut a = [0u8; 8];
    let mut b = [0u8; 8];
    a.copy_from_slice(&buf[..8]);
    b.copy_from_slice(&buf[8..]);
    (parent, len, u64::from_le_bytes(a), u64::from_le_bytes(b))
}

const ROOT: u32 = 0;

fn seg_hash(seg: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(seg);
    h.finish()
}

/// Byte-wise equality without a library call (segments are short).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

impl Trie {
    /// Build the trie from (section index, sequence number, rule path).
    pub(crate) fn build<'a, 'b: 'a>(
        rules: impl IntoIterator<Item = (u32, i32, &'a [Seg<'b>])>,
    ) -> Trie {
        let mut t = Trie {
            nodes: vec![Node {
                seg_start: 0,
                seg_len: 0,
                parent: NIL,
                next_same: NIL,
                rules_lo: 0,
                rules_hi: 0,
                pat: None,
            }],
            bytes: Vec::new(),
            children: FxHashMap::default(),
            rules: Vec::new(),
            subtree: FxHashMap::default(),
        };
        let mut ends: Vec<(u32, Rule)> = Vec::new();
        for (acl, seq, segs) in rules {
            let node = t.insert(segs);
            ends.push((node, (acl, seq)));
        }
        ends.sort_unstable();
        let mut k = 0;
        for n in 0..t.nodes.len() {
            let lo = k;
            while k < ends.len() && ends[k].0 as usize == n {
                k += 1;
            }
            t.nodes[n].rules_lo = u32::try_from(lo).unwrap_or(u32::MAX);
            t.nodes[n].rules_hi = u32::try_from(k).unwrap_or(u32::MAX);
        }
        t.rules = ends.iter().map(|&(_, r)| r).collect();
        // Prefix links, and the subtree sections of suffix children.
        let n = u32::try_from(t.nodes.len()).unwrap_or(u32::MAX);
        for node in 0..n {
            if let Some(mut pat) = t.nodes[node as usize].pat.take() {
                link_array(&t, &mut pat.prefixes);
                link_array(&t, &mut pat.suffixes);
                for e in &pat.suffixes {
                    t.subtree.insert(e.node, Vec::new());
                }
                t.nodes[node as usize].pat = Some(pat);
            }
        }
        if !t.subtree.is_empty() {
            for &(end, rule) in &ends {
                let mut at = end;
                while at != NIL {
                    if let Some(list) = t.subtree.get_mut(&at) {
                        list.push(rule);
                    }
                    at = t.nodes[at as usize].parent;
                }
            }
        }
        t
    }

    fn seg(&self, n: u32) -> &[u8] {
        let node = &self.nodes[n as usize];
        &self.bytes[node.seg_start as usize..(node.seg_start + node.seg_len) as usize]
    }

    /// The sections whose rule path ends at `n`.
    fn acls(&self, n: u32) -> &[Rule] {
        let node = &self.nodes[n as usize];
        &self.rules[node.rules_lo as usize..node.rules_hi as usize]
    }

    fn new_node(&mut self, seg: &[u8], parent: u32) -> u32 {
        let id = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        let seg_start = u32::try_from(self.bytes.len()).unwrap_or(u32::MAX);
        self.bytes.extend_from_slice(seg);
        self.nodes.push(Node {
            seg_start,
            seg_len: u32::try_from(seg.len()).unwrap_or(u32::MAX),
            parent,
            next_same: NIL,
            rules_lo: 0,
            rules_hi: 0,
            pat: None,
        });
        id
    }

    fn pat_mut(&mut self, node: u32) -> &mut Pat {
        self.nodes[node as usize]
            .pat
            .get_or_insert_with(Box::default)
    }

    /// The literal child of `node` for `seg`.
    fn child(&self, node: u32, seg: &[u8]) -> Option<u32> {
        let mut at = *self.children.get(&child_key(node, seg))?;
        if seg.len() <= INLINE {
            return Some(at);
        }
        while at != NIL {
            if same(self.seg(at), seg) {
                return Some(at);
            }
            at = self.nodes[at as usize].next_same;
        }
        None
    }

    /// The node for a rule path, created if needed.
    fn insert(&mut self, segs: &[Seg<'_>]) -> u32 {
        let mut node = ROOT;
        for seg in segs {
            node = match seg.kind {
                SegKind::Any => match self.pat_mut(node).any {
                    Some(n) => n,
                    None => {
                        let n = self.new_node(b"", node);
                        self.pat_mut(node).any = Some(n);
                        n
                    }
                },
                SegKind::AnyRecursive => {
                    let n = match self.pat_mut(node).any_var {
                        Some(n) => n,
                        None => {
                            let n = self.new_node(b"", node);
                            self.pat_mut(node).any_var = Some(n);
                            n
                        }
                    };
                    self.pat_mut(n).repeat = true;
                    n
                }
                SegKind::Prefix => self.in_array(node, Arr::Prefixes, &seg.pat),
                SegKind::Suffix => {
                    let mut rev = seg.pat.to_vec();
                    rev.reverse();
                    self.in_array(node, Arr::Suffixes, &rev)
                }
                SegKind::Fnmatch => self.in_array(node, Arr::Complex, &seg.pat),
                SegKind::Literal => match self.child(node, &seg.pat) {
                    Some(n) => n,
                    None => {
                        let n = self.new_node(&seg.pat, node);
                        let key = child_key(node, &seg.pat);
                        if let Some(first) = self.children.insert(key, n) {
                            self.nodes[n as usize].next_same = first;
                        }
                        n
                    }
                },
            };
        }
        node
    }

    /// The node for `seg` in a sorted array of `node`, created if needed.
    fn in_array(&mut self, node: u32, which: Arr, seg: &[u8]) -> u32 {
        let pos = {
            let arr = self.nodes[node as usize]
                .pat
                .as_ref()
                .map(|p| p.arr(which).as_slice())
                .unwrap_or(&[]);
            arr.binary_search_by(|e| self.seg(e.node).cmp(seg))
        };
        match pos {
            Ok(i) => self.pat_mut(node).arr(which)[i].node,
            Err(i) => {
                let n = self.new_node(seg, node);
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

    /// Does `node` keep suffix children in the user's trimmed tree, so that
    /// matching them reverses the segment? A suffix child survives Subversion's
    /// `trim_tree` when the latest rule for the user in its subtree is not
    /// older than the latest `**` rule for the user at or above `node`.
    fn reverses(&self, node: u32, view: &dyn View) -> bool {
        let Some(pat) = &self.nodes[node as usize].pat else {
            return false;
        };
        if pat.suffixes.is_empty() {
            return false;
        }
        view.memo(node, &|| {
            let mut threshold = NO_SEQ;
            let mut at = node;
            while at != NIL {
                let n = &self.nodes[at as usize];
                if let Some(av) = n.pat.as_ref().and_then(|p| p.any_var) {
                    threshold = threshold.max(view.rule(self.acls(av)).0);
                }
                at = n.parent;
            }
            pat.suffixes.iter().any(|e| {
                let subtree = self.subtree.get(&e.node).map_or(&[][..], Vec::as_slice);
                let latest = view.latest(subtree);
                latest != NO_SEQ && latest >= threshold
            })
        })
    }

    /// The access at `path` (starting with `/`) for the user of `view`, as
    /// the end of Subversion's `lookup` leaves it.
    pub(crate) fn access_at(&self, path: &str, view: &dyn View, scratch: &mut Scratch) -> u8 {
        let root = view.rule(self.acls(ROOT));
        let mut st = Plain {
            st: root,
            parent: root,
        };
        self.walk(path, view, scratch, &mut st);
        st.st.1
    }

    /// Subversion's `lookup` over `path` with the state `st` keeps of the
    /// nodes matched: `Some(answer)` when the state's shortcut decided.
    fn walk<S: State>(
        &self,
        path: &str,
        view: &dyn View,
        scratch: &mut Scratch,
        st: &mut S,
    ) -> Option<bool> {
        let Scratch { current, next, seg } = scratch;
        current.clear();
        current.push(ROOT);
        if let Some(av) = self.nodes[ROOT as usize]
            .pat
            .as_ref()
            .and_then(|p| p.any_var)
        {
            st.combine(self, av, view);
            current.push(av);
        }
        let trimmed = path.trim_end_matches('/');
        let mut rest: Option<&[u8]> = Some(trimmed.trim_start_matches('/').as_bytes());
        while let Some(r) = rest {
            if current.is_empty() {
                break;
            }
            if let Some(answer) = st.begin() {
                return Some(answer);
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
            next.clear();
            for &c in current.iter() {
                self.step(c, seg, view, st, next);
            }
            st.finish(rest.is_none());
            if rest.is_some() {
                std::mem::swap(current, next);
            }
        }
        None
    }

    /// One node `c` of the current level matched against `seg`, in
    /// Subversion's order.
    fn step<S: State>(
        &self,
        c: u32,
        seg: &mut [u8],
        view: &dyn View,
        st: &mut S,
        next: &mut Vec<u32>,
    ) {
        if let Some(n) = self.child(c, seg) {
            self.add(n, view, st, next);
        }
        let Some(pat) = &self.nodes[c as usize].pat else {
            return;
        };
        if let Some(n) = pat.any {
            self.add(n, view, st, next);
        }
        if pat.repeat {
            self.add(c, view, st, next);
        }
        if !pat.prefixes.is_empty() {
            self.add_prefixes(seg, &pat.prefixes, view, st, next);
        }
        for e in &pat.complex {
            if fnmatch(self.seg(e.node), seg) {
                self.add(e.node, view, st, next);
            }
        }
        if self.reverses(c, view) {
            // Subversion reverses the segment in place and never
            // restores it (bug kept for bit-exact answers).
            seg.reverse();
            self.add_prefixes(seg, &pat.suffixes, view, st, next);
        }
    }

    fn add<S: State>(&self, n: u32, view: &dyn View, st: &mut S, next: &mut Vec<u32>) {
        st.combine(self, n, view);
        next.push(n);
        if let Some(av) = self.nodes[n as usize].pat.as_ref().and_then(|p| p.any_var) {
            st.combine(self, av, view);
            next.push(av);
        }
    }

    fn add_prefixes<S: State>(
        &self,
        seg: &[u8],
        arr: &[Sorted],
        view: &dyn View,
        st: &mut S,
        next: &mut Vec<u32>,
    ) {
        let i = arr.partition_point(|e| self.seg(e.node) < seg);
        if let Some(e) = arr.get(i)
            && seg.starts_with(self.seg(e.node))
        {
            self.add(e.node, view, st, next);
        }
        let mut p = i.checked_sub(1);
        while let Some(j) = p {
            let e = arr[j];
            if seg.starts_with(self.seg(e.node)) {
                self.add(e.node, view, st, next);
            }
            p = e.next.map(|x| x as usize);
        }
    }
}

/// Link each entry to the closest earlier entry that is a proper prefix of
/// it (Subversion's `link_prefix_patterns`).
fn link_array(t: &Trie, arr: &mut [Sorted]) {
    for i in 1..arr.len() {
        let cur = t.seg(arr[i].node);
        if t.seg(arr[i - 1].node).first() != cur.first() {
            continue;
        }
        let mut p = Some(i - 1);
        while let Some(j) = p {
            let ps = t.seg(arr[j].node);
            if ps.len() < cur.len() && cur.starts_with(ps) {
                arr[i].next = u32::try_from(j).ok();
                break;
            }
            p = arr[j].next.map(|x| x as usize);
        }
    }
}

/// What a walk keeps of the nodes it matches, level by level.
trait State {
    /// Node `n` matched at this level.
    fn combine(&mut self, t: &Trie, n: u32, view: &dyn View);
    /// A level begins: the answer when the state already decides it, else
    /// the state is reset for the level.
    fn begin(&mut self) -> Option<bool>;
    /// The level ended (`last`: at the path itself).
    fn finish(&mut self, last: bool);
}

/// The plain walk: the latest rule matched, else the level above's.
struct Plain {
    st: (i32, u8),
    parent: (i32, u8),
}

impl State for Plain {
    fn combine(&mut self, t: &Trie, n: u32, view: &dyn View) {
        let r = view.rule(t.acls(n));
        if self.st.0 < r.0 {
            self.st = r;
        }
    }

    fn begin(&mut self) -> Option<bool> {
        // Subversion's min/max shortcuts only end the walk with the answer
        // the whole walk gives (module header): not needed here.
        self.st = (NO_SEQ, 0);
        None
    }

    fn finish(&mut self, last: bool) {
        if self.st.0 == NO_SEQ {
            self.st = self.parent;
        }
        if !last {
            self.parent = self.st;
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
    use std::cell::RefCell;

    use super::super::glob::parse_rule_path;
    use super::*;

    /// Every rule applies: section `i` has sequence `i` and the given access.
    struct All {
        access: Vec<u8>,
        memo: RefCell<FxHashMap<u32, bool>>,
    }

    impl View for All {
        fn rule(&self, rules: &[Rule]) -> (i32, u8) {
            rules
                .iter()
                .map(|&(a, seq)| (seq, self.access[a as usize]))
                .max()
                .unwrap_or((NO_SEQ, 0))
        }

        fn latest(&self, rules: &[Rule]) -> i32 {
            rules.iter().map(|&(_, seq)| seq).max().unwrap_or(NO_SEQ)
        }

        fn memo(&self, node: u32, compute: &dyn Fn() -> bool) -> bool {
            if let Some(&v) = self.memo.borrow().get(&node) {
                return v;
            }
            let v = compute();
            self.memo.borrow_mut().insert(node, v);
            v
        }
    }

    /// rules: (access, rule path, glob?); rule `i` gets sequence `i + 1`,
    /// and sequence 0 is the "no access" root default.
    fn at(rules: &[(u8, &str, bool)], path: &str) -> u8 {
        let mut parsed: Vec<(u32, Vec<Seg>)> = vec![(0, Vec::new())];
        let mut access = vec![0];
        for (i, &(a, p, g)) in rules.iter().enumerate() {
            parsed.push((
                i as u32 + 1,
                parse_rule_path(p, g).expect("canonical test rule"),
            ));
            access.push(a);
        }
        let trie = Trie::build(parsed.iter().map(|(i, s)| (*i, *i as i32, s.as_slice())));
        let view = All {
            access,
            memo: RefCell::default(),
        };
        trie.access_at(path, &view, &mut Scratch::default())
    }

    #[test]
    fn default_root_denies() {
        assert_eq!(at(&[], "/"), 0);
        assert_eq!(at(&[], "/a/b"), 0);
    }

    #[test]
    fn nearest_ancestor_rule_wins() {
        let rules = [(1, "/", false), (3, "/a", false), (0, "/a/b", false)];
        assert_eq!(at(&rules, "/x"), 1);
        assert_eq!(at(&rules, "/a/x"), 3);
        assert_eq!(at(&rules, "/a/b/c"), 0);
    }

    #[test]
    fn later_rule_wins_at_the_same_level() {
        let rules = [(1, "/", false), (3, "/a*", true), (0, "/*b", true)];
        assert_eq!(at(&rules, "/ab"), 0);
        assert_eq!(at(&rules, "/a"), 3);
    }

    #[test]
    fn star_glob_applies_to_the_root_path() {
        assert_eq!(at(&[(3, "/", false), (1, "/*", true)], "/"), 1);
    }

    #[test]
    fn suffix_reversal_bug() {
        let rules = [(1, "/", false), (3, "/**/ab", true), (1, "/*b/x", true)];
        assert_eq!(at(&rules, "/ab"), 1);
        assert_eq!(at(&rules, "/ba"), 3);
        assert_eq!(at(&rules, "/xy/ab"), 3);
    }

    #[test]
    fn eclipsed_suffix_child_does_not_reverse() {
        // `/**` (third rule) eclipses `/*b/x`, so Subversion trims the
        // suffix node and `/ab` reaches `/**/ab` un-reversed.
        let rules = [
            (1, "/", false),
            (1, "/*b/x", true),
            (1, "/**", true),
            (3, "/**/ab", true),
        ];
        assert_eq!(at(&rules, "/ab"), 3);
        assert_eq!(at(&rules, "/ba"), 1);
    }

    #[test]
    fn recursive_glob_matches_zero_levels_and_eclipses_earlier_rules() {
        let rules = [(1, "/", false), (0, "/a/b", false), (3, "/a/**", true)];
        assert_eq!(at(&rules, "/a"), 3);
        assert_eq!(at(&rules, "/a/b"), 3);
        assert_eq!(at(&rules, "/ab"), 1);
    }

    #[test]
    fn prefix_links_find_every_prefix() {
        let rules = [
            (0, "/", false),
            (1, "/a*", true),
            (3, "/ab*", true),
            (1, "/abc*", true),
            (3, "/b*", true),
        ];
        assert_eq!(at(&rules, "/abcd"), 1);
        assert_eq!(at(&rules, "/abd"), 3);
        assert_eq!(at(&rules, "/ax"), 1);
        assert_eq!(at(&rules, "/c"), 0);
    }

    #[test]
    fn hasher_spreads_segments() {
        let hash = |b: &[u8]| {
            let mut h = FxHasher::default();
            h.write(b);
            h.finish()
        };
        assert_ne!(hash(b"trunk"), hash(b"trunl"));
        assert_ne!(hash(b"a"), hash(b"a\0"));
        // Names that differ only in later characters still spread over the
        // low bits that pick a bucket.
        let buckets: std::collections::HashSet<u64> = (0..4096)
            .map(|i| hash(format!("u{i:06}").as_bytes()) & 0xfff)
            .collect();
        assert!(buckets.len() > 2000, "{} buckets", buckets.len());
    }
}
