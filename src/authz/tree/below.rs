//! Recursive queries (`svnauthz accessof -R`, SVN-AUTHZ.md §4.6): does the
//! user hold a right at a path *and everywhere below it*? Subversion
//! answers from the minimum rights over the user's trimmed rule tree below
//! the nodes the walk reaches (`finalize_tree`'s min/max), counting every
//! rule that could match below the path, whether or not such paths exist.
//!
//! The trie holds every user's rules, so the user's bounds are computed per
//! query, in two passes over the nodes (a parent is always created before
//! its children): first each node's own rule as the user's trimmed tree
//! keeps it (a rule older than the latest `**` rule at or above the node is
//! dropped, as `trim_tree` does; the root has an implicit no-access rule),
//! then the minimum and maximum over each subtree, children folded into
//! their parent from the last node back.

use super::super::rules::RW;
use super::{NIL, NO_SEQ, ROOT, Scratch, State, Trie, View};

impl Trie {
    /// Does the user of `view` hold `required` at `path` and at every path
    /// below it (Subversion's `lookup` with `recursive`)?
    pub(crate) fn covers_below(
        &self,
        path: &str,
        view: &dyn View,
        scratch: &mut Scratch,
        required: u8,
    ) -> bool {
        let own = self.own_rules(view);
        let bounds = subtree_bounds(self, &own);
        let root = own[ROOT as usize];
        let mut st = Below {
            own: &own,
            bounds: &bounds,
            seq: root.0,
            acc: root.1,
            min: bounds[ROOT as usize].0,
            max: bounds[ROOT as usize].1,
            parent: root,
            required,
        };
        match self.walk(path, view, scratch, &mut st) {
            Some(answer) => answer,
            None => st.min & required == required,
        }
    }

    /// Each node's rule in the user's trimmed tree, `(NO_SEQ, 0)` if none.
    fn own_rules(&self, view: &dyn View) -> Vec<(i32, u8)> {
        let mut latest_any = vec![NO_SEQ; self.nodes.len()];
        let mut own = vec![(NO_SEQ, 0); self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate() {
            let above = if node.parent == NIL {
                NO_SEQ
            } else {
                latest_any[node.parent as usize]
            };
            let here = node
                .pat
                .as_ref()
                .and_then(|p| p.any_var)
                .map_or(NO_SEQ, |av| view.rule(self.acls(av)).0);
            latest_any[i] = above.max(here);
            let id = u32::try_from(i).unwrap_or(u32::MAX);
            let mut rule = view.rule(self.acls(id));
            if id == ROOT && rule.0 == NO_SEQ {
                rule = (0, 0);
            }
            if rule.0 != NO_SEQ && rule.0 >= latest_any[i] {
                own[i] = rule;
            }
        }
        own
    }
}

/// (minimum, maximum) rights over each node's subtree.
fn subtree_bounds(t: &Trie, own: &[(i32, u8)]) -> Vec<(u8, u8)> {
    let mut b: Vec<(u8, u8)> = own
        .iter()
        .map(|&(seq, acc)| if seq == NO_SEQ { (RW, 0) } else { (acc, acc) })
        .collect();
    for i in (1..t.nodes.len()).rev() {
        let p = t.nodes[i].parent as usize;
        let (min, max) = b[i];
        b[p].0 &= min;
        b[p].1 |= max;
    }
    b
}

/// The state of a recursive walk: the latest rule matched and the bounds of
/// the subtrees matched at this level, with Subversion's shortcuts.
struct Below<'b> {
    own: &'b [(i32, u8)],
    bounds: &'b [(u8, u8)],
    seq: i32,
    acc: u8,
    min: u8,
    max: u8,
    parent: (i32, u8),
    required: u8,
}

impl State for Below<'_> {
    fn combine(&mut self, _: &Trie, n: u32, _: &dyn View) {
        let (seq, acc) = self.own[n as usize];
        if self.seq < seq {
            (self.seq, self.acc) = (seq, acc);
        }
        let (min, max) = self.bounds[n as usize];
        self.min &= min;
        self.max |= max;
    }

    fn begin(&mut self) -> Option<bool> {
        if self.max & self.required != self.required {
            return Some(false);
        }
        if self.min & self.required == self.required {
            return Some(true);
        }
        (self.seq, self.acc, self.min, self.max) = (NO_SEQ, 0, RW, 0);
        None
    }

    fn finish(&mut self, last: bool) {
        if self.seq == NO_SEQ {
            (self.seq, self.acc) = self.parent;
            self.min &= self.parent.1;
            self.max |= self.parent.1;
        }
        if !last {
            self.parent = (self.seq, self.acc);
        }
    }
}
