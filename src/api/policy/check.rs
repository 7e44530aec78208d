//! `GET /v1/check`: one decision, of a permission or of both layers of a
//! REST call; [`Decided`] is also an entry of a bulk answer.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;

use super::params::{prepared, request, request_error};
use crate::api::decision_log::{Asked, Entry};
use crate::api::decisions::{Endpoint, Outcome};
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

/// What a check came to, for the counters and the decision log.
#[derive(Debug)]
struct Seen {
    outcome: Outcome,
    /// Made only while the decision log is on.
    entry: Option<Entry>,
}

pub(super) async fn check_get(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    let started = Instant::now();
    let mut seen = Seen {
        outcome: Outcome::Error,
        entry: None,
    };
    let reply = answer(&shared, pairs, &mut seen).await;
    shared
        .decisions
        .record(Endpoint::Check, seen.outcome, started);
    if let Some(entry) = seen.entry
        && let Some(log) = shared.log_admits()
    {
        log.send(Entry {
            latency: started.elapsed(),
            ..entry
        });
    }
    reply
}

async fn answer(shared: &Shared, pairs: Vec<(String, String)>, seen: &mut Seen) -> Reply {
    let (params, snap) = prepared(shared, pairs).await?;
    let rev = Some(snap.revision.as_str());
    let req = request(&params).map_err(|e| error(StatusCode::BAD_REQUEST, rev, e))?;
    let decided = |verdict| Decided {
        revision: Some(&snap.revision),
        user: Some(req.user),
        ..Decided::new(verdict, req.permission, req.project)
    };
    let result = match &params.rest {
        None => snap.policy.check(&req).map(|v| (v, None)),
        Some(call) => rest::check(&snap.policy, req.user, call, req.object, true)
            .map(|d| (d.verdict(), Some(d))),
    };
    seen.outcome = result
        .as_ref()
        .map_or(Outcome::Error, |(v, _)| Outcome::of(*v));
    if shared.log.is_some() {
        let asked = Asked {
            user: req.user,
            permission: req.permission,
            project: req.project,
            rest: params.rest.as_ref(),
        };
        let object = Arc::new(params.object.clone());
        let why = result.as_ref().err().map(ToString::to_string);
        seen.entry = Some(Entry::permission(
            Endpoint::Check,
            &snap,
            asked,
            &object,
            seen.outcome,
            why,
        ));
    }
    let (v, d) = result.map_err(|e| request_error(&e, rev))?;
    Ok(match d {
        None => axum::Json(decided(v)).into_response(),
        Some(d) => axum::Json(decided(v).with_layers(&d)).into_response(),
    })
}
