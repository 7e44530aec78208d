//! `GET /v1/check`: one decision, of a permission or of both layers of a
//! REST call; [`Decided`] is also an entry of a bulk answer.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;

use super::params::{prepared, request, request_error};
use crate::api::reply::{Reply, error};
use crate::api::shared::Shared;
use crate::policy::Verdict;
use crate::policy::rest::{self, RestDecision};

/// The item layer of a REST call decided (null when not reached).
#[derive(Debug, Serialize)]
pub(super) struct ItemDecided {
    allowed: Option<bool>,
    decision: Option<&'static str>,
    permission: String,
    project: String,
}

pub(super) fn verdict_json(v: Verdict) -> (&'static str, bool) {
    (v.as_str(), v == Verdict::Allow)
}

/// One decision: the answer of `GET /v1/check` (with `revision` and
/// `user`) and an entry of a bulk answer (without; with `error` when it
/// could not be decided and `rest` for a REST call). Fields in alphabetical
/// order, as `json!` wrote them; the two layers of a REST call (`layer`: the
/// one that refused, or null; `item`: the item permission decided, or null;
/// `body`: the 403 body when refused) are absent for a permission.
#[derive(Debug, Serialize)]
pub(super) struct Decided<'a> {
    pub(super) allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) body: Option<Option<String>>,
    pub(super) decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) item: Option<Option<ItemDecided>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) layer: Option<Option<&'static str>>,
    pub(super) permission: &'a str,
    pub(super) project: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) rest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) revision: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) user: Option<&'a str>,
}

impl<'a> Decided<'a> {
    pub(super) fn new(verdict: Verdict, permission: &'a str, project: Option<&'a str>) -> Self {
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
    pub(super) fn with_layers(self, d: &RestDecision) -> Self {
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

pub(super) async fn check_get(
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
