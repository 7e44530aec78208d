//! The role groups a model gives the access file ([`Model::role_groups`])
//! and their names alone ([`Model::role_group_names`]). A leaf beside
//! `types`: it answers from the model, it builds none.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::types::{Assignment, EVERYONE, Model, RoleGroup, RoleScope, Run, Scope};
use crate::directory::AccountState;
use crate::fxhash::FxHashMap;
use crate::ident::{Login, RoleId};

impl Model {
    /// Every role group, global ones first, then by project; members are
    /// the active logins holding the role directly or through a group,
    /// and for `everyone` every active account (`active_accounts`). One
    /// pass over the assignments (a scope looked up once, for its
    /// run), so the cost is linear in the model; members are
    /// gathered as references, sorted, and cloned once each.
    pub fn role_groups(&self) -> Vec<RoleGroup> {
        let active = Active::of(self);
        let assigned = self.assignments_by_scope();
        let mut out = Vec::new();
        for (scope, defined) in self.scopes_with_roles() {
            let here = assigned.get(&scope).map_or(&[][..], |r| &r[..]);
            out.extend(self.scope_groups(&active, &scope, &defined, here));
        }
        out
    }

    /// Each scope in the order of `role_groups` (global, then each
    /// project), with the roles it has whether held or not
    /// (`defined_roles`), sorted.
    pub(super) fn scopes_with_roles(&self) -> Vec<(Scope, Vec<RoleId>)> {
        let mut out = Vec::with_capacity(self.projects.len() + 1);
        out.push((
            Scope::Global,
            self.defined_roles(&Scope::Global).into_iter().collect(),
        ));
        // What every project has, once; each adds its own roles.
        let every_project = self.roles_of_kind(RoleScope::Project);
        for (id, project) in &self.projects {
            let mut roles: Vec<RoleId> = every_project.iter().cloned().collect();
            roles.extend(project.roles.keys().cloned());
            roles.sort_unstable();
            roles.dedup();
            out.push((Scope::Project(id.clone()), roles));
        }
        out
    }

    /// The assignments of each scope, in order: its run
    /// (`Assignments::runs`, one per scope).
    pub(super) fn assignments_by_scope(&self) -> BTreeMap<&Scope, &Arc<Run>> {
        self.assignments
            .runs()
            .iter()
            .map(|run| (&run[0].scope, run))
            .collect()
    }

    /// The role groups of one scope: `defined` (its roles beyond the
    /// built-in ones and, for a project, every project's) and the roles
    /// `assigned` there, sorted, each with its active members.
    pub(super) fn scope_groups(
        &self,
        active: &Active,
        scope: &Scope,
        defined: &[RoleId],
        assigned: &[Assignment],
    ) -> Vec<RoleGroup> {
        let mut held: BTreeMap<&RoleId, Vec<&Login>> = BTreeMap::new();
        for a in assigned {
            held.entry(&a.role)
                .or_default()
                .extend(self.logins_of(&a.holder));
        }
        let roles = defined.iter().collect();
        let mut keys = Vec::new();
        push_roles(&mut keys, scope, roles, held.keys().copied());
        keys.into_iter()
            .map(|(scope, role)| {
                let members = match &scope {
                    Scope::Global if role.as_str() == EVERYONE => self.active_accounts(),
                    _ => {
                        let mut members: Vec<&Login> = held
                            .get(&role)
                            .into_iter()
                            .flatten()
                            .copied()
                            .filter(|l| active.is(l))
                            .collect();
                        members.sort_unstable();
                        members.dedup();
                        members.into_iter().cloned().collect()
                    }
                };
                RoleGroup {
                    name: crate::ident::role_group_name(scope.project(), &role),
                    scope,
                    role,
                    members,
                }
            })
            .collect()
    }

    /// The name, scope and role of every role group, in the order of
    /// `role_groups`, without gathering any member: the global scope
    /// first, then each project; in each, the roles defined for it and the
    /// roles assigned there, sorted (`everyone` only globally).
    pub fn role_group_names(&self) -> Vec<(String, Scope, RoleId)> {
        let assigned = self.assignments_by_scope();
        let mut keys = Vec::new();
        for (scope, defined) in self.scopes_with_roles() {
            let here = assigned
                .get(&scope)
                .into_iter()
                .flat_map(|r| r.iter())
                .map(|a| &a.role);
            push_roles(&mut keys, &scope, defined.iter().collect(), here);
        }
        keys.into_iter()
            .map(|(scope, role)| {
                let name = crate::ident::role_group_name(scope.project(), &role);
                (name, scope, role)
            })
            .collect()
    }
}

/// `roles` and the roles `held` in `scope`, sorted and each once, as keys
/// of `scope` (`everyone` is no project role: no `P-everyone`).
fn push_roles<'m>(
    out: &mut Vec<(Scope, RoleId)>,
    scope: &Scope,
    mut roles: Vec<&'m RoleId>,
    held: impl Iterator<Item = &'m RoleId>,
) {
    roles.extend(held);
    roles.sort_unstable();
    roles.dedup();
    for role in roles {
        if matches!(scope, Scope::Project(_)) && role.as_str() == EVERYONE {
            continue;
        }
        out.push((scope.clone(), role.clone()));
    }
}

/// `Model::is_active`: as hash lookups (`of`, for many scopes: `user.xml`
/// and the directory's active accounts, each when it decides), or asked
/// of the model (`direct`, for a few: no map of every account).
pub(super) enum Active<'m> {
    Map(
        Option<FxHashMap<&'m str, bool>>,
        Option<FxHashMap<&'m str, bool>>,
    ),
    Direct(&'m Model),
}

impl<'m> Active<'m> {
    pub(super) fn of(model: &'m Model) -> Self {
        let users = model.accounts.as_ref().map(|accounts| {
            accounts
                .iter()
                .map(|(l, a)| (l.as_str(), !a.disabled))
                .collect()
        });
        let directory = model.directory.accounts.as_ref().map(|accounts| {
            accounts
                .iter()
                .map(|(l, a)| (l.as_str(), *a == AccountState::Active))
                .collect()
        });
        Active::Map(users, directory)
    }

    pub(super) fn direct(model: &'m Model) -> Self {
        Active::Direct(model)
    }

    fn is(&self, login: &Login) -> bool {
        match self {
            Active::Map(users, directory) => [users, directory].into_iter().all(|map| {
                map.as_ref()
                    .is_none_or(|a| a.get(login.as_str()).copied().unwrap_or(false))
            }),
            Active::Direct(model) => model.is_active(login),
        }
    }
}
