//! The renderer's tests.

use super::*;

fn groups() -> Vec<Group<'static>> {
    vec![
        Group {
            name: "admin",
            members: vec!["alice"],
        },
        Group {
            name: "lib-project_user",
            members: vec![],
        },
    ]
}

/// Render `source` and compare the text with `expect`; return the codes.
fn check(source: &str, expect: &str) -> Vec<&'static str> {
    let out = render("access", source, &groups());
    assert_eq!(out.text, expect, "\n--- got ---\n{}", out.text);
    out.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

const BLOCK: &str = "# rolesync: BEGIN generated groups; edit the role files, not these lines\n\
                     admin = alice\nlib-project_user =\n# rolesync: END generated groups\n";

/// The generated block as the previous version wrote it: its BEGIN
/// marker named the revision.
const OLD_BLOCK: &str = "# rolesync: BEGIN generated groups (revision 0123456789abcdef0123456789abcdef01234567); edit the role files, not these lines\n\
                         admin = alice\nlib-project_user =\n# rolesync: END generated groups\n";

/// The marker names no revision (`render` is not told one): the bytes
/// of the access file depend only on its content, so a commit that
/// changes nothing the file holds leaves it byte for byte (and
/// Subversion's parse cache warm), and the same input always renders
/// the same bytes.
#[test]
fn the_generated_block_names_no_revision() {
    let source = "[groups]\nteam = bob\n[/]\n@team = r\n";
    let first = render("access", source, &groups());
    let again = render("access", source, &groups());
    assert_eq!(first.text, again.text);
    assert_eq!(
        first.text,
        format!("[groups]\n{BLOCK}team = bob\n[/]\n@team = r\n")
    );
    assert!(!first.text.contains("revision"), "{}", first.text);
}

/// A file the previous version wrote (its marker names a revision) is
/// recognised as rolesync's: its block is replaced by the new one,
/// nothing is taken over, and rendering the result again changes
/// nothing.
#[test]
fn a_block_whose_marker_names_a_revision_is_recognised() {
    let old = format!("[groups]\n{OLD_BLOCK}team = carol\n[/]\n@team = r\n");
    let expect = format!("[groups]\n{BLOCK}team = carol\n[/]\n@team = r\n");
    assert!(check(&old, &expect).is_empty());
    assert!(check(&expect, &expect).is_empty());
    let crlf = old.replace('\n', "\r\n");
    assert!(check(&crlf, &expect.replace('\n', "\r\n")).is_empty());
}

