//! Tests of `policy::names`.

use super::*;

fn check_parent(child: &str, expect: Option<&str>) {
    assert_eq!(parent(child).as_deref(), expect, "{child}");
}

#[test]
fn test_run_comment_falls_back_to_modify() {
    check_parent(
        "com.polarion.persistence.object.TestRun.comment",
        Some("com.polarion.persistence.object.TestRun.modify"),
    );
}

#[test]
fn user_and_role_management_fall_back_to_administration() {
    check_parent(
        "com.polarion.security.user.manage",
        Some("com.polarion.administration.modify"),
    );
    check_parent(
        "com.polarion.security.role.manage",
        Some("com.polarion.administration.modify"),
    );
}

#[test]
fn legacy_document_modify_stands_for_its_parts() {
    for part in ["manage", "modifyFields", "modifyContent"] {
        check_parent(
            &format!("com.polarion.persistence.object.Module.{part}"),
            Some("com.polarion.persistence.object.Module.modify"),
        );
    }
    check_parent("com.polarion.persistence.object.Module.comment", None);
}

#[test]
fn fields_fall_back_to_their_object() {
    check_parent(
        "com.polarion.persistence.object.WorkItem.field.severity.modify",
        Some("com.polarion.persistence.object.WorkItem.modify"),
    );
    check_parent(
        "com.polarion.persistence.object.WorkItem.field.salary.read",
        Some("com.polarion.persistence.object.WorkItem.read"),
    );
    check_parent("com.polarion.persistence.object.WorkItem.modify", None);
    check_parent("com.example.plugin.thing", None);
}

/// `line` → (permission, project).
fn check_rest(line: &str, expect: Result<(&str, Option<&str>), ()>) {
    let got = RestCall::parse_line(line)
        .map(|c| (c.verb.permission(), c.project().map(str::to_owned)))
        .map_err(|_| ());
    let expect = expect.map(|(p, project)| (p, project.map(str::to_owned)));
    assert_eq!(got, expect, "{line}");
}

#[test]
fn rest_calls_name_their_context() {
    check_rest(
        "GET /polarion/rest/v1/projects",
        Ok(("com.polarion.rest.endpoint.get", None)),
    );
    check_rest(
        "GET /polarion/rest/v1/projects/drivepilot/workitems?page=1",
        Ok(("com.polarion.rest.endpoint.get", Some("drivepilot"))),
    );
    check_rest(
        "PATCH /projects/elibrary",
        Ok(("com.polarion.rest.endpoint.patch", Some("elibrary"))),
    );
    check_rest(
        "delete /polarion/rest/v1/users/bob",
        Ok(("com.polarion.rest.endpoint.delete", None)),
    );
    check_rest("POST /polarion/rest/v1projects/x", Err(()));
    check_rest("PUT /projects/x", Err(()));
    check_rest("GET projects/x", Err(()));
    check_rest("GET", Err(()));
}

/// `raw` → the canonical form and project, or the refusal.
fn check_path(raw: &str, expect: Result<(&str, Option<&str>), PathRefusal>) {
    let got = RestPath::parse(raw).map(|p| {
        (
            p.as_str().to_owned(),
            p.project().map(|p| p.as_str().to_owned()),
        )
    });
    let expect = expect.map(|(c, p)| (c.to_owned(), p.map(str::to_owned)));
    assert_eq!(got, expect, "{raw:?}");
}

#[test]
fn canonical_paths_decode_only_unreserved_characters() {
    let a = Some("A");
    check_path(
        "/polarion/rest/v1/projects/A/x",
        Ok(("/polarion/rest/v1/projects/A/x", a)),
    );
    check_path(
        "/polarion/rest/v1/%70rojects/%41/x",
        Ok(("/polarion/rest/v1/projects/A/x", a)),
    );
    check_path(
        "/polarion/rest/v1/projects/A/My%20doc%c3%a9",
        Ok(("/polarion/rest/v1/projects/A/My%20doc%C3%A9", a)),
    );
    check_path(
        "/polarion/rest/v1/projects/A/x?q=/../B#",
        Err(PathRefusal::Fragment),
    );
    check_path(
        "/polarion/rest/v1/projects/A/x?q=/../B",
        Ok(("/polarion/rest/v1/projects/A/x", a)),
    );
    check_path(
        "/polarion/rest/v1/projects/",
        Ok(("/polarion/rest/v1/projects/", None)),
    );
    check_path("/polarion/rest/v1", Ok(("/polarion/rest/v1", None)));
    check_path("/polarion/rest", Ok(("/polarion/rest", None)));
    check_path("/", Ok(("/", None)));
    check_path("/projects/A", Ok(("/projects/A", a)));
    check_path(
        "/users/a:b@c!$&'()*+,=",
        Ok(("/users/a:b@c!$&'()*+,=", None)),
    );
    check_path(
        "/polarion/rest/v1/projects/a...b",
        Ok(("/polarion/rest/v1/projects/a...b", Some("a...b"))),
    );
}

