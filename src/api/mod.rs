//! The HTTP API over the daemon's current snapshot and status: health,
//! status, reload, Prometheus metrics and (in `policy`) permission checks.
//! `schemes` shows the permission files as Jira Cloud permission schemes.
//! Its JSON shapes are small DTOs built here; the model is never
//! serialised directly.
//!
//! Serving (`serve`) is hyper with every HTTP bound of [`HttpLimits`];
//! heavy routes run on the blocking pool (see `policy`).
//!
//! Authorisation: `POST /v1/reload` always needs the bearer token (and is
//! refused when none is configured: use SIGHUP or the hooks then); when the
//! API listens beyond loopback, every route but `/healthz` needs it.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use crate::diag::{Diagnostic, DiagnosticJson};

use crate::current::{Current, Status, Trigger};

pub mod access;
pub mod decision_log;
pub mod decisions;
pub mod diff;
mod directory;
mod error;
mod metrics;
pub mod policy;
mod proxy;
mod reply;
pub mod schemes;
pub mod serve;
mod shared;

pub use decisions::{Decisions, Endpoint, Outcome};
pub use error::ApiError;
use metrics::Metrics;
pub use serve::HttpLimits;
use shared::Shared;
pub use shared::{Config, RevisionOrder, SnapshotReader};

/// The API's routes over the current snapshot and status.
pub fn router(current: Arc<Current>, config: Config) -> Router {
    let log = config.decision_log.as_ref().and_then(|c| {
        decision_log::DecisionLog::start(c)
            .map_err(|e| tracing::error!(error = %e, "cannot start the decision log"))
            .ok()
    });
    current.token.store(config.token.clone().map(Arc::new));
    let shared = Arc::new(Shared {
        heavy: Arc::new(tokio::sync::Semaphore::new(
            config.http.max_heavy_requests.max(1),
        )),
        current,
        config,
        decisions: Decisions::default(),
        log,
    });
    let max_body = shared.config.http.max_body_bytes;
    let guarded = Router::new()
        .route("/v1/status", get(status))
        .route("/metrics", get(metrics))
        .merge(policy::routes())
        .merge(schemes::routes())
        .merge(diff::routes())
        .merge(access::routes())
        .merge(directory::routes())
        .route_layer(middleware::from_fn_with_state(
            shared.clone(),
            guard_beyond_loopback,
        ));
    let reload = Router::new()
        .route("/v1/reload", post(reload))
        .route_layer(middleware::from_fn_with_state(shared.clone(), guard_always));
    Router::new()
        .route("/healthz", get(healthz))
        .merge(guarded)
        .merge(reload)
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .with_state(shared)
}

fn token_ok(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(expected) = shared.current.token.load_full() else {
        return false;
    };
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    constant_time_eq(given.trim().as_bytes(), expected.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn guard_beyond_loopback(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    if shared.config.beyond_loopback && !token_ok(&shared, req.headers()) {
        return ApiError::unauthorized("a bearer token is required").into_response();
    }
    next.run(req).await
}

async fn guard_always(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if shared.current.token.load().is_none() {
        return ApiError::bare(
            StatusCode::FORBIDDEN,
            "no token is configured (--token-file); reload with SIGHUP or the hooks",
        )
        .into_response();
    }
    if !token_ok(&shared, req.headers()) {
        return ApiError::unauthorized("a bearer token is required").into_response();
    }
    next.run(req).await
}

fn time(t: Option<SystemTime>) -> Option<String> {
    t.map(|t| humantime::format_rfc3339_millis(t).to_string())
}

/// `ok` (newest revision applied), `degraded` (serving an older revision
/// because the newest is bad) or `starting` (nothing good loaded yet).
fn state_name(shared: &Shared, status: &Status) -> &'static str {
    match (
        shared.current.snapshot.load().is_some(),
        status.stale_since.is_some(),
    ) {
        (false, _) => "starting",
        (true, true) => "degraded",
        (true, false) => "ok",
    }
}

/// The answer of `/healthz`.
#[derive(Debug, Serialize)]
struct Health {
    applied_revision: Option<String>,
    status: &'static str,
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let status = shared.current.status();
    let state = state_name(&shared, &status);
    let code = if state == "starting" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let health = Health {
        applied_revision: shared.current.revision(),
        status: state,
    };
    (code, axum::Json(health)).into_response()
}

/// The answer of `/v1/status`.
#[derive(Debug, Serialize)]
struct StatusAnswer<'a> {
    applied: Option<Applied<'a>>,
    attempted: Option<Attempted<'a>>,
    /// The directory synced (`[ldap]`; `null` without one).
    directory: Option<DirectoryAnswer>,
    last_reload_seconds: f64,
    reloads: Reloads,
    /// The remote followed (`null` when not following one).
    remote: Option<RemoteAnswer>,
    stale_since: Option<String>,
    started_at: Option<String>,
    status: &'static str,
    triggers: std::collections::BTreeMap<&'static str, u64>,
}

/// The remote followed, in `/v1/status` (the contract `rolesync fleet
/// status` reads).
#[derive(Debug, Serialize)]
struct RemoteAnswer {
    url: String,
    /// The remote's head at the last successful fetch.
    head: Option<String>,
    last_fetch_at: Option<String>,
    unreachable_since: Option<String>,
    /// The last fetch's error, the password redacted.
    error: Option<String>,
    /// The head refused, and why.
    refused: Option<String>,
}

