//! The role groups a model gives the access file ([`Model::role_groups`])
//! and their names alone ([`Model::role_group_names`]). A leaf beside
//! `types`: it answers from the model, it builds none.

use std::collections::BTreeMap;

use super::types::{Assignment, EVERYONE, Model, RoleGroup, RoleScope, Scope};
use crate::fxhash::FxHashMap;
use crate::ident::{Login, RoleId};

impl Model {
    /// Every role group, global ones first, then by project; members are
    /// the active logins holding the role directly or through a group,
    /// and for `everyone` every active account (`active_accounts`). One
    /// pass over the assignments (a scope looked up once per run of its
    /// assignments), so the cost is linear in the model; members are
    /// gathered as references, sorted, and cloned once each.
    pub fn role_groups(&self) -> Vec<RoleGroup> {
        let held: Held<Vec<&Login>> = Held::gather(self, |members: &mut Vec<&Login>, a| {
            members.extend(self.logins_of(&a.holder));
        });
        // `is_active` as one hash lookup.
        let active: Option<FxHashMap<&str, bool>> = self.accounts.as_ref().map(|accounts| {
            accounts
                .iter()
                .map(|(l, a)| (l.as_str(), !a.disabled))
                .collect()
        });
        let is_active = |l: &Login| {
            active
                .as_ref()
                .is_none_or(|a| a.get(l.as_str()).copied().unwrap_or(false))
        };
        let group = |(scope, role): (Scope, RoleId)| {
            let members = match &scope {
                Scope::Global if role.as_str() == EVERYONE => self.active_accounts(),
                _ => {
                    let mut members: Vec<&Login> = held
                        .get(&scope)
                        .and_then(|h| h.get(&role))
                        .into_iter()
                        .flatten()
                        .copied()
                        .filter(|l| is_active(l))
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
        };
        self.role_group_keys(&held).into_iter().map(group).collect()
    }

    /// The name, scope and role of every role group, in the order of
    /// `role_groups`, without gathering any member.
    pub fn role_group_names(&self) -> Vec<(String, Scope, RoleId)> {
        let held: Held<()> = Held::gather(self, |_, _| {});
        self.role_group_keys(&held)
            .into_iter()
            .map(|(scope, role)| {
                let name = crate::ident::role_group_name(scope.project(), &role);
                (name, scope, role)
            })
            .collect()
    }

    /// The (scope, role) of every role group: the global scope first, then
    /// each project; in each, the roles defined for it and the roles
    /// `held` there, sorted (`everyone` only globally).
    fn role_group_keys<'m, M>(&'m self, held: &Held<'m, M>) -> Vec<(Scope, RoleId)> {
        let mut out = Vec::new();
        let global = Scope::Global;
        let defined = self.defined_roles(&global);
        push_roles(&mut out, &global, defined.iter().collect(), held);
        // What every project has, once; each adds its own roles.
        let every_project = self.roles_of_kind(RoleScope::Project);
        for (id, project) in &self.projects {
            let scope = Scope::Project(id.clone());
            let roles = every_project.iter().chain(project.roles.keys()).collect();
            push_roles(&mut out, &scope, roles, held);
        }
        out
    }
}

/// `roles` and the roles `held` in `scope`, sorted and each once, as keys
/// of `scope` (`everyone` is no project role: no `P-everyone`).
fn push_roles<'m, M>(
    out: &mut Vec<(Scope, RoleId)>,
    scope: &Scope,
    mut roles: Vec<&'m RoleId>,
    held: &Held<'m, M>,
) {
    roles.extend(held.get(scope).into_iter().flat_map(|h| h.keys().copied()));
    roles.sort_unstable();
    roles.dedup();
    for role in roles {
        if matches!(scope, Scope::Project(_)) && role.as_str() == EVERYONE {
            continue;
        }
        out.push((scope.clone(), role.clone()));
    }
}

/// What each role is given in each scope (`M`: its members, or nothing).
struct Held<'m, M> {
    index: BTreeMap<&'m Scope, usize>,
    scopes: Vec<BTreeMap<&'m RoleId, M>>,
}

impl<'m, M: Default> Held<'m, M> {
    /// One pass over the assignments, `add` told of each under its role.
    /// A project's assignments come one after the other, so a scope is
    /// looked up once per run, not once per assignment.
    fn gather(model: &'m Model, mut add: impl FnMut(&mut M, &'m Assignment)) -> Self {
        let mut held = Held {
            index: BTreeMap::new(),
            scopes: Vec::new(),
        };
        let mut last: Option<(&Scope, usize)> = None;
        for a in &model.assignments {
            let i = match last {
                Some((scope, i)) if *scope == a.scope => i,
                _ => {
                    let next = held.scopes.len();
                    let i = *held.index.entry(&a.scope).or_insert(next);
                    if i == next {
                        held.scopes.push(BTreeMap::new());
                    }
                    last = Some((&a.scope, i));
                    i
                }
            };
            add(held.scopes[i].entry(&a.role).or_default(), a);
        }
        held
    }
}

impl<'m, M> Held<'m, M> {
    fn get(&self, scope: &Scope) -> Option<&BTreeMap<&'m RoleId, M>> {
        self.index.get(scope).map(|&i| &self.scopes[i])
    }
}