/// Beside the markers of the previous version a hand-written role group
/// is refused, as beside the new ones; nothing is taken over.
#[test]
fn a_role_group_beside_an_old_marker_is_refused() {
    for source in [
        format!("[groups]\n{OLD_BLOCK}admin = mallory\n[/]\n@admin = rw\n"),
        format!("[groups]\n{BLOCK}admin = mallory\n[/]\n@admin = rw\n"),
    ] {
        let (text, found) = render_lines(&source);
        assert_eq!(text, format!("[groups]\n{BLOCK}[/]\n@admin = rw\n"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("6 group-collides-with-role"),
            "{found:?}"
        );
    }
}

#[test]
fn a_file_without_groups_gets_them_before_its_first_section() {
    let expect = format!("# rules\n[groups]\n{BLOCK}\n[/]\n@admin = rw\n");
    assert!(check("# rules\n[/]\n@admin = rw\n", &expect).is_empty());
}

#[test]
fn hand_written_groups_follow_the_generated_block() {
    let source = "[groups] # ours\nteam = @admin, bob\n\n[/]\n@team = r\n";
    let expect = format!("[groups] # ours\n{BLOCK}team = @admin, bob\n\n[/]\n@team = r\n");
    assert!(check(source, &expect).is_empty());
}

#[test]
fn an_earlier_generated_block_is_replaced() {
    let old = "[groups]\n# rolesync: BEGIN generated groups (revision 6); x\nadmin = bob\n# rolesync: END generated groups\nteam = carol\n[/]\n@team = r\n";
    let expect = format!("[groups]\n{BLOCK}team = carol\n[/]\n@team = r\n");
    assert!(check(old, &expect).is_empty());
    // And rendering the result again changes nothing.
    assert!(check(&expect, &expect).is_empty());
}

#[test]
fn crlf_files_get_crlf_lines() {
    let out = render("access", "[groups]\r\n[/]\r\n@admin = rw\r\n", &groups());
    assert!(
        out.text.contains("admin = alice\r\nlib-project_user =\r\n"),
        "{:?}",
        out.text
    );
    assert!(out.diagnostics.is_empty());
}

#[test]
fn a_groups_header_at_the_end_of_the_file_without_newline() {
    let expect = format!("[/]\n@admin = rw\n[groups]\n{BLOCK}");
    assert!(check("[/]\n@admin = rw\n[groups]", &expect).is_empty());
}

/// Render `source` and return the text and each diagnostic as
/// `line code: message`.
fn render_lines(source: &str) -> (String, Vec<String>) {
    let out = render("access", source, &groups());
    let diags = out
        .diagnostics
        .iter()
        .map(|d| format!("{} {}: {}", d.line, d.code, d.message))
        .collect();
    (out.text, diags)
}

/// Seed 003, "Synchronizing Roles with Repository": the synchronisation
/// "ensures that access file contains group for every user role and
/// that group membership is in sync with role assignment", and "only
/// the first part of the access file is affected". An access file
/// without rolesync's markers (Polarion's own, or hand-written) is
/// taken over: each role group is replaced by the generated one, with
/// a warning naming the members added and removed; every other group
/// and every other byte stays.
#[test]
fn a_file_without_markers_is_taken_over() {
    // (what, source, expected text, expected diagnostics)
    let cases: &[(&str, &str, String, &[&str])] = &[
        (
            "role groups as Polarion writes them, members out of step",
            "[groups]\nadmin = mallory, alice\nlib-project_user = carol\nteam = @admin, bob\n\n[/]\n@admin = rw\n@team = r\n",
            format!("[groups]\n{BLOCK}team = @admin, bob\n\n[/]\n@admin = rw\n@team = r\n"),
            &[
                "2 role-group-taken-over: the role group `admin` is taken over (the file has no rolesync markers yet) and replaced by the generated one: added none; removed mallory",
                "3 role-group-taken-over: the role group `lib-project_user` is taken over (the file has no rolesync markers yet) and replaced by the generated one: added none; removed carol",
            ],
        ),
        (
            "members already in step",
            "[groups]\nadmin = alice\n[/]\n@admin = rw\n",
            format!("[groups]\n{BLOCK}[/]\n@admin = rw\n"),
            &[
                "2 role-group-taken-over: the role group `admin` is taken over (the file has no rolesync markers yet) and replaced by the generated one: members unchanged",
            ],
        ),
        (
            "members on continuation lines, a nested group, `:` as separator",
            "[groups]\nadmin: @ops,\n  bob\n# kept\nops = carol\n[/]\n@admin = rw\n",
            format!("[groups]\n{BLOCK}# kept\nops = carol\n[/]\n@admin = rw\n"),
            &[
                "2 role-group-taken-over: the role group `admin` is taken over (the file has no rolesync markers yet) and replaced by the generated one: added alice; removed @ops, bob",
            ],
        ),
        (
            "an empty role group is taken over too",
            "[groups]\nlib-project_user =\n[/]\n* = r\n",
            format!("[groups]\n{BLOCK}[/]\n* = r\n"),
            &[
                "2 role-group-taken-over: the role group `lib-project_user` is taken over (the file has no rolesync markers yet) and replaced by the generated one: members unchanged",
            ],
        ),
        (
            "a group of a project or role rolesync does not generate is hand-written",
            "[groups]\noldproj-project_user = bob\n[/]\n@oldproj-project_user = r\n",
            format!(
                "[groups]\n{BLOCK}oldproj-project_user = bob\n[/]\n@oldproj-project_user = r\n"
            ),
            &[],
        ),
        (
            "CRLF lines",
            "[groups]\r\nadmin = bob\r\nteam = bob\r\n[/]\r\n@admin = rw\r\n",
            format!(
                "[groups]\r\n{}team = bob\r\n[/]\r\n@admin = rw\r\n",
                BLOCK.replace('\n', "\r\n")
            ),
            &[
                "2 role-group-taken-over: the role group `admin` is taken over (the file has no rolesync markers yet) and replaced by the generated one: added alice; removed bob",
            ],
        ),
    ];
    for (what, source, expect, diags) in cases {
        let (text, found) = render_lines(source);
        assert_eq!(&text, expect, "{what}:\n{text}");
        assert_eq!(found, *diags, "{what}");
        // The result is a file with markers: rendering it again takes
        // nothing over and changes nothing.
        let (again, found) = render_lines(&text);
        assert_eq!(again, text, "{what}: second run");
        assert!(found.is_empty(), "{what}: second run: {found:?}");
    }
}

/// Once the file carries rolesync's markers, a role group written by
/// hand beside them is refused (a choice, docs/permissions.md "Role
/// groups in the access file"): the administrator already knows the
/// groups are generated, so the hand-written one is a mistake whose
/// members would silently be undone.
#[test]
fn a_role_group_beside_the_markers_is_refused() {
    let cases: &[(&str, &str)] = &[
        (
            "below a complete block",
            "[groups]\n# rolesync: BEGIN generated groups (revision 6); x\nadmin = alice\n# rolesync: END generated groups\nadmin = mallory\n[/]\n@admin = rw\n",
        ),
        (
            "below a BEGIN without END",
            "[groups]\n# rolesync: BEGIN generated groups (revision 6); x\nadmin = mallory\n[/]\n@admin = rw\n",
        ),
    ];
    for (what, source) in cases {
        let (text, found) = render_lines(source);
        assert_eq!(
            text,
            format!("[groups]\n{BLOCK}[/]\n@admin = rw\n"),
            "{what}"
        );
        assert_eq!(found.len(), 1, "{what}: {found:?}");
        assert!(
            found[0].contains("group-collides-with-role"),
            "{what}: {found:?}"
        );
    }
}

#[test]
fn diagnostics_point_at_lines_of_the_source() {
    let source = "[groups]\nteam = @ghost\n\n[/]\n@lib-project_user = r\n";
    let out = render("access", source, &groups());
    let found: Vec<(u32, &str)> = out
        .diagnostics
        .iter()
        .map(|d| (d.line, d.code.as_str()))
        .collect();
    assert_eq!(
        found,
        [(2, "authz-undefined-group"), (5, "authz-empty-group-rule")]
    );
}

proptest::proptest! {
    /// Whatever the hand-written file, every byte outside `[groups]`
    /// is kept, in order, and so is every hand-written group that is
    /// no role group (role groups are taken over).
    #[test]
    fn bytes_outside_groups_are_kept(
        pre in "(#[ a-z]{0,8}\n|\n){0,3}",
        sections in proptest::collection::vec(("/[a-z]{1,3}", "[a-z]{1,4}", "(r|rw|)"), 0..4),
        hand in proptest::collection::vec(("(admin|lib-project_user|g[a-z]{1,3})", "[a-z]{1,4}"), 0..4),
        groups_first in proptest::bool::ANY,
    ) {
        let body: String = sections.iter().map(|(p, u, r)| format!("[{p}]\n{u} = {r}\n")).collect();
        let hand_text: String = hand.iter().map(|(g, u)| format!("{g} = {u}\n")).collect();
        let source = if groups_first { format!("{pre}[groups]\n{hand_text}{body}") } else { format!("{pre}{body}[groups]\n{hand_text}") };
        let out = render("access", &source, &groups());
        let strip = |t: &str| -> String {
            let mut keep = String::new();
            let mut inside = false;
            for line in t.split_inclusive('\n') {
                if line.starts_with('[') { inside = line.starts_with("[groups]"); }
                if !inside { keep.push_str(line); }
            }
            keep
        };
        proptest::prop_assert_eq!(strip(&out.text), strip(&source));
        proptest::prop_assert!(out.text.contains(BLOCK));
        for (g, u) in &hand {
            let line = format!("{g} = {u}\n");
            let role_group = groups().iter().any(|r| r.name == g);
            proptest::prop_assert_eq!(out.text.contains(&line), !role_group || line == "admin = alice\n", "{}", line);
        }
    }
}
