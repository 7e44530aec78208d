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
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::daemon::Shared;
use crate::model::{Loc, Scope};
use crate::policy::rest::{self, RestDecision, RestExplanation};
use crate::policy::{
    Context, Explanation, FORBIDDEN_BODY, Object, Request, RequestError, RestCall, RoleHeld,
    RoleLine, Setting, Verdict, Via,
};
use crate::repo;
use crate::snapshot::Snapshot;
use crate::xml::Effect;

/// The header that carries the revision of a `/v1/authorize` answer.
pub const REVISION_HEADER: &str = "x-rolesync-revision";

/// The permission routes; `api::router` guards them like `/v1/status`.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/check", get(check_get).post(check_post))
        .route("/v1/explain", get(explain))
        .route("/v1/users/{login}", get(user))
        .route("/v1/authorize", any(authorize))
}

/// A JSON error that names the revision (when one is loaded).
pub(super) fn error(
    code: StatusCode,
    revision: Option<&str>,
    message: impl Into<String>,
) -> Response {
    (
        code,
        axum::Json(json!({ "error": message.into(), "revision": revision })),
    )
        .into_response()
}

/// The loaded revision, for answers given before a snapshot is in hand.
pub(super) fn loaded(shared: &Shared) -> Option<String> {
    shared.current.load().as_ref().map(|s| s.revision.clone())
}

/// The current snapshot, after `min_revision` is honoured.
pub(super) async fn snapshot(
    shared: &Shared,
    min_revision: Option<&str>,
) -> Result<Arc<Snapshot>, Response> {
    let Some(current) = shared.current.load_full() else {
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "no configuration is loaded yet",
        ));
    };
    if let Some(wanted) = min_revision
        && !at_least(&shared.source, &current.revision, wanted).await
    {
        return Err((
            StatusCode::CONFLICT,
            axum::Json(json!({
                "error": "the loaded revision is older than min_revision",
                "revision": current.revision,
                "min_revision": wanted,
            })),
        )
            .into_response());
    }
    Ok(current)
}

/// Whether `loaded` is `wanted` or newer: SVN revisions by number, Git
/// commits by ancestry (`wanted` reachable from `loaded`); anything else
/// only when equal.
async fn at_least(source: &repo::Source, loaded: &str, wanted: &str) -> bool {
    if loaded == wanted {
        return true;
    }
    if let (Ok(l), Ok(w)) = (loaded.parse::<u64>(), wanted.parse::<u64>()) {
        return l >= w;
    }
    let repo::Source::Git { path, .. } = source else {
        return false;
    };
    let (path, loaded, wanted) = (path.clone(), loaded.to_owned(), wanted.to_owned());
    tokio::task::spawn_blocking(move || repo::git_commits_between(&path, &loaded, &wanted))
        .await
        .is_ok_and(|r| r.is_ok_and(|missing| missing.is_empty()))
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
) -> Result<(Params, Arc<Snapshot>), Response> {
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
fn request_error(e: &RequestError, revision: Option<&str>) -> Response {
    let code = match e {
        RequestError::UnknownProject(_) => StatusCode::NOT_FOUND,
        RequestError::Unexpanded { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    };
    error(code, revision, e.to_string())
}

/// The two layers of a REST call as JSON fields: `layer` (the one that
/// refused, or null), `item` (the item permission decided, or null) and
/// `body` (the 403 body when refused).
fn layers_json(d: &RestDecision) -> Value {
    let item = d.item.as_ref().map(|(a, v)| {
        json!({
            "permission": a.permission,
            "project": a.project,
            "decision": v.map(Verdict::as_str),
            "allowed": v.map(|v| v == Verdict::Allow),
        })
    });
    json!({
        "layer": d.refused().map(rest::Layer::as_str),
        "item": item,
        "body": d.body(),
    })
}

fn verdict_json(v: Verdict) -> (&'static str, bool) {
    (v.as_str(), v == Verdict::Allow)
}

async fn check_get(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let (params, snap) = match prepared(&shared, pairs).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let rev = Some(snap.revision.as_str());
    let req = match request(&params) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, rev, e),
    };
    if let Some(call) = &params.rest {
        return match rest::check(&snap.policy, req.user, call, req.object, true) {
            Ok(d) => {
                let (decision, allowed) = verdict_json(d.verdict());
                let mut v = json!({
                    "revision": snap.revision,
                    "user": req.user,
                    "permission": req.permission,
                    "project": req.project,
                    "decision": decision,
                    "allowed": allowed,
                });
                merge(&mut v, layers_json(&d));
                axum::Json(v).into_response()
            }
            Err(e) => request_error(&e, rev),
        };
    }
    match snap.policy.check(&req) {
        Ok(v) => {
            let (decision, allowed) = verdict_json(v);
            axum::Json(json!({
                "revision": snap.revision,
                "user": req.user,
                "permission": req.permission,
                "project": req.project,
                "decision": decision,
                "allowed": allowed,
            }))
            .into_response()
        }
        Err(e) => request_error(&e, rev),
    }
}

