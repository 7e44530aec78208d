//! Permission routes over the current snapshot's `policy::Index`:
//!
//! - `GET /v1/check?user=U&permission=P[&project=X][&object=k=v…]` (or
//!   `rest=VERB /path` in place of permission and project): one decision;
//! - `POST /v1/check`: many permissions × many projects for one user in one
//!   call (like Jira's bulk permission check);
//! - `GET /v1/explain?…` (the parameters of `GET /v1/check`): the chain;
//! - `GET /v1/users/{login}`: roles by scope, groups, login and assignable
//!   status, disabled;
//! - `/v1/authorize` (any method): a reverse proxy's sub-request. The
//!   original method and URI come in the headers of the configured
//!   [`ProxyKind`] only (nginx: `X-Original-Method` / `X-Original-URI`;
//!   forward-auth: `X-Forwarded-Method` / `X-Forwarded-Uri`), the user in
//!   the configured header (`--user-header`); the answer is 204, or 403 with
//!   exactly the body Polarion's REST API refuses calls with. A missing,
//!   repeated or conflicting header, or a path `policy::RestPath` refuses,
//!   is a 403: never decided on.
//!
//! Every JSON answer carries the revision that answered (`/v1/authorize`
//! in the `X-Rolesync-Revision` header, since its 403 body is fixed). An
//! optional `min_revision` parameter makes the answer 409 while the loaded
//! revision is older. The JSON shapes are DTOs built here.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde::{Deserialize, Serialize};

use super::{ApiError, Shared};
use crate::policy::rest::{self, RestDecision};
use crate::policy::{Object, Request, RequestError, RestCall, Verdict};
use crate::snapshot::Snapshot;

mod authorize;
mod explain;

use authorize::authorize;
pub use authorize::{AuthorizeLayers, ProxyKind};
use explain::{RoleHeldJson, explain, role_held_json};
pub use explain::{explanation_json, rest_explanation_json};

/// The header that carries the revision of a `/v1/authorize` answer.
pub const REVISION_HEADER: &str = "x-rolesync-revision";

/// The permission routes; `api::router` guards them like `/v1/status`.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/check", get(check_get).post(check_post))
        .route("/v1/explain", get(explain))
        .route("/v1/users/{login}", get(user))
        .route("/v1/authorize", any(authorize))
}

/// A JSON error that names the revision (null when none is loaded).
pub(super) fn error(
    code: StatusCode,
    revision: Option<&str>,
    message: impl Into<String>,
) -> ApiError {
    ApiError::new(code, revision, message)
}

/// What a handler answers: its response, or an error answer.
pub(super) type Reply = Result<Response, ApiError>;

/// The loaded revision, for answers given before a snapshot is in hand.
pub(super) fn loaded(shared: &Shared) -> Option<String> {
    shared
        .current
        .snapshot
        .load()
        .as_ref()
        .map(|s| s.revision.clone())
}

/// The current snapshot, after `min_revision` is honoured.
pub(super) async fn snapshot(
    shared: &Shared,
    min_revision: Option<&str>,
) -> Result<Arc<Snapshot>, ApiError> {
    let Some(current) = shared.current.snapshot.load_full() else {
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "no configuration is loaded yet",
        ));
    };
    if let Some(wanted) = min_revision
        && !at_least(shared, &current.revision, wanted).await
    {
        return Err(ApiError::too_old(&current.revision, wanted));
    }
    Ok(current)
}

/// Whether `loaded` is `wanted` or newer, by the configured
/// [`RevisionOrder`](super::RevisionOrder), on the blocking pool.
async fn at_least(shared: &Shared, loaded: &str, wanted: &str) -> bool {
    if loaded == wanted {
        return true;
    }
    let order = shared.config.is_at_least.clone();
    let (loaded, wanted) = (loaded.to_owned(), wanted.to_owned());
    tokio::task::spawn_blocking(move || order(&loaded, &wanted))
        .await
        .unwrap_or(false)
}

/// The parameters of `GET /v1/check` and `GET /v1/explain`.
#[derive(Debug, Default)]
struct Params {
    user: Option<String>,
    permission: Option<String>,
    project: Option<String>,
    /// Parsed (and its path canonicalised) as it comes in.
    rest: Option<RestCall>,
    object: Object,
    min_revision: Option<String>,
}

