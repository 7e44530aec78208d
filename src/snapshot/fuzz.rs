//! Fuzz-style property tests of everything that reads configuration input:
//! every XML reader, the custom-set query parser, the authz parser and
//! validator, and `build` as a whole. Random nesting, sizes and encodings;
//! each run happens on a thread with a 256 KiB stack, so an unbounded
//! recursion overflows it (and aborts the test run) instead of passing on
//! the main thread's 8 MiB. Asserted: no panic, no overflow, and output
//! bounded by the limits (tree size proportional to the input, depths and
//! counts within their limits). `build` parses its XML files on rayon's
//! threads, not on the small stack; every XML reader is therefore also run
//! directly on the small stack (`read_everything` below).

use proptest::prelude::*;

use super::{Input, Limits, build};
use crate::authz;
use crate::diag::{Code, Source};
use crate::ident::IdChars;
use crate::policy::query::{self, Object, Query};
use crate::xml::{self, tree};

/// Run `f` on a thread with a 256 KiB stack.
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    stack_of(256 << 10, f)
}

/// Run `f` on a thread with a stack of `bytes`.
fn stack_of<T: Send + 'static>(bytes: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(bytes)
        .spawn(f)
        .expect("spawn a thread")
        .join()
        .expect("no panic")
}

/// Depth, element count and bytes of strings of a tree, counted without
/// recursion.
fn measure(root: &tree::Element) -> (usize, usize, usize) {
    let (mut depth, mut elements, mut bytes) = (0, 0, 0);
    let mut stack = vec![(root, 1)];
    while let Some((el, d)) = stack.pop() {
        depth = depth.max(d);
        elements += 1;
        bytes += el.name.len() + el.text.len();
        bytes += el
            .attrs
            .iter()
            .map(|a| a.name.len() + a.value.len())
            .sum::<usize>();
        stack.extend(el.children.iter().map(|c| (c, d + 1)));
    }
    (depth, elements, bytes)
}

const NAMES: &[&str] = &[
    "user-roles",
    "user",
    "group",
    "role",
    "permissions",
    "permission",
    "customset",
    "grant",
    "deny",
    "roles",
    "user-groups",
    "project",
    "field",
    "x",
];
const ATTRS: &[&str] = &[
    "name",
    "id",
    "permission",
    "scope",
    "title",
    "description",
    "disabled",
];

#[derive(Debug, Clone)]
enum Op {
    Open(usize, Vec<(usize, String)>),
    Empty(usize, Vec<(usize, String)>),
    Close,
    Text(String),
    /// `n` nested start tags of one name.
    Deep(usize, usize),
    Raw(&'static str),
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_.@-]{0,12}",
        "[a-zA-Z0-9 &;#<>'\u{202e}\u{200b}\u{430}é\u{feff}]{0,16}",
        (1usize..400).prop_map(|n| "v".repeat(n)),
        Just("&amp;&lt;&#x41;&#65;".to_owned()),
        Just("&e;".to_owned()),
        Just("com.polarion.persistence".to_owned()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let attrs = || proptest::collection::vec((0..ATTRS.len(), value()), 0..3);
    prop_oneof![
        4 => (0..NAMES.len(), attrs()).prop_map(|(n, a)| Op::Open(n, a)),
        4 => (0..NAMES.len(), attrs()).prop_map(|(n, a)| Op::Empty(n, a)),
        4 => Just(Op::Close),
        2 => value().prop_map(Op::Text),
        1 => (0..NAMES.len(), prop_oneof![1usize..100, 100usize..20_000]).prop_map(|(n, k)| Op::Deep(n, k)),
        1 => prop_oneof![
            Just("<![CDATA[a<b]]>"),
            Just("<!-- c -->"),
            Just("<?pi x?>"),
            Just("<!DOCTYPE x>"),
            Just("</"),
            Just("<a b='1' b='2'>"),
            Just("\u{feff}"),
            Just("&#0;"),
        ].prop_map(Op::Raw),
    ]
}

/// A document: a root (one of the file roots), random content, and the
/// closing tags (mostly).
fn document() -> impl Strategy<Value = String> {
    (
        0..NAMES.len(),
        proptest::collection::vec(op(), 0..40),
        any::<bool>(),
    )
        .prop_map(|(root, ops, close)| {
            let mut out = String::from("<?xml version=\"1.0\"?>\n");
            let mut open = vec![NAMES[root]];
            out.push_str(&format!("<{}>", NAMES[root]));
            let attrs = |a: &[(usize, String)]| -> String {
                a.iter()
                    .map(|(k, v)| format!(" {}=\"{}\"", ATTRS[*k], v.replace('"', "&quot;")))
                    .collect()
            };
            for op in ops {
                match op {
                    Op::Open(n, a) => {
                        out.push_str(&format!("<{}{}>", NAMES[n], attrs(&a)));
                        open.push(NAMES[n]);
                    }
                    Op::Empty(n, a) => out.push_str(&format!("<{}{}/>", NAMES[n], attrs(&a))),
                    Op::Close => {
                        if let Some(n) = open.pop() {
                            out.push_str(&format!("</{n}>"));
                        }
                    }
                    Op::Text(t) => out.push_str(&t),
                    Op::Deep(n, k) => {
                        for _ in 0..k {
                            out.push_str(&format!("<{} name=\"a\">", NAMES[n]));
                            open.push(NAMES[n]);
                        }
                    }
                    Op::Raw(r) => out.push_str(r),
                }
            }
            if close {
                while let Some(n) = open.pop() {
                    out.push_str(&format!("</{n}>"));
                }
            }
            out
        })
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        Just(Limits::default()),
        (
            1usize..80,
            1usize..3000,
            1usize..300,
            1usize..64,
            0usize..24
        )
            .prop_map(|(depth, elements, value, name, query)| Limits {
                max_xml_depth: depth,
                max_xml_elements: elements,
                max_value_bytes: value,
                max_name_bytes: name,
                max_query_depth: query,
                max_access_bytes: 1 << 16,
                id_chars: IdChars::UnicodeLetters,
                ..Limits::default()
            }),
    ]
}

