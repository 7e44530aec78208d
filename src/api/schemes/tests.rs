//! The mapping model → scheme DTO, as data. Configurations go through
//! the real `snapshot::build`; shapes are checked against the JSON
//! examples of seed 004 ("Permission schemes").

use serde_json::{Value, json};

use super::*;
use crate::snapshot::{self, Input};

/// Seed 004, "Get permission scheme", 200 response.
const DOC_SCHEME: &str = r#"{ "description": "description", "id": 10000, "name": "Example permission scheme", "permissions": [ { "holder": { "expand": "group", "parameter": "jira-core-users", "type": "group", "value": "ca85fac0-d974-40ca-a615-7af99c48d24f" }, "id": 10000, "permission": "ADMINISTER_PROJECTS", "self": "https://your-domain.atlassian.net/rest/api/3/permissionscheme/permission/10000" } ], "self": "https://your-domain.atlassian.net/rest/api/3/permissionscheme/10000" }"#;
/// Seed 004, "Get all permission schemes", 200 response.
const DOC_LIST: &str = r#"{ "permissionSchemes": [ { "description": "description", "id": 10000, "name": "Example permission scheme", "self": "https://your-domain.atlassian.net/rest/api/3/permissionscheme/10000" } ] }"#;
/// Seed 004, "Get permission scheme grants", 200 response.
const DOC_GRANTS: &str = r#"{ "expand": "user,group,projectRole,field,all", "permissions": [ { "holder": { "expand": "group", "parameter": "jira-core-users", "type": "group", "value": "ca85fac0-d974-40ca-a615-7af99c48d24f" }, "id": 10000, "permission": "ADMINISTER_PROJECTS", "self": "https://your-domain.atlassian.net/rest/api/3/permissionscheme/permission/10000" } ] }"#;

fn model(files: &[(&str, &str)]) -> Model {
    let mut files: crate::snapshot::Files = files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).into()))
        .collect();
    files
        .entry(snapshot::USER_ROLES.to_owned())
        .or_insert_with(|| b"<user-roles/>".into());
    let input = Input {
        revision: "r1".into(),
        files,
        ..Input::default()
    };
    let report = snapshot::build(&input);
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.one_line())
        .collect();
    assert!(errors.is_empty(), "invalid configuration: {errors:#?}");
    report.snapshot.expect("a valid configuration").model
}

/// The document's example as a configuration: the global role
/// `jira-core-users` granted `ADMINISTER_PROJECTS`.
fn doc_model() -> Model {
    model(&[
        (
            snapshot::ROLES,
            r#"<roles><role id="jira-core-users" scope="global"/></roles>"#,
        ),
        (
            snapshot::USER_ROLES,
            r#"<user-roles><user name="alice"><role name="jira-core-users"/></user></user-roles>"#,
        ),
        (
            snapshot::PERMISSIONS,
            r#"<permissions><role name="jira-core-users"><grant permission="ADMINISTER_PROJECTS"/></role></permissions>"#,
        ),
    ])
}

/// The keys of an object, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
    k.sort();
    k
}

fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("DTOs serialise")
}

