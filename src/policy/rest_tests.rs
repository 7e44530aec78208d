//! The two layers of REST calls and the item table, as data; and query
//! expanders and comma lists through a whole decision. Configurations go
//! through the real `snapshot::build`.

use super::*;
use crate::policy::{Index, Object, RequestError, RestCall, Verdict};
use crate::snapshot::{self, Input};

const OBJ: &str = "com.polarion.persistence.object.";

fn index(files: &[(&str, &str)]) -> (Index, Vec<String>) {
    let input = Input {
        revision: "r1".into(),
        files: files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).into()))
            .collect(),
        ..Input::default()
    };
    let report = snapshot::build(&input);
    let codes = report
        .diagnostics
        .iter()
        .map(|d| d.code.as_str().to_owned())
        .collect();
    (
        report.snapshot.expect("a valid configuration").policy,
        codes,
    )
}

fn object(pairs: &str) -> Object {
    let mut obj = Object::new();
    for pair in pairs.split_whitespace() {
        obj.push_pair(pair).expect("k=v");
    }
    obj
}

/// A row of the item table: (permission, project, detail of a refusal),
/// or `None` for a call without an item layer.
type ItemRow = Option<(&'static str, &'static str, &'static str)>;
const NONE: ItemRow = None;

/// The item table (docs/permissions.md, "The item layer"): call →
/// (permission, project, detail of a refusal).
const ITEM_TABLE: &[(&str, ItemRow)] = &[
    // 000/001, "Polarion Resource-Based-Permissions (Item level)":
    // GET /polarion/rest/v1/projects/A needs reading Project A.
    (
        "GET /polarion/rest/v1/projects/A",
        Some((
            "Project.read",
            "A",
            "You do not have permission to view Project 'A'.",
        )),
    ),
    (
        "PATCH /projects/A",
        Some((
            "Project.modify",
            "A",
            "You do not have permission to modify Project 'A'.",
        )),
    ),
    ("POST /projects/A", NONE),
    // Work items (the issue's examples), read / modify / create / delete.
    (
        "GET /polarion/rest/v1/projects/A/workitems/A-1",
        Some((
            "WorkItem.read",
            "A",
            "You do not have permission to view Work Item 'A-1'.",
        )),
    ),
    (
        "PATCH /polarion/rest/v1/projects/A/workitems/A-1",
        Some((
            "WorkItem.modify",
            "A",
            "You do not have permission to modify Work Item 'A-1'.",
        )),
    ),
    (
        "DELETE /polarion/rest/v1/projects/A/workitems/A-1",
        Some((
            "WorkItem.delete",
            "A",
            "You do not have permission to delete Work Item 'A-1'.",
        )),
    ),
    (
        "POST /polarion/rest/v1/projects/A/workitems",
        Some((
            "WorkItem.create",
            "A",
            "You do not have permission to create Work Item in Project 'A'.",
        )),
    ),
    (
        "DELETE /polarion/rest/v1/projects/A/workitems",
        Some((
            "WorkItem.delete",
            "A",
            "You do not have permission to delete Work Items in Project 'A'.",
        )),
    ),
    // 000/001's endpoint (2): a list; the server filters it.
    ("GET /polarion/rest/v1/projects/A/workitems", NONE),
    // Sub-resources: reading needs read, changing modifies the item.
    (
        "GET /projects/A/workitems/A-1/approvals",
        Some((
            "WorkItem.read",
            "A",
            "You do not have permission to view Work Item 'A-1'.",
        )),
    ),
    (
        "POST /projects/A/workitems/A-1/comments",
        Some((
            "WorkItem.modify",
            "A",
            "You do not have permission to modify Work Item 'A-1'.",
        )),
    ),
    // Documents (002, "Document Permissions").
    (
        "GET /projects/A/spaces/_default/documents/Spec%20One",
        Some((
            "Module.read",
            "A",
            "You do not have permission to view Document '_default/Spec One'.",
        )),
    ),
    (
        "PATCH /projects/A/spaces/_default/documents/Spec",
        Some((
            "Module.modifyFields",
            "A",
            "You do not have permission to modify Document '_default/Spec'.",
        )),
    ),
    (
        "POST /projects/A/spaces/_default/documents/Spec/parts",
        Some((
            "Module.modifyContent",
            "A",
            "You do not have permission to modify Document '_default/Spec'.",
        )),
    ),
    (
        "POST /projects/A/spaces/_default/documents/Spec/comments",
        Some((
            "Module.modify",
            "A",
            "You do not have permission to modify Document '_default/Spec'.",
        )),
    ),
    (
        "DELETE /projects/A/spaces/_default/documents/Spec",
        Some((
            "Module.delete",
            "A",
            "You do not have permission to delete Document '_default/Spec'.",
        )),
    ),
    (
        "POST /projects/A/spaces/_default/documents",
        Some((
            "Module.create",
            "A",
            "You do not have permission to create Document in Project 'A'.",
        )),
    ),
    // Plans, test runs, pages.
    (
        "PATCH /projects/A/plans/R1",
        Some((
            "Plan.modify",
            "A",
            "You do not have permission to modify Plan 'R1'.",
        )),
    ),
    (
        "GET /projects/A/testruns/TR-1/testrecords",
        Some((
            "TestRun.read",
            "A",
            "You do not have permission to view Test Run 'TR-1'.",
        )),
    ),
    (
        "DELETE /projects/A/spaces/_default/pages/Home",
        Some((
            "RichPage.delete",
            "A",
            "You do not have permission to delete Page '_default/Home'.",
        )),
    ),
    // Global endpoints have the endpoint layer only.
    ("GET /polarion/rest/v1/projects", NONE),
    ("GET /all/workitems", NONE),
    ("PATCH /users/bob", NONE),
    ("GET /projects/A/enumerations/x", NONE),
];

/// Every row of [`ITEM_TABLE`].
#[test]
fn the_item_table() {
    for (line, expect) in ITEM_TABLE {
        let call = RestCall::parse_line(line).expect("a call");
        let got = ItemAccess::of(&call);
        let got = got
            .as_ref()
            .map(|a| (a.permission.clone(), a.project.as_str(), a.detail()));
        let expect = expect.map(|(p, project, d)| (format!("{OBJ}{p}"), project, d.to_owned()));
        assert_eq!(got, expect, "{line}");
    }
}

/// 000/001's body of a refused item read, in the documents' shape.
#[test]
fn the_item_body_is_the_documents() {
    let call = RestCall::parse_line("GET /polarion/rest/v1/projects/A").expect("a call");
    let a = ItemAccess::of(&call).expect("a row");
    assert_eq!(
        a.body(),
        r#"{"errors":[{"status":"403","title":"Forbidden","detail":"You do not have permission to view Project 'A'."}]}"#
    );
    let v: serde_json::Value = serde_json::from_str(&a.body()).expect("JSON");
    assert_eq!(v["errors"][0]["status"], "403");
}

const USERS: &str = r#"<user-roles>
  <user name="root"><role name="admin"/><role name="user"/></user>
  <user name="u"><role name="user"/><role name="rest_reader"/></user>
  <user name="w"><role name="user"/></user>
</user-roles>"#;

/// 000/001's worked example, with item permissions: `u` is
/// `project_admin` in A (all four verbs); the global file grants GET to
/// `rest_reader`, reading to `project_admin`, and `w` holds `project_user`
/// in A, which reads nothing.
const PERMS: &str = r#"<permissions>
  <permission name="com.polarion">
    <role name="rest_reader"><grant permission="rest.endpoint.get"/></role>
    <role name="project_user">
      <grant permission="rest.endpoint.get"/>
      <grant permission="rest.endpoint.patch"/>
    </role>
    <role name="project_admin">
      <grant permission="persistence.object.Project.read"/>
      <grant permission="persistence.object.WorkItem.read"/>
      <grant permission="persistence.object.WorkItem.modify"/>
    </role>
  </permission>
</permissions>"#;

fn worked_example() -> Index {
    index(&[
        (snapshot::USER_ROLES, USERS),
        (snapshot::PERMISSIONS, PERMS),
        (
            "A/.polarion/polarion-project.xml",
            "<project><field id=\"name\">A</field></project>",
        ),
        (
            "A/.polarion/security/user-roles.xml",
            r#"<user-roles><user name="u"><role name="project_admin"/></user><user name="w"><role name="project_user"/></user></user-roles>"#,
        ),
    ])
    .0
}

/// "REST operations require two sets of permissions" (000, 001): the
/// endpoint layer first, then the item layer; which one refused.
#[test]
fn two_layers_decide_and_name_the_refusing_one() {
    let ix = worked_example();
    use Layer::{Endpoint, Item};
    let cases: &[(&str, &str, Option<Layer>)] = &[
        ("u", "GET /polarion/rest/v1/projects/A", None),
        (
            "u",
            "PATCH /polarion/rest/v1/projects/A/workitems/A-1",
            None,
        ),
        // project_admin may call DELETE, but deleting the item is not granted.
        (
            "u",
            "DELETE /polarion/rest/v1/projects/A/workitems/A-1",
            Some(Item),
        ),
        (
            "u",
            "POST /polarion/rest/v1/projects/A/workitems",
            Some(Item),
        ),
        // w: the endpoint allows GET in A, the project read is not granted.
        ("w", "GET /polarion/rest/v1/projects/A", Some(Item)),
        ("w", "GET /polarion/rest/v1/projects/A/workitems", None),
        (
            "w",
            "DELETE /polarion/rest/v1/projects/A/workitems/A-1",
            Some(Endpoint),
        ),
        ("root", "DELETE /polarion/rest/v1/projects/A", None),
        ("u", "GET /polarion/rest/v1/projects", None),
    ];
    for (user, line, refused) in cases {
        let call = RestCall::parse_line(line).expect("a call");
        let d = check(&ix, user, &call, &Object::new(), true).expect("decided");
        assert_eq!(d.refused(), *refused, "{user} {line}");
        let e = explain(&ix, user, &call, &Object::new()).expect("explained");
        assert_eq!(e.refused(), *refused, "explain {user} {line}");
        assert_eq!(e.verdict(), d.verdict(), "{user} {line}");
        let text = e.render("r1");
        let last = text.lines().rev().nth(1).unwrap_or_default();
        assert!(
            last.starts_with(&format!("decision: {}", d.verdict().as_str())),
            "{text}"
        );
        // The endpoint layer alone.
        let only = check(&ix, user, &call, &Object::new(), false).expect("decided");
        assert_eq!(
            only.verdict() == Verdict::Deny,
            *refused == Some(Endpoint),
            "{user} {line}"
        );
    }
    let call = RestCall::parse_line("GET /polarion/rest/v1/projects/A").expect("a call");
    let d = check(&ix, "w", &call, &Object::new(), true).expect("decided");
    assert_eq!(
        d.body().as_deref(),
        Some(
            r#"{"errors":[{"status":"403","title":"Forbidden","detail":"You do not have permission to view Project 'A'."}]}"#
        )
    );
    let e = explain(&ix, "w", &call, &Object::new()).expect("explained");
    let text = e.render("r1");
    assert!(
        text.contains("item layer: com.polarion.persistence.object.Project.read in project A"),
        "{text}"
    );
    assert!(
        text.contains("refused by the item layer: You do not have permission to view Project 'A'."),
        "{text}"
    );
}

/// The path gives the item its `id` (and `space`), so custom sets on ids
/// apply; the caller's attributes win.
#[test]
fn the_path_names_the_item_for_custom_sets() {
    let perms = r#"<permissions>
  <customset id="safety" title="t">com.polarion.persistence.object.WorkItem(id:A-9*)</customset>
  <permission name="com.polarion">
    <role name="project_admin">
      <grant permission="persistence.object.WorkItem.modify"/>
      <deny permission="@safety.modify"/>
    </role>
  </permission>
</permissions>"#;
    let ix = index(&[
        (snapshot::USER_ROLES, USERS),
        (snapshot::PERMISSIONS, perms),
        ("A/.polarion/polarion-project.xml", "<project/>"),
        (
            "A/.polarion/security/user-roles.xml",
            r#"<user-roles><user name="u"><role name="project_admin"/></user></user-roles>"#,
        ),
    ])
    .0;
    for (line, obj, refused) in [
        ("PATCH /projects/A/workitems/A-1", "", None),
        ("PATCH /projects/A/workitems/A-90", "", Some(Layer::Item)),
        ("PATCH /projects/A/workitems/A-90", "id=A-1", None),
    ] {
        let call = RestCall::parse_line(line).expect("a call");
        let d = check(&ix, "u", &call, &object(obj), true).expect("decided");
        assert_eq!(d.refused(), refused, "{line} {obj}");
    }
}

/// Scenario 2's custom sets: a comma list and a query expander.
const SCENARIO_2_PERMISSIONS: &str = r#"<permissions>
  <customset id="review" title="In review">com.polarion.persistence.object.Module(document.type:requirements_specification AND status:(inreview,reviewed,approved))</customset>
  <customset id="linked" title="t">com.polarion.persistence.object.WorkItem(type:requirement AND linkedWorkItems:DP-1)</customset>
  <permission name="com.polarion">
    <role name="user">
      <grant permission="persistence.object.Module.modifyContent"/>
      <deny permission="@review.modifyContent"/>
      <grant permission="persistence.object.WorkItem.modify"/>
      <deny permission="@linked.modify"/>
    </role>
  </permission>
</permissions>"#;

/// (permission after `com.polarion.persistence.object.`, object, verdict
/// or `Err` for "the expander is not expanded").
const SCENARIO_2_CASES: &[(&str, &str, Result<Verdict, ()>)] = &[
    (
        "Module.modifyContent",
        "document.type=requirements_specification status=reviewed",
        Ok(Verdict::Deny),
    ),
    (
        "Module.modifyContent",
        "document.type=requirements_specification status=approved",
        Ok(Verdict::Deny),
    ),
    (
        "Module.modifyContent",
        "document.type=requirements_specification status=draft",
        Ok(Verdict::Allow),
    ),
    (
        "Module.modifyContent",
        "document.type=other status=inreview",
        Ok(Verdict::Allow),
    ),
    ("WorkItem.modify", "type=task", Ok(Verdict::Allow)),
    ("WorkItem.modify", "type=requirement", Err(())),
    (
        "WorkItem.modify",
        "type=requirement expanded:linked=true",
        Ok(Verdict::Deny),
    ),
    (
        "WorkItem.modify",
        "type=requirement expanded:linked.1=false",
        Ok(Verdict::Allow),
    ),
];

/// 002, "Custom Set Permissions", Scenario 2: Requirements Specifications
/// are read-only for review: `document.type:requirements_specification AND
/// status:(inreview,reviewed,approved)` on a Document custom set, with
/// MODIFY CONTENT denied. 003, "Defining Permissions for Artifact Sets":
/// an expander in a set is taken from the caller or refused.
#[test]
fn scenario_2_and_expanders_in_decisions() {
    let (ix, codes) = index(&[
        (snapshot::USER_ROLES, USERS),
        (snapshot::PERMISSIONS, SCENARIO_2_PERMISSIONS),
    ]);
    assert_eq!(
        codes.iter().filter(|c| *c == "query-expander").count(),
        1,
        "{codes:?}"
    );
    for (perm, obj, expect) in SCENARIO_2_CASES {
        let perm = format!("{OBJ}{perm}");
        let obj = object(obj);
        let req = crate::policy::Request {
            user: "w",
            permission: &perm,
            project: None,
            object: &obj,
        };
        let got = ix.check(&req);
        match (got, expect) {
            (Ok(v), Ok(e)) => assert_eq!(v, *e, "{perm} {obj:?}"),
            (Err(RequestError::Unexpanded { set, key, .. }), Err(())) => {
                assert_eq!(
                    (set.as_str(), key.as_str()),
                    ("linked", "expanded:linked.1")
                );
                assert!(ix.explain(&req).is_err());
            }
            (got, _) => panic!("{perm} {obj:?}: {got:?}"),
        }
        if let Ok(e) = ix.explain(&req) {
            let text = e.render("r1");
            if obj.values("expanded:linked").next().is_some() {
                assert!(
                    text.contains("expanded:linked=true stands for it"),
                    "{text}"
                );
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

    /// `check` and `explain` of a REST call never disagree, on the verdict
    /// or on the layer that refused.
    #[test]
    fn rest_check_and_explain_agree(
        user in proptest::sample::select(vec!["u", "w", "root", "v", "nobody"]),
        verb in proptest::sample::select(vec!["GET", "PATCH", "POST", "DELETE"]),
        parts in proptest::collection::vec(proptest::sample::select(vec![
            "projects", "A", "workitems", "A-1", "plans", "testruns", "spaces", "_default",
            "documents", "pages", "parts", "comments", "users",
        ]), 0..7),
    ) {
        let ix = worked_example();
        let line = format!("{verb} /polarion/rest/v1/{}", parts.join("/"));
        let call = RestCall::parse_line(&line).expect("a call");
        let obj = Object::new();
        let d = check(&ix, user, &call, &obj, true);
        let e = explain(&ix, user, &call, &obj);
        match (d, e) {
            (Ok(d), Ok(e)) => {
                proptest::prop_assert_eq!(d.verdict(), e.verdict(), "{}", line);
                proptest::prop_assert_eq!(d.refused(), e.refused(), "{}", line);
            }
            (Err(a), Err(b)) => proptest::prop_assert_eq!(a, b),
            (d, e) => proptest::prop_assert!(false, "{line}: {d:?} / {e:?}"),
        }
    }
}
