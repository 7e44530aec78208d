//! `render_parts` gives what `render` gives: random access files (groups
//! sections where and as often as they come, markers, role groups written
//! by hand, references to the generated groups, aliases, cycles, broken
//! lines, CRLF) and random generated groups, one memo across a sequence.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;

use super::super::plain_groups;
use super::super::render::{Group, eol_of, push_group_line, render};
use super::*;

const NAMES: &[&str] = &[
    "admin",
    "p1-project_user",
    "p1-project_admin",
    "team",
    "ops",
];
const USERS: &[&str] = &["alice", "bob", "carol", "dave"];

/// Lines an access file is made of.
const LINES: &[&str] = &[
    "[groups]",
    "[groups] # ours",
    "  [groups]",
    "[/]",
    "[repo:/trunk]",
    "[aliases]",
    "[/\nbroken",
    "team = alice, @admin",
    "team = @ops",
    "ops = @team",
    "ops = bob, &joe",
    "admin = mallory",
    "p1-project_user = carol",
    "joe = alice",
    "@admin = rw",
    "@p1-project_user = r",
    "@p1-project_admin = rw",
    "~@team = r",
    "@ghost = r",
    "&joe = r",
    "* = r",
    "erin = rw",
    "  continued",
    "# rolesync: BEGIN generated groups (revision 6); x",
    "# rolesync: END generated groups",
    "",
];

fn groups_of(picks: &[(usize, Vec<usize>)]) -> Vec<(String, Vec<String>)> {
    let mut seen = BTreeSet::new();
    picks
        .iter()
        .filter(|(n, _)| seen.insert(*n))
        .map(|(n, ms)| {
            let members: BTreeSet<&str> = ms.iter().map(|&m| USERS[m]).collect();
            (
                NAMES[*n].to_owned(),
                members.into_iter().map(str::to_owned).collect(),
            )
        })
        .collect()
}

/// `render_parts` of `source` and `groups`, the lines in two chunks.
fn by_parts(
    source: &str,
    groups: &[(String, Vec<String>)],
    memo: &mut PartsMemo,
) -> Option<Rendered> {
    let eol = eol_of(source);
    let half = groups.len() / 2;
    let mut chunks = [String::new(), String::new()];
    let mut shapes = [Vec::new(), Vec::new()];
    for (i, (name, members)) in groups.iter().enumerate() {
        shapes[usize::from(i >= half)].push(push_group_line(
            &mut chunks[usize::from(i >= half)],
            name,
            members.iter().map(String::as_str),
            eol,
        ));
    }
    assert!(plain_groups(
        &chunks[0],
        groups[..half]
            .iter()
            .map(|(n, m)| (n.as_str(), m.iter().map(String::as_str)))
    ));
    let by_name: HashMap<&str, &Vec<String>> =
        groups.iter().map(|(n, m)| (n.as_str(), m)).collect();
    let members = |name: &str| {
        by_name
            .get(name)
            .map(|m| m.iter().map(String::as_str).collect())
    };
    let all: BTreeSet<&str> = groups
        .iter()
        .flat_map(|(_, m)| m.iter().map(String::as_str))
        .collect();
    let is_member = |name: &str| all.contains(name);
    let parts = Parts {
        lines: chunks.iter().map(String::as_str).collect(),
        shapes: shapes.iter().map(Vec::as_slice).collect(),
        groups: groups
            .iter()
            .map(|(n, m)| (n.as_str(), !m.is_empty()))
            .collect(),
        members: &members,
        users: all.len() as u64,
        is_member: &is_member,
    };
    render_parts("access", source, &parts, memo)
}

/// One small change: a line of the file replaced, a group's members
/// emptied or given one user, a group added or dropped, the line ends.
#[derive(Debug, Clone)]
enum Step {
    Line(usize, usize),
    Members(usize, Option<usize>),
    Group(usize),
    Crlf,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (any::<usize>(), 0..LINES.len()).prop_map(|(i, l)| Step::Line(i, l)),
        3 => (0..NAMES.len(), proptest::option::of(0..USERS.len())).prop_map(|(g, u)| Step::Members(g, u)),
        1 => (0..NAMES.len()).prop_map(Step::Group),
        1 => Just(Step::Crlf),
    ]
}

