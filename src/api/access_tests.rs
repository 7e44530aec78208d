//! `/v1/access`, `/v1/roles` and `/v1/projects` through the router in
//! process (`tower::ServiceExt::oneshot`).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::api::{Config, HttpLimits, policy, router};
use crate::current::Current;
use crate::snapshot;

const ACCESS: &str =
    "[/]\n* = r\n[/secret]\n* =\nalice = rw\n[r1:/x]\nbob = rw\n[:glob:/c/*.key]\nalice =\n";

fn current(revision: &str) -> Arc<Current> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::mem::forget(rx);
    let current = Arc::new(Current::new(tx));
    let files = [
        (
            snapshot::ROLES,
            r#"<roles><role id="admin" scope="global"/><role id="developer" scope="project"/></roles>"#,
        ),
        (
            snapshot::USER_ROLES,
            r#"<user-roles><user name="alice"><role name="admin"/></user></user-roles>"#,
        ),
        (snapshot::ACCESS_FILE, ACCESS),
        (
            "lib/.polarion/polarion-project.xml",
            r#"<project><field id="lead">carol</field></project>"#,
        ),
        (
            "lib/.polarion/security/user-roles.xml",
            r#"<user-roles><user name="bob"><role name="developer"/></user><user name="carol"><role name="developer"/></user></user-roles>"#,
        ),
    ];
    let snap = crate::api::tests::snapshot_of(revision, &files);
    current.snapshot.store(Some(Arc::new(snap)));
    current
}

fn app(current: &Arc<Current>) -> axum::Router {
    app_with(current, None)
}

/// With a token: as if listening beyond loopback.
fn app_with(current: &Arc<Current>, token: Option<&str>) -> axum::Router {
    router(
        current.clone(),
        Config {
            token: token.map(Into::into),
            beyond_loopback: token.is_some(),
            user_header: axum::http::HeaderName::from_static("x-remote-user"),
            proxy: policy::ProxyKind::default(),
            authorize_layers: policy::AuthorizeLayers::default(),
            http: HttpLimits::default(),
            is_at_least: Arc::new(|l: &str, w: &str| l == w),
            read_snapshot: None,
            decision_log: None,
        },
    )
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    get_with(app, uri, None).await
}

async fn get_with(app: &axum::Router, uri: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::builder().uri(uri);
    if let Some(t) = token {
        req = req.header(axum::http::header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = req.body(Body::empty()).expect("request");
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    (
        parts.status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn access_answers_like_svnauthz_with_the_revision() {
    let app = app(&current("5"));
    for (q, access) in [
        ("user=alice&path=/secret/a", "rw"),
        ("user=bob&path=/secret", "no"),
        ("user=&path=/", "r"),
        ("user=bob&path=/x&repository=r1", "rw"),
        ("user=bob&path=/x", "r"),
        ("user=alice&path=/c&recursive=true", "no"),
        ("user=alice&path=/c", "r"),
    ] {
        let (code, body) = get(&app, &format!("/v1/access?{q}")).await;
        assert_eq!(code, StatusCode::OK, "{q}: {body}");
        assert_eq!(body["access"], access, "{q}");
        assert_eq!(body["revision"], "5", "{q}");
    }
    let (_, body) = get(&app, "/v1/access?user=alice&path=secret//a/./").await;
    assert_eq!(
        body,
        json!({"access": "rw", "path": "/secret/a", "recursive": false,
               "repository": null, "revision": "5", "user": "alice"})
    );
    let (_, body) = get(&app, "/v1/access?user=&path=/").await;
    assert_eq!(body["user"], Value::Null, "empty user: anonymous");
}

#[tokio::test]
async fn access_refuses_bad_parameters_with_400() {
    let app = app(&current("5"));
    let long = "a".repeat(crate::api::access::MAX_PATH_BYTES + 1);
    for q in [
        "path=/".to_owned(),
        "user=alice".to_owned(),
        "user=alice&path=/a/../secret".to_owned(),
        "user=alice&path=/&path=/secret".to_owned(),
        "user=alice&path=/&color=red".to_owned(),
        "user=alice&path=/&recursive=yes".to_owned(),
        "user=al%0Aice&path=/".to_owned(),
        format!("user=alice&path=/{long}"),
    ] {
        let (code, body) = get(&app, &format!("/v1/access?{q}")).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{q}: {body}");
        assert!(body["error"].is_string(), "{q}: {body}");
    }
}

#[tokio::test]
async fn roles_list_every_role_and_its_holders_with_file_and_line() {
    let app = app(&current("5"));
    let (code, body) = get(&app, "/v1/roles").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["revision"], "5");
    assert_eq!(body["total"], 3);
    assert_eq!(body["next_offset"], Value::Null);
    let holders = body["holders"].as_array().expect("holders");
    assert_eq!(holders[0]["user"], "alice");
    assert_eq!(holders[0]["project"], Value::Null);
    assert_eq!(holders[0]["at"]["file"], snapshot::USER_ROLES);
    assert_eq!(holders[0]["at"]["line"], 1);
    assert_eq!(holders[1]["project"], "lib");
    let dev = body["roles"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["role"] == "developer"))
        .expect("developer listed");
    assert_eq!(dev["project_holders"], 2);
    assert_eq!(dev["scope"], "project");
    assert_eq!(dev["defined_at"]["file"], snapshot::ROLES);
    // Pages and a filter.
    let (_, body) = get(&app, "/v1/roles?role=developer&limit=1&offset=1").await;
    assert_eq!(
        (body["total"].clone(), body["next_offset"].clone()),
        (json!(2), Value::Null)
    );
    assert_eq!(body["holders"][0]["user"], "carol");
    let (_, body) = get(&app, "/v1/roles?limit=1").await;
    assert_eq!(body["next_offset"], 1);
    for bad in ["limit=0", "limit=999999", "offset=-1", "page=2"] {
        let (code, _) = get(&app, &format!("/v1/roles?{bad}")).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn projects_list_and_one_project_with_its_holders() {
    let app = app(&current("5"));
    let (code, body) = get(&app, "/v1/projects").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(
        body["projects"],
        json!([{"folder": "lib", "holders": 2, "id": "lib", "lead": "carol"}])
    );
    let (code, body) = get(&app, "/v1/projects/lib").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["id"], "lib");
    assert_eq!(body["total"], 2);
    assert_eq!(body["holders"][1]["user"], "carol");
    assert_eq!(body["holders"][1]["at"]["line"], 1);
    let roles: Vec<&str> = body["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|r| r["role"].as_str())
        .collect();
    assert!(
        roles.contains(&"developer") && roles.contains(&"project_admin"),
        "{roles:?}"
    );
    let (code, body) = get(&app, "/v1/projects/nope").await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn beyond_loopback_every_new_route_needs_the_token() {
    let app = app_with(&current("5"), Some("s3cret"));
    for uri in [
        "/v1/access?user=alice&path=/",
        "/v1/roles",
        "/v1/projects",
        "/v1/projects/lib",
    ] {
        let (code, _) = get_with(&app, uri, None).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{uri}");
        let (code, _) = get_with(&app, uri, Some("wrong")).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{uri}");
        let (code, body) = get_with(&app, uri, Some("s3cret")).await;
        assert_eq!(code, StatusCode::OK, "{uri}: {body}");
    }
}
