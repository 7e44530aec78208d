//! `/v1/authorize`: a reverse proxy's sub-request, decided on the
//! original method and URI from the configured [`ProxyKind`]'s headers and
//! the user from the configured header; 204, or 403 with Polarion's body.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::api::decision_log::{Cut, Entry, MAX_FIELD_BYTES, MAX_PATH_BYTES, Question};
use crate::api::decisions::{Endpoint, Outcome};
use crate::api::proxy::{AuthorizeLayers, ProxyKind};
use crate::api::reply::{REVISION_HEADER, error};
use crate::api::shared::Shared;
use crate::policy::rest::{self, RestDecision};
use crate::policy::{FORBIDDEN_BODY, Object, RestCall, Verdict};
use crate::snapshot::Snapshot;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

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

/// What a sub-request came to, before it is answered, counted and logged.
enum Came<'h> {
    /// No snapshot yet: 503.
    NotLoaded,
    /// Refused undecided (a header, or a path `RestPath` refuses): 403.
    Refused {
        why: String,
        asked: Option<(&'h str, &'h str, &'h str)>,
    },
    /// Decided by the policy (or refused by a request error: 403).
    Decided {
        asked: (&'h str, &'h str, &'h str),
        call: RestCall,
        decision: Result<RestDecision, String>,
    },
}

fn decide<'h>(shared: &Shared, snap: Option<&Snapshot>, headers: &'h HeaderMap) -> Came<'h> {
    let Some(snap) = snap else {
        return Came::NotLoaded;
    };
    let asked = match original(headers, shared.config.proxy, &shared.config.user_header) {
        Ok(x) => x,
        Err(why) => return Came::Refused { why, asked: None },
    };
    let (method, uri, user) = asked;
    let call = match RestCall::from_request(method, uri) {
        Ok(c) => c,
        Err(e) => {
            let why = e.to_string();
            return Came::Refused {
                why,
                asked: Some(asked),
            };
        }
    };
    let items = shared.config.authorize_layers == AuthorizeLayers::Both;
    let decision =
        rest::check(&snap.policy, user, &call, &Object::new(), items).map_err(|e| e.to_string());
    Came::Decided {
        asked,
        call,
        decision,
    }
}

impl Came<'_> {
    fn outcome(&self) -> Outcome {
        match self {
            Came::Decided {
                decision: Ok(d), ..
            } => Outcome::of(d.verdict()),
            _ => Outcome::Error,
        }
    }

    fn response(&self, rev: Option<&str>) -> Response {
        match self {
            Came::NotLoaded => error(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "no configuration is loaded yet",
            )
            .into_response(),
            Came::Refused { why, .. } => {
                tracing::debug!(%why, "authorize: refused");
                forbidden(rev)
            }
            Came::Decided { decision, .. } => match decision {
                Ok(d) if d.verdict() == Verdict::Allow => {
                    let mut r = StatusCode::NO_CONTENT.into_response();
                    if let Some(v) = rev.and_then(|v| HeaderValue::from_str(v).ok()) {
                        r.headers_mut().insert(REVISION_HEADER, v);
                    }
                    r
                }
                Ok(d) => match (d.refused(), &d.item) {
                    (Some(rest::Layer::Item), Some((a, _))) => forbidden_with(rev, a.body()),
                    _ => forbidden(rev),
                },
                Err(_) => forbidden(rev),
            },
        }
    }

    /// The decision log's entry: the user, the method and the canonical
    /// path (the path as given, bounded, when it was refused).
    fn entry(&self, shared: &Shared, snap: Option<Arc<Snapshot>>, started: Instant) -> Entry {
        let (asked, call, error) = match self {
            Came::NotLoaded => (
                None,
                None,
                Some("no configuration is loaded yet".to_owned()),
            ),
            Came::Refused { why, asked } => (*asked, None, Some(why.clone())),
            Came::Decided {
                asked,
                call,
                decision,
            } => (Some(*asked), Some(call), decision.as_ref().err().cloned()),
        };
        let (method, path) = match (call, asked) {
            (Some(c), _) => (c.verb.as_str().to_owned(), c.path.as_str().to_owned()),
            (None, Some((m, u, _))) => (m.to_owned(), u.to_owned()),
            (None, None) => (String::new(), String::new()),
        };
        let mut cut = Cut::default();
        Entry {
            at: SystemTime::now(),
            endpoint: Endpoint::Authorize,
            snapshot: snap,
            user: asked.map(|(_, _, u)| cut.cut(u, MAX_FIELD_BYTES)),
            question: Question::Call {
                method: cut.cut(&method, MAX_FIELD_BYTES),
                path: cut.cut(&path, MAX_PATH_BYTES),
                call: call.cloned(),
                items: shared.config.authorize_layers == AuthorizeLayers::Both,
            },
            outcome: self.outcome(),
            error: error.map(|e| cut.cut(&e, MAX_FIELD_BYTES)),
            latency: started.elapsed(),
            truncated: cut.truncated,
        }
    }
}

pub(super) async fn authorize(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let started = Instant::now();
    let snap = shared.current.snapshot.load_full();
    let decided = decide(&shared, snap.as_deref(), &headers);
    shared
        .decisions
        .record(Endpoint::Authorize, decided.outcome(), started);
    let response = decided.response(snap.as_deref().map(|s| s.revision.as_str()));
    if let Some(log) = shared.log_admits() {
        log.send(decided.entry(&shared, snap, started));
    }
    response
}