/// Every reader on `text`: no panic, no overflow; what is read is within
/// the limits and proportional to the input.
fn read_everything(text: String, limits: Limits) {
    small_stack(move || {
        let src = Source::new("f.xml", &text);
        match tree::parse(&src, &limits) {
            Ok(root) => {
                let (depth, elements, bytes) = measure(&root);
                assert!(depth <= limits.max_xml_depth, "depth {depth}");
                assert!(elements <= limits.max_xml_elements, "{elements} elements");
                // `<a/>` is the smallest element; decoded text never grows.
                assert!(elements * 4 <= text.len(), "{elements} elements");
                assert!(bytes <= text.len(), "{bytes} bytes from {}", text.len());
            }
            Err(d) => assert!(d.span.start <= text.len() && d.line >= 1),
        }
        let (perms, diags) = xml::read_permissions(&src, &limits);
        if let Some(p) = perms {
            for e in &p.entries {
                assert!(e.permission.value.len() <= limits.max_name_bytes);
            }
            assert!(p.entries.len() * 4 <= text.len());
        }
        assert!(diags.len() <= text.len());
        let _ = xml::read_user_roles(&src, &limits);
        let _ = xml::read_roles(&src, &limits);
        let _ = xml::read_groups(&src, &limits);
        let _ = xml::read_user(&src, &limits);
        let _ = xml::read_project(&src, &limits);
    });
}

/// Depth of a query, counted without recursion.
fn query_depth(q: &Query) -> usize {
    let mut max = 0;
    let mut stack = vec![(q, 1)];
    while let Some((q, d)) = stack.pop() {
        max = max.max(d);
        match q {
            Query::Term { .. } | Query::Expander(_) => {}
            Query::Not(inner) => stack.push((inner, d + 1)),
            Query::And(qs) | Query::Or(qs) => stack.extend(qs.iter().map(|q| (q, d + 1))),
        }
    }
    max
}

const QUERY_TOKENS: &[&str] = &[
    "(",
    ")",
    "NOT ",
    "AND ",
    "OR ",
    "!",
    "-",
    "+",
    "&&",
    "||",
    "status:",
    "type:",
    "a",
    "b*",
    "*",
    "\"x y\"",
    "\"",
    "\\",
    "\\:",
    "$[user.id]",
    "$[x]",
    " ",
    "[",
    "{",
    "?",
    "é",
    "\u{202e}",
    ":",
];