/// Add the fields of `extra` (an object) to `v` (an object).
fn merge(v: &mut Value, extra: Value) {
    if let (Value::Object(v), Value::Object(extra)) = (v, extra) {
        v.extend(extra);
    }
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
    work: impl FnOnce() -> Response + Send + 'static,
) -> Response {
    let Ok(permit) = shared.heavy.clone().try_acquire_owned() else {
        let mut r = error(
            StatusCode::SERVICE_UNAVAILABLE,
            revision,
            format!(
                "too many heavy requests at once (max_heavy_requests = {}); retry",
                shared.http.max_heavy_requests
            ),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    };
    match tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    {
        Ok(r) => r,
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            revision,
            format!("the request task failed: {e}"),
        ),
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

    fn value(&mut self, v: &Value) -> Result<(), TooLarge> {
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
) -> Response {
    let limits = shared.http;
    let body = match body {
        Ok(axum::Json(b)) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                loaded(&shared).as_deref(),
                format!(
                    "the request body is larger than max_body_bytes = {}",
                    limits.max_body_bytes
                ),
            );
        }
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                loaded(&shared).as_deref(),
                e.body_text(),
            );
        }
    };
    let snap = match snapshot(&shared, body.min_revision.as_deref()).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let rev = Some(snap.revision.as_str());
    let asked = bulk_decisions(&body);
    if asked > limits.max_bulk_decisions {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            rev,
            format!(
                "{asked} decisions asked; at most max_bulk_decisions = {} per call",
                limits.max_bulk_decisions
            ),
        );
    }
    let revision = snap.revision.clone();
    heavy(&shared, Some(&revision), move || {
        bulk_answer(&snap, &body, limits.max_answer_bytes)
    })
    .await
}

/// Decide every pair of a bulk check and write the answer, within `cap` bytes.
fn bulk_answer(snap: &Snapshot, body: &BulkCheck, cap: usize) -> Response {
    let rev = Some(snap.revision.as_str());
    let mut calls = Vec::with_capacity(body.rest.len());
    for line in &body.rest {
        match RestCall::parse_line(line) {
            Ok(call) => calls.push((line, call)),
            Err(e) => return error(StatusCode::BAD_REQUEST, rev, e.to_string()),
        }
    }
    let mut object = Object::new();
    for (k, v) in &body.object {
        match v {
            Values::One(s) => object.push(k, s),
            Values::Many(vs) => vs.iter().for_each(|s| object.push(k, s)),
        }
    }
    let decide = |permission: &str, project: Option<&str>| -> Value {
        let req = Request {
            user: &body.user,
            permission,
            project,
            object: &object,
        };
        match snap.policy.check(&req) {
            Ok(v) => {
                let (decision, allowed) = verdict_json(v);
                json!({ "permission": permission, "project": project, "decision": decision, "allowed": allowed })
            }
            Err(e) => json!({
                "permission": permission, "project": project,
                "decision": "deny", "allowed": false, "error": e.to_string(),
            }),
        }
    };
    let mut out = Answer {
        buf: Vec::new(),
        cap,
    };
    let written = (|| -> Result<(), TooLarge> {
        out.raw("{\"revision\":")?;
        out.value(&json!(snap.revision))?;
        out.raw(",\"user\":")?;
        out.value(&json!(body.user))?;
        out.raw(",\"global_permissions\":[")?;
        for (i, p) in body.global_permissions.iter().enumerate() {
            out.raw(if i == 0 { "" } else { "," })?;
            out.value(&decide(p, None))?;
        }
        out.raw("],\"project_permissions\":[")?;
        let mut first = true;
        for pp in &body.project_permissions {
            for project in &pp.projects {
                for p in &pp.permissions {
                    out.raw(if first { "" } else { "," })?;
                    first = false;
                    out.value(&decide(p, Some(project)))?;
                }
            }
        }
        out.raw("],\"rest\":[")?;
        for (i, (line, call)) in calls.iter().enumerate() {
            let mut v = decide(call.verb.permission(), call.project());
            match rest::check(&snap.policy, &body.user, call, &object, true) {
                Ok(d) => {
                    let (decision, allowed) = verdict_json(d.verdict());
                    v["decision"] = json!(decision);
                    v["allowed"] = json!(allowed);
                    merge(&mut v, layers_json(&d));
                }
                Err(e) => {
                    v["decision"] = json!("deny");
                    v["allowed"] = json!(false);
                    v["error"] = json!(e.to_string());
                }
            }
            v["rest"] = json!(line);
            out.raw(if i == 0 { "" } else { "," })?;
            out.value(&v)?;
        }
        out.raw("]}")
    })();
    match written {
        Ok(()) => ([(header::CONTENT_TYPE, "application/json")], out.buf).into_response(),
        Err(TooLarge) => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            rev,
            format!(
                "the answer would be larger than max_answer_bytes = {cap}; ask fewer decisions per call"
            ),
        ),
    }
}

