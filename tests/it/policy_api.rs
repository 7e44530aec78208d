//! The permission routes of a real `rolesync serve`: `GET`/`POST
//! /v1/check`, `/v1/explain`, `/v1/users/{login}`, `/v1/authorize` with
//! its exact 403 body, and `min_revision` against Git history.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use crate::daemon::{Config, Daemon, wait_until};
use crate::util;

const FORBIDDEN: &str = r#"{"errors":[{"status":"403","title":"Forbidden","detail":"Sorry, you do not have the necessary permissions to perform this operation. Please contact your Administrator if you need additional permissions.","source":null}]}"#;
const LIMIT: Duration = Duration::from_secs(20);

/// An HTTP/1.1 exchange: (status, lower-case headers, body).
fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the API");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(head.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn get_json(d: &Daemon, path: &str) -> (u16, Value) {
    let (status, _, body) = request(&d.addr, "GET", path, &[], "");
    let v = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, v)
}

/// A daemon on a folder configuration, once it has loaded it.
fn serve(repo: &std::path::Path, extra: &[&str]) -> (tempfile::TempDir, Daemon) {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = Daemon::start(
        repo,
        &dir.path().join("access"),
        &dir.path().join("state"),
        extra,
    );
    wait_until(LIMIT, "the first load", || {
        d.http("GET", "/healthz", None).0 == 200
    });
    (dir, d)
}

fn enc(s: &str) -> String {
    s.replace('%', "%25")
        .replace(' ', "%20")
        .replace('=', "%3D")
        .replace('&', "%26")
        .replace('/', "%2F")
}

/// `GET /v1/check` for each `(query, decision)`.
fn check(d: &Daemon, cases: &[(&str, &str)]) {
    let revision = d.status()["applied"]["revision"].clone();
    for (query, expect) in cases {
        let (status, v) = get_json(d, &format!("/v1/check?{query}"));
        assert_eq!(status, 200, "{query}: {v}");
        assert_eq!(v["decision"], *expect, "{query}: {v}");
        assert_eq!(v["allowed"], *expect == "allow", "{query}: {v}");
        assert_eq!(v["revision"], revision, "{query}: {v}");
        let (_, e) = get_json(d, &format!("/v1/explain?{query}"));
        assert_eq!(e["decision"], *expect, "explain {query}: {e}");
    }
}

#[test]
fn check_and_explain_answer_with_the_revision() {
    let (_dir, d) = serve(&util::root().join("sample-repo"), &[]);
    let wim = "permission=com.polarion.persistence.object.WorkItem.modify";
    check(
        &d,
        &[
            (&format!("user=carol&{wim}&project=elibrary"), "allow"),
            (
                &format!(
                    "user=carol&{wim}&project=drivepilot&object={}",
                    enc("status=approved")
                ),
                "deny",
            ),
            (&format!("user=alice&{wim}&project=drivepilot"), "allow"),
            ("user=dave&permission=com.polarion.security.login", "deny"),
            (
                &format!("user=heidi&rest={}", enc("GET /polarion/rest/v1/projects")),
                "allow",
            ),
            // The auditor role's global GET reaches every project (000/001:
            // global settings are inherited unless a project overrides them).
            (
                &format!(
                    "user=heidi&rest={}",
                    enc("GET /polarion/rest/v1/projects/drivepilot")
                ),
                "allow",
            ),
            (
                &format!(
                    "user=heidi&rest={}",
                    enc("PATCH /polarion/rest/v1/projects/drivepilot")
                ),
                "deny",
            ),
        ],
    );
    let (_, e) = get_json(
        &d,
        &format!(
            "/v1/explain?user=carol&{wim}&project=drivepilot&object={}",
            enc("status=approved")
        ),
    );
    let text = e["text"].as_str().expect("text");
    assert!(text.contains("custom set WorkItem_approved"), "{text}");
    assert_eq!(
        e["steps"][0]["customset"]["key"],
        "@WorkItem_approved.modify"
    );
    let carol = &e["steps"][0]["roles"][1];
    assert_eq!(carol["role"], "project_user");
    assert_eq!(carol["state"], "explicit deny");
    assert_eq!(
        carol["setting"]["at"]["file"],
        "Engineering/drivepilot/.polarion/security/permissions.xml"
    );
    let bad = [
        ("/v1/check?permission=x", 400),
        ("/v1/check?user=bob", 400),
        ("/v1/check?user=bob&permission=x&project=nope", 404),
        ("/v1/check?user=bob&rest=PUT%20/x", 400),
        ("/v1/check?user=bob&permission=x&colour=blue", 400),
    ];
    for (path, code) in bad {
        let (status, v) = get_json(&d, path);
        assert_eq!(status, code, "{path}: {v}");
        assert!(v["error"].is_string(), "{path}: {v}");
        assert!(
            v["revision"].is_string(),
            "every JSON answer names the revision: {path}: {v}"
        );
    }
}