#[test]
fn ambiguous_paths_are_refused() {
    use PathRefusal as R;
    let cases: &[(&str, PathRefusal)] = &[
        ("/polarion/rest/v1/projects/A/../B", R::DotSegment),
        ("/polarion/rest/v1/projects/A/%2e%2E/B", R::DotSegment),
        ("/polarion/rest/v1/./projects/B", R::DotSegment),
        ("/polarion/rest/v1/projects/B/.", R::DotSegment),
        ("/polarion/rest//v1/projects/B", R::EmptySegment),
        ("//projects/B", R::EmptySegment),
        ("/polarion/rest/v1;x/projects/B", R::PathParameter),
        ("/polarion/rest/v1/projects/A/..%3B/B", R::PathParameter),
        ("/polarion/rest/v1/projects%2FB", R::EncodedSlash),
        ("/polarion/rest/v1/projects%5cB", R::Backslash),
        ("/polarion/rest/v1/projects\\B", R::Backslash),
        ("/polarion/rest/v1/projects/B%00", R::Control),
        ("/polarion/rest/v1/projects/B\u{0}", R::Control),
        ("/polarion/rest/v1/projects/B\u{85}", R::Control),
        ("/polarion/rest/v1/%2570rojects/B", R::EncodedPercent),
        ("/polarion/rest/v1/projects/B%4", R::BadPercent),
        ("/polarion/rest/v1/projects/B%g0", R::BadPercent),
        ("/polarion/rest/v1/projects/%C0%AE", R::NotUtf8),
        ("/polarion/rest/v1/projects/B c", R::BadChar(' ')),
        ("/polarion/rest/v1/projects/é", R::BadChar('é')),
        ("/polarion/rest/v1/Projects/B", R::Case("Projects".into())),
        ("/Polarion/rest/v1/projects/B", R::Case("Polarion".into())),
        ("/polarion/REST/v1/projects/B", R::Case("REST".into())),
        ("/polarion/rest/v2/projects/B", R::NotRestApi),
        ("/polarion/x/projects/B", R::NotRestApi),
        ("/polarion/rest/v1/projects/A%20B", R::Name("A%20B".into())),
        ("/polarion/rest/v1/pro:jects/B", R::Name("pro:jects".into())),
        ("polarion/rest/v1/projects/B", R::NotAbsolute),
        ("*", R::NotAbsolute),
    ];
    for (raw, why) in cases {
        check_path(raw, Err(why.clone()));
    }
    let long = format!("/projects/A/{}", "x".repeat(MAX_REST_PATH_BYTES));
    check_path(
        &long,
        Err(R::TooLong {
            len: long.len(),
            max: MAX_REST_PATH_BYTES,
        }),
    );
}

#[test]
fn a_proxy_method_is_written_as_http_writes_it() {
    let path = "/polarion/rest/v1/projects/A";
    assert_eq!(
        RestCall::from_request("HEAD", path).map(|c| c.verb),
        Ok(Verb::Get)
    );
    assert!(RestCall::from_request("get", path).is_err());
    assert!(RestCall::from_request("PUT", path).is_err());
    let e = RestCall::from_request("GET", "/projects/\u{1b}[31m/../B").expect_err("refused");
    assert!(e.to_string().contains("\\u{1b}"), "{e}");
}