impl RemoteAnswer {
    fn of(r: &crate::current::RemoteStatus) -> Self {
        RemoteAnswer {
            url: r.url.clone(),
            head: r.head.clone(),
            last_fetch_at: time(r.last_fetch_at),
            unreachable_since: time(r.unreachable_since),
            error: r.error.clone(),
            refused: r.refused.clone(),
        }
    }
}

/// The directory synced, in `/v1/status`.
#[derive(Debug, Serialize)]
struct DirectoryAnswer {
    url: String,
    /// The last good answer's revision (a SHA-256 of what was read).
    revision: Option<String>,
    /// The answer the snapshot served was built with.
    applied_revision: Option<String>,
    /// When the last good answer was taken (a sync that found it again
    /// counts).
    last_sync_at: Option<String>,
    last_attempt_at: Option<String>,
    last_sync_ok: Option<bool>,
    last_sync_seconds: Option<f64>,
    /// Whether the answer in force may be older than the directory:
    /// since `stale_since`, unreachable or held back.
    stale: bool,
    stale_since: Option<String>,
    unreachable_since: Option<String>,
    /// The last sync's error (never a password).
    error: Option<String>,
    held_back: Option<HeldBackAnswer>,
    groups: u64,
    members: u64,
    accounts: Option<u64>,
}

/// An answer the hold-back rail did not take.
#[derive(Debug, Serialize)]
struct HeldBackAnswer {
    revision: String,
    since: Option<String>,
    reason: String,
}

impl DirectoryAnswer {
    fn of(d: &crate::current::DirectoryStatus) -> Self {
        DirectoryAnswer {
            url: d.url.clone(),
            revision: d.revision.clone(),
            applied_revision: d.applied_revision.clone(),
            last_sync_at: time(d.last_sync_at),
            last_attempt_at: time(d.last_attempt_at),
            last_sync_ok: d.last_sync_ok,
            last_sync_seconds: d.last_sync_duration.map(|t| t.as_secs_f64()),
            stale: d.stale_since().is_some(),
            stale_since: time(d.stale_since()),
            unreachable_since: time(d.unreachable_since),
            error: d.error.clone(),
            held_back: d.held_back.as_ref().map(|h| HeldBackAnswer {
                revision: h.revision.clone(),
                since: time(Some(h.since)),
                reason: h.reason.clone(),
            }),
            groups: d.groups,
            members: d.members,
            accounts: d.accounts,
        }
    }
}

/// The applied revision, in `/v1/status`.
#[derive(Debug, Serialize)]
struct Applied<'a> {
    applied_at: Option<String>,
    author: Option<String>,
    commit_time: Option<i64>,
    revision: String,
    warnings: Vec<DiagnosticJson<'a>>,
}

/// The last reload attempt, in `/v1/status`.
#[derive(Debug, Serialize)]
struct Attempted<'a> {
    at: Option<String>,
    errors: Vec<DiagnosticJson<'a>>,
    message: Option<String>,
    result: &'static str,
    revision: Option<String>,
}

/// Reload counts by result, in `/v1/status`.
#[derive(Debug, Serialize)]
struct Reloads {
    applied: u64,
    failed: u64,
    unchanged: u64,
}

async fn status(State(shared): State<Arc<Shared>>) -> Response {
    let status = shared.current.status();
    let current = shared.current.snapshot.load_full();
    let attempted = status.last_attempt.as_ref().map(|a| Attempted {
        at: time(Some(a.at)),
        errors: a.errors.iter().map(Diagnostic::to_json).collect(),
        message: a.message.clone(),
        result: a.result.as_str(),
        revision: a.revision.clone(),
    });
    let applied = current.as_ref().map(|s| Applied {
        applied_at: time(status.applied_at),
        author: s.meta.as_ref().map(|m| m.author.clone()),
        commit_time: s.meta.as_ref().map(|m| m.time),
        revision: s.revision.clone(),
        warnings: status.warnings.iter().map(Diagnostic::to_json).collect(),
    });
    axum::Json(StatusAnswer {
        applied,
        attempted,
        directory: status.directory.as_ref().map(DirectoryAnswer::of),
        last_reload_seconds: status.last_duration.as_secs_f64(),
        reloads: Reloads {
            applied: status.applied,
            failed: status.failed,
            unchanged: status.unchanged,
        },
        remote: status.remote.as_ref().map(RemoteAnswer::of),
        stale_since: time(status.stale_since),
        started_at: time(status.started_at),
        status: state_name(&shared, &status),
        triggers: status.triggers.clone(),
    })
    .into_response()
}

/// The answer of `POST /v1/reload`.
#[derive(Debug, Serialize)]
struct Queued {
    reload: &'static str,
}

async fn reload(State(shared): State<Arc<Shared>>) -> Result<Response, ApiError> {
    shared
        .current
        .triggers
        .send(Trigger::Http)
        .map_err(|_| ApiError::bare(StatusCode::SERVICE_UNAVAILABLE, "shutting down"))?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Queued { reload: "queued" }),
    )
        .into_response())
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let status = shared.current.status();
    let current = shared.current.snapshot.load_full();
    let mut text = Metrics::of(&status, current.as_deref(), SystemTime::now()).render();
    shared.decisions.render(&mut text);
    if let Some(log) = &shared.log {
        log.render(&mut text);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

#[cfg(test)]
mod answers_tests;
#[cfg(test)]
mod tests;
