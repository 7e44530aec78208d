//! Who holds which role, for dashboards: `GET /v1/roles[?role=]`,
//! `GET /v1/projects` and `GET /v1/projects/{id}` (unknown: 404), from the
//! current snapshot's model, each holder with the file and line of its
//! assignment.
//!
//! Bounded: the holders (and the project list) come in pages,
//! `offset` (default 0) and `limit` (default [`DEFAULT_LIMIT`], at most
//! [`MAX_LIMIT`]); an answer says `total` and `next_offset` (`null` on the
//! last page). Every answer is built on the blocking pool behind the
//! heavy-request semaphore. Other parameters (and a bad number) are 400.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::reply::{Reply, error, heavy, loaded, snapshot};
use super::shared::Shared;
use crate::model::{Assignment, Holder, Loc, Model, RoleDefinition, RoleScope, Scope};
use crate::snapshot::Snapshot;

/// Holders (or projects) per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 1000;
/// The largest page.
pub const MAX_LIMIT: usize = 5000;

/// The directory routes; `api::router` guards them like `/v1/status`.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/roles", get(roles_get))
        .route("/v1/projects", get(projects_get))
        .route("/v1/projects/{id}", get(project_get))
}

/// A page's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Page {
    offset: usize,
    limit: usize,
    role: Option<String>,
    min_revision: Option<String>,
}

/// Parse `offset`, `limit`, `min_revision` (and `role` when `with_role`).
fn page(pairs: Vec<(String, String)>, with_role: bool) -> Result<Page, String> {
    let mut p = Page {
        offset: 0,
        limit: DEFAULT_LIMIT,
        role: None,
        min_revision: None,
    };
    let number = |k: &str, v: &str| -> Result<usize, String> {
        v.parse()
            .map_err(|_| format!("`{k}` is a number, not `{}`", shown(v)))
    };
    for (k, v) in pairs {
        match k.as_str() {
            "offset" => p.offset = number(&k, &v)?,
            "limit" => p.limit = number(&k, &v)?,
            "role" if with_role => p.role = Some(v).filter(|r| !r.is_empty()),
            "min_revision" => p.min_revision = Some(v).filter(|r| !r.is_empty()),
            other => return Err(format!("unknown parameter `{}`", shown(other))),
        }
    }
    if p.limit == 0 || p.limit > MAX_LIMIT {
        return Err(format!("`limit` is 1 to {MAX_LIMIT}"));
    }
    Ok(p)
}

/// A client's text, shortened and escaped for an error message.
fn shown(s: &str) -> String {
    crate::diag::escape_controls(&s.chars().take(64).collect::<String>()).into_owned()
}

#[derive(Debug, Serialize)]
struct At<'a> {
    file: &'a str,
    line: u32,
}

fn at(loc: &Loc) -> At<'_> {
    At {
        file: &loc.file,
        line: loc.line,
    }
}

/// One assignment: a user or a group holds a role in a scope.
#[derive(Debug, Serialize)]
struct HolderJson<'a> {
    at: At<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    /// `null`: the global scope.
    project: Option<&'a str>,
    role: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
}

fn holder_json(a: &Assignment) -> HolderJson<'_> {
    let (user, group) = match &a.holder {
        Holder::User(l) => (Some(l.as_str()), None),
        Holder::Group(g) => (None, Some(g.as_str())),
    };
    HolderJson {
        at: at(&a.at),
        group,
        project: a.scope.project().map(|p| p.as_str()),
        role: a.role.as_str(),
        user,
    }
}

/// A page of holders, with the counts that tell what is left.
#[derive(Debug, Serialize)]
struct Holders<'a> {
    holders: Vec<HolderJson<'a>>,
    limit: usize,
    next_offset: Option<usize>,
    offset: usize,
    total: usize,
}

fn holders<'a>(all: impl Iterator<Item = &'a Assignment>, p: &Page) -> Holders<'a> {
    let mut total = 0;
    let mut page = Vec::new();
    for a in all {
        if total >= p.offset && page.len() < p.limit {
            page.push(holder_json(a));
        }
        total += 1;
    }
    let end = p.offset.saturating_add(page.len());
    Holders {
        holders: page,
        limit: p.limit,
        next_offset: (end < total).then_some(end),
        offset: p.offset,
        total,
    }
}

/// A role, where it is defined and how many hold it.
#[derive(Debug, Serialize)]
struct RoleJson<'a> {
    defined_at: Option<At<'a>>,
    global_holders: usize,
    project_holders: usize,
    role: &'a str,
    /// `global`, `project`, or `null` (assigned but defined nowhere).
    scope: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct RolesAnswer<'a> {
    #[serde(flatten)]
    holders: Holders<'a>,
    revision: &'a str,
    roles: Vec<RoleJson<'a>>,
}

fn scope_name(s: RoleScope) -> &'static str {
    match s {
        RoleScope::Global => "global",
        RoleScope::Project => "project",
    }
}

