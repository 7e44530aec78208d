//! `/v1/access`, `/v1/roles` and `/v1/projects` of a real `rolesync
//! serve` on the sample configuration: every access answer equals
//! `svnauthz accessof` (with `-R` for `recursive=true`) on the file the
//! daemon published, and names the applied revision.

use std::time::Duration;

use serde_json::Value;

use crate::daemon::{Daemon, wait_until};
use crate::util;

fn json(d: &Daemon, path: &str) -> (u16, Value) {
    let (status, body) = d.http("GET", path, None);
    let v = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, v)
}

#[test]
fn access_roles_and_projects_over_a_real_daemon() {
    let dir = tempfile::tempdir().expect("temp dir");
    let access = dir.path().join("access");
    let d = Daemon::start(
        &util::root().join("sample-repo"),
        &access,
        &dir.path().join("state"),
        &[],
    );
    wait_until(Duration::from_secs(20), "the first load", || {
        d.http("GET", "/healthz", None).0 == 200
    });
    let revision = d.status()["applied"]["revision"].clone();
    let mut compared = 0;
    for user in [
        "alice",
        "bob",
        "carol",
        "dave",
        "erin",
        "heidi",
        "svc-jenkins",
        "nobody",
    ] {
        for repo in [None, Some("drivepilot")] {
            for path in [
                "/",
                "/elibrary",
                "/elibrary/trunk/releases/1.0",
                "/qa-tools",
                "/drivepilot/x",
            ] {
                for rec in [false, true] {
                    let mut q = format!("/v1/access?user={user}&path={path}&recursive={rec}");
                    if let Some(r) = repo {
                        q.push_str(&format!("&repository={r}"));
                    }
                    let (status, v) = json(&d, &q);
                    assert_eq!(status, 200, "{q}: {v}");
                    assert_eq!(v["revision"], revision, "{q}");
                    assert_eq!(
                        v["access"],
                        util::svnauthz_accessof(&access, user, repo, path, rec),
                        "{q}: {v}"
                    );
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, 160);
    let (status, v) = json(&d, "/v1/access?user=bob");
    assert_eq!((status, v["error"].is_string()), (400, true), "{v}");

    let (status, roles) = json(&d, "/v1/roles?limit=2");
    assert_eq!(status, 200, "{roles}");
    assert_eq!(roles["revision"], revision);
    assert_eq!(roles["holders"].as_array().map(Vec::len), Some(2));
    assert!(roles["total"].as_u64() > Some(2), "{roles}");
    assert_eq!(roles["next_offset"], 2);
    let first = &roles["holders"][0];
    assert!(
        first["at"]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("user-roles.xml")),
        "{first}"
    );
    assert!(first["at"]["line"].as_u64() > Some(0), "{first}");

    let (status, projects) = json(&d, "/v1/projects");
    assert_eq!(status, 200, "{projects}");
    let ids: Vec<&str> = projects["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"elibrary") && ids.contains(&"drivepilot"),
        "{ids:?}"
    );
    let (status, elibrary) = json(&d, "/v1/projects/elibrary");
    assert_eq!(status, 200, "{elibrary}");
    assert!(
        elibrary["holders"]
            .as_array()
            .is_some_and(|h| h.iter().all(|h| h["project"] == "elibrary")),
        "{elibrary}"
    );
    assert!(elibrary["total"].as_u64() > Some(0));
    let (status, _) = json(&d, "/v1/projects/nope");
    assert_eq!(status, 404);
}
