//! `POST /v1/check`: many permissions × many projects (and REST calls)
//! for one user in one call, decided on the blocking pool and written as
//! they are decided, within `max_bulk_decisions` and `max_answer_bytes`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::check::Decided;
use crate::api::decision_log::{Asked, Entry};
use crate::api::decisions::{Endpoint, Outcome};
use crate::api::error::ApiError;
use crate::api::reply::{Reply, error, heavy, loaded, snapshot};
use crate::api::shared::Shared;
use crate::policy::rest;
use crate::policy::{Object, Request, RestCall, Verdict};
use crate::snapshot::Snapshot;

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
pub(super) struct BulkCheck {
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

pub(super) async fn check_post(
    State(shared): State<Arc<Shared>>,
    body: Result<axum::Json<BulkCheck>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    let started = Instant::now();
    let reply = bulk_call(&shared, body).await;
    if reply.is_err() {
        shared
            .decisions
            .count(Endpoint::CheckBulk, Outcome::Error, 1);
    }
    shared
        .decisions
        .observe(Endpoint::CheckBulk, started.elapsed());
    reply
}

async fn bulk_call(
    shared: &Arc<Shared>,
    body: Result<axum::Json<BulkCheck>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    let limits = shared.config.http;
    let body = body.map_err(|e| rejected(shared, &e))?.0;
    let snap = snapshot(shared, body.min_revision.as_deref()).await?;
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
    let state = shared.clone();
    heavy(shared, Some(&revision), move || {
        bulk_answer(&state, &snap, &body, limits.max_answer_bytes)
    })
    .await
}

/// The error answer of a body that is no bulk check: 413 beyond
/// `max_body_bytes`, else 400 with why.
fn rejected(shared: &Shared, e: &axum::extract::rejection::JsonRejection) -> ApiError {
    let revision = loaded(shared);
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            revision.as_deref(),
            format!(
                "the request body is larger than max_body_bytes = {}",
                shared.config.http.max_body_bytes
            ),
        );
    }
    error(StatusCode::BAD_REQUEST, revision.as_deref(), e.body_text())
}

/// Decide every pair of a bulk check and write the answer, within `cap`
/// bytes; each decision counted (and logged).
fn bulk_answer(shared: &Shared, snap: &Arc<Snapshot>, body: &BulkCheck, cap: usize) -> Reply {
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
        shared,
        snap,
        body,
        object: Arc::new(object),
        calls,
        tally: Default::default(),
    };
    let mut out = Answer {
        buf: Vec::new(),
        cap,
    };
    let written = bulk.write(&mut out);
    for (o, n) in [Outcome::Allow, Outcome::Deny, Outcome::Error]
        .into_iter()
        .zip(bulk.tally.take())
    {
        shared.decisions.count(Endpoint::CheckBulk, o, n);
    }
    match written {
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

/// A bulk check, its object and REST calls parsed, and the decisions'
/// results counted so far (allow, deny, error).
struct Bulk<'a> {
    shared: &'a Shared,
    snap: &'a Arc<Snapshot>,
    body: &'a BulkCheck,
    object: Arc<Object>,
    calls: Vec<(&'a String, RestCall)>,
    tally: std::cell::Cell<[u64; 3]>,
}

impl Bulk<'_> {
    /// Count the entry `d` (begun at `started`) and log it when the log
    /// admits a line.
    fn seen(&self, d: &Decided<'_>, rest: Option<&RestCall>, started: Instant) {
        let outcome = match (&d.error, d.allowed) {
            (Some(_), _) => Outcome::Error,
            (None, true) => Outcome::Allow,
            (None, false) => Outcome::Deny,
        };
        let mut tally = self.tally.get();
        tally[outcome as usize] += 1;
        self.tally.set(tally);
        let Some(log) = self.shared.log_admits() else {
            return;
        };
        let asked = Asked {
            user: &self.body.user,
            permission: d.permission,
            project: d.project,
            rest,
        };
        let entry = Entry::permission(
            Endpoint::CheckBulk,
            self.snap,
            asked,
            &self.object,
            outcome,
            d.error.clone(),
        );
        log.send(Entry {
            latency: started.elapsed(),
            ..entry
        });
    }

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
            let started = Instant::now();
            let d = self.decide(p, None);
            self.seen(&d, None, started);
            out.value(&d)?;
        }
        out.raw("],\"project_permissions\":[")?;
        let mut first = true;
        for pp in &self.body.project_permissions {
            for project in &pp.projects {
                for p in &pp.permissions {
                    out.raw(if first { "" } else { "," })?;
                    first = false;
                    let started = Instant::now();
                    let d = self.decide(p, Some(project));
                    self.seen(&d, None, started);
                    out.value(&d)?;
                }
            }
        }
        out.raw("],\"rest\":[")?;
        for (i, (line, call)) in self.calls.iter().enumerate() {
            out.raw(if i == 0 { "" } else { "," })?;
            let started = Instant::now();
            let d = self.rest_entry(line, call);
            self.seen(&d, Some(call), started);
            out.value(&d)?;
        }
        out.raw("]}")
    }
}
