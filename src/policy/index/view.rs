//! What the configuration says about one login: [`UserView`].

use std::collections::BTreeMap;

use super::super::explain::{AccountStatus, Context, Verdict, Via};
use super::super::names::LOGIN;
use super::super::query::Object;
use super::types::*;
use crate::ident::{GroupId, ProjectId, RoleId};

impl Index {
    /// Whether a file, a built-in default or the parent table names the
    /// permission or one of its parents (`@SET.action` included); a name
    /// that none does is likely a typo (the policy tests warn of it).
    pub fn names_permission(&self, name: &str) -> bool {
        let mut name = std::borrow::Cow::Borrowed(name);
        for _ in 0..GENERAL_DEPTH {
            if self.perms.contains_key(name.as_ref()) {
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
        let Some(u) = self.users.get(login).map(|&i| &self.user_list[i as usize]) else {
            return false;
        };
        if u.account != AccountStatus::Active {
            return false;
        }
        if u.global.iter().any(|h| h.role == self.special.assignable) {
            return true;
        }
        let p = project.and_then(|p| self.projects.get(p).copied());
        u.projects.iter().any(|(q, h)| {
            h.role == self.special.project_assignable && (project.is_none() || Some(*q) == p)
        })
    }

    /// What the configuration says about one login.
    pub fn user_view(&self, login: &str) -> UserView {
        let user = self.users.get(login).map(|&i| &self.user_list[i as usize]);
        let account = match user {
            Some(u) => u.account,
            None if self.accounts_managed => AccountStatus::NoAccount,
            None => AccountStatus::Active,
        };
        let role_line = |h: &Assigned| RoleHeld {
            role: self.role_names[h.role as usize].clone(),
            via: self.via(Origin::Assignment { idx: h.assignment }),
        };
        let mut projects: BTreeMap<ProjectId, Vec<RoleHeld>> = BTreeMap::new();
        let mut assignable_in = Vec::new();
        if let Some(u) = user {
            for (p, h) in &u.projects {
                let id = self.project_list[*p as usize].id.clone();
                projects.entry(id).or_default().push(role_line(h));
            }
        }
        for p in &self.project_list {
            if self.assignable(login, Some(p.id.as_str())) {
                assignable_in.push(p.id.clone());
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
        UserView {
            login: login.to_owned(),
            known: user.is_some(),
            account,
            can_login,
            admin: user.is_some_and(|u| u.global.iter().any(|h| h.role == self.special.admin)),
            groups: user.map(|u| u.groups.clone()).unwrap_or_default(),
            global: user
                .map(|u| u.global.iter().map(role_line).collect())
                .unwrap_or_default(),
            projects,
            assignable_globally: user.is_some_and(|u| {
                account == AccountStatus::Active
                    && u.global.iter().any(|h| h.role == self.special.assignable)
            }),
            assignable_in,
        }
    }

    pub(super) fn via(&self, origin: Origin) -> Via {
        match origin {
            Origin::Assignment { idx, .. } => {
                let a = &self.assignments[idx as usize];
                Via::Assignment {
                    scope: a.scope.clone(),
                    group: a.group.clone(),
                    at: a.at.clone(),
                }
            }
            Origin::Everyone => Via::Everyone,
            Origin::Object(i) => Via::Object {
                attribute: DYNAMIC[i].1,
            },
            Origin::Lead(p) => {
                let pe = &self.project_list[p as usize];
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
            Ctx::Project(p) => Context::Project(self.project_list[p as usize].id.clone()),
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