impl Params {
    fn parse(pairs: Vec<(String, String)>) -> Result<Params, String> {
        let mut p = Params::default();
        for (k, v) in pairs {
            match k.as_str() {
                "user" => p.user = Some(v),
                "permission" => p.permission = Some(v),
                "project" => p.project = Some(v).filter(|s| !s.is_empty()),
                "rest" => p.rest = Some(RestCall::parse_line(&v).map_err(|e| e.to_string())?),
                "object" => p.object.push_pair(&v)?,
                "min_revision" => p.min_revision = Some(v).filter(|s| !s.is_empty()),
                other => return Err(format!("unknown parameter `{other}`")),
            }
        }
        Ok(p)
    }
}

/// The question a parameter set asks.
fn request(p: &Params) -> Result<Request<'_>, String> {
    let (user, permission, project) = resolve(p)?;
    Ok(Request {
        user,
        permission,
        project,
        object: &p.object,
    })
}

/// Parse a GET query and find the snapshot to answer from
/// (`min_revision` honoured); an error is the response to send.
async fn prepared(
    shared: &Shared,
    pairs: Vec<(String, String)>,
) -> Result<(Params, Arc<Snapshot>), ApiError> {
    let params = Params::parse(pairs)
        .map_err(|e| error(StatusCode::BAD_REQUEST, loaded(shared).as_deref(), e))?;
    let snap = snapshot(shared, params.min_revision.as_deref()).await?;
    Ok((params, snap))
}

/// The user, permission and project a parameter set asks about.
fn resolve(p: &Params) -> Result<(&str, &str, Option<&str>), String> {
    let user = p
        .user
        .as_deref()
        .ok_or("the parameter `user` is required")?;
    match (&p.rest, &p.permission) {
        (Some(_), Some(_)) => Err("give `permission` or `rest`, not both".into()),
        (Some(call), None) => {
            if p.project.is_some() {
                return Err("`rest` names its project in the path; drop `project`".into());
            }
            Ok((user, call.verb.permission(), call.project()))
        }
        (None, Some(perm)) => Ok((user, perm.as_str(), p.project.as_deref())),
        (None, None) => Err("the parameter `permission` (or `rest`) is required".into()),
    }
}

/// The status of a request that could not be decided: 404 for an unknown
/// project, 422 for a decision that depends on a query expander the caller
/// did not expand.
fn request_error(e: &RequestError, revision: Option<&str>) -> ApiError {
    let code = match e {
        RequestError::UnknownProject(_) => StatusCode::NOT_FOUND,
        RequestError::Unexpanded { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    };
    error(code, revision, e.to_string())
}

/// The item layer of a REST call decided (null when not reached).
#[derive(Debug, Serialize)]
struct ItemDecided {
    allowed: Option<bool>,
    decision: Option<&'static str>,
    permission: String,
    project: String,
}

fn verdict_json(v: Verdict) -> (&'static str, bool) {
    (v.as_str(), v == Verdict::Allow)
}

/// One decision: the answer of `GET /v1/check` (with `revision` and
/// `user`) and an entry of a bulk answer (without; with `error` when it
/// could not be decided and `rest` for a REST call). Fields in alphabetical
/// order, as `json!` wrote them; the two layers of a REST call (`layer`: the
/// one that refused, or null; `item`: the item permission decided, or null;
/// `body`: the 403 body when refused) are absent for a permission.
#[derive(Debug, Serialize)]
struct Decided<'a> {
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Option<String>>,
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<Option<ItemDecided>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    layer: Option<Option<&'static str>>,
    permission: &'a str,
    project: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
}

impl<'a> Decided<'a> {
    fn new(verdict: Verdict, permission: &'a str, project: Option<&'a str>) -> Self {
        let (decision, allowed) = verdict_json(verdict);
        Decided {
            allowed,
            body: None,
            decision,
            error: None,
            item: None,
            layer: None,
            permission,
            project,
            rest: None,
            revision: None,
            user: None,
        }
    }

    /// The decision of both layers of a REST call, and the layers.
    fn with_layers(self, d: &RestDecision) -> Self {
        let (decision, allowed) = verdict_json(d.verdict());
        let item = d.item.as_ref().map(|(a, v)| ItemDecided {
            allowed: v.map(|v| v == Verdict::Allow),
            decision: v.map(Verdict::as_str),
            permission: a.permission.clone(),
            project: a.project.clone(),
        });
        Decided {
            allowed,
            body: Some(d.body()),
            decision,
            item: Some(item),
            layer: Some(d.refused().map(rest::Layer::as_str)),
            ..self
        }
    }
}

