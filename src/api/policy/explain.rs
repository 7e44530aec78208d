//! `GET /v1/explain` and the JSON of an explanation (also the roles of
//! `GET /v1/users/{login}`).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;

use super::check::verdict_json;
use super::params::{prepared, request, request_error};
use crate::api::reply::{Reply, error, heavy};
use crate::api::shared::Shared;
use crate::model::{Loc, Scope};
use crate::policy::rest::{self, RestExplanation};
use crate::policy::{
    Context, Explanation, FORBIDDEN_BODY, RoleHeld, RoleLine, SetLine, Setting, Step, Via,
};
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
                .map(|e| axum::Json(rest_explanation_json(&e, &snap.revision)).into_response()),
            None => snap
                .policy
                .explain(&req)
                .map(|e| axum::Json(explanation_json(&e, &snap.revision)).into_response()),
        };
        answer.map_err(|e| request_error(&e, rev))
    })
    .await
}

/// A place in a file (fields in alphabetical order, as `json!` wrote them,
/// here and in every answer type below).
#[derive(Debug, Serialize)]
struct LocJson<'a> {
    column: u32,
    file: &'a str,
    line: u32,
}

fn loc_json(loc: &Loc) -> LocJson<'_> {
    LocJson {
        column: loc.col,
        file: &loc.file,
        line: loc.line,
    }
}

fn scope_json(scope: &Scope) -> &str {
    match scope {
        Scope::Global => "global",
        Scope::Project(p) => p.as_str(),
    }
}

/// How a role is held; `kind` names the variant.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum ViaJson<'a> {
    Assignment {
        at: LocJson<'a>,
        group: Option<&'a str>,
        kind: &'static str,
        scope: &'a str,
    },
    Everyone {
        kind: &'static str,
    },
    Object {
        attribute: &'static str,
        kind: &'static str,
    },
    Lead {
        file: &'a str,
        kind: &'static str,
        project: &'a str,
    },
}

fn via_json(via: &Via) -> ViaJson<'_> {
    match via {
        Via::Assignment { scope, group, at } => ViaJson::Assignment {
            at: loc_json(at),
            group: group.as_ref().map(|g| g.as_str()),
            kind: if group.is_some() {
                "group"
            } else {
                "assignment"
            },
            scope: scope_json(scope),
        },
        Via::Everyone => ViaJson::Everyone { kind: "everyone" },
        Via::Object { attribute } => ViaJson::Object {
            attribute,
            kind: "object",
        },
        Via::Lead { project, file } => ViaJson::Lead {
            file,
            kind: "lead",
            project: project.as_str(),
        },
    }
}

/// The rule (or default) that set a role's state; `kind` names it.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum SettingJson<'a> {
    Rule {
        at: LocJson<'a>,
        effect: &'static str,
        kind: &'static str,
        permission: &'a str,
    },
    Default {
        kind: &'static str,
        permission: &'a str,
    },
}

/// One role of a step.
#[derive(Debug, Serialize)]
struct RoleLineJson<'a> {
    role: &'a str,
    setting: Option<SettingJson<'a>>,
    state: &'static str,
    via: ViaJson<'a>,
}

fn role_line_json(r: &RoleLine) -> RoleLineJson<'_> {
    let setting = r.setting.as_ref().map(|s| match s {
        Setting::Rule {
            permission,
            effect,
            at,
        } => SettingJson::Rule {
            at: loc_json(at),
            effect: match effect {
                Effect::Grant => "grant",
                Effect::Deny => "deny",
            },
            kind: "rule",
            permission,
        },
        Setting::Default { permission } => SettingJson::Default {
            kind: "default",
            permission,
        },
    });
    RoleLineJson {
        role: r.role.as_str(),
        setting,
        state: r.state.as_str(),
        via: via_json(&r.via),
    }
}

/// The custom set a step's permission goes through.
#[derive(Debug, Serialize)]
struct SetJson<'a> {
    at: LocJson<'a>,
    expanded: &'a [String],
    id: &'a str,
    key: &'a str,
}

/// One step of the chain.
#[derive(Debug, Serialize)]
struct StepJson<'a> {
    context: &'a str,
    customset: Option<SetJson<'a>>,
    permission: &'a str,
    purpose: &'static str,
    roles: Vec<RoleLineJson<'a>>,
    strongest: &'static str,
}

