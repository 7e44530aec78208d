//! `GET /v1/explain` and the JSON of an explanation (also the roles of
//! `GET /v1/users/{login}`).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::{Reply, Shared, error, heavy, merge, prepared, request, request_error, verdict_json};
use crate::model::{Loc, Scope};
use crate::policy::rest::{self, RestExplanation};
use crate::policy::{Context, Explanation, FORBIDDEN_BODY, RoleHeld, RoleLine, Setting, Via};
use crate::xml::Effect;

pub(super) async fn explain(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    let (params, snap) = prepared(&shared, pairs).await?;
    let revision = snap.revision.clone();
    heavy(&shared, Some(&revision), move || {
        let rev = Some(snap.revision.as_str());
        let req = request(&params).map_err(|e| error(StatusCode::BAD_REQUEST, rev, e))?;
        let answer = match &params.rest {
            Some(call) => rest::explain(&snap.policy, req.user, call, req.object)
                .map(|e| rest_explanation_json(&e, &snap.revision)),
            None => snap
                .policy
                .explain(&req)
                .map(|e| explanation_json(&e, &snap.revision)),
        };
        answer
            .map(|v| axum::Json(v).into_response())
            .map_err(|e| request_error(&e, rev))
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

pub(super) fn role_held_json(r: &RoleHeld) -> Value {
    json!({ "role": r.role.as_str(), "via": via_json(&r.via) })
}
