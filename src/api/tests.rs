//! The router in process (`tower::ServiceExt::oneshot`): status codes,
//! headers and JSON shapes, beside the end-to-end tests of tests/it/.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tower::ServiceExt as _;

use super::*;
use crate::snapshot::{self, Input};

const TOKEN: &str = "s3cret";

/// A router over `current`, with a token, on loopback; revisions order
/// by number only.
fn router_over(current: &Arc<Current>) -> Router {
    let config = Config {
        token: Some(TOKEN.into()),
        is_at_least: Arc::new(
            |l: &str, w: &str| matches!((l.parse::<u64>(), w.parse::<u64>()), (Ok(l), Ok(w)) if l >= w),
        ),
        ..config_without_token()
    };
    router(current.clone(), config)
}

fn empty() -> (Arc<Current>, mpsc::UnboundedReceiver<Trigger>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Arc::new(Current::new(tx)), rx)
}

/// alice holds the global role `admin`, which grants `read`.
fn load(current: &Current, revision: &str) {
    let files = [
        (
            snapshot::ROLES,
            r#"<roles><role id="admin" scope="global"/></roles>"#,
        ),
        (
            snapshot::USER_ROLES,
            r#"<user-roles><user name="alice"><role name="admin"/></user></user-roles>"#,
        ),
        (
            snapshot::PERMISSIONS,
            r#"<permissions><role name="admin"><grant permission="read"/></role></permissions>"#,
        ),
    ];
    current
        .snapshot
        .store(Some(Arc::new(snapshot_of(revision, &files))));
}

/// The snapshot of a configuration given as (path, text) pairs, which must
/// be valid (the router tests' one way to build one).
pub(super) fn snapshot_of(revision: &str, files: &[(&str, &str)]) -> crate::snapshot::Snapshot {
    let input = Input {
        revision: revision.into(),
        files: files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).into()))
            .collect(),
        ..Input::default()
    };
    let report = snapshot::build(&input);
    report
        .snapshot
        .unwrap_or_else(|| panic!("a valid configuration: {:#?}", report.diagnostics))
}

/// Send one request; the status, the headers and the body as JSON (null
/// when it is not JSON).
async fn call(
    router: Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let resp = router
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, parts.headers, value)
}

#[tokio::test]
async fn healthz_is_503_until_a_snapshot_is_loaded_then_200() {
    let (current, _rx) = empty();
    let (code, _, body) = call(router_over(&current), "GET", "/healthz", None).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body,
        json!({ "status": "starting", "applied_revision": null })
    );
    load(&current, "7");
    let (code, _, body) = call(router_over(&current), "GET", "/healthz", None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body, json!({ "status": "ok", "applied_revision": "7" }));
}

#[tokio::test]
async fn reload_needs_the_token_and_queues_one_http_trigger() {
    let (current, mut rx) = empty();
    let (code, headers, body) = call(router_over(&current), "POST", "/v1/reload", None).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(body, json!({ "error": "a bearer token is required" }));
    let (code, _, _) = call(router_over(&current), "POST", "/v1/reload", Some("nope")).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert!(rx.try_recv().is_err(), "no trigger without the token");
    let (code, _, body) = call(router_over(&current), "POST", "/v1/reload", Some(TOKEN)).await;
    assert_eq!(code, StatusCode::ACCEPTED);
    assert_eq!(body, json!({ "reload": "queued" }));
    assert_eq!(rx.try_recv().ok(), Some(Trigger::Http));
    drop(rx);
    let (code, _, body) = call(router_over(&current), "POST", "/v1/reload", Some(TOKEN)).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, json!({ "error": "shutting down" }));
}

#[tokio::test]
async fn reload_is_forbidden_when_no_token_is_configured() {
    let (current, _rx) = empty();
    let r = router(current, config_without_token());
    let (code, _, body) = call(r, "POST", "/v1/reload", None).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({ "error": "no token is configured (--token-file); reload with SIGHUP or the hooks" })
    );
}

fn config_without_token() -> Config {
    Config {
        token: None,
        beyond_loopback: false,
        user_header: axum::http::HeaderName::from_static("x-remote-user"),
        proxy: policy::ProxyKind::default(),
        authorize_layers: policy::AuthorizeLayers::default(),
        http: HttpLimits::default(),
        is_at_least: Arc::new(|l: &str, w: &str| l == w),
        read_snapshot: None,
        decision_log: None,
    }
}

#[tokio::test]
async fn check_answers_with_the_revision_and_refuses_bad_questions() {
    let (current, _rx) = empty();
    let read = "/v1/check?user=alice&permission=read";
    let (code, _, body) = call(router_over(&current), "GET", read, None).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body,
        json!({ "error": "no configuration is loaded yet", "revision": null })
    );
    load(&current, "7");
    let (code, _, body) = call(router_over(&current), "GET", read, None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({
            "revision": "7", "user": "alice", "permission": "read", "project": null,
            "decision": "allow", "allowed": true,
        })
    );
    let (code, _, body) = call(router_over(&current), "GET", "/v1/check?user=alice", None).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({ "error": "the parameter `permission` (or `rest`) is required", "revision": "7" })
    );
    let (code, _, body) = call(router_over(&current), "GET", "/v1/check?bogus=1", None).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unknown parameter `bogus`");
}

