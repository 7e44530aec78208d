//! Pass 2 over the groups: undefined members, cycles, empty groups.

use std::collections::{HashMap, HashSet};

use crate::diag::Code;

use super::Cx;

impl Cx<'_> {
    /// Pass 2 over the groups: undefined members, cycles. Returns which
    /// groups have members after expansion.
    pub(super) fn check_groups(&mut self) -> Vec<bool> {
        let members = self.group_members();
        let mut broken = self.broken_groups();
        for cycle in self.report_cycles(&members.subgroups) {
            for g in cycle {
                broken[g] = true;
            }
        }
        members.nonempty(&broken)
    }

    /// Resolve the members of every group, reporting undefined groups and
    /// aliases.
    fn group_members(&mut self) -> Members {
        let n = self.group_defs.len();
        let mut subgroups: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut has_user: Vec<bool> = self.group_defs.iter().map(|d| d.users).collect();
        let mut problems = Vec::new();
        for (gi, def) in self.group_defs.iter().enumerate() {
            for (m, span) in &def.members {
                if let Some(g) = m.strip_prefix('@') {
                    match self.group_index.get(g) {
                        Some(&sub) => subgroups[gi].push(sub),
                        None => problems.push((
                            def.file,
                            Code::AuthzUndefinedGroup,
                            span.clone(),
                            format!("group @{} names undefined group @{g}", def.name),
                        )),
                    }
                } else if let Some(a) = m.strip_prefix('&') {
                    if self.aliases.contains_key(a) {
                        has_user[gi] = true;
                    } else {
                        problems.push((
                            def.file,
                            Code::AuthzUndefinedAlias,
                            span.clone(),
                            format!(
                                "group @{} names alias &{a}, which is never defined",
                                def.name
                            ),
                        ));
                    }
                } else {
                    has_user[gi] = true;
                }
            }
        }
        for (file, code, span, msg) in problems {
            self.push(file, code, span, msg);
        }
        Members {
            subgroups,
            has_user,
        }
    }

    /// Groups with problems (and groups containing them) get no
    /// empty-group warnings: their members are unknown.
    fn broken_groups(&self) -> Vec<bool> {
        self.group_defs
            .iter()
            .map(|def| {
                def.members.iter().any(|(m, _)| {
                    m.strip_prefix('@')
                        .is_some_and(|g| !self.group_index.contains_key(g))
                        || m.strip_prefix('&')
                            .is_some_and(|a| !self.aliases.contains_key(a))
                })
            })
            .collect()
    }

    /// Report every cycle of the group graph; returns them.
    fn report_cycles(&mut self, subgroups: &[Vec<usize>]) -> Vec<Vec<usize>> {
        let cycles = find_cycles(subgroups);
        for cycle in &cycles {
            let first = cycle[0];
            let mut names: Vec<String> = cycle
                .iter()
                .map(|&g| format!("@{}", self.group_defs[g].name))
                .collect();
            names.push(names[0].clone());
            let def = &self.group_defs[first];
            let (file, span) = (def.file, def.name_span.clone());
            let msg = if cycle.len() == 1 {
                format!("group @{} contains itself", def.name)
            } else {
                format!("groups contain each other: {}", names.join(" -> "))
            };
            self.push(file, Code::AuthzGroupCycle, span, msg);
        }
        cycles
    }
}

/// The resolved members of every group.
struct Members {
    /// The groups each group names as `@member`.
    subgroups: Vec<Vec<usize>>,
    /// Does the group name a user or a (defined) alias?
    has_user: Vec<bool>,
}

impl Members {
    /// Which groups have members after expansion: a group has members if
    /// it names a user or alias, or a group that has. A broken group counts
    /// as having members: no warning about it.
    fn nonempty(&self, broken: &[bool]) -> Vec<bool> {
        let n = self.subgroups.len();
        let subgroups = &self.subgroups;
        let has_user = &self.has_user;
        let mut parents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (g, subs) in subgroups.iter().enumerate() {
            for &s in subs {
                parents[s].push(g);
            }
        }
        let mut nonempty: Vec<bool> = (0..n).map(|g| has_user[g] || broken[g]).collect();
        let mut stack: Vec<usize> = (0..n).filter(|&g| nonempty[g]).collect();
        while let Some(g) = stack.pop() {
            for &p in &parents[g] {
                if !nonempty[p] {
                    nonempty[p] = true;
                    stack.push(p);
                }
            }
        }
        nonempty
    }
}

/// Every cycle of the group graph, one per strongly connected component
/// that holds one (Tarjan), each as a path of groups starting at the
/// component's first group in definition order.
fn find_cycles(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut comps: Vec<Vec<usize>> = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // Iterative Tarjan: (node, next edge position).
        let mut work = vec![(root, 0usize)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut pos)) = work.last_mut() {
            if *pos < edges[v].len() {
                let w = edges[v][*pos];
                *pos += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comps.push(comp);
                }
            }
        }
    }
    let mut cycles = Vec::new();
    for comp in comps {
        let Some(&start) = comp.iter().min() else {
            continue;
        };
        if comp.len() == 1 && !edges[start].contains(&start) {
            continue;
        }
        let set: HashSet<usize> = comp.iter().copied().collect();
        cycles.push(cycle_path(edges, &set, start));
    }
    cycles.sort();
    cycles
}

/// A shortest cycle through `start` inside one component (breadth first).
fn cycle_path(edges: &[Vec<usize>], comp: &HashSet<usize>, start: usize) -> Vec<usize> {
    if edges[start].contains(&start) {
        return vec![start];
    }
    let mut prev: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &edges[v] {
            if !comp.contains(&w) {
                continue;
            }
            if w == start {
                let mut path = vec![v];
                let mut at = v;
                while at != start {
                    at = prev[&at];
                    path.push(at);
                }
                path.reverse();
                return path;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(w) {
                e.insert(v);
                queue.push_back(w);
            }
        }
    }
    vec![start]
}