#[test]
fn bulk_check_answers_every_permission_in_every_project() {
    let (_dir, d) = serve(&util::root().join("sample-repo"), &[]);
    let body = json!({
        "user": "carol",
        "object": { "status": "approved" },
        "global_permissions": ["com.polarion.security.login"],
        "project_permissions": [{
            "permissions": ["com.polarion.persistence.object.WorkItem.read", "com.polarion.persistence.object.WorkItem.modify"],
            "projects": ["elibrary", "drivepilot", "nope"],
        }],
        "rest": ["GET /polarion/rest/v1/projects/elibrary"],
    });
    let (status, _, text) = request(&d.addr, "POST", "/v1/check", &[], &body.to_string());
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).expect("JSON");
    assert!(v["revision"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(v["global_permissions"][0]["decision"], "allow");
    let got: Vec<(String, String, String)> = v["project_permissions"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            (
                r["project"].as_str().unwrap_or("").to_owned(),
                r["permission"]
                    .as_str()
                    .unwrap_or("")
                    .rsplit('.')
                    .next()
                    .unwrap_or("")
                    .to_owned(),
                r["decision"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String, String)> = [
        ("elibrary", "read", "allow"),
        ("elibrary", "modify", "deny"),
        ("drivepilot", "read", "allow"),
        ("drivepilot", "modify", "deny"),
        ("nope", "read", "deny"),
        ("nope", "modify", "deny"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(got, want, "{v}");
    assert!(v["project_permissions"][4]["error"].is_string());
    assert_eq!(v["rest"][0]["decision"], "deny");
    let (status, _, _) = request(&d.addr, "POST", "/v1/check", &[], "{\"users\":1}");
    assert_eq!(status, 400);
}

#[test]
fn users_show_roles_groups_login_and_assignable_status() {
    let (_dir, d) = serve(&util::root().join("sample-repo"), &[]);
    let (status, bob) = get_json(&d, "/v1/users/bob");
    assert_eq!(status, 200);
    assert!(bob["revision"].is_string());
    assert_eq!(bob["can_login"], true);
    assert_eq!(bob["disabled"], false);
    assert_eq!(bob["assignable"]["global"], true);
    assert_eq!(bob["roles"]["global"][0]["role"], "user");
    assert_eq!(
        bob["roles"]["projects"]["elibrary"][0]["role"],
        "project_admin"
    );
    let (_, erin) = get_json(&d, "/v1/users/erin");
    assert_eq!(erin["groups"], json!(["qa-team"]));
    assert_eq!(erin["roles"]["global"][0]["via"]["group"], "qa-team");
    let (_, dave) = get_json(&d, "/v1/users/dave");
    assert_eq!(dave["account"], "disabled");
    assert_eq!(dave["disabled"], true);
    let (_, nobody) = get_json(&d, "/v1/users/mallory");
    assert_eq!(
        (nobody["known"].clone(), nobody["disabled"].clone()),
        (json!(false), json!(true))
    );
}

#[test]
fn authorize_answers_204_or_403_with_the_exact_body() {
    let (_dir, d) = serve(
        &util::data("policy/rest-example"),
        &["--user-header", "X-User"],
    );
    let ask = |method: &str, uri: &str, user: &str| {
        request(
            &d.addr,
            "GET",
            "/v1/authorize",
            &[
                ("X-Original-Method", method),
                ("X-Original-URI", uri),
                ("X-User", user),
            ],
            "",
        )
    };
    let (status, headers, body) = ask("GET", "/polarion/rest/v1/projects/A/workitems", "u");
    assert_eq!((status, body.as_str()), (204, ""));
    assert!(
        headers.iter().any(|(k, _)| k == "x-rolesync-revision"),
        "{headers:?}"
    );
    assert_eq!(ask("GET", "/polarion/rest/v1/projects", "u").0, 204);
    for (method, uri, user) in [
        ("GET", "/polarion/rest/v1/projects/B/workitems", "u"),
        ("POST", "/polarion/rest/v1/projects/A/workitems", "v"),
        ("PUT", "/polarion/rest/v1/projects/A", "u"),
        ("GET", "/polarion/rest/v1/projects/nope", "u"),
    ] {
        let (status, headers, body) = ask(method, uri, user);
        assert_eq!(status, 403, "{method} {uri} {user}");
        assert_eq!(body, FORBIDDEN, "{method} {uri} {user}");
        assert!(
            headers.contains(&("content-type".to_owned(), "application/json".to_owned())),
            "{headers:?}"
        );
    }
    // Without the configured user header nobody is allowed.
    let (status, _, body) = request(
        &d.addr,
        "GET",
        "/v1/authorize",
        &[
            ("X-Original-Method", "GET"),
            ("X-Original-URI", "/polarion/rest/v1/projects"),
            ("X-Remote-User", "root"),
        ],
        "",
    );
    assert_eq!((status, body.as_str()), (403, FORBIDDEN));
}

#[test]
fn min_revision_is_409_until_that_revision_is_loaded() {
    let cfg = Config::new();
    let first = cfg.head();
    let (_dir, d) = serve(&cfg.work(), &[]);
    let path = |rev: &str| {
        format!("/v1/check?user=bob&permission=com.polarion.security.login&min_revision={rev}")
    };
    let (status, v) = get_json(&d, &path(&first));
    assert_eq!(
        (status, v["revision"].as_str()),
        (200, Some(first.as_str())),
        "{v}"
    );
    let unknown = "0123456789abcdef0123456789abcdef01234567";
    let (status, v) = get_json(&d, &path(unknown));
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["revision"], first.as_str());
    assert_eq!(v["min_revision"], unknown);
    let second = cfg.commit_edit(
        ".polarion/security/user-roles.xml",
        "<user name=\"bob\">",
        "<user name=\"bobby\">",
        "bob is renamed",
    );
    wait_until(LIMIT, "the second revision", || {
        get_json(&d, &path(&second)).0 == 200
    });
    let (_, v) = get_json(&d, &path(&first));
    assert_eq!(
        v["revision"],
        second.as_str(),
        "an older min_revision is satisfied by a newer one"
    );
    let (_, v) = get_json(&d, &format!("/v1/users/bob?min_revision={second}"));
    assert_eq!(v["roles"]["global"], json!([]), "{v}");
    assert_eq!(v["disabled"], true, "no `user` role anywhere: {v}");
}

/// The 403 body of a refused read of Project `A` (000/001's shape).
const PROJECT_A: &str = r#"{"errors":[{"status":"403","title":"Forbidden","detail":"You do not have permission to view Project 'A'."}]}"#;

/// 000/001, "REST operations require two sets of permissions", over HTTP:
/// `/v1/check?rest=` and `/v1/explain?rest=` decide both layers and name
/// the one that refused (`layer`), with the refusal's body; `/v1/authorize`
/// decides the endpoint layer only by default, and both with
/// `--authorize-layers both`. The configuration is
/// `tests/data/policy/rest-layers` (see `check::rest_calls_decide_two_layers`).
#[test]
fn rest_calls_have_two_layers_over_http() {
    let (_dir, d) = serve(
        &util::data("policy/rest-layers"),
        &["--user-header", "X-User"],
    );
    let no_expansion = format!("&object={}", enc("expanded:linked=false"));
    /// (user, call, extra query, decision, layer, body)
    type Case<'a> = (&'a str, &'a str, &'a str, &'a str, Value, Option<&'a str>);
    let cases: &[Case] = &[
        (
            "u",
            "GET /polarion/rest/v1/projects/A",
            "",
            "allow",
            Value::Null,
            None,
        ),
        (
            "w",
            "GET /polarion/rest/v1/projects/A",
            "",
            "deny",
            json!("item"),
            Some(PROJECT_A),
        ),
        (
            "w",
            "PATCH /polarion/rest/v1/projects/A/workitems/A-2",
            &no_expansion,
            "deny",
            json!("endpoint"),
            Some(FORBIDDEN),
        ),
        (
            "u",
            "PATCH /polarion/rest/v1/projects/A/workitems/A-2",
            &no_expansion,
            "allow",
            Value::Null,
            None,
        ),
        (
            "w",
            "GET /polarion/rest/v1/projects/A/workitems",
            "",
            "allow",
            Value::Null,
            None,
        ),
    ];
    for (user, call, extra, decision, layer, body) in cases {
        let q = format!("user={user}&rest={}{extra}", enc(call));
        let (status, v) = get_json(&d, &format!("/v1/check?{q}"));
        assert_eq!(status, 200, "{q}: {v}");
        assert_eq!(
            (&v["decision"], &v["layer"], v["body"].as_str()),
            (&json!(decision), layer, *body),
            "check {q}: {v}"
        );
        let (status, e) = get_json(&d, &format!("/v1/explain?{q}"));
        assert_eq!(status, 200, "{q}: {e}");
        assert_eq!(
            (&e["decision"], &e["layer"]),
            (&json!(decision), layer),
            "explain {q}: {e}"
        );
        let text = e["text"].as_str().expect("text");
        assert!(text.contains(&format!("decision: {decision} (")), "{text}");
    }
    let (_, e) = get_json(
        &d,
        &format!(
            "/v1/explain?user=w&rest={}",
            enc("GET /polarion/rest/v1/projects/A")
        ),
    );
    assert_eq!(
        e["item"]["permission"],
        "com.polarion.persistence.object.Project.read"
    );
    assert_eq!(e["item"]["explanation"]["decision"], "deny");
    assert_eq!(e["endpoint_decision"], "allow");
    // A decision that depends on an unexpanded query expander: 422, saying so.
    let (status, v) = get_json(
        &d,
        &format!(
            "/v1/check?user=u&rest={}",
            enc("PATCH /polarion/rest/v1/projects/A/workitems/A-2")
        ),
    );
    assert_eq!(status, 422, "{v}");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("expanded:linked.1")),
        "{v}"
    );
}

/// `/v1/authorize` decides the endpoint layer only by default, and both
/// with `--authorize-layers both` (flag or config file); the configuration
/// of [`rest_calls_have_two_layers_over_http`].
#[test]
fn authorize_decides_the_endpoint_layer_or_both() {
    let (_dir, d) = serve(
        &util::data("policy/rest-layers"),
        &["--user-header", "X-User"],
    );
    let ask = |d: &Daemon, method: &str, uri: &str, user: &str| {
        request(
            &d.addr,
            "GET",
            "/v1/authorize",
            &[
                ("X-Original-Method", method),
                ("X-Original-URI", uri),
                ("X-User", user),
            ],
            "",
        )
    };
    // Default: the endpoint layer only (Polarion enforces items itself).
    let (status, _, body) = ask(&d, "GET", "/polarion/rest/v1/projects/A", "w");
    assert_eq!((status, body.as_str()), (204, ""));
    let (_dir2, both) = serve(
        &util::data("policy/rest-layers"),
        &["--user-header", "X-User", "--authorize-layers", "both"],
    );
    let (status, _, body) = ask(&both, "GET", "/polarion/rest/v1/projects/A", "w");
    assert_eq!((status, body.as_str()), (403, PROJECT_A));
    let (status, _, body) = ask(&both, "GET", "/polarion/rest/v1/projects/A", "u");
    assert_eq!((status, body.as_str()), (204, ""));
    let (status, _, body) = ask(
        &both,
        "DELETE",
        "/polarion/rest/v1/projects/A/workitems/A-2",
        "w",
    );
    assert_eq!((status, body.as_str()), (403, FORBIDDEN));
    // An unexpanded expander is refused, never allowed.
    let (status, _, _) = ask(
        &both,
        "PATCH",
        "/polarion/rest/v1/projects/A/workitems/A-2",
        "u",
    );
    assert_eq!(status, 403);
    // The same from the config file.
    let conf_dir = tempfile::tempdir().expect("temp dir");
    let conf = conf_dir.path().join("rolesync.toml");
    std::fs::write(
        &conf,
        "user_header = \"X-User\"\nauthorize_layers = \"both\"\n",
    )
    .expect("write");
    let (_dir3, from_file) = serve(
        &util::data("policy/rest-layers"),
        &["--config", conf.to_str().expect("UTF-8")],
    );
    let (status, _, body) = ask(&from_file, "GET", "/polarion/rest/v1/projects/A", "w");
    assert_eq!((status, body.as_str()), (403, PROJECT_A));
}