fn roles_answer(snap: &Snapshot, p: &Page) -> Response {
    let m: &Model = &snap.model;
    let mut roles: BTreeMap<&str, RoleJson<'_>> = BTreeMap::new();
    for (id, d) in &m.role_definitions {
        roles.insert(id.as_str(), role_json(id.as_str(), Some(d)));
    }
    for a in m.assignments.iter() {
        let r = roles
            .entry(a.role.as_str())
            .or_insert_with(|| role_json(a.role.as_str(), None));
        match a.scope {
            Scope::Global => r.global_holders += 1,
            Scope::Project(_) => r.project_holders += 1,
        }
    }
    let wanted = p.role.as_deref();
    let all = m
        .assignments
        .iter()
        .filter(|a| wanted.is_none_or(|w| a.role.as_str() == w));
    axum::Json(RolesAnswer {
        holders: holders(all, p),
        revision: &snap.revision,
        roles: roles.into_values().collect(),
    })
    .into_response()
}

fn role_json<'a>(role: &'a str, d: Option<&'a RoleDefinition>) -> RoleJson<'a> {
    RoleJson {
        defined_at: d.map(|d| at(&d.at)),
        global_holders: 0,
        project_holders: 0,
        role,
        scope: d.map(|d| scope_name(d.scope)),
    }
}

/// One project in the list.
#[derive(Debug, Serialize)]
struct ProjectRow<'a> {
    folder: &'a str,
    holders: usize,
    id: &'a str,
    lead: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct ProjectsAnswer<'a> {
    limit: usize,
    next_offset: Option<usize>,
    offset: usize,
    projects: Vec<ProjectRow<'a>>,
    revision: &'a str,
    total: usize,
}

/// Each project's assignments, by project id.
fn runs_by_project(m: &Model) -> BTreeMap<&str, &[Assignment]> {
    m.assignments
        .runs()
        .iter()
        .filter_map(|r| Some((r.first()?.scope.project()?.as_str(), &r[..])))
        .collect()
}

fn projects_answer(snap: &Snapshot, p: &Page) -> Response {
    let m = &snap.model;
    let runs = runs_by_project(m);
    let rows: Vec<ProjectRow<'_>> = m
        .projects
        .iter()
        .skip(p.offset)
        .take(p.limit)
        .map(|(id, pr)| ProjectRow {
            folder: &pr.folder,
            holders: runs.get(id.as_str()).map_or(0, |r| r.len()),
            id: id.as_str(),
            lead: pr.lead.as_ref().map(|l| l.as_str()),
        })
        .collect();
    let total = m.projects.len();
    let end = p.offset.saturating_add(rows.len());
    axum::Json(ProjectsAnswer {
        limit: p.limit,
        next_offset: (end < total).then_some(end),
        offset: p.offset,
        projects: rows,
        revision: &snap.revision,
        total,
    })
    .into_response()
}

/// A role a project has, and where it is defined (`null`: built in).
#[derive(Debug, Serialize)]
struct ProjectRole<'a> {
    defined_at: Option<At<'a>>,
    role: String,
}

#[derive(Debug, Serialize)]
struct ProjectAnswer<'a> {
    folder: &'a str,
    #[serde(flatten)]
    holders: Holders<'a>,
    id: &'a str,
    lead: Option<&'a str>,
    revision: &'a str,
    roles: Vec<ProjectRole<'a>>,
}

fn project_answer(snap: &Snapshot, id: &str, p: &Page) -> Reply {
    let m = &snap.model;
    let Some((pid, pr)) = m.projects.iter().find(|(k, _)| k.as_str() == id) else {
        return Err(error(
            StatusCode::NOT_FOUND,
            Some(&snap.revision),
            format!("no project `{}`", shown(id)),
        ));
    };
    let scope = Scope::Project(pid.clone());
    let roles = m
        .defined_roles(&scope)
        .into_iter()
        .map(|r| {
            let d = pr.roles.get(&r).or_else(|| m.role_definitions.get(&r));
            ProjectRole {
                defined_at: d.map(|d| at(&d.at)),
                role: r.as_str().to_owned(),
            }
        })
        .collect();
    let runs = runs_by_project(m);
    let run = runs.get(id).copied().unwrap_or(&[]);
    Ok(axum::Json(ProjectAnswer {
        folder: &pr.folder,
        holders: holders(run.iter(), p),
        id: pid.as_str(),
        lead: pr.lead.as_ref().map(|l| l.as_str()),
        revision: &snap.revision,
        roles,
    })
    .into_response())
}

/// The page asked for and the snapshot to answer from.
async fn prepared(
    shared: &Shared,
    pairs: Vec<(String, String)>,
    with_role: bool,
) -> Result<(Page, Arc<Snapshot>), super::ApiError> {
    let p = page(pairs, with_role)
        .map_err(|e| error(StatusCode::BAD_REQUEST, loaded(shared).as_deref(), e))?;
    let snap = snapshot(shared, p.min_revision.as_deref()).await?;
    Ok((p, snap))
}

async fn roles_get(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    let (p, snap) = prepared(&shared, pairs, true).await?;
    let rev = snap.revision.clone();
    heavy(&shared, Some(&rev), move || Ok(roles_answer(&snap, &p))).await
}

async fn projects_get(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    let (p, snap) = prepared(&shared, pairs, false).await?;
    let rev = snap.revision.clone();
    heavy(&shared, Some(&rev), move || Ok(projects_answer(&snap, &p))).await
}

async fn project_get(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    let (p, snap) = prepared(&shared, pairs, false).await?;
    let rev = snap.revision.clone();
    heavy(&shared, Some(&rev), move || project_answer(&snap, &id, &p)).await
}
