//! Every answer of the API, byte for byte, pinned as insta snapshots
//! (`src/api/snapshots/`): the status, the headers a client reads and the
//! body exactly as written. They were taken before the answers became
//! typed values, so they prove the bytes unchanged.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{Request, header};
use tokio::sync::mpsc;
use tower::ServiceExt as _;

use super::*;
use crate::current::{Attempt, ReloadResult};
use crate::diag::Diagnostic;
use crate::snapshot::{self, Limits};

const TOKEN: &str = "s3cret";

fn config(layers: policy::AuthorizeLayers) -> Config {
    Config {
        token: Some(TOKEN.into()),
        beyond_loopback: false,
        user_header: axum::http::HeaderName::from_static("x-user"),
        proxy: policy::ProxyKind::default(),
        authorize_layers: layers,
        http: HttpLimits::default(),
        is_at_least: Arc::new(|l: &str, w: &str| l == w),
        read_snapshot: None,
        decision_log: None,
    }
}

fn empty() -> (Arc<Current>, mpsc::UnboundedReceiver<Trigger>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Arc::new(Current::new(tx)), rx)
}

/// The report of a folder of this repository, at revision "7".
fn report_of(folder: &str) -> snapshot::Report {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let source = crate::repo::Source::open(&root, &crate::repo::Options::default()).expect("open");
    let mut input = source.read(None, Limits::default()).expect("read");
    input.revision = "7".into();
    snapshot::build(&input)
}

/// A router over the configuration in `folder`, loaded.
fn loaded(folder: &str, layers: policy::AuthorizeLayers) -> Router {
    let (current, rx) = empty();
    std::mem::forget(rx);
    let snap = report_of(folder).snapshot.expect("a valid configuration");
    current.snapshot.store(Some(Arc::new(snap)));
    router(current, config(layers))
}

/// One request, its answer as text: the status, the headers a client
/// reads, a blank line and the body exactly as sent.
async fn dump(
    router: Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> String {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if !body.is_empty() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let resp = router
        .oneshot(req.body(Body::from(body.to_owned())).expect("request"))
        .await
        .expect("infallible");
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    let mut out = format!("{}\n", parts.status);
    let mut names: Vec<&str> = parts.headers.keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        if name == "content-length" {
            continue;
        }
        for v in parts.headers.get_all(name) {
            out.push_str(&format!("{name}: {}\n", v.to_str().unwrap_or("<bytes>")));
        }
    }
    out.push('\n');
    out.push_str(&String::from_utf8_lossy(&bytes));
    out
}

