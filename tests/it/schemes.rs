//! `GET /v1/permissionschemes…` of a real `rolesync serve` on sample-repo:
//! the document's shapes (seed 004, "Permission schemes"), `expand`, the
//! revision header, 404 in the house shape, the token beyond loopback and
//! the `max_answer_bytes` bound.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::daemon::{Daemon, wait_until};
use crate::util;

const LIMIT: Duration = Duration::from_secs(20);

/// One GET: (status, the revision header, the body as JSON).
fn get(d: &Daemon, path: &str, token: Option<&str>) -> (u16, Option<String>, Value) {
    let addr = d.addr.replace("0.0.0.0", "127.0.0.1");
    let mut stream = TcpStream::connect(&addr).expect("connect to the API");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let revision = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("x-rolesync-revision")
            .then(|| v.trim().to_owned())
    });
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, revision, json)
}

/// A daemon on sample-repo, once loaded, and its applied revision.
fn sample(extra: &[&str]) -> (tempfile::TempDir, Daemon, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = Daemon::start(
        &util::root().join("sample-repo"),
        &dir.path().join("access"),
        &dir.path().join("state"),
        extra,
    );
    wait_until(LIMIT, "the first load", || {
        d.http("GET", "/healthz", None).0 == 200
    });
    let rev = d.status()["applied"]["revision"]
        .as_str()
        .expect("an applied revision")
        .to_owned();
    (dir, d, rev)
}

fn ok(d: &Daemon, rev: &str, path: &str) -> Value {
    let (code, header, v) = get(d, path, None);
    assert_eq!(code, 200, "{path}: {v}");
    assert_eq!(header.as_deref(), Some(rev), "{path}: the revision header");
    v
}

/// The drivepilot overlay's id.
fn drivepilot(d: &Daemon, rev: &str) -> u64 {
    let l = ok(d, rev, "/v1/permissionschemes");
    l["permissionSchemes"]
        .as_array()
        .expect("schemes")
        .iter()
        .find(|s| s["rolesync"]["project"] == "drivepilot")
        .and_then(|s| s["id"].as_u64())
        .expect("a drivepilot scheme")
}

#[test]
fn the_list_names_the_global_scheme_and_each_overlay() {
    // Seed 004, "Get all permission schemes": {"permissionSchemes": [{id,
    // self, name, description}]}, no grants without expand.
    let (_dir, d, rev) = sample(&[]);
    let l = ok(&d, &rev, "/v1/permissionschemes");
    let schemes = l["permissionSchemes"].as_array().expect("schemes");
    let projects: Vec<&Value> = schemes.iter().map(|s| &s["rolesync"]["project"]).collect();
    // sample-repo: only drivepilot has a permissions.xml of its own.
    assert_eq!(projects, [&Value::Null, &Value::from("drivepilot")]);
    assert_eq!(schemes[0]["id"], 0);
    for s in schemes {
        assert!(s.get("permissions").is_none(), "{s}");
        let id = s["id"].as_u64().expect("a numeric id");
        assert_eq!(s["self"], format!("/v1/permissionschemes/{id}"));
        assert!(s["name"].is_string() && s["description"].is_string(), "{s}");
        // Its own link answers the same scheme.
        let one = ok(&d, &rev, &format!("/v1/permissionschemes/{id}"));
        assert_eq!(one["id"], s["id"]);
        assert_eq!(one["name"], s["name"]);
    }
    // The same configuration served again: the same ids.
    let (_dir2, d2, rev2) = sample(&[]);
    assert_eq!(rev2, rev);
    assert_eq!(drivepilot(&d2, &rev2), drivepilot(&d, &rev));
}

/// (query, the list carries grants, a group holder of the global scheme
/// carries `group`, a project-role holder carries `projectRole`).
/// Seed 004: "Get permission scheme grants" names `user,group,projectRole,field,all`.
const EXPANDS: &[(&str, bool, bool, bool)] = &[
    ("", false, false, false),
    ("?expand=permissions", true, false, false),
    ("?expand=user", true, false, false),
    ("?expand=group", true, true, false),
    ("?expand=projectRole", true, false, true),
    ("?expand=all", true, true, true),
    ("?expand=permissions&expand=group", true, true, false),
];