proptest! {
    #[test]
    fn parts_render_what_render_renders(
        first in proptest::collection::vec(0..LINES.len(), 1..10),
        picks in proptest::collection::vec((0..NAMES.len(), proptest::collection::vec(0..USERS.len(), 0..3)), 0..5),
        steps in proptest::collection::vec(step(), 1..12),
    ) {
        let mut memo = PartsMemo::default();
        let mut lines = first;
        let mut groups = groups_of(&picks);
        let mut crlf = false;
        for step in steps {
            match step {
                Step::Line(i, l) => {
                    let n = lines.len();
                    lines[i % n] = l;
                }
                Step::Members(g, u) => {
                    if let Some((_, m)) = groups.iter_mut().find(|(n, _)| n == NAMES[g]) {
                        *m = u.map(|u| USERS[u].to_owned()).into_iter().collect();
                    }
                }
                Step::Group(g) => match groups.iter().position(|(n, _)| n == NAMES[g]) {
                    Some(i) => drop(groups.remove(i)),
                    None => groups.push((NAMES[g].to_owned(), vec![USERS[g % USERS.len()].to_owned()])),
                },
                Step::Crlf => crlf = !crlf,
            }
            let eol = if crlf { "\r\n" } else { "\n" };
            let source = lines.iter().map(|&l| LINES[l]).collect::<Vec<_>>().join(eol) + eol;
            let borrowed: Vec<Group> = groups.iter().map(|(n, m)| Group { name: n, members: m.iter().map(String::as_str).collect() }).collect();
            let full = render("access", &source, &borrowed);
            if let Some(parts) = by_parts(&source, &groups, &mut memo) {
                prop_assert_eq!(format!("{:#?}", parts), format!("{:#?}", full), "{:?}", source);
            } else {
                // Only when the block lands in a section that is no
                // well-formed [groups].
                prop_assert!(source.contains("  [groups]"), "{:?}", source);
            }
        }
    }
}

#[test]
fn the_skeletons_check_is_kept_while_it_is_the_same() {
    let mut memo = PartsMemo::default();
    let source = "[groups]\nteam = @admin\n[/]\n@team = r\n";
    let one = vec![("admin".to_owned(), vec!["alice".to_owned()])];
    let other = vec![("admin".to_owned(), vec!["bob".to_owned()])];
    let empty = vec![("admin".to_owned(), vec![])];
    by_parts(source, &one, &mut memo).expect("defined");
    by_parts(source, &other, &mut memo).expect("defined");
    assert_eq!(
        memo.stats(),
        (1, 1),
        "members changed, names and emptiness not"
    );
    let got = by_parts(source, &empty, &mut memo).expect("defined");
    assert_eq!(memo.stats(), (1, 2));
    let codes: Vec<&str> = got.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["authz-empty-group-rule"]);
}

#[test]
fn lines_that_say_more_than_their_groups_are_not_plain() {
    let plain = |lines: &str, name: &str, members: &[&str]| {
        plain_groups(lines, [(name, members.iter().copied())])
    };
    assert!(plain("a = x, y\n", "a", &["x", "y"]));
    assert!(plain("a =\r\n", "a", &[]));
    assert!(!plain("a = x, @b\n", "a", &["x", "@b"]), "a group member");
    assert!(!plain("a = &j\n", "a", &["&j"]), "an alias member");
    assert!(
        !plain("@a = x\n", "@a", &["x"]),
        "a name no definition may have"
    );
    assert!(
        !plain("a:b = x\n", "a:b", &["x"]),
        "a separator in the name"
    );
    assert!(
        !plain("a = x,y\nz\n", "a", &["x,y\nz"]),
        "a line end in a member"
    );
    assert!(!plain("# a = x\n", "# a", &["x"]), "a comment");
    assert!(!plain("[a] = x\n", "[a]", &["x"]), "a header");
    assert!(!plain(" a = x\n", " a", &["x"]), "indented");
}
