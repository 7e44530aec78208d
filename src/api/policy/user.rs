//! `GET /v1/users/{login}`: roles by scope, groups, login and assignable
//! status, disabled.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::explain::{RoleHeldJson, role_held_json};
use crate::api::reply::{Reply, heavy, snapshot};
use crate::api::shared::Shared;
use crate::snapshot::Snapshot;

#[derive(Debug, Deserialize)]
pub(super) struct UserQuery {
    min_revision: Option<String>,
}

pub(super) async fn user(
    State(shared): State<Arc<Shared>>,
    Path(login): Path<String>,
    Query(q): Query<UserQuery>,
) -> Reply {
    let snap = snapshot(&shared, q.min_revision.as_deref()).await?;
    let revision = snap.revision.clone();
    heavy(&shared, Some(&revision), move || user_answer(&snap, &login)).await
}

/// The answer of `GET /v1/users/{login}` (fields in alphabetical order,
/// as `json!` wrote them).
#[derive(Debug, Serialize)]
struct UserAnswer<'a> {
    account: &'a str,
    admin: bool,
    assignable: Assignable<'a>,
    can_login: bool,
    disabled: bool,
    groups: Vec<&'a str>,
    known: bool,
    login: &'a str,
    revision: &'a str,
    roles: UserRoles<'a>,
}

/// Where a user may be assigned roles.
#[derive(Debug, Serialize)]
struct Assignable<'a> {
    global: bool,
    projects: Vec<&'a str>,
}

/// A user's roles, globally and by project.
#[derive(Debug, Serialize)]
struct UserRoles<'a> {
    global: Vec<RoleHeldJson<'a>>,
    projects: BTreeMap<String, Vec<RoleHeldJson<'a>>>,
}

/// The JSON view of one user.
fn user_answer(snap: &Snapshot, login: &str) -> Reply {
    let v = snap.policy.user_view(login);
    let roles = UserRoles {
        global: v.global.iter().map(role_held_json).collect(),
        projects: v
            .projects
            .iter()
            .map(|(p, roles)| (p.to_string(), roles.iter().map(role_held_json).collect()))
            .collect(),
    };
    Ok(axum::Json(UserAnswer {
        account: v.account.as_str(),
        admin: v.admin,
        assignable: Assignable {
            global: v.assignable_globally,
            projects: v.assignable_in.iter().map(|p| p.as_str()).collect(),
        },
        can_login: v.can_login,
        disabled: !v.can_login,
        groups: v.groups.iter().map(|g| g.as_str()).collect(),
        known: v.known,
        login: &v.login,
        revision: &snap.revision,
        roles,
    })
    .into_response())
}