#[test]
fn expand_adds_grants_to_the_list_and_details_to_holders() {
    let (_dir, d, rev) = sample(&[]);
    for (query, grants, group, role) in EXPANDS {
        let l = ok(&d, &rev, &format!("/v1/permissionschemes{query}"));
        let global = &l["permissionSchemes"][0];
        assert_eq!(global.get("permissions").is_some(), *grants, "{query}");
        let one = ok(&d, &rev, &format!("/v1/permissionschemes/0{query}"));
        let holders: Vec<&Value> = one["permissions"]
            .as_array()
            .expect("one scheme always has its grants")
            .iter()
            .map(|g| &g["holder"])
            .collect();
        let of = |kind: &str| holders.iter().find(|h| h["type"] == kind).copied();
        let g = of("group").expect("a group holder");
        let r = of("projectRole").expect("a project role holder");
        assert_eq!(g.get("group").is_some(), *group, "{query}: {g}");
        assert_eq!(r.get("projectRole").is_some(), *role, "{query}: {r}");
        assert_eq!(g["expand"], "group");
        assert_eq!(r["expand"], "projectRole");
    }
    let (code, _, v) = get(&d, "/v1/permissionschemes?expand=groups", None);
    assert_eq!(code, 400, "{v}");
    assert_eq!(v["revision"], rev.as_str());
    let (code, _, v) = get(&d, "/v1/permissionschemes?id=0", None);
    assert_eq!(code, 400, "{v}");
}

/// (role in sample-repo's global permissions.xml, permission, the holder
/// type, a grant (true) or a deny (false)). Seed 004, "About permission
/// schemes and grants": a grant is a holder and a permission.
const GLOBAL: &[(&str, &str, &str, bool)] = &[
    (
        "user",
        "com.polarion.persistence.object.Project.read",
        "group",
        true,
    ),
    (
        "project_user",
        "com.polarion.persistence.object.WorkItem.create",
        "projectRole",
        true,
    ),
    (
        "project_tester",
        "com.polarion.persistence.object.TestRun.comment",
        "projectRole",
        true,
    ),
    ("auditor", "com.polarion.rest.endpoint.get", "group", true),
    (
        "project_user",
        "com.polarion.persistence.object.WorkItem.field.severity.modify",
        "projectRole",
        false,
    ),
    (
        "project_user",
        "@WorkItem_approved.modify",
        "projectRole",
        false,
    ),
    (
        "auditor",
        "com.polarion.persistence.object.WorkItem.field.salary.read",
        "group",
        false,
    ),
];

#[test]
fn one_scheme_holds_the_grants_and_lists_the_denies_apart() {
    let (_dir, d, rev) = sample(&[]);
    let s = ok(&d, &rev, "/v1/permissionschemes/0");
    assert_eq!(s["rolesync"]["file"], ".polarion/security/permissions.xml");
    let grants = s["permissions"].as_array().expect("grants");
    let denies = s["rolesync"]["denies"].as_array().expect("denies");
    for (role, permission, kind, grant) in GLOBAL {
        let (here, other) = if *grant {
            (grants, denies)
        } else {
            (denies, grants)
        };
        let found = |list: &Vec<Value>| {
            list.iter()
                .find(|g| g["holder"]["parameter"] == *role && g["permission"] == *permission)
                .cloned()
        };
        let g = found(here).unwrap_or_else(|| panic!("{role} {permission}: {s}"));
        assert!(found(other).is_none(), "{role} {permission}");
        assert_eq!(g["holder"]["type"], *kind, "{role} {permission}");
        assert_eq!(g["holder"]["value"], *role, "{role} {permission}");
        let id = g["id"].as_u64().expect("a numeric id");
        let path = format!("/v1/permissionschemes/0/permission/{id}");
        if *grant {
            // Seed 004, "Get permission scheme grant": its `self` answers it.
            assert_eq!(g["self"], path.as_str());
            assert_eq!(ok(&d, &rev, &path), g);
        } else {
            assert!(g.get("self").is_none(), "{g}");
            assert_eq!(get(&d, &path, None).0, 404);
        }
    }
    // Seed 004, "Get permission scheme grants": {expand, permissions}.
    let l = ok(&d, &rev, "/v1/permissionschemes/0/permission");
    assert_eq!(l["expand"], "user,group,projectRole,field,all");
    assert_eq!(&l["permissions"], &s["permissions"]);
    assert_eq!(&l["rolesync"]["denies"], &s["rolesync"]["denies"]);
    // The overlay: drivepilot's own file only.
    let dp = drivepilot(&d, &rev);
    let o = ok(&d, &rev, &format!("/v1/permissionschemes/{dp}"));
    assert_eq!(o["rolesync"]["project"], "drivepilot");
    let perms: Vec<&str> = o["permissions"]
        .as_array()
        .expect("grants")
        .iter()
        .map(|g| g["permission"].as_str().expect("a name"))
        .collect();
    assert!(perms.contains(&"com.polarion.rest.endpoint.patch"), "{o}");
    assert!(
        !perms.contains(&"com.polarion.persistence.object.Project.read"),
        "{o}"
    );
}

