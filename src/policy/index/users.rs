//! The parts of [`Index`] made from the assignments: [`GlobalPart`] (the
//! accounts, the user groups and the global assignments, by login) and one
//! [`ProjectPart`] per project (the roles each login holds there), and how
//! each tells whether the model still holds what it was made of.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use super::super::explain::AccountStatus;
use super::build::FirstUse;
use super::types::*;
use crate::ident::{GroupId, Login, ProjectId};
use crate::model::{Assignment, Holder, Model, Project, Run, Scope};

/// Each scope's assignments: its run of `model.assignments` (one per
/// scope, `model::Assignments::runs`), by number.
pub(super) struct Runs {
    global: Option<usize>,
    /// By project number: its run, if it has one.
    projects: Vec<Option<usize>>,
}

impl Runs {
    /// The run of each scope; an assignment to a project the model does
    /// not have belongs to none.
    pub(super) fn of(model: &Model, table: &ProjectTable) -> Runs {
        let mut global = None;
        let mut projects = vec![None; table.list.len()];
        for (i, run) in model.assignments.runs().iter().enumerate() {
            match &run[0].scope {
                Scope::Global => global = Some(i),
                Scope::Project(id) => {
                    if let Some(&p) = table.ids.get(id) {
                        projects[p as usize] = Some(i);
                    }
                }
            }
        }
        Runs { global, projects }
    }

    pub(super) fn global<'a>(&'a self, model: &'a Model) -> impl Iterator<Item = &'a Assignment> {
        run(model, self.global)
    }

    pub(super) fn project<'a>(
        &'a self,
        model: &'a Model,
        p: usize,
    ) -> impl Iterator<Item = &'a Assignment> {
        run(model, self.projects[p])
    }

    /// The run of project `p` itself (the model's `Arc`), if it has one.
    pub(super) fn project_run<'a>(&self, model: &'a Model, p: usize) -> Option<&'a Arc<Run>> {
        self.projects[p].map(|i| &model.assignments.runs()[i])
    }
}

fn run(model: &Model, i: Option<usize>) -> std::slice::Iter<'_, Assignment> {
    i.map_or(&[][..], |i| &model.assignments.runs()[i][..])
        .iter()
}

/// The most logins a project part makes room for before it reads its
/// assignments (more grow the map as they come).
const HOLDERS_ROOM: usize = 4096;

/// The logins an assignment names: its user, or its group's members.
fn logins_of<'m>(model: &'m Model, holder: &'m Holder) -> impl Iterator<Item = &'m Login> {
    let (user, group) = match holder {
        Holder::User(login) => (Some(login), None),
        Holder::Group(g) => (None, model.user_groups.get(g)),
    };
    user.into_iter().chain(group.into_iter().flatten())
}

impl Assignments {
    /// Room for `n` assignments.
    fn with_capacity(n: usize) -> Assignments {
        Assignments {
            list: Vec::with_capacity(n),
            files: Vec::new(),
        }
    }

    /// Record one assignment, and the role it gives (its file named once:
    /// the model writes a file's assignments together).
    fn record(&mut self, roles: &Roles, a: &Assignment) -> Assigned {
        let held = Assigned {
            role: roles.id(&a.role),
            assignment: to_u32(self.list.len()),
        };
        if self.files.last() != Some(&a.at.file) {
            self.files.push(a.at.file.clone());
        }
        self.list.push(AssignmentInfo {
            holder: a.holder.clone(),
            role: held.role,
            file: to_u32(self.files.len() - 1),
            line: a.at.line,
            col: a.at.col,
            offset: a.at.offset,
        });
        held
    }

    /// Whether these (numbered by `roles`) are the assignments of `now`,
    /// in order: compared field by field.
    fn are<'m>(&self, roles: &Roles, mut now: impl Iterator<Item = &'m Assignment>) -> bool {
        for k in &self.list {
            match now.next() {
                Some(a)
                    if k.holder == a.holder
                        && roles.names.get(k.role as usize) == Some(&a.role)
                        && (k.line, k.col, k.offset) == (a.at.line, a.at.col, a.at.offset)
                        && self.files[k.file as usize] == a.at.file => {}
                _ => return false,
            }
        }
        now.next().is_none()
    }
}

/// The roles `assigned` name, in first-use order.
pub(super) fn roles_used<'m>(assigned: impl Iterator<Item = &'m Assignment>) -> FirstUse {
    let mut used = FirstUse::default();
    for a in assigned {
        used.add(&a.role);
    }
    used
}

impl GlobalPart {
    /// The accounts, group memberships and global roles of every login.
    pub(super) fn build<'m>(
        model: &'m Model,
        roles: &Roles,
        assigned: impl Iterator<Item = &'m Assignment>,
    ) -> GlobalPart {
        let mut part = GlobalPart {
            users: HashMap::default(),
            accounts_managed: model.accounts.is_some(),
            directory: model.directory.accounts.clone(),
            assignments: Assignments::default(),
            roles_used: Vec::new(),
        };
        for (login, account) in model.accounts.iter().flat_map(|a| a.iter()) {
            part.user(login).account = if account.disabled {
                AccountStatus::Disabled
            } else {
                AccountStatus::Active
            };
        }
        for (group, members) in &model.user_groups {
            for m in members {
                part.user(m).groups.push(group.clone());
            }
        }
        let mut used = FirstUse::default();
        for a in assigned {
            used.add(&a.role);
            let held = part.assignments.record(roles, a);
            for login in logins_of(model, &a.holder) {
                let u = part.user(login);
                u.has_user_role |= held.role == roles.special.user;
                u.global.push(held);
            }
        }
        part.roles_used = used.list;
        part
    }

    fn user(&mut self, login: &Login) -> &mut GlobalUser {
        let managed = self.accounts_managed;
        self.users
            .entry(login.clone())
            .or_insert_with(|| GlobalUser {
                account: if managed {
                    AccountStatus::NoAccount
                } else {
                    AccountStatus::Active
                },
                global: Vec::new(),
                groups: Vec::new(),
                has_user_role: false,
            })
    }

    /// Whether the global assignments are still those this part was made
    /// of (the accounts and groups are the memo's to compare).
    pub(super) fn is_of<'m>(
        &self,
        roles: &Roles,
        assigned: impl Iterator<Item = &'m Assignment>,
    ) -> bool {
        self.assignments.are(roles, assigned)
    }
}