fn set_json(c: &SetLine) -> SetJson<'_> {
    SetJson {
        at: loc_json(&c.at),
        expanded: &c.expanded,
        id: c.id.as_str(),
        key: &c.key,
    }
}

fn step_json(s: &Step) -> StepJson<'_> {
    StepJson {
        context: match &s.context {
            Context::Global => "global",
            Context::Anywhere => "anywhere",
            Context::Project(p) => p.as_str(),
        },
        customset: s.customset.as_ref().map(set_json),
        permission: &s.permission,
        purpose: s.purpose.as_str(),
        roles: s.roles.iter().map(role_line_json).collect(),
        strongest: s.strongest.as_str(),
    }
}

/// An explanation, the answer of `GET /v1/explain`. The fields of a REST
/// call (`body`, `endpoint_decision`, `item`, `layer`, `rest`) are absent
/// for a permission; present (and maybe null) for a REST call.
#[derive(Debug, Serialize)]
pub struct ExplanationJson<'a> {
    account: &'static str,
    admin: Option<RoleLineJson<'a>>,
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Option<String>>,
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint_decision: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<Option<ItemExplained<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    layer: Option<Option<&'static str>>,
    object: &'a [(String, String)],
    permission: &'a str,
    project: Option<&'a str>,
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rest: Option<&'a str>,
    revision: &'a str,
    steps: Vec<StepJson<'a>>,
    text: String,
    user: &'a str,
}

/// The item layer of a REST call's explanation.
#[derive(Debug, Serialize)]
pub struct ItemExplained<'a> {
    explanation: Option<Box<ExplanationJson<'a>>>,
    permission: &'a str,
    project: &'a str,
}

/// The explanation as JSON, with its text form in `text`.
pub fn explanation_json<'a>(e: &'a Explanation, revision: &'a str) -> ExplanationJson<'a> {
    let (decision, allowed) = verdict_json(e.verdict);
    ExplanationJson {
        account: e.account.as_str(),
        admin: e.admin.as_ref().map(role_line_json),
        allowed,
        body: None,
        decision,
        endpoint_decision: None,
        item: None,
        layer: None,
        object: e.object.attrs(),
        permission: &e.permission,
        project: e.project.as_ref().map(|p| p.as_str()),
        reason: e.reason.as_str(),
        rest: None,
        revision,
        steps: e.steps.iter().map(step_json).collect(),
        text: e.render(revision),
        user: &e.user,
    }
}

/// A REST call's explanation: the endpoint layer's explanation as the
/// top-level fields (as for any permission), then `layer` (the one that
/// refused, or null), `item` (the item layer: its permission, project and
/// explanation, null when not reached, or null when the call has no item
/// permission) and the decision of both layers; `text` covers both.
pub fn rest_explanation_json<'a>(e: &'a RestExplanation, revision: &'a str) -> ExplanationJson<'a> {
    let (decision, allowed) = verdict_json(e.verdict());
    let item = e.item.as_ref().map(|(a, x)| ItemExplained {
        explanation: x.as_ref().map(|x| Box::new(explanation_json(x, revision))),
        permission: &a.permission,
        project: &a.project,
    });
    let body = match (e.refused(), &e.item) {
        (Some(rest::Layer::Item), Some((a, _))) => Some(a.body()),
        (Some(_), _) => Some(FORBIDDEN_BODY.to_owned()),
        (None, _) => None,
    };
    ExplanationJson {
        allowed,
        body: Some(body),
        decision,
        endpoint_decision: Some(e.endpoint.verdict.as_str()),
        item: Some(item),
        layer: Some(e.refused().map(rest::Layer::as_str)),
        rest: Some(&e.call),
        text: e.render(revision),
        ..explanation_json(&e.endpoint, revision)
    }
}

/// A role a user holds, in `GET /v1/users/{login}`.
#[derive(Debug, Serialize)]
pub(super) struct RoleHeldJson<'a> {
    role: &'a str,
    via: ViaJson<'a>,
}

pub(super) fn role_held_json(r: &RoleHeld) -> RoleHeldJson<'_> {
    RoleHeldJson {
        role: r.role.as_str(),
        via: via_json(&r.via),
    }
}