/// Paths that name no scheme or grant: 404, `{"error", "revision"}`.
const MISSING: &[&str] = &[
    "/v1/permissionschemes/1",
    "/v1/permissionschemes/10000",
    "/v1/permissionschemes/abc",
    "/v1/permissionschemes/-1",
    "/v1/permissionschemes/99999999999999999999999",
    "/v1/permissionschemes/1/permission",
    "/v1/permissionschemes/0/permission/1",
    "/v1/permissionschemes/0/permission/x",
];

#[test]
fn an_unknown_scheme_or_grant_is_404_with_the_revision() {
    let (_dir, d, rev) = sample(&[]);
    for path in MISSING {
        let (code, _, v) = get(&d, path, None);
        assert_eq!(code, 404, "{path}: {v}");
        assert!(v["error"].is_string(), "{path}: {v}");
        assert_eq!(v["revision"], rev.as_str(), "{path}: {v}");
    }
}

#[test]
fn beyond_loopback_the_token_is_needed_and_answers_are_bounded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").expect("token file");
    let toml = dir.path().join("rolesync.toml");
    std::fs::write(&toml, "[http]\nmax_answer_bytes = 1500\n").expect("config file");
    let mut cmd = util::rolesync();
    cmd.arg("serve")
        .arg("--config")
        .arg(&toml)
        .arg("--repo")
        .arg(util::root().join("sample-repo"))
        .arg("--access-out")
        .arg(dir.path().join("access"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("--token-file")
        .arg(&token)
        .args(["--listen", "0.0.0.0:0", "--poll-interval", "0s"])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let d = Daemon::spawn(cmd);
    let t = Some("s3cret");
    wait_until(LIMIT, "the first load", || {
        get(&d, "/v1/permissionschemes", t).0 == 200
    });
    let (code, _, v) = get(&d, "/v1/permissionschemes", None);
    assert_eq!(code, 401, "{v}");
    let (code, _, v) = get(&d, "/v1/permissionschemes/0", Some("wrong"));
    assert_eq!(code, 401, "{v}");
    // Without grants the list fits in 1,500 bytes; sample-repo's global
    // scheme with its grants does not.
    let (code, rev, _) = get(&d, "/v1/permissionschemes", t);
    assert_eq!(code, 200);
    let (code, _, v) = get(&d, "/v1/permissionschemes/0?expand=all", t);
    assert_eq!(code, 413, "{v}");
    let e = v["error"].as_str().expect("an error");
    assert!(e.contains("max_answer_bytes = 1500"), "{e}");
    assert_eq!(v["revision"].as_str(), rev.as_deref());
}

#[test]
fn min_revision_is_honoured_like_on_the_other_routes() {
    let (_dir, d, rev) = sample(&[]);
    let v = ok(
        &d,
        &rev,
        &format!("/v1/permissionschemes/0?min_revision={rev}"),
    );
    assert_eq!(v["id"], 0);
    // A folder's revision is a digest: another one is never "at least" it.
    let (code, _, v) = get(&d, "/v1/permissionschemes?min_revision=folder-0", None);
    assert_eq!(code, 409, "{v}");
    assert_eq!(v["revision"], rev.as_str());
    assert_eq!(v["min_revision"], "folder-0");
}