#[test]
fn shapes_are_the_documents() {
    // Seed 004: "Get permission scheme", "Get all permission schemes",
    // "Get permission scheme grants" (each 200 response): every key of
    // the document's example, and only `rolesync` besides.
    let m = doc_model();
    let doc: Value = serde_json::from_str(DOC_SCHEME).expect("the example is JSON");
    let ours = to_json(&scheme(&m, GLOBAL_SCHEME_ID, Expand::default()).expect("global"));
    let mut want = keys(&doc);
    want.push("rolesync".into());
    want.sort();
    assert_eq!(keys(&ours), want);
    assert_eq!(keys(&ours["permissions"][0]), keys(&doc["permissions"][0]));
    assert_eq!(
        keys(&ours["permissions"][0]["holder"]),
        keys(&doc["permissions"][0]["holder"])
    );
    assert_eq!(
        ours["permissions"][0]["holder"],
        json!({ "expand": "group", "parameter": "jira-core-users", "type": "group", "value": "jira-core-users" })
    );
    assert_eq!(ours["permissions"][0]["permission"], "ADMINISTER_PROJECTS");
    let gid = ours["permissions"][0]["id"].as_u64().expect("a numeric id");
    assert_eq!(
        ours["permissions"][0]["self"],
        format!("/v1/permissionschemes/0/permission/{gid}")
    );
    assert_eq!(ours["self"], "/v1/permissionschemes/0");

    let doc: Value = serde_json::from_str(DOC_LIST).expect("the example is JSON");
    let ours = to_json(&list(&m, Expand::default()));
    assert_eq!(keys(&ours), keys(&doc));
    let mut want = keys(&doc["permissionSchemes"][0]);
    want.push("rolesync".into());
    want.sort();
    assert_eq!(keys(&ours["permissionSchemes"][0]), want);

    let doc: Value = serde_json::from_str(DOC_GRANTS).expect("the example is JSON");
    let ours = to_json(&grants(&m, GLOBAL_SCHEME_ID, Expand::default()).expect("global"));
    let mut want = keys(&doc);
    want.push("rolesync".into());
    want.sort();
    assert_eq!(keys(&ours), want);
    assert_eq!(ours["expand"], doc["expand"]);
    assert_eq!(keys(&ours["permissions"][0]), keys(&doc["permissions"][0]));
}