fn query_text() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(0..QUERY_TOKENS.len(), 0..40),
        prop_oneof![Just(0usize), 1usize..60, 1000usize..6000],
        0usize..3,
    )
        .prop_map(|(toks, deep, kind)| {
            let body: String = toks.iter().map(|&t| QUERY_TOKENS[t]).collect();
            match kind {
                0 => format!("{}{body}{}", "(".repeat(deep), ")".repeat(deep)),
                1 => format!("{}{body}", "NOT ".repeat(deep)),
                _ => format!(
                    "{}status:{body}{}",
                    "status:(".repeat(deep),
                    ")".repeat(deep)
                ),
            }
        })
}

/// The query parser on `text`, with any limit: no panic or overflow; a
/// parsed query is no deeper than the nesting allows and evaluates without
/// overflow.
fn parse_query(text: String, max_depth: usize) {
    // 2 MiB: the stack of the runtime's blocking threads, the smallest `build`
    // runs on; the unoptimised parser takes some KiB per level, so the
    // ceiling of 64 levels needs more than 256 KiB in a debug build.
    stack_of(2 << 20, move || {
        match query::parse_within(&text, max_depth) {
            Ok(q) => {
                let bound = max_depth.min(query::MAX_QUERY_DEPTH_CEILING);
                // Each level of nesting adds at most an OR, an AND and a NOT.
                assert!(query_depth(&q) <= 3 * (bound + 1), "{}", query_depth(&q));
                let obj = Object::new().with("status", "a").with("type", "b");
                let _ = q.matches(&obj, "bob");
            }
            Err(e) => assert!(e.offset <= text.len()),
        }
    });
}

const AUTHZ_LINES: &[&str] = &[
    "[groups]",
    "[aliases]",
    "[/]",
    "[/a/b]",
    "[repo:/x]",
    "[:glob:/a/**/b]",
    "[:glob:/*]",
    "[/a/]",
    "g1 = @g2, u1",
    "g2 = @g3",
    "g3 = @g1",
    "g4 = &a1, u2",
    "a1 = u3",
    "@g1 = rw",
    "~@g2 = r",
    "* = r",
    "$authenticated = rw",
    "$anonymous =",
    "&a1 = r",
    "u1 = x",
    "  , u4",
    "# comment",
    "; comment",
    "garbage",
    "= r",
    "[",
    "\u{feff}[/]",
    "g\u{202e} = u",
];

fn authz_text() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(0..AUTHZ_LINES.len(), 0..40),
        prop_oneof![Just(0usize), 1usize..50, 1000usize..5000],
        any::<bool>(),
    )
        .prop_map(|(lines, chain, crlf)| {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut out: String = lines
                .iter()
                .map(|&l| format!("{}{eol}", AUTHZ_LINES[l]))
                .collect();
            if chain > 0 {
                // A chain of nested groups: c0 = @c1, c1 = @c2, …
                out.push_str(&format!("[groups]{eol}"));
                for i in 0..chain {
                    out.push_str(&format!("c{i} = @c{}{eol}", i + 1));
                }
                out.push_str(&format!("c{chain} = deep{eol}[/]{eol}@c0 = rw{eol}"));
            }
            out
        })
}

/// The authz parser, validator and evaluator on `text`: no panic or
/// overflow; diagnostics proportional to the input.
fn check_authz(text: String) {
    small_stack(move || {
        let doc = authz::parse(&text);
        // The lossless parse holds no more sections than lines.
        assert!(doc.sections.len() <= text.lines().count() + 1);
        let _ = doc.section("groups").map(|s| s.span());
        let diags = authz::validate("access", &text);
        assert!(diags.len() <= text.len() + 1);
        if let Ok(a) = authz::Authz::load(&text, None) {
            for user in [Some("deep"), Some("u1"), None] {
                let _ = a.access(user, None, Some("/a/b"));
                let _ = a.access(user, Some("repo"), None);
                let _ = a.list(user, Some("x"));
            }
        }
    });
}

