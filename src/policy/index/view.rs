//! What the configuration says about one login: [`UserView`].

use std::collections::BTreeMap;

use super::super::explain::{AccountStatus, Context, Verdict, Via};
use super::super::names::LOGIN;
use super::super::query::Object;
use super::types::*;
use crate::ident::{GroupId, ProjectId, RoleId};
use crate::model::{Holder, Scope};

impl Index {
    /// Whether a file, a built-in default or the parent table names the
    /// permission or one of its parents (`@SET.action` included); a name
    /// that none does is likely a typo (the policy tests warn of it).
    pub fn names_permission(&self, name: &str) -> bool {
        let mut name = std::borrow::Cow::Borrowed(name);
        for _ in 0..GENERAL_DEPTH {
            if self.rules.perms.contains_key(name.as_ref()) {
                return true;
            }
            match super::super::names::parent(&name) {
                Some(p) => name = std::borrow::Cow::Owned(p),
                None => return false,
            }
        }
        false
    }

    /// Whether the user may be assigned work in the project (`None`:
    /// anywhere): `assignable` globally, or `project_assignable` there.
    pub fn assignable(&self, login: &str, project: Option<&str>) -> bool {
        let user = self.global.users.get(login);
        if !self.known(user, login) || self.account(user, login) != AccountStatus::Active {
            return false;
        }
        let sp = &self.roles.special;
        if user.is_some_and(|u| u.global.iter().any(|h| h.role == sp.assignable)) {
            return true;
        }
        let holds =
            |p: u32| (self.held_in(p, login).iter()).any(|h| h.role == sp.project_assignable);
        match project {
            None => self.members.get(login).iter().any(|&(p, _)| holds(p)),
            Some(id) => self.projects.ids.get(id).is_some_and(|&p| holds(p)),
        }
    }

    /// Whether any file names the login (`user`: its global entry).
    fn known(&self, user: Option<&GlobalUser>, login: &str) -> bool {
        user.is_some() || !self.members.get(login).is_empty()
    }

    /// What the configuration says about one login.
    pub fn user_view(&self, login: &str) -> UserView {
        let user = self.global.users.get(login);
        let account = self.account(user, login);
        let role_line = |part, h: &Assigned| RoleHeld {
            role: self.roles.names[h.role as usize].clone(),
            via: self.via(Origin::Assignment {
                part,
                idx: h.assignment,
            }),
        };
        let mut projects: BTreeMap<ProjectId, Vec<RoleHeld>> = BTreeMap::new();
        let mut assignable_in = Vec::new();
        for &(p, _) in self.members.get(login) {
            let id = self.projects.list[p as usize].clone();
            let held = self.held_in(p, login).iter();
            projects.insert(id, held.map(|h| role_line(Some(p), h)).collect());
        }
        for id in &self.projects.list {
            if self.assignable(login, Some(id.as_str())) {
                assignable_in.push(id.clone());
            }
        }
        let empty = Object::new();
        let can_login = self
            .check(&Request {
                user: login,
                permission: LOGIN,
                project: None,
                object: &empty,
            })
            .is_ok_and(|v| v == Verdict::Allow);
        let sp = &self.roles.special;
        UserView {
            login: login.to_owned(),
            known: self.known(user, login),
            account,
            can_login,
            admin: user.is_some_and(|u| u.global.iter().any(|h| h.role == sp.admin)),
            groups: user.map(|u| u.groups.clone()).unwrap_or_default(),
            global: user
                .map(|u| u.global.iter().map(|h| role_line(None, h)).collect())
                .unwrap_or_default(),
            projects,
            assignable_globally: user.is_some_and(|u| {
                account == AccountStatus::Active && u.global.iter().any(|h| h.role == sp.assignable)
            }),
            assignable_in,
        }
    }

    pub(super) fn via(&self, origin: Origin) -> Via {
        match origin {
            Origin::Assignment { part, idx } => {
                let (scope, all) = match part {
                    None => (Scope::Global, &self.global.assignments),
                    Some(p) => {
                        let part = &self.parts[p as usize];
                        (Scope::Project(part.id.clone()), &part.assignments)
                    }
                };
                let a = &all.list[idx as usize];
                Via::Assignment {
                    scope,
                    group: match &a.holder {
                        Holder::Group(g) => Some(g.clone()),
                        Holder::User(_) => None,
                    },
                    at: all.loc(idx as usize),
                }
            }
            Origin::Everyone => Via::Everyone,
            Origin::Object(i) => Via::Object {
                attribute: DYNAMIC[i].1,
            },
            Origin::Lead(p) => {
                let pe = &self.parts[p as usize];
                Via::Lead {
                    project: pe.id.clone(),
                    file: format!("{}/{}", pe.folder, crate::model::PROJECT_MARKER),
                }
            }
        }
    }

    pub(super) fn context(&self, ctx: Ctx) -> Context {
        match ctx {
            Ctx::Global => Context::Global,
            Ctx::Anywhere => Context::Anywhere,
            Ctx::Project(p) => Context::Project(self.projects.list[p as usize].clone()),
        }
    }
}

/// A role a user holds, and through what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHeld {
    pub role: RoleId,
    pub via: Via,
}

/// Everything the configuration says about one login (`/v1/users/{login}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub login: String,
    /// Whether any file names this login.
    pub known: bool,
    pub account: AccountStatus,
    /// May log in; `false` is Polarion's "[disabled]".
    pub can_login: bool,
    pub admin: bool,
    pub groups: Vec<GroupId>,
    pub global: Vec<RoleHeld>,
    pub projects: BTreeMap<ProjectId, Vec<RoleHeld>>,
    pub assignable_globally: bool,
    pub assignable_in: Vec<ProjectId>,
}
