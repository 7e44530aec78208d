//! Tests of `policy::query`.

use super::*;

/// Parse a custom-set query, nested at most as deep as the default limit.
fn parse(text: &str) -> Result<Query, QueryError> {
    parse_within(text, crate::snapshot::Limits::default().max_query_depth)
}

/// Parse `query` and evaluate it for user `bob` on each object
/// (`k=v,k=v`); `expect` is one `y`/`n` per object.
fn check(query: &str, objects: &[&str], expect: &str) {
    let q = parse(query).unwrap_or_else(|e| panic!("{query}: {e} at {}", e.offset));
    let got: String = objects
        .iter()
        .map(|o| {
            let mut obj = Object::new();
            for pair in o.split(',').filter(|p| !p.is_empty()) {
                obj.push_pair(pair).expect("k=v");
            }
            if q.matches(&obj, "bob") { 'y' } else { 'n' }
        })
        .collect();
    assert_eq!(got, expect, "{query} on {objects:?}");
}

/// `query` is refused with a message containing `msg`, at `offset`.
fn refused(query: &str, offset: usize, msg: &str) {
    let e = parse(query).expect_err(query);
    assert!(e.message.contains(msg), "{query}: {}", e.message);
    assert_eq!(e.offset, offset, "{query}: {}", e.message);
}

#[test]
fn field_value() {
    check(
        "status:approved",
        &["status=approved", "status=draft", ""],
        "ynn",
    );
}

#[test]
fn values_compare_without_case_field_names_with_case() {
    check("status:Approved", &["status=APPROVED"], "y");
    check("customField:x", &["customField=X", "customfield=x"], "yn");
    check("status:and", &["status=AND"], "y");
}

#[test]
fn field_with_alternatives() {
    check(
        "status:(inreview OR reviewed OR approved)",
        &["status=reviewed", "status=draft"],
        "yn",
    );
}

#[test]
fn and_or_not_and_parentheses() {
    let objs = [
        "type=req,status=open",
        "type=req,status=done",
        "type=task,status=open",
        "type=task,severity=high",
    ];
    check("type:req AND status:open", &objs, "ynnn");
    check("type:req OR severity:high", &objs, "yyny");
    check("type:task AND NOT status:open", &objs, "nnny");
    check("(type:req OR type:task) AND status:open", &objs, "ynyn");
    check("type:req status:open", &objs, "ynnn");
    check("type:task -status:open", &objs, "nnny");
    check("type:req && !status:done", &objs, "ynnn");
    check("status:done || severity:high", &objs, "nyny");
}

#[test]
fn not_binds_tighter_than_and_and_and_than_or() {
    check(
        "type:task OR type:req AND status:done",
        &["type=task", "type=req,status=open", "type=req,status=done"],
        "yny",
    );
}

#[test]
fn quoted_phrases() {
    check(
        "title:\"Brake system\"",
        &["title=brake system", "title=brake"],
        "yn",
    );
}

#[test]
fn trailing_star() {
    check("id:DP-*", &["id=DP-12", "id=EL-1", "id=dp-"], "yny");
    check("resolution:*", &["resolution=fixed", "status=x"], "yn");
}

#[test]
fn user_id_is_the_login_asked_about() {
    check(
        "assignee.id:$[user.id]",
        &[
            "assignee=bob",
            "assignee=alice",
            "assignee=alice,assignee=bob",
        ],
        "yny",
    );
    check("author:$[user.id]", &["author=bob", "author=bobby"], "yn");
}

#[test]
fn missing_attribute_matches_nothing_but_not() {
    check("NOT status:x", &["", "status=x"], "yn");
}

#[test]
fn escapes() {
    check("title:a\\:b", &["title=a:b"], "y");
}

#[test]
fn malformed_queries_are_refused_where_they_break() {
    refused("", 0, "empty");
    refused("status:(a OR b", 7, "without a matching `)`");
    refused("status:a)", 8, "without a matching `(`");
    refused("approved", 0, "without a field");
    refused("status:", 0, "has no value");
    refused("status:a AND", 12, "without a term after");
    refused("OR status:a", 0, "without a term before");
    refused("title:\"abc", 6, "closing");
    refused("id:a*b", 4, "trailing `*`");
    refused("id:a?b", 4, "`?`");
    refused("created:[a TO b]", 8, "ranges");
    refused("author:$[user.name]", 7, "unknown variable");
    refused(":x", 0, "without a field name");
}

#[test]
fn nesting_is_bounded() {
    let deep = |n: usize| format!("{}status:a{}", "(".repeat(n), ")".repeat(n));
    assert!(parse_within(&deep(3), 3).is_ok());
    let e = parse_within(&deep(4), 3).expect_err("too deep");
    assert_eq!((e.kind, e.offset), (QueryErrorKind::TooDeep, 3));
    assert!(parse_within("NOT NOT NOT status:a", 3).is_ok());
    let e = parse_within("NOT NOT - !status:a", 3).expect_err("too deep");
    assert_eq!((e.kind, e.offset), (QueryErrorKind::TooDeep, 10));
    assert!(parse_within("status:(a OR (b))", 2).is_ok());
    assert_eq!(
        parse_within("(status:(a OR (b)))", 2).map_err(|e| e.kind),
        Err(QueryErrorKind::TooDeep)
    );
    // Siblings do not add up.
    assert!(parse_within("(a:1) (b:2) OR (c:3) AND NOT d:4", 1).is_ok());
    // No limit lets the parser recurse past the ceiling.
    let e = parse_within(&deep(5000), usize::MAX).expect_err("too deep");
    assert_eq!(e.kind, QueryErrorKind::TooDeep);
    assert_eq!(e.offset, MAX_QUERY_DEPTH_CEILING);
}