async fn check_get(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    let (params, snap) = prepared(&shared, pairs).await?;
    let rev = Some(snap.revision.as_str());
    let req = request(&params).map_err(|e| error(StatusCode::BAD_REQUEST, rev, e))?;
    let decided = |verdict| Decided {
        revision: Some(&snap.revision),
        user: Some(req.user),
        ..Decided::new(verdict, req.permission, req.project)
    };
    let Some(call) = &params.rest else {
        let v = snap
            .policy
            .check(&req)
            .map_err(|e| request_error(&e, rev))?;
        return Ok(axum::Json(decided(v)).into_response());
    };
    let d = rest::check(&snap.policy, req.user, call, req.object, true)
        .map_err(|e| request_error(&e, rev))?;
    Ok(axum::Json(decided(d.verdict()).with_layers(&d)).into_response())
}

/// One value or several, for object attributes in JSON.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Values {
    One(String),
    Many(Vec<String>),
}

/// `{"permissions": [...], "projects": [...]}`: every pair is decided.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectPermissions {
    permissions: Vec<String>,
    projects: Vec<String>,
}

/// The body of `POST /v1/check`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkCheck {
    user: String,
    #[serde(default)]
    object: BTreeMap<String, Values>,
    #[serde(default)]
    global_permissions: Vec<String>,
    #[serde(default)]
    project_permissions: Vec<ProjectPermissions>,
    #[serde(default)]
    rest: Vec<String>,
    #[serde(default)]
    min_revision: Option<String>,
}

/// How many decisions a bulk check asks (saturating: a huge product is
/// refused, never wrapped).
fn bulk_decisions(body: &BulkCheck) -> usize {
    body.project_permissions
        .iter()
        .map(|p| p.permissions.len().saturating_mul(p.projects.len()))
        .fold(0usize, usize::saturating_add)
        .saturating_add(body.global_permissions.len())
        .saturating_add(body.rest.len())
}

/// Run `work` on the blocking pool, at most `max_heavy_requests` at once;
/// beyond, 503 with `Retry-After: 1`. Decision loops and large answers
/// never run on an async worker, so `/healthz` and `/v1/authorize` stay
/// prompt.
pub(super) async fn heavy(
    shared: &Shared,
    revision: Option<&str>,
    work: impl FnOnce() -> Reply + Send + 'static,
) -> Reply {
    let Ok(permit) = shared.heavy.clone().try_acquire_owned() else {
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            revision,
            format!(
                "too many heavy requests at once (max_heavy_requests = {}); retry",
                shared.config.http.max_heavy_requests
            ),
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1")));
    };
    match tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    {
        Ok(r) => r,
        Err(e) => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            revision,
            format!("the request task failed: {e}"),
        )),
    }
}

/// A bulk answer, written as it is decided and refused as soon as it
/// passes `max_answer_bytes`.
struct Answer {
    buf: Vec<u8>,
    cap: usize,
}

/// The answer grew past its bound.
struct TooLarge;

impl Answer {
    fn raw(&mut self, s: &str) -> Result<(), TooLarge> {
        self.buf.extend_from_slice(s.as_bytes());
        self.check()
    }

    fn value(&mut self, v: &impl Serialize) -> Result<(), TooLarge> {
        // Writing JSON into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, v);
        self.check()
    }

    fn check(&self) -> Result<(), TooLarge> {
        if self.buf.len() > self.cap {
            Err(TooLarge)
        } else {
            Ok(())
        }
    }
}

async fn check_post(
    State(shared): State<Arc<Shared>>,
    body: Result<axum::Json<BulkCheck>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    let limits = shared.config.http;
    let body = match body {
        Ok(axum::Json(b)) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                loaded(&shared).as_deref(),
                format!(
                    "the request body is larger than max_body_bytes = {}",
                    limits.max_body_bytes
                ),
            ));
        }
        Err(e) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                loaded(&shared).as_deref(),
                e.body_text(),
            ));
        }
    };
    let snap = snapshot(&shared, body.min_revision.as_deref()).await?;
    let rev = Some(snap.revision.as_str());
    let asked = bulk_decisions(&body);
    if asked > limits.max_bulk_decisions {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            rev,
            format!(
                "{asked} decisions asked; at most max_bulk_decisions = {} per call",
                limits.max_bulk_decisions
            ),
        ));
    }
    let revision = snap.revision.clone();
    heavy(&shared, Some(&revision), move || {
        bulk_answer(&snap, &body, limits.max_answer_bytes)
    })
    .await
}