/// Where a lenient server could route `path`: Tomcat's reading and
/// variations (parameters dropped before or after decoding, decoded
/// twice, `\` and `%2F` read as `/`, names matched in any case, `//`
/// merged or not). `None` for a path such a server refuses.
fn lenient_contexts(path: &str) -> Vec<Option<String>> {
    fn decode(p: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < p.len() {
            match (p[i], hex(p.get(i + 1)), hex(p.get(i + 2))) {
                (b'%', Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                (b, _, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        out
    }
    fn strip(p: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, seg) in p.split(|b| *b == b'/').enumerate() {
            if i > 0 {
                out.push(b'/');
            }
            let end = seg.iter().position(|b| *b == b';').unwrap_or(seg.len());
            out.extend_from_slice(&seg[..end]);
        }
        out
    }
    let raw = path.split(['?', '#']).next().unwrap_or(path).as_bytes();
    let mut all = Vec::new();
    for variant in 0..32u8 {
        let mut p = raw.to_vec();
        if variant & 1 == 0 {
            p = strip(&p);
        }
        p = decode(&p);
        if variant & 2 != 0 {
            p = decode(&p);
        }
        if variant & 1 != 0 {
            p = strip(&p);
        }
        if variant & 4 != 0 {
            p.iter_mut()
                .filter(|b| **b == b'\\')
                .for_each(|b| *b = b'/');
        }
        let text = String::from_utf8_lossy(&p).into_owned();
        let mut segs: Vec<String> = Vec::new();
        let parts: Vec<&str> = text.split('/').skip(1).collect();
        for (i, seg) in parts.iter().enumerate() {
            match *seg {
                "." => {}
                ".." => {
                    segs.pop();
                }
                "" if variant & 8 != 0 && i + 1 < parts.len() => {}
                s => segs.push(s.to_owned()),
            }
        }
        let is = |seg: &str, name: &str| {
            seg == name || (variant & 16 != 0 && seg.eq_ignore_ascii_case(name))
        };
        let prefixed = segs.len() >= 3
            && is(&segs[0], "polarion")
            && is(&segs[1], "rest")
            && is(&segs[2], "v1");
        let rest = if prefixed { &segs[3..] } else { &segs[..] };
        all.push(match rest {
            [p, project, ..] if is(p, "projects") && !project.is_empty() => Some(project.clone()),
            _ => None,
        });
    }
    all
}

fn fragment() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        Just("/".to_owned()),
        Just("projects".to_owned()),
        Just("Projects".to_owned()),
        Just("polarion/rest/v1".to_owned()),
        Just("A".to_owned()),
        Just("B".to_owned()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just(";x".to_owned()),
        Just("?".to_owned()),
        Just("#".to_owned()),
        Just("\\".to_owned()),
        "%[0-9a-fA-F]{2}",
        "%[0-9a-zA-Z]{0,2}",
        "[a-z]{1,3}",
        any::<char>().prop_map(String::from),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

    #[test]
    fn rest_paths_are_canonical_bounded_and_unambiguous(
        start in proptest::sample::select(vec![
            "/polarion/rest/v1/projects/A/", "/polarion/rest/v1/", "/projects/", "/", "",
        ]),
        parts in proptest::collection::vec(fragment(), 0..12),
    ) {
        let raw = format!("{start}{}", parts.concat());
        match RestPath::parse(&raw) {
            Err(_) => {}
            Ok(p) => {
                // Canonical: parsing the canonical form gives itself.
                proptest::prop_assert_eq!(RestPath::parse(p.as_str()), Ok(p.clone()));
                // Bounded: never longer than what came in.
                proptest::prop_assert!(p.as_str().len() <= raw.len());
                // Unambiguous: every lenient reading routes where rolesync decides.
                let decided = p.project().map(|p| p.as_str().to_owned());
                for context in lenient_contexts(&raw) {
                    proptest::prop_assert_eq!(&context, &decided, "{:?}", raw);
                }
            }
        }
    }

    #[test]
    fn any_bytes_are_refused_or_decided(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let raw = String::from_utf8_lossy(&bytes);
        if let Ok(p) = RestPath::parse(&raw) {
            proptest::prop_assert_eq!(RestPath::parse(p.as_str()), Ok(p.clone()));
        }
    }
}

#[test]
fn the_forbidden_body_is_one_json_document() {
    let v: serde_json::Value = serde_json::from_str(FORBIDDEN_BODY).expect("JSON");
    assert_eq!(v["errors"][0]["status"], "403");
    assert!(v["errors"][0]["source"].is_null());
}