impl ProjectPart {
    /// The roles each login holds in one project.
    pub(super) fn build<'m>(
        model: &'m Model,
        (id, project): (&ProjectId, &Project),
        roles: &Roles,
        assigned: impl Iterator<Item = &'m Assignment>,
    ) -> ProjectPart {
        let assigned: Vec<&Assignment> = assigned.collect();
        // The logins named, counted with repeats: room for the map at
        // once (within a bound, for a big group assigned many times).
        let named: usize = (assigned.iter())
            .map(|a| match &a.holder {
                Holder::User(_) => 1,
                Holder::Group(g) => model.user_groups.get(g).map_or(0, BTreeSet::len),
            })
            .sum();
        let mut assignments = Assignments::with_capacity(assigned.len());
        let mut holders: HashMap<Login, (u32, u32)> =
            HashMap::with_capacity_and_hasher(named.min(HOLDERS_ROOM), Default::default());
        // (the login's number, in first-named order; the role), in order.
        let mut pairs: Vec<(u32, Assigned)> = Vec::with_capacity(named);
        let mut used = FirstUse::default();
        let mut holds_user = false;
        for a in assigned {
            used.add(&a.role);
            let held = assignments.record(roles, a);
            holds_user |= held.role == roles.special.user;
            for login in logins_of(model, &a.holder) {
                let n = match holders.get_mut(login) {
                    Some((n, count)) => {
                        *count += 1;
                        *n
                    }
                    None => {
                        let n = to_u32(holders.len());
                        holders.insert(login.clone(), (n, 1));
                        n
                    }
                };
                pairs.push((n, held));
            }
        }
        let (held, holders) = by_login(holders, pairs);
        ProjectPart {
            id: id.clone(),
            folder: project.folder.clone(),
            lead: project.lead.clone(),
            assignments,
            held,
            holders,
            roles_used: used.list,
            holds_user,
        }
    }

    /// Whether the project, its assignments and the groups they name are
    /// still those this part was made of (`roles`: the table it was
    /// numbered by).
    pub(super) fn is_of<'m>(
        &self,
        (id, project): (&ProjectId, &Project),
        roles: &Roles,
        (assigned, same_run): (impl Iterator<Item = &'m Assignment>, bool),
        groups: &GroupChanges,
    ) -> bool {
        self.id == *id
            && self.folder == project.folder
            && self.lead == project.lead
            && (same_run || self.assignments.are(roles, assigned))
            && (groups.is_none()
                || self.assignments.list.iter().all(|a| match &a.holder {
                    Holder::Group(g) => !groups.changed(g),
                    Holder::User(_) => true,
                }))
    }
}

/// The user groups whose members differ from those of the build before.
pub(super) enum GroupChanges {
    /// No build before: every group is new.
    All,
    Some(HashSet<GroupId, crate::fxhash::FxBuild>),
}

impl GroupChanges {
    pub(super) fn between(
        kept: Option<&BTreeMap<GroupId, BTreeSet<Login>>>,
        now: &BTreeMap<GroupId, BTreeSet<Login>>,
    ) -> GroupChanges {
        let Some(kept) = kept else {
            return GroupChanges::All;
        };
        let mut changed = HashSet::default();
        for (g, members) in now {
            if kept.get(g) != Some(members) {
                changed.insert(g.clone());
            }
        }
        changed.extend(kept.keys().filter(|g| !now.contains_key(*g)).cloned());
        GroupChanges::Some(changed)
    }

    /// No group changed.
    fn is_none(&self) -> bool {
        matches!(self, GroupChanges::Some(set) if set.is_empty())
    }

    fn changed(&self, group: &GroupId) -> bool {
        match self {
            GroupChanges::All => true,
            GroupChanges::Some(set) => set.contains(group),
        }
    }
}

/// The roles of `pairs` (login number, role) grouped by login, each
/// login's in order, and each login's run of them: `holders` holds
/// (number, count) and is turned into (start, end).
fn by_login(
    mut holders: HashMap<Login, (u32, u32)>,
    pairs: Vec<(u32, Assigned)>,
) -> (Vec<Assigned>, HashMap<Login, (u32, u32)>) {
    let mut starts = vec![0u32; holders.len() + 1];
    for &(n, count) in holders.values() {
        starts[n as usize + 1] = count;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut next = starts.clone();
    let blank = Assigned {
        role: 0,
        assignment: 0,
    };
    let mut held = vec![blank; pairs.len()];
    for (n, a) in pairs {
        let at = &mut next[n as usize];
        held[*at as usize] = a;
        *at += 1;
    }
    for v in holders.values_mut() {
        let start = starts[v.0 as usize];
        *v = (start, start + v.1);
    }
    (held, holders)
}