async fn explain(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let (params, snap) = match prepared(&shared, pairs).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let revision = snap.revision.clone();
    heavy(&shared, Some(&revision), move || {
        let rev = Some(snap.revision.as_str());
        let req = match request(&params) {
            Ok(r) => r,
            Err(e) => return error(StatusCode::BAD_REQUEST, rev, e),
        };
        if let Some(call) = &params.rest {
            return match rest::explain(&snap.policy, req.user, call, req.object) {
                Ok(e) => axum::Json(rest_explanation_json(&e, &snap.revision)).into_response(),
                Err(e) => request_error(&e, rev),
            };
        }
        match snap.policy.explain(&req) {
            Ok(e) => axum::Json(explanation_json(&e, &snap.revision)).into_response(),
            Err(e) => request_error(&e, rev),
        }
    })
    .await
}

fn loc_json(loc: &Loc) -> Value {
    json!({ "file": loc.file, "line": loc.line, "column": loc.col })
}

fn scope_json(scope: &Scope) -> Value {
    match scope {
        Scope::Global => json!("global"),
        Scope::Project(p) => json!(p.as_str()),
    }
}

fn via_json(via: &Via) -> Value {
    match via {
        Via::Assignment { scope, group, at } => json!({
            "kind": if group.is_some() { "group" } else { "assignment" },
            "scope": scope_json(scope),
            "group": group.as_ref().map(|g| g.as_str()),
            "at": loc_json(at),
        }),
        Via::Everyone => json!({ "kind": "everyone" }),
        Via::Object { attribute } => json!({ "kind": "object", "attribute": attribute }),
        Via::Lead { project, file } => {
            json!({ "kind": "lead", "project": project.as_str(), "file": file })
        }
    }
}

fn role_line_json(r: &RoleLine) -> Value {
    let setting = r.setting.as_ref().map(|s| match s {
        Setting::Rule {
            permission,
            effect,
            at,
        } => json!({
            "kind": "rule",
            "permission": permission,
            "effect": match effect { Effect::Grant => "grant", Effect::Deny => "deny" },
            "at": loc_json(at),
        }),
        Setting::Default { permission } => json!({ "kind": "default", "permission": permission }),
    });
    json!({
        "role": r.role.as_str(),
        "via": via_json(&r.via),
        "state": r.state.as_str(),
        "setting": setting,
    })
}