/// Bytes of a configuration file: valid UTF-8, or not.
fn encoded(text: String, how: u8) -> Vec<u8> {
    match how % 4 {
        0 => text.into_bytes(),
        1 => {
            let mut b = vec![0xEF, 0xBB, 0xBF];
            b.extend(text.into_bytes());
            b
        }
        2 => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        _ => {
            let mut b = text.into_bytes();
            let at = b.len() / 2;
            b.insert(at, 0xC3);
            b
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn xml_readers_are_bounded(text in document(), limits in limits()) {
        read_everything(text, limits);
    }

    #[test]
    fn query_parser_is_bounded(text in query_text(), max_depth in 0usize..100) {
        parse_query(text, max_depth);
    }

    #[test]
    fn authz_is_bounded(text in authz_text()) {
        check_authz(text);
    }

    #[test]
    fn build_is_bounded(
        user_roles in document(),
        permissions in document(),
        how in any::<u8>(),
        limits in limits(),
    ) {
        let mut input = Input { limits, ..Input::default() };
        input.files.insert(super::USER_ROLES.into(), encoded(user_roles, how).into());
        input.files.insert(super::PERMISSIONS.into(), encoded(permissions, how / 4).into());
        input.files.insert(super::ACCESS_FILE.into(), b"[/]\n* = r\n".into());
        let report = small_stack(move || build(&input));
        if let Some(s) = &report.snapshot {
            prop_assert!(s.access.len() <= limits.max_access_bytes);
        }
    }
}

/// The inputs that used to overflow the stack, at those depths, on a small stack.
#[test]
fn the_depths_that_used_to_overflow_are_refused() {
    let nested = |name: &str, n: usize| {
        format!(
            "<{name}>{}{}</{name}>",
            "<permission name=\"a\">".repeat(n),
            "</permission>".repeat(n)
        )
    };
    for root in [
        "permissions",
        "user-roles",
        "roles",
        "user-groups",
        "user",
        "project",
    ] {
        for n in [10_000, 50_000] {
            let text = nested(root, n);
            let codes = small_stack(move || {
                let src = Source::new("f.xml", &text);
                let limits = Limits::default();
                let readers: [fn(&Source, &Limits) -> Vec<Code>; 6] = [
                    |s, l| {
                        xml::read_permissions(s, l)
                            .1
                            .iter()
                            .map(|d| d.code)
                            .collect()
                    },
                    |s, l| {
                        xml::read_user_roles(s, l)
                            .1
                            .iter()
                            .map(|d| d.code)
                            .collect()
                    },
                    |s, l| xml::read_roles(s, l).1.iter().map(|d| d.code).collect(),
                    |s, l| xml::read_groups(s, l).1.iter().map(|d| d.code).collect(),
                    |s, l| xml::read_user(s, l).1.iter().map(|d| d.code).collect(),
                    |s, l| xml::read_project(s, l).1.iter().map(|d| d.code).collect(),
                ];
                readers.map(|r| r(&src, &limits))
            });
            for c in codes {
                assert!(c.contains(&Code::XmlTooDeep), "{root} {n}: {c:?}");
            }
        }
    }
    for q in [
        format!("{}status:a{}", "(".repeat(5000), ")".repeat(5000)),
        format!("{}status:a", "NOT ".repeat(5000)),
        format!("{}a{}", "status:(".repeat(5000), ")".repeat(5000)),
    ] {
        let kind = small_stack(move || {
            query::parse_within(&q, Limits::default().max_query_depth)
                .map(|_| ())
                .map_err(|e| e.kind)
        });
        assert_eq!(kind, Err(query::QueryErrorKind::TooDeep));
    }
    // 100,000 nested groups in the access file.
    let mut text = String::from("[groups]\n");
    for i in 0..100_000 {
        text.push_str(&format!("c{i} = @c{}\n", i + 1));
    }
    text.push_str("c100000 = deep\n[/]\n@c0 = rw\n");
    let access = small_stack(move || {
        let a = authz::Authz::load(&text, None).expect("valid");
        a.access(Some("deep"), None, Some("/x"))
    });
    assert_eq!(access, authz::Access::ReadWrite);
}

/// A configuration in which one group with many members holds many roles
/// is refused by counting, before any group is built.
#[test]
fn amplification_is_refused_before_it_is_built() {
    let members: String = (0..3000)
        .map(|i| format!("<user name=\"u{i}\"/>"))
        .collect();
    let roles: String = (0..3000)
        .map(|i| format!("<role name=\"r{i}\"/>"))
        .collect();
    let mut input = Input::default();
    input.files.insert(
        super::GROUPS.into(),
        format!("<user-groups><group id=\"g\">{members}</group></user-groups>").into(),
    );
    input.files.insert(
        super::USER_ROLES.into(),
        format!("<user-roles><group name=\"g\">{roles}</group></user-roles>").into(),
    );
    input.limits.max_access_bytes = 1 << 20;
    let report = small_stack(move || build(&input));
    assert!(report.snapshot.is_none());
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.code == Code::AccessFileTooLarge)
    );
}