/// Decide every pair of a bulk check and write the answer, within `cap` bytes.
fn bulk_answer(snap: &Snapshot, body: &BulkCheck, cap: usize) -> Reply {
    let rev = Some(snap.revision.as_str());
    let mut calls = Vec::with_capacity(body.rest.len());
    for line in &body.rest {
        match RestCall::parse_line(line) {
            Ok(call) => calls.push((line, call)),
            Err(e) => return Err(error(StatusCode::BAD_REQUEST, rev, e.to_string())),
        }
    }
    let mut object = Object::new();
    for (k, v) in &body.object {
        match v {
            Values::One(s) => object.push(k, s),
            Values::Many(vs) => vs.iter().for_each(|s| object.push(k, s)),
        }
    }
    let bulk = Bulk {
        snap,
        body,
        object,
        calls,
    };
    let mut out = Answer {
        buf: Vec::new(),
        cap,
    };
    match bulk.write(&mut out) {
        Ok(()) => Ok(([(header::CONTENT_TYPE, "application/json")], out.buf).into_response()),
        Err(TooLarge) => Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            rev,
            format!(
                "the answer would be larger than max_answer_bytes = {cap}; ask fewer decisions per call"
            ),
        )),
    }
}

/// A bulk check, its object and REST calls parsed.
struct Bulk<'a> {
    snap: &'a Snapshot,
    body: &'a BulkCheck,
    object: Object,
    calls: Vec<(&'a String, RestCall)>,
}

impl Bulk<'_> {
    /// One permission decided (a request error is a deny with `error`).
    fn decide<'p>(&self, permission: &'p str, project: Option<&'p str>) -> Decided<'p> {
        let req = Request {
            user: &self.body.user,
            permission,
            project,
            object: &self.object,
        };
        match self.snap.policy.check(&req) {
            Ok(v) => Decided::new(v, permission, project),
            Err(e) => Decided {
                error: Some(e.to_string()),
                ..Decided::new(Verdict::Deny, permission, project)
            },
        }
    }

    /// One REST call decided, both layers.
    fn rest_entry<'p>(&'p self, line: &'p str, call: &'p RestCall) -> Decided<'p> {
        let v = self.decide(call.verb.permission(), call.project());
        let v = match rest::check(&self.snap.policy, &self.body.user, call, &self.object, true) {
            Ok(d) => v.with_layers(&d),
            Err(e) => Decided {
                error: Some(e.to_string()),
                ..Decided::new(Verdict::Deny, v.permission, v.project)
            },
        };
        Decided {
            rest: Some(line),
            ..v
        }
    }

    /// The answer, decided as it is written.
    fn write(&self, out: &mut Answer) -> Result<(), TooLarge> {
        out.raw("{\"revision\":")?;
        out.value(&self.snap.revision)?;
        out.raw(",\"user\":")?;
        out.value(&self.body.user)?;
        out.raw(",\"global_permissions\":[")?;
        for (i, p) in self.body.global_permissions.iter().enumerate() {
            out.raw(if i == 0 { "" } else { "," })?;
            out.value(&self.decide(p, None))?;
        }
        out.raw("],\"project_permissions\":[")?;
        let mut first = true;
        for pp in &self.body.project_permissions {
            for project in &pp.projects {
                for p in &pp.permissions {
                    out.raw(if first { "" } else { "," })?;
                    first = false;
                    out.value(&self.decide(p, Some(project)))?;
                }
            }
        }
        out.raw("],\"rest\":[")?;
        for (i, (line, call)) in self.calls.iter().enumerate() {
            out.raw(if i == 0 { "" } else { "," })?;
            out.value(&self.rest_entry(line, call))?;
        }
        out.raw("]}")
    }
}

#[derive(Debug, Deserialize)]
struct UserQuery {
    min_revision: Option<String>,
}

async fn user(
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