/// `GET`s of `uris` against one router, one dump each.
async fn gets(router: &Router, uris: &[&str]) -> String {
    let mut out = String::new();
    for uri in uris {
        out.push_str(&format!("GET {uri}\n"));
        out.push_str(&dump(router.clone(), "GET", uri, &[], "").await);
        out.push_str("\n\n");
    }
    out
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const WIM: &str = "permission=com.polarion.persistence.object.WorkItem.modify";

#[tokio::test]
async fn check_get_answers() {
    let r = loaded("sample-repo", policy::AuthorizeLayers::Endpoint);
    let approved = enc("status=approved");
    let uris = [
        format!("/v1/check?user=carol&{WIM}&project=elibrary"),
        format!("/v1/check?user=carol&{WIM}&project=drivepilot&object={approved}"),
        "/v1/check?user=dave&permission=com.polarion.security.login".to_owned(),
        format!(
            "/v1/check?user=heidi&rest={}",
            enc("GET /polarion/rest/v1/projects")
        ),
        format!(
            "/v1/check?user=heidi&rest={}",
            enc("PATCH /polarion/rest/v1/projects/drivepilot")
        ),
        "/v1/check?permission=x".to_owned(),
        "/v1/check?user=bob&permission=x&project=nope".to_owned(),
        "/v1/check?user=bob&rest=PUT%20/x".to_owned(),
        "/v1/check?user=bob&permission=x&min_revision=8".to_owned(),
    ];
    let uris: Vec<&str> = uris.iter().map(String::as_str).collect();
    insta::assert_snapshot!(gets(&r, &uris).await);
}

/// The REST calls of `tests/data/policy/rest-layers`, both layers.
fn rest_layer_queries() -> Vec<String> {
    let no_expansion = format!("&object={}", enc("expanded:linked=false"));
    [
        ("u", "GET /polarion/rest/v1/projects/A", ""),
        ("w", "GET /polarion/rest/v1/projects/A", ""),
        (
            "w",
            "PATCH /polarion/rest/v1/projects/A/workitems/A-2",
            no_expansion.as_str(),
        ),
        (
            "u",
            "PATCH /polarion/rest/v1/projects/A/workitems/A-2",
            no_expansion.as_str(),
        ),
        ("u", "PATCH /polarion/rest/v1/projects/A/workitems/A-2", ""),
        ("w", "GET /polarion/rest/v1/projects/A/workitems", ""),
    ]
    .iter()
    .map(|(user, call, extra)| format!("user={user}&rest={}{extra}", enc(call)))
    .collect()
}

#[tokio::test]
async fn rest_check_and_explain_answers() {
    let r = loaded(
        "tests/data/policy/rest-layers",
        policy::AuthorizeLayers::Endpoint,
    );
    let mut uris = Vec::new();
    for q in rest_layer_queries() {
        uris.push(format!("/v1/check?{q}"));
        uris.push(format!("/v1/explain?{q}"));
    }
    let uris: Vec<&str> = uris.iter().map(String::as_str).collect();
    insta::assert_snapshot!(gets(&r, &uris).await);
}

#[tokio::test]
async fn explain_answers() {
    let r = loaded("sample-repo", policy::AuthorizeLayers::Endpoint);
    let uris = [
        format!(
            "/v1/explain?user=carol&{WIM}&project=drivepilot&object={}",
            enc("status=approved")
        ),
        format!("/v1/explain?user=alice&{WIM}&project=drivepilot"),
        "/v1/explain?user=erin&permission=com.polarion.security.login".to_owned(),
        "/v1/explain?user=dave&permission=com.polarion.security.login".to_owned(),
        format!(
            "/v1/explain?user=heidi&rest={}",
            enc("GET /polarion/rest/v1/projects/drivepilot")
        ),
        "/v1/explain?user=bob&permission=x&project=nope".to_owned(),
    ];
    let uris: Vec<&str> = uris.iter().map(String::as_str).collect();
    insta::assert_snapshot!(gets(&r, &uris).await);
}

#[tokio::test]
async fn bulk_check_answers() {
    let r = loaded("sample-repo", policy::AuthorizeLayers::Endpoint);
    let sample = r#"{"user":"carol","object":{"status":["approved","draft"]},"global_permissions":["com.polarion.security.login"],"project_permissions":[{"permissions":["com.polarion.persistence.object.WorkItem.read","com.polarion.persistence.object.WorkItem.modify"],"projects":["elibrary","drivepilot","nope"]}],"rest":["GET /polarion/rest/v1/projects/elibrary","GET /polarion/rest/v1/projects/nope"]}"#;
    let layers = loaded(
        "tests/data/policy/rest-layers",
        policy::AuthorizeLayers::Endpoint,
    );
    let rest = r#"{"user":"w","rest":["GET /polarion/rest/v1/projects/A","PATCH /polarion/rest/v1/projects/A/workitems/A-2","GET /polarion/rest/v1/projects/A/workitems"]}"#;
    let mut out = String::new();
    for (r, body) in [
        (&r, sample),
        (&layers, rest),
        (&r, r#"{"user":"carol"}"#),
        (&r, r#"{"users":1}"#),
        (&r, r#"{"user":"carol","rest":["PUT /x"]}"#),
    ] {
        out.push_str(&format!("POST /v1/check {body}\n"));
        out.push_str(&dump(r.clone(), "POST", "/v1/check", &[], body).await);
        out.push_str("\n\n");
    }
    insta::assert_snapshot!(out);
}

#[tokio::test]
async fn authorize_answers() {
    let mut out = String::new();
    for layers in [
        policy::AuthorizeLayers::Endpoint,
        policy::AuthorizeLayers::Both,
    ] {
        let r = loaded("tests/data/policy/rest-layers", layers);
        for (method, uri, user) in [
            ("GET", "/polarion/rest/v1/projects/A", "u"),
            ("GET", "/polarion/rest/v1/projects/A", "w"),
            ("PUT", "/polarion/rest/v1/projects/A", "u"),
            ("GET", "/polarion/rest/v1/projects/nope", "u"),
        ] {
            out.push_str(&format!("{layers:?}: {method} {uri} as {user}\n"));
            let headers = [
                ("x-original-method", method),
                ("x-original-uri", uri),
                ("x-user", user),
            ];
            out.push_str(&dump(r.clone(), "GET", "/v1/authorize", &headers, "").await);
            out.push_str("\n\n");
        }
    }
    let (current, _rx) = empty();
    let r = router(current, config(policy::AuthorizeLayers::Endpoint));
    out.push_str("nothing loaded\n");
    out.push_str(&dump(r, "GET", "/v1/authorize", &[], "").await);
    insta::assert_snapshot!(out);
}

#[tokio::test]
async fn user_answers() {
    let r = loaded("sample-repo", policy::AuthorizeLayers::Endpoint);
    let uris = [
        "/v1/users/bob",
        "/v1/users/erin",
        "/v1/users/dave",
        "/v1/users/mallory",
        "/v1/users/bob?min_revision=8",
    ];
    insta::assert_snapshot!(gets(&r, &uris).await);
}

#[tokio::test]
async fn permission_scheme_answers() {
    let r = loaded("sample-repo", policy::AuthorizeLayers::Endpoint);
    let list = dump(r.clone(), "GET", "/v1/permissionschemes", &[], "").await;
    let body = list.split("\n\n").nth(1).expect("a body");
    let v: serde_json::Value = serde_json::from_str(body).expect("JSON");
    let id = v["permissionSchemes"][0]["id"].as_u64().expect("an id");
    let grants = dump(
        r.clone(),
        "GET",
        &format!("/v1/permissionschemes/{id}/permission"),
        &[],
        "",
    )
    .await;
    let v: serde_json::Value =
        serde_json::from_str(grants.split("\n\n").nth(1).expect("a body")).expect("JSON");
    let grant = v["permissions"][0]["id"].as_u64().expect("a grant id");
    let uris = [
        "/v1/permissionschemes".to_owned(),
        "/v1/permissionschemes?expand=all".to_owned(),
        format!("/v1/permissionschemes/{id}"),
        format!("/v1/permissionschemes/{id}/permission?expand=user,group"),
        format!("/v1/permissionschemes/{id}/permission/{grant}"),
        "/v1/permissionschemes/1".to_owned(),
        "/v1/permissionschemes?colour=blue".to_owned(),
    ];
    let uris: Vec<&str> = uris.iter().map(String::as_str).collect();
    insta::assert_snapshot!(gets(&r, &uris).await);
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(secs * 1000 + 250)
}

/// A status with every field set: counters, triggers, a failed attempt
/// with errors, and the warnings of the applied revision.
fn busy_status(current: &Current, stale: bool) {
    let bad = report_of("tests/data/diag/invalid-login");
    let (errors, _): (Vec<Diagnostic>, Vec<Diagnostic>) =
        bad.diagnostics.into_iter().partition(Diagnostic::is_error);
    let warned = report_of("tests/data/diag/unknown-role");
    let warnings: Vec<Diagnostic> = warned
        .diagnostics
        .into_iter()
        .filter(|d| !d.is_error())
        .collect();
    assert!(!errors.is_empty() && !warnings.is_empty());
    current.update(|s| {
        s.started_at = Some(at(1_700_000_000));
        s.applied_at = Some(at(1_700_000_005));
        s.applied = 3;
        s.unchanged = 2;
        s.failed = 1;
        s.last_duration = Duration::from_millis(1250);
        s.triggers = BTreeMap::from([("startup", 1), ("watch", 4), ("http", 2)]);
        s.stale_since = stale.then(|| at(1_700_000_010));
        s.warnings = warnings;
        s.last_attempt = Some(Attempt {
            revision: Some("8".into()),
            at: at(1_700_000_010),
            result: ReloadResult::Failed,
            errors,
            message: Some("cannot read the revision".into()),
        });
    });
}

#[tokio::test]
async fn status_health_and_reload_answers() {
    let (current, mut rx) = empty();
    let r = router(current.clone(), config(policy::AuthorizeLayers::Endpoint));
    current.update(|s| s.started_at = Some(at(1_700_000_000)));
    let mut out = gets(&r, &["/v1/status", "/healthz"]).await;
    let snap = report_of("sample-repo").snapshot.expect("valid");
    current.snapshot.store(Some(Arc::new(snap)));
    busy_status(&current, true);
    out.push_str(&gets(&r, &["/v1/status", "/healthz"]).await);
    current.update(|s| {
        s.stale_since = None;
        if let Some(a) = s.last_attempt.as_mut() {
            a.result = ReloadResult::Applied;
            a.errors.clear();
            a.message = None;
        }
    });
    out.push_str(&gets(&r, &["/v1/status"]).await);
    let auth = format!("Bearer {TOKEN}");
    out.push_str("POST /v1/reload\n");
    out.push_str(
        &dump(
            r.clone(),
            "POST",
            "/v1/reload",
            &[("authorization", auth.as_str())],
            "",
        )
        .await,
    );
    assert_eq!(rx.try_recv().ok(), Some(Trigger::Http));
    out.push_str("\n\nPOST /v1/reload without the token\n");
    out.push_str(&dump(r.clone(), "POST", "/v1/reload", &[], "").await);
    insta::assert_snapshot!(out);
}

/// The build-info label that changes with every commit.
fn commit_label() -> String {
    format!("commit=\"{}\"", super::metrics::COMMIT)
}

#[tokio::test]
async fn metrics_answers() {
    let (current, _rx) = empty();
    let r = router(current.clone(), config(policy::AuthorizeLayers::Endpoint));
    let mut out = gets(&r, &["/metrics"]).await;
    let snap = report_of("sample-repo").snapshot.expect("valid");
    current.snapshot.store(Some(Arc::new(snap)));
    busy_status(&current, false);
    current.update(|s| s.reload_durations.0.observe(Duration::from_millis(1250)));
    for uri in [
        "/v1/check?user=dave&permission=com.polarion.security.login",
        "/v1/check?user=carol&permission=x&project=nowhere",
    ] {
        dump(r.clone(), "GET", uri, &[], "").await;
    }
    out.push_str(&gets(&r, &["/metrics"]).await);
    // Decision latencies vary: their buckets and sums are left out.
    let out: String = out
        .replace(&commit_label(), "commit=\"<commit>\"")
        .lines()
        .filter(|l| {
            !l.starts_with("rolesync_decision_duration_seconds_bucket{endpoint=\"check\"")
                && !l.starts_with("rolesync_decision_duration_seconds_sum{endpoint=\"check\"")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(out);
}

/// A followed remote in `/v1/status` (the contract `fleet status` reads)
/// and its `rolesync_remote_*` gauges: reachable and behind (its head
/// refused), then unreachable with nothing fetched yet (only the
/// unreachable gauge is known).
#[tokio::test]
async fn a_followed_remote_in_status_and_metrics() {
    let (current, _rx) = empty();
    let r = router(current.clone(), config(policy::AuthorizeLayers::Endpoint));
    let snap = report_of("sample-repo").snapshot.expect("valid");
    current.snapshot.store(Some(Arc::new(snap)));
    current.update(|s| {
        s.started_at = Some(at(1_700_000_000));
        s.remote = Some(crate::current::RemoteStatus {
            url: "git://config.example/config.git".into(),
            head: Some("0123abcd".into()),
            last_fetch_at: Some(at(1_700_000_020)),
            unreachable_since: None,
            error: None,
            refused: Some("0123abcd: not a descendant of the applied commit".into()),
        });
    });
    let mut out = gets(&r, &["/v1/status"]).await;
    let metrics = gets(&r, &["/metrics"]).await;
    let remote_lines = |m: &str| -> String {
        m.lines()
            .filter(|l| l.contains("rolesync_remote_") && !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    out.push_str(&remote_lines(&metrics));
    current.update(|s| {
        s.remote = Some(crate::current::RemoteStatus {
            url: "svn://config.example/config".into(),
            unreachable_since: Some(SystemTime::now() - Duration::from_secs(90)),
            error: Some("svn info: connection refused".into()),
            ..Default::default()
        });
    });
    let metrics = gets(&r, &["/metrics"]).await;
    let lines = remote_lines(&metrics);
    assert!(
        !lines.contains("last_fetch") && !lines.contains("behind"),
        "{lines}"
    );
    let unreachable: f64 = lines
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("one gauge");
    assert!((89.0..200.0).contains(&unreachable), "{lines}");
    insta::assert_snapshot!(out);
}

/// A synced directory in `/v1/status` and its `rolesync_directory_*`
/// gauges: a good answer in force and a mass removal held back since 30 s.
#[tokio::test]
async fn a_synced_directory_in_status_and_metrics() {
    let (current, _rx) = empty();
    let r = router(current.clone(), config(policy::AuthorizeLayers::Endpoint));
    let snap = report_of("sample-repo").snapshot.expect("valid");
    current.snapshot.store(Some(Arc::new(snap)));
    let good = "3f2a".repeat(16);
    current.update(|s| {
        s.started_at = Some(at(1_700_000_000));
        s.directory = Some(crate::current::DirectoryStatus {
            url: "ldap://ldap.example.org".into(),
            revision: Some(good.clone()),
            applied_revision: Some(good.clone()),
            last_sync_at: Some(at(1_700_000_300)),
            last_attempt_at: Some(at(1_700_000_300)),
            last_sync_ok: Some(true),
            last_sync_duration: Some(Duration::from_millis(250)),
            unreachable_since: None,
            error: None,
            held_back: Some(crate::current::HeldBack {
                revision: "9c1e".repeat(16),
                since: at(1_700_000_270),
                reason: "the directory's answer removes 40 of 100 memberships".into(),
            }),
            groups: 2,
            members: 100,
            accounts: Some(120),
        });
    });
    let mut out = gets(&r, &["/v1/status"]).await;
    let metrics = gets(&r, &["/metrics"]).await;
    let lines: String = (metrics.lines())
        .filter(|l| l.contains("rolesync_directory_") && !l.starts_with('#'))
        .filter(|l| !l.starts_with("rolesync_directory_stale_seconds"))
        .map(|l| format!("{l}\n"))
        .collect();
    let stale = (metrics.lines())
        .find_map(|l| l.strip_prefix("rolesync_directory_stale_seconds "))
        .and_then(|v| v.parse::<f64>().ok())
        .expect("the stale gauge");
    assert!(stale > 1000.0, "held back since 2023: {stale}");
    out.push_str(&lines);
    insta::assert_snapshot!(out);
}