/// The explanation as JSON, with its text form in `text`.
pub fn explanation_json(e: &Explanation, revision: &str) -> Value {
    let steps: Vec<Value> = e
        .steps
        .iter()
        .map(|s| {
            json!({
                "purpose": s.purpose.as_str(),
                "permission": s.permission,
                "context": match &s.context {
                    Context::Global => json!("global"),
                    Context::Anywhere => json!("anywhere"),
                    Context::Project(p) => json!(p.as_str()),
                },
                "customset": s.customset.as_ref().map(|c| json!({
                    "id": c.id.as_str(), "at": loc_json(&c.at), "key": c.key,
                    "expanded": c.expanded,
                })),
                "roles": s.roles.iter().map(role_line_json).collect::<Vec<_>>(),
                "strongest": s.strongest.as_str(),
            })
        })
        .collect();
    let (decision, allowed) = verdict_json(e.verdict);
    json!({
        "revision": revision,
        "user": e.user,
        "permission": e.permission,
        "project": e.project.as_ref().map(|p| p.as_str()),
        "object": e.object.attrs().iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "account": e.account.as_str(),
        "admin": e.admin.as_ref().map(role_line_json),
        "steps": steps,
        "decision": decision,
        "allowed": allowed,
        "reason": e.reason.as_str(),
        "text": e.render(revision),
    })
}

/// A REST call's explanation: the endpoint layer's explanation as the
/// top-level fields (as for any permission), then `layer` (the one that
/// refused, or null), `item` (the item layer: its permission, project and
/// explanation, null when not reached, or null when the call has no item
/// permission) and the decision of both layers; `text` covers both.
pub fn rest_explanation_json(e: &RestExplanation, revision: &str) -> Value {
    let mut v = explanation_json(&e.endpoint, revision);
    let (decision, allowed) = verdict_json(e.verdict());
    let item = e.item.as_ref().map(|(a, x)| {
        json!({
            "permission": a.permission,
            "project": a.project,
            "explanation": x.as_ref().map(|x| explanation_json(x, revision)),
        })
    });
    let body = match (e.refused(), &e.item) {
        (Some(rest::Layer::Item), Some((a, _))) => Some(a.body()),
        (Some(_), _) => Some(FORBIDDEN_BODY.to_owned()),
        (None, _) => None,
    };
    merge(
        &mut v,
        json!({
            "rest": e.call,
            "endpoint_decision": e.endpoint.verdict.as_str(),
            "layer": e.refused().map(rest::Layer::as_str),
            "item": item,
            "decision": decision,
            "allowed": allowed,
            "body": body,
            "text": e.render(revision),
        }),
    );
    v
}

fn role_held_json(r: &RoleHeld) -> Value {
    json!({ "role": r.role.as_str(), "via": via_json(&r.via) })
}

#[derive(Debug, Deserialize)]
struct UserQuery {
    min_revision: Option<String>,
}

async fn user(
    State(shared): State<Arc<Shared>>,
    Path(login): Path<String>,
    Query(q): Query<UserQuery>,
) -> Response {
    let snap = match snapshot(&shared, q.min_revision.as_deref()).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let revision = snap.revision.clone();
    heavy(&shared, Some(&revision), move || user_answer(&snap, &login)).await
}

/// The JSON view of one user.
fn user_answer(snap: &Snapshot, login: &str) -> Response {
    let v = snap.policy.user_view(login);
    let projects: serde_json::Map<String, Value> = v
        .projects
        .iter()
        .map(|(p, roles)| {
            (
                p.to_string(),
                Value::Array(roles.iter().map(role_held_json).collect()),
            )
        })
        .collect();
    axum::Json(json!({
        "revision": snap.revision,
        "login": v.login,
        "known": v.known,
        "account": v.account.as_str(),
        "can_login": v.can_login,
        "disabled": !v.can_login,
        "admin": v.admin,
        "groups": v.groups.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "roles": {
            "global": v.global.iter().map(role_held_json).collect::<Vec<_>>(),
            "projects": projects,
        },
        "assignable": {
            "global": v.assignable_globally,
            "projects": v.assignable_in.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        },
    }))
    .into_response()
}

/// Which reverse proxy asks `/v1/authorize`, and so which pair of headers
/// carries the original method and URI (`--proxy`, `proxy = "…"`). Only
/// that pair is read; the other pair must be absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyKind {
    /// nginx `auth_request`: `X-Original-Method`, `X-Original-URI`.
    #[default]
    Nginx,
    /// Caddy and Traefik forward auth: `X-Forwarded-Method`, `X-Forwarded-Uri`.
    ForwardAuth,
}