/// 002, "Custom Set Permissions", Scenario 2: "Documents of type
/// Requirements Specification with any of several status values…
/// document.type:requirements_specification AND
/// status:(inreview,reviewed,approved)". A comma list is a list of
/// alternatives.
#[test]
fn comma_lists_are_alternatives() {
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "status:(inreview,reviewed,approved)",
            &[
                "status=inreview",
                "status=reviewed",
                "status=approved",
                "status=draft",
            ],
            "yyyn",
        ),
        (
            "document.type:requirements_specification AND status:(inreview,reviewed,approved)",
            &[
                "document.type=requirements_specification,status=reviewed",
                "document.type=requirements_specification,status=draft",
                "document.type=other,status=approved",
            ],
            "ynn",
        ),
        (
            "status:inreview,approved",
            &["status=approved", "status=x"],
            "yn",
        ),
        ("status:(a, b ,c)", &["status=b", "status=c"], "yy"),
        (
            "status:(\"in review\",approved)",
            &["status=in review"],
            "y",
        ),
        ("id:(DP-*,EL-1)", &["id=DP-7", "id=EL-1", "id=EL-2"], "yyn"),
        (
            "status:(a,b) OR type:(x,y)",
            &["type=y", "status=a", "type=z"],
            "yyn",
        ),
    ];
    for (q, objs, expect) in cases {
        check(q, objs, expect);
    }
    let literal = parse("title:a\\,b").expect("parses");
    assert!(literal.matches(&Object::new().with("title", "a,b"), "bob"));
    assert!(!literal.matches(&Object::new().with("title", "a"), "bob"));
    refused("status:(a,)", 9, "without a value after");
    refused("status:a,", 8, "without a value after");
    refused(",status:a", 0, "without a value before");
    refused("status:(a),b", 10, "without a value before");
}

fn object(pairs: &str) -> Object {
    let mut obj = Object::new();
    for pair in pairs.split(',').filter(|p| !p.is_empty()) {
        obj.push_pair(pair).expect("k=v");
    }
    obj
}

/// 003, "Defining Permissions for Artifact Sets": "query expanders
/// (that is, query elements such as SQL, linkedWorkItems, PLAN,
/// TEST_RECORDS that are decomposed to list of IDs in the background)".
/// They parse; their answer is the caller's `expanded:<set>[.<n>]`,
/// and unknown without it.
#[test]
fn query_expanders_take_the_callers_expansion() {
    let y = Some(true);
    let n = Some(false);
    let cases: &[(&str, &str, Option<bool>)] = &[
        (
            "SQL:(SELECT C_URI FROM WORKITEM WHERE C_ID = 'x' AND (a OR b))",
            "",
            None,
        ),
        ("SQL:(SELECT 1)", "expanded:S=true", y),
        ("SQL:(SELECT 1)", "expanded:S=FALSE", n),
        ("SQL:(SELECT 1)", "expanded:S=maybe", None),
        ("SQL:(SELECT 1)", "expanded:T=true", None),
        ("linkedWorkItems:DP-12", "expanded:S.1=true", y),
        ("linkedWorkItems:(parent=DP-12)", "expanded:S=true", y),
        ("PLAN:(drivepilot/Release_1)", "expanded:S=true", y),
        (
            "TEST_RECORDS:(\"drivepilot/TR-1\", FAILED)",
            "expanded:S=true",
            y,
        ),
        ("TEST_RECORDS:\"drivepilot/TR-1\"", "expanded:S=false", n),
        // Three-valued: the rest of the query can decide alone.
        ("type:task AND SQL:(SELECT 1)", "type=defect", n),
        ("type:task OR SQL:(SELECT 1)", "type=task", y),
        ("type:task AND SQL:(SELECT 1)", "type=task", None),
        ("NOT SQL:(SELECT 1)", "expanded:S=true", n),
        // The n-th expander of the query, from 1; the numbered key wins.
        (
            "linkedWorkItems:DP-1 AND PLAN:R1",
            "expanded:S.1=true,expanded:S.2=false",
            n,
        ),
        (
            "linkedWorkItems:DP-1 AND PLAN:R1",
            "expanded:S=true,expanded:S.2=false",
            n,
        ),
        ("linkedWorkItems:DP-1 AND PLAN:R1", "expanded:S=true", y),
    ];
    for (q, obj, expect) in cases {
        let parsed = parse(q).unwrap_or_else(|e| panic!("{q}: {e} at {}", e.offset));
        assert_eq!(
            parsed.eval(&object(obj), "bob", "S"),
            *expect,
            "{q} on {obj}"
        );
    }
    let q = parse("linkedWorkItems:DP-1 AND PLAN:R1").expect("parses");
    let names: Vec<(&str, &str, usize)> = q
        .expanders()
        .iter()
        .map(|e| (e.name.as_str(), e.arg.as_str(), e.n))
        .collect();
    assert_eq!(names, [("linkedWorkItems", "DP-1", 1), ("PLAN", "R1", 2)]);
    let missing = q.missing_expander(&object("expanded:S.1=true"), "S");
    assert_eq!(missing.map(|e| e.n), Some(2));
    // Only the exact names are expanders; other fields are attributes.
    check("sql:x", &["sql=x"], "y");
    refused("SQL:(SELECT 1", 4, "without a matching `)`");
    refused("SQL: x", 4, "without its argument");
}

/// Issue 9's depth limit holds with expanders and comma lists.
#[test]
fn expanders_and_comma_lists_keep_the_depth_limit() {
    assert!(parse_within("(SQL:(((((SELECT 1))))))", 1).is_ok());
    assert_eq!(
        parse_within("((status:(a,b)))", 2).map_err(|e| e.kind),
        Err(QueryErrorKind::TooDeep)
    );
}