/// (role, its definition in roles.xml if any, the holder expected with
/// `expand=all`).
const HOLDERS: &[(&str, Option<&str>, &str)] = &[
    // Seed 004, "About permission schemes and grants": a group holder
    // is `type: group`, the group's name as parameter. A global role
    // is a group of the access file (seed 003, "Synchronizing Roles
    // with Repository"), named as the role.
    (
        "admin",
        None,
        r#"{"type":"group","parameter":"admin","value":"admin","expand":"group","group":{"name":"admin","groupId":"admin"}}"#,
    ),
    (
        "user",
        None,
        r#"{"type":"group","parameter":"user","value":"user","expand":"group","group":{"name":"user","groupId":"user"}}"#,
    ),
    (
        "auditor",
        Some(r#"<role id="auditor" scope="global" description="Reads"/>"#),
        r#"{"type":"group","parameter":"auditor","value":"auditor","expand":"group","group":{"name":"auditor","groupId":"auditor"}}"#,
    ),
    // Seed 004 names `projectRole` among the expand values; a project
    // role is Jira's project role.
    (
        "project_user",
        None,
        r#"{"type":"projectRole","parameter":"project_user","value":"project_user","expand":"projectRole","projectRole":{"name":"project_user"}}"#,
    ),
    (
        "project_tester",
        Some(r#"<role id="project_tester" scope="project" description="Runs test runs"/>"#),
        r#"{"type":"projectRole","parameter":"project_tester","value":"project_tester","expand":"projectRole","projectRole":{"name":"project_tester","description":"Runs test runs"}}"#,
    ),
    // Seed 003: every user holds `everyone` ("By default, a new user
    // is assigned the role everyone"): any logged-in user, Jira's
    // application role without a parameter (not `anyone`, which
    // includes anonymous users).
    ("everyone", None, r#"{"type":"applicationRole"}"#),
    // The dynamic roles: the object's author, assignee, the project's
    // lead; a document's or comment's author is a user field.
    ("author", None, r#"{"type":"reporter"}"#),
    ("assignee", None, r#"{"type":"assignee"}"#),
    ("lead", None, r#"{"type":"projectLead"}"#),
    (
        "document_author",
        None,
        r#"{"type":"userCustomField","parameter":"document_author","value":"document_author","expand":"field","field":{"id":"document_author","key":"document_author","name":"document_author"}}"#,
    ),
];

#[test]
fn each_role_is_the_most_faithful_holder() {
    for (role, def, want) in HOLDERS {
        let roles = format!("<roles>{}</roles>", def.unwrap_or(""));
        let perms = format!(
            r#"<permissions><permission name="com.polarion"><role name="{role}"><grant permission="persistence.object.WorkItem.read"/></role></permission></permissions>"#
        );
        let m = model(&[(snapshot::ROLES, &roles), (snapshot::PERMISSIONS, &perms)]);
        let all = Expand::parse("all").expect("all");
        let s = to_json(&scheme(&m, GLOBAL_SCHEME_ID, all).expect("global"));
        let want: Value = serde_json::from_str(want).expect("expected JSON");
        assert_eq!(s["permissions"][0]["holder"], want, "role {role}");
        assert_eq!(
            s["permissions"][0]["permission"], "com.polarion.persistence.object.WorkItem.read",
            "role {role}"
        );
        // Without expand: the holder without the expanded property.
        let plain = to_json(&scheme(&m, GLOBAL_SCHEME_ID, Expand::default()).expect("global"));
        let h = &plain["permissions"][0]["holder"];
        assert!(
            h.get("group").is_none() && h.get("projectRole").is_none() && h.get("field").is_none(),
            "role {role}: {h}"
        );
        assert_eq!(h["type"], want["type"], "role {role}");
    }
}

/// (expand, the list's schemes carry grants, holder keys of a group).
const EXPANDS: &[(&str, bool, &[&str])] = &[
    ("", false, &["expand", "parameter", "type", "value"]),
    (
        "permissions",
        true,
        &["expand", "parameter", "type", "value"],
    ),
    ("user", true, &["expand", "parameter", "type", "value"]),
    (
        "projectRole",
        true,
        &["expand", "parameter", "type", "value"],
    ),
    (
        "group",
        true,
        &["expand", "group", "parameter", "type", "value"],
    ),
    (
        "all",
        true,
        &["expand", "group", "parameter", "type", "value"],
    ),
    (
        "permissions,group",
        true,
        &["expand", "group", "parameter", "type", "value"],
    ),
];

#[test]
fn expand_adds_grants_to_the_list_and_holder_details() {
    // Seed 004, "Get all permission schemes": the example list has no
    // `permissions`; "Get permission scheme grants" names the
    // expandable properties `user,group,projectRole,field,all`.
    let m = doc_model();
    for (expand, with_grants, holder_keys) in EXPANDS {
        let e = Expand::parse(expand).expect("a known expand");
        let l = to_json(&list(&m, e));
        let s = &l["permissionSchemes"][0];
        assert_eq!(
            s.get("permissions").is_some(),
            *with_grants,
            "expand={expand}"
        );
        assert_eq!(
            s["rolesync"].get("denies").is_some(),
            *with_grants,
            "expand={expand}"
        );
        let one = to_json(&scheme(&m, GLOBAL_SCHEME_ID, e).expect("global"));
        assert_eq!(
            keys(&one["permissions"][0]["holder"]),
            *holder_keys,
            "expand={expand}"
        );
    }
    assert!(Expand::parse("groups").is_err());
}

/// Seed 002 / 003 example configuration (sample-repo's drivepilot
/// shape): a project overlay with grants and denies.
fn overlay_model(project_perms: &str) -> Model {
    model(&[
        (
            snapshot::PERMISSIONS,
            r#"<permissions><permission name="com.polarion"><role name="user"><grant permission="persistence.object.WorkItem.read"/></role></permission></permissions>"#,
        ),
        (
            "Engineering/drivepilot/.polarion/polarion-project.xml",
            "<project/>",
        ),
        (
            "Engineering/elibrary/.polarion/polarion-project.xml",
            "<project/>",
        ),
        (
            "Engineering/drivepilot/.polarion/security/permissions.xml",
            project_perms,
        ),
    ])
}

const DRIVEPILOT: &str = r#"<permissions>
  <customset id="WorkItem_approved" title="approved">com.polarion.persistence.object.WorkItem(status:approved)</customset>
  <permission name="com.polarion">
    <role name="project_user">
      <grant permission="persistence.object.Module.modifyContent"/>
      <deny permission="@WorkItem_approved.modify"/>
    </role>
    <role name="project_admin">
      <grant permission="rest.endpoint.patch"/>
      <grant permission="rest.endpoint.patch"/>
    </role>
  </permission>
</permissions>"#;

#[test]
fn one_scheme_per_overlay_and_denies_apart() {
    let m = overlay_model(DRIVEPILOT);
    let ids = scheme_ids(&m);
    // The global scheme and drivepilot's overlay; elibrary has no file.
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ids[&None], GLOBAL_SCHEME_ID);
    let dp = ids[&Some("drivepilot".to_owned())];
    assert_eq!(dp, id_of(&["project", "drivepilot"]));
    let s = to_json(&scheme(&m, dp, Expand::default()).expect("drivepilot"));
    assert_eq!(s["rolesync"]["project"], "drivepilot");
    assert_eq!(
        s["rolesync"]["file"],
        "Engineering/drivepilot/.polarion/security/permissions.xml"
    );
    // Grants: each once (the repeated PATCH grant is one grant).
    let perms: Vec<&str> = s["permissions"]
        .as_array()
        .expect("grants")
        .iter()
        .map(|g| g["permission"].as_str().expect("a name"))
        .collect();
    assert_eq!(
        perms,
        [
            "com.polarion.persistence.object.Module.modifyContent",
            "com.polarion.rest.endpoint.patch"
        ]
    );
    // The deny is not a grant: it is under rolesync.denies, without self.
    let denies = s["rolesync"]["denies"].as_array().expect("denies");
    assert_eq!(denies.len(), 1);
    assert_eq!(denies[0]["permission"], "@WorkItem_approved.modify");
    assert_eq!(denies[0]["holder"]["type"], "projectRole");
    assert!(denies[0].get("self").is_none());
    let deny_id = denies[0]["id"].as_u64().expect("an id");
    assert!(grant(&m, dp, deny_id, Expand::default()).is_err());
    // Unknown scheme.
    assert!(scheme(&m, 1, Expand::default()).is_err());
}

#[test]
fn ids_are_stable_across_reloads_and_reorderings() {
    let ids_of = |m: &Model| -> Vec<(u64, Vec<u64>)> {
        list(m, Expand::parse("permissions").expect("permissions"))
            .permission_schemes
            .iter()
            .map(|s| {
                let mut g: Vec<u64> = s
                    .permissions
                    .iter()
                    .flatten()
                    .chain(s.rolesync.denies.iter().flatten())
                    .map(|g| g.id)
                    .collect();
                g.sort_unstable();
                (s.id, g)
            })
            .collect()
    };
    let a = ids_of(&overlay_model(DRIVEPILOT));
    // The same configuration again: the same ids.
    assert_eq!(a, ids_of(&overlay_model(DRIVEPILOT)));
    // The roles in another order: still the same ids.
    let reordered = r#"<permissions>
  <customset id="WorkItem_approved" title="approved">com.polarion.persistence.object.WorkItem(status:approved)</customset>
  <permission name="com.polarion">
    <role name="project_admin"><grant permission="rest.endpoint.patch"/></role>
    <role name="project_user">
      <deny permission="@WorkItem_approved.modify"/>
      <grant permission="persistence.object.Module.modifyContent"/>
    </role>
  </permission>
</permissions>"#;
    assert_eq!(a, ids_of(&overlay_model(reordered)));
    // Every id is exact in a JavaScript number.
    assert!(
        a.iter()
            .all(|(s, g)| *s <= ID_MASK && g.iter().all(|g| *g <= ID_MASK))
    );
}

#[test]
fn a_colliding_id_takes_the_next_free_number() {
    let mut taken = BTreeSet::from([5]);
    assert_eq!(free_id(5, &mut taken), 6);
    assert_eq!(free_id(5, &mut taken), 7);
    assert_eq!(free_id(ID_MASK, &mut taken), ID_MASK);
    assert_eq!(free_id(ID_MASK, &mut taken), 0);
}
