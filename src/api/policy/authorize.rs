//! `/v1/authorize`: a reverse proxy's sub-request, decided on the
//! original method and URI from the configured [`ProxyKind`]'s headers and
//! the user from the configured header; 204, or 403 with Polarion's body.

use std::sync::Arc;

use crate::api::proxy::{AuthorizeLayers, ProxyKind};
use crate::api::reply::{REVISION_HEADER, error};
use crate::api::shared::Shared;
use crate::policy::rest;
use crate::policy::{FORBIDDEN_BODY, Object, RestCall, Verdict};
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

pub(super) async fn authorize(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let Some(snap) = shared.current.snapshot.load_full() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "no configuration is loaded yet",
        )
        .into_response();
    };
    let rev = Some(snap.revision.as_str());
    let (method, uri, user) =
        match original(&headers, shared.config.proxy, &shared.config.user_header) {
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
    let items = shared.config.authorize_layers == AuthorizeLayers::Both;
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