impl ProxyKind {
    /// The (method, URI) headers this kind of proxy sets.
    pub fn headers(self) -> [HeaderName; 2] {
        match self {
            ProxyKind::Nginx => [
                HeaderName::from_static("x-original-method"),
                HeaderName::from_static("x-original-uri"),
            ],
            ProxyKind::ForwardAuth => [
                HeaderName::from_static("x-forwarded-method"),
                HeaderName::from_static("x-forwarded-uri"),
            ],
        }
    }

    fn other(self) -> ProxyKind {
        match self {
            ProxyKind::Nginx => ProxyKind::ForwardAuth,
            ProxyKind::ForwardAuth => ProxyKind::Nginx,
        }
    }
}

/// Which layers of a REST call `/v1/authorize` decides (`--authorize-layers`,
/// `authorize_layers = "…"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthorizeLayers {
    /// The REST endpoint permission only: Polarion enforces item
    /// permissions itself.
    #[default]
    Endpoint,
    /// The endpoint permission, then the item permission of the call.
    Both,
}

/// The one value of header `name` (trimmed, not empty), or why there is none.
fn single<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Result<&'h str, String> {
    let mut values = headers.get_all(name).iter();
    let (Some(v), None) = (values.next(), values.next()) else {
        return Err(format!("`{name}` is missing or repeated"));
    };
    std::str::from_utf8(v.as_bytes())
        .map_err(|_| format!("`{name}` is not UTF-8"))
        .map(str::trim)
        .and_then(|s| {
            if s.is_empty() {
                Err(format!("`{name}` is empty"))
            } else {
                Ok(s)
            }
        })
}

/// The original method, URI and user of a proxy's sub-request: each from
/// exactly one header of the configured kind; the other kind's headers
/// must be absent (a client may have sent them).
fn original<'h>(
    headers: &'h HeaderMap,
    kind: ProxyKind,
    user_header: &HeaderName,
) -> Result<(&'h str, &'h str, &'h str), String> {
    for name in kind.other().headers() {
        if headers.contains_key(&name) {
            return Err(format!(
                "`{name}` is set, but this proxy kind sends the original request in {} and {}",
                kind.headers()[0],
                kind.headers()[1]
            ));
        }
    }
    let [method, uri] = kind.headers();
    Ok((
        single(headers, &method)?,
        single(headers, &uri)?,
        single(headers, user_header)?,
    ))
}

/// 403 with Polarion's body, byte for byte.
fn forbidden(revision: Option<&str>) -> Response {
    forbidden_with(revision, FORBIDDEN_BODY.to_owned())
}

/// 403 with `body` (the endpoint body, or an item's).
fn forbidden_with(revision: Option<&str>, body: String) -> Response {
    let mut r = (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if let Some(v) = revision.and_then(|v| HeaderValue::from_str(v).ok()) {
        r.headers_mut().insert(REVISION_HEADER, v);
    }
    r
}

async fn authorize(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let Some(snap) = shared.current.load_full() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "no configuration is loaded yet",
        );
    };
    let rev = Some(snap.revision.as_str());
    let (method, uri, user) = match original(&headers, shared.proxy, &shared.user_header) {
        Ok(x) => x,
        Err(why) => {
            tracing::debug!(%why, "authorize: refused");
            return forbidden(rev);
        }
    };
    let call = match RestCall::from_request(method, uri) {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(error = %e, "authorize: refused");
            return forbidden(rev);
        }
    };
    let object = Object::new();
    let items = shared.authorize_layers == AuthorizeLayers::Both;
    match rest::check(&snap.policy, user, &call, &object, items) {
        Ok(d) if d.verdict() == Verdict::Allow => {
            let mut r = StatusCode::NO_CONTENT.into_response();
            if let Ok(v) = HeaderValue::from_str(&snap.revision) {
                r.headers_mut().insert(REVISION_HEADER, v);
            }
            r
        }
        Ok(d) => match (d.refused(), &d.item) {
            (Some(rest::Layer::Item), Some((a, _))) => forbidden_with(rev, a.body()),
            _ => forbidden(rev),
        },
        Err(_) => forbidden(rev),
    }
}