#[tokio::test]
async fn min_revision_ahead_of_the_loaded_one_is_409() {
    let (current, _rx) = empty();
    load(&current, "7");
    let uri = "/v1/check?user=alice&permission=read&min_revision=8";
    let (code, _, body) = call(router_over(&current), "GET", uri, None).await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(
        body,
        json!({
            "error": "the loaded revision is older than min_revision",
            "revision": "7", "min_revision": "8",
        })
    );
    let uri = "/v1/check?user=alice&permission=read&min_revision=6";
    let (code, _, _) = call(router_over(&current), "GET", uri, None).await;
    assert_eq!(code, StatusCode::OK);
}

#[tokio::test]
async fn beyond_loopback_every_route_but_healthz_needs_the_token() {
    let (current, _rx) = empty();
    load(&current, "7");
    let config = Config {
        beyond_loopback: true,
        token: Some(TOKEN.into()),
        ..config_without_token()
    };
    let r = router(current, config);
    for uri in [
        "/v1/status",
        "/metrics",
        "/v1/check?user=alice&permission=read",
    ] {
        let (code, _, body) = call(r.clone(), "GET", uri, None).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(
            body,
            json!({ "error": "a bearer token is required" }),
            "{uri}"
        );
        let (code, _, _) = call(r.clone(), "GET", uri, Some(TOKEN)).await;
        assert_eq!(code, StatusCode::OK, "{uri}");
    }
    let (code, _, _) = call(r, "GET", "/healthz", None).await;
    assert_eq!(code, StatusCode::OK);
}

#[tokio::test]
async fn status_has_its_shape_before_and_after_a_load() {
    let (current, _rx) = empty();
    let (code, _, body) = call(router_over(&current), "GET", "/v1/status", None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["status"], "starting");
    assert_eq!(body["applied"], Value::Null);
    assert_eq!(body["attempted"], Value::Null);
    assert_eq!(
        body["reloads"],
        json!({ "applied": 0, "unchanged": 0, "failed": 0 })
    );
    assert!(body["started_at"].is_string(), "{body}");
    load(&current, "7");
    let (_, _, body) = call(router_over(&current), "GET", "/v1/status", None).await;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["applied"]["revision"], "7");
    assert_eq!(body["applied"]["warnings"], json!([]));
}

/// Revision "1": alice is admin; revision "2": bob too.
fn diff_reader() -> SnapshotReader {
    Arc::new(|rev: &str| {
        let holders = match rev {
            "1" => r#"<user name="alice"><role name="admin"/></user>"#,
            "2" => {
                r#"<user name="alice"><role name="admin"/></user><user name="bob"><role name="admin"/></user>"#
            }
            _ => return Err(format!("no revision {rev}")),
        };
        let files = [
            (
                snapshot::USER_ROLES.to_owned(),
                format!("<user-roles>{holders}</user-roles>").into_bytes(),
            ),
            (
                snapshot::ACCESS_FILE.to_owned(),
                b"[/]\n@admin = rw\n".to_vec(),
            ),
        ];
        let input = Input {
            revision: rev.into(),
            files: files.into_iter().map(|(p, b)| (p, b.into())).collect(),
            ..Input::default()
        };
        snapshot::build(&input)
            .snapshot
            .ok_or_else(|| "invalid".to_owned())
    })
}

#[tokio::test]
async fn diff_answers_version_1_and_refuses_what_is_no_revision() {
    let (current, _rx) = empty();
    let config = Config {
        read_snapshot: Some(diff_reader()),
        ..config_without_token()
    };
    let r = router(current, config);
    let (code, _, body) = call(r.clone(), "GET", "/v1/diff?from=1&to=2", None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["version"], 1);
    assert_eq!(body["gaining"], json!(["bob"]));
    assert_eq!(body["paths"]["changes"][0]["to"], "rw");
    for uri in [
        "/v1/diff?from=main&to=2",
        "/v1/diff?from=1",
        "/v1/diff?from=1&to=--all",
    ] {
        let (code, _, body) = call(r.clone(), "GET", uri, None).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{uri}: {body}");
    }
    let (code, _, body) = call(r, "GET", "/v1/diff?from=1&to=3", None).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn diff_needs_the_token_beyond_loopback_and_a_reader() {
    let (current, _rx) = empty();
    let config = Config {
        beyond_loopback: true,
        token: Some(TOKEN.into()),
        read_snapshot: Some(diff_reader()),
        ..config_without_token()
    };
    let r = router(current.clone(), config);
    let (code, _, _) = call(r.clone(), "GET", "/v1/diff?from=1&to=2", None).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    let (code, _, _) = call(r, "GET", "/v1/diff?from=1&to=2", Some(TOKEN)).await;
    assert_eq!(code, StatusCode::OK);
    let (code, _, _) = call(
        router(current, config_without_token()),
        "GET",
        "/v1/diff?from=1&to=2",
        None,
    )
    .await;
    assert_eq!(code, StatusCode::NOT_IMPLEMENTED);
}
