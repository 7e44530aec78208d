//! `build_cached` gives what `build` gives: random configurations changed
//! by random steps (a project's roles, an account, the user groups, role
//! definitions, permissions, the access file and edits of its rules, one
//! group's membership alone, one user group's member alone, broken files, a duplicated project id,
//! `user` held in a project or not, the same assignments on other lines,
//! other limits, and the directory: a group's members, a group not found
//! or not synced, an account locked or gone, account state or the whole
//! directory on and off), one memo across the whole sequence, every report compared
//! with a full build field by field (through `Debug`, which prints every
//! field of the report: diagnostics in order, model, policy index, access
//! file, cost, rails, test outcomes). And the memo is used, and bounded.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;

use crate::directory::{AccountState, DirectorySnapshot, GroupAnswer, GroupRef, Member};

use super::{
    ACCESS_FILE, FileBytes, Files, GROUPS, Input, Limits, Memo, PERMISSIONS, ROLES, USER_ROLES,
    USERS_DIR,
};
use super::{build, build_cached};

const LOGINS: &[&str] = &["alice", "bob", "carol", "dave", "Alice", "erin"];
const FOLDERS: &[&str] = &["A/p1", "B/p1", "p2", "C/p3", "p4"];
const PROJECT_ROLES: &[&str] = &[
    "project_admin",
    "project_user",
    "project_tester",
    "ghost",
    "auditor",
    "user",
    "project_assignable",
];
const GLOBAL_ROLES: &[&str] = &[
    "admin",
    "user",
    "auditor",
    "project_user",
    "p2-project_user",
];

/// A tiny deterministic generator, so one `u64` names a file's content
/// (the diff's property test draws its changes from it too).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
    pub(crate) fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[self.below(of.len())]
    }
}

fn user_roles(rng: &mut Rng, roles: &[&str]) -> String {
    let mut xml = String::from("<user-roles>\n");
    for _ in 0..rng.below(5) {
        let (kind, name) = match rng.below(6) {
            0 => ("group", ["g1", "g2", "nogroup"][rng.below(3)]),
            1 => ("user", "bad name"),
            _ => ("user", rng.pick(LOGINS)),
        };
        xml.push_str(&format!("  <{kind} name=\"{name}\">"));
        for _ in 0..1 + rng.below(3) {
            xml.push_str(&format!("<role name=\"{}\"/>", rng.pick(roles)));
        }
        xml.push_str(&format!("</{kind}>\n"));
    }
    xml.push_str("</user-roles>\n");
    xml
}

/// The directory references the generated groups may name (`g1` a group
/// entry, `g2` a search; `g3` an entry the directory may not know).
fn dir_refs() -> [GroupRef; 3] {
    let dn = |s: &str| GroupRef::Dn(s.to_owned());
    [
        dn("cn=g1,dc=x"),
        GroupRef::Search {
            base: "dc=x".to_owned(),
            filter: "(team=g2)".to_owned(),
        },
        dn("cn=g3,dc=x"),
    ]
}

fn groups(rng: &mut Rng) -> String {
    let mut xml = String::from("<user-groups>\n");
    for g in ["g1", "g2", "g1"].iter().take(rng.below(4)) {
        let ldap = match (rng.below(3), *g) {
            (0, _) => "",
            (1, "g1") => " ldap=\"CN=g1, dc=x\"",
            (1, _) => " ldap-base=\"dc=x\" ldap-filter=\"(team=g2)\"",
            _ => " ldap=\"cn=g3,dc=x\"",
        };
        xml.push_str(&format!("  <group id=\"{g}\"{ldap}>"));
        for _ in 0..rng.below(4) {
            xml.push_str(&format!("<user name=\"{}\"/>", rng.pick(LOGINS)));
        }
        xml.push_str("</group>\n");
    }
    xml.push_str("</user-groups>\n");
    xml
}

fn permissions(rng: &mut Rng) -> String {
    let mut xml = String::from(
        "<permissions>\n  <customset id=\"Open\" title=\"Open\">com.polarion.persistence.object.WorkItem(status:open AND NOT (type:heading OR type:task))</customset>\n  <permission name=\"com.polarion\">\n",
    );
    for _ in 0..rng.below(4) {
        let effect = ["grant", "deny"][rng.below(2)];
        let permission = [
            "persistence.object.WorkItem.read",
            "@Open.modify",
            "@Missing.read",
            "bad..name",
        ][rng.below(4)];
        let role = rng.pick(&["user", "project_user", "auditor", "nobody"]);
        xml.push_str(&format!(
            "    <role name=\"{role}\"><{effect} permission=\"{permission}\"/></role>\n"
        ));
    }
    xml.push_str("  </permission>\n</permissions>\n");
    xml
}

/// An access file: a head (none, hand-written groups naming role groups,
/// a broken line, a role group to take over, rolesync's markers, aliases
/// and a second `[groups]` redefining a role group, an indented header, a
/// cycle) and random rule lines naming role groups and others (some of the
/// same length, so an edit keeps the file's size), now and then with CRLF
/// lines or a `[groups]` header at the end without a line end.
fn access(rng: &mut Rng) -> String {
    let head = [
        "",
        "[groups]\nteam = alice, bob, @p2-project_user\n",
        "[/\nbroken\n",
        "[groups]\nadmin = carol\n",
        "[groups]\n# rolesync: BEGIN generated groups\nadmin = x\n# rolesync: END generated groups\nteam = @p2-project_user, @admin\n",
        "[aliases]\njoe = alice\n[groups]\nops = &joe, @p4-project_user\n[groups]\nuser = bob\n",
        "  [groups]\nteam = bob\n",
        "[groups]\nteam = @ops\nops = @team\n",
    ][rng.below(8)];
    let rules = [
        "@admin = rw",
        "@user = r",
        "* = r",
        "~@admin = r",
        "@everyone = r",
        "@p2-project_user = rw",
        "@p4-project_user = rw",
        "@p2-project_tester = r",
        "@p4-project_tester = r",
        "@team = rw",
        "&joe = r",
        "@ops = r",
    ];
    let mut text = format!("{head}[/]\n");
    for _ in 0..rng.below(4) {
        text.push_str(rules[rng.below(rules.len())]);
        text.push('\n');
    }
    if rng.below(4) == 0 {
        text = text.replace('\n', "\r\n");
    }
    if rng.below(6) == 0 {
        text.push_str("[groups]");
    }
    text
}

/// The changes that reach one key of the access file's memo alone
/// (`change` 14 and 15, passed here as 12 and 13): membership only (12: p2's project_user held by bob, or by nobody; the
/// group's name stays, its emptiness changes), and a rule edit that keeps
/// the access file's size (13: p2's groups for p4's, or back).
fn focused(files: &Files, what: u8, rng: &mut Rng) -> (String, Option<String>) {
    if what == 12 {
        let roles = [
            "<user-roles><user name=\"bob\"><role name=\"project_user\"/></user></user-roles>",
            "<user-roles>\n</user-roles>\n",
        ][rng.below(2)];
        return (
            "p2/.polarion/security/user-roles.xml".to_owned(),
            Some(roles.to_owned()),
        );
    }
    let text = files
        .get(ACCESS_FILE)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let (from, to) = [("p2-", "p4-"), ("p4-", "p2-")][rng.below(2)];
    (ACCESS_FILE.to_owned(), Some(text.replacen(from, to, 1)))
}

/// A project's user-roles.xml that keeps its logins: `bob` with `user`
/// there or not (12), or the same assignments on other lines (13).
fn same_logins(files: &Files, what: u8, rng: &mut Rng, path: String) -> (String, Option<String>) {
    let text = if what == 12 {
        Some(format!(
            "<user-roles>\n  <user name=\"bob\"><role name=\"project_user\"/>{}</user>\n</user-roles>\n",
            ["<role name=\"user\"/>", ""][rng.below(2)]
        ))
    } else {
        files.get(&path).map(|b| {
            format!(
                "<!-- {} -->\n{}",
                rng.below(100),
                String::from_utf8_lossy(b)
            )
        })
    };
    (path, text)
}

/// One user group's membership alone (16): a login added to `g1`, or
/// one member taken out, the other groups as they were (the role groups
/// of the scopes that do not reach it are kept).
fn one_member(files: &Files, rng: &mut Rng) -> (String, Option<String>) {
    let text = files
        .get(GROUPS)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let member = format!("<user name=\"{}\"/>", rng.pick(LOGINS));
    let g1 = "<group id=\"g1\">";
    let text = if text.contains(&member) {
        text.replacen(&member, "", 1)
    } else if text.contains(g1) {
        text.replacen(g1, &format!("{g1}{member}"), 1)
    } else {
        groups(rng)
    };
    (GROUPS.to_owned(), Some(text))
}

/// One change to the files, named by `what` and drawn from `seed`.
fn change(files: &mut Files, what: u8, seed: u64) {
    let rng = &mut Rng(seed);
    let folder = rng.pick(FOLDERS);
    let project = |rest: &str| format!("{folder}/.polarion/{rest}");
    let (path, text) = match what {
        0 | 1 => (
            project("security/user-roles.xml"),
            Some(user_roles(rng, PROJECT_ROLES)),
        ),
        2 => (project("security/user-roles.xml"), None),
        3 => {
            let login = rng.pick(LOGINS);
            let disabled = rng.below(2) == 0;
            let text = format!(
                "<user><field id=\"name\">{login}</field><field id=\"disabled\">{disabled}</field></user>"
            );
            let remove = rng.below(4) == 0;
            (format!("{USERS_DIR}{login}/user.xml"), (!remove).then_some(text))
        }
        4 => (GROUPS.to_owned(), Some(groups(rng))),
        5 => (
            ROLES.to_owned(),
            Some(
                [
                    "<roles><role id=\"auditor\" scope=\"global\"/><role id=\"project_tester\" scope=\"project\"/></roles>",
                    "<roles><role id=\"project_tester\" scope=\"project\"/><role id=\"project_tester\" scope=\"project\"/></roles>",
                    "<roles/>",
                ][rng.below(3)]
                .to_owned(),
            ),
        ),
        6 => {
            let path = if rng.below(2) == 0 {
                PERMISSIONS.to_owned()
            } else {
                project("security/permissions.xml")
            };
            (path, Some(permissions(rng)))
        }
        7 => (ACCESS_FILE.to_owned(), Some(access(rng))),
        8 => (USER_ROLES.to_owned(), Some(user_roles(rng, GLOBAL_ROLES))),
        9 => {
            let path = [
                project("security/user-roles.xml"),
                GROUPS.to_owned(),
                format!("{USERS_DIR}bob/user.xml"),
                project("polarion-project.xml"),
            ][rng.below(4)]
            .clone();
            let broken = ["<user-roles><user name=", "<x>\u{0}</x>", "<roles><role id=\"a b\"/></roles>"]
                [rng.below(3)];
            (path, Some(broken.to_owned()))
        }
        12 | 13 => same_logins(files, what, rng, project("security/user-roles.xml")),
        10 => (
            project("security/roles.xml"),
            Some("<roles><role id=\"project_own\" scope=\"project\"/><role id=\"g\" scope=\"global\"/></roles>".to_owned()),
        ),
        14 | 15 => focused(files, what - 2, rng),
        16 => one_member(files, rng),
        _ => {
            let remove = rng.below(3) == 0;
            let lead = rng.pick(LOGINS);
            (
                project("polarion-project.xml"),
                (!remove).then(|| format!("<project><field id=\"lead\">{lead}</field></project>")),
            )
        }
    };
    match text {
        Some(text) => files.insert(path, text.into()),
        None => files.remove(&path),
    };
}

/// A starting configuration: every folder a project, most users with accounts.
fn base(seed: u64) -> Files {
    let mut files = Files::new();
    let rng = &mut Rng(seed);
    for what in [8, 4, 5, 6, 7, 3, 3, 3, 3] {
        change(&mut files, what, rng.below(1 << 30) as u64);
    }
    for folder in FOLDERS {
        files.insert(
            format!("{folder}/.polarion/polarion-project.xml"),
            b"<project><field id=\"lead\">alice</field></project>".into(),
        );
    }
    files
}

/// The input of one step: the files' buffers shared with the step before
/// (as a reader hands an unchanged file on: the memo knows it by identity).
fn input(files: &Files, limits: Limits, step: usize) -> Input {
    Input {
        revision: format!("r{step}"),
        files: files.clone(),
        limits,
        ..Input::default()
    }
}

/// What the directory says, changed step by step beside the files.
#[derive(Clone, Default)]
struct Dir {
    groups: BTreeMap<GroupRef, GroupAnswer>,
    accounts: Option<BTreeMap<String, AccountState>>,
}

/// One random change of the directory: a group's members (a bad login and
/// nested ones among them), a group not found or not synced, an account
/// locked, unlocked or gone, account state on or off, the directory gone.
fn change_dir(dir: &mut Option<Dir>, what: u8, seed: u64) {
    let rng = &mut Rng(seed);
    let d = dir.get_or_insert_with(Dir::default);
    let r = dir_refs()[rng.below(3)].clone();
    let login = rng.pick(LOGINS).to_owned();
    match what {
        0 => {
            let members = (0..rng.below(4))
                .map(|_| {
                    let login = ["bad name", rng.pick(LOGINS)][usize::from(rng.below(5) > 0)];
                    let via = (0..rng.below(2))
                        .map(|_| "cn=inner,dc=x".to_owned())
                        .collect();
                    Member {
                        login: login.to_owned(),
                        via,
                    }
                })
                .collect::<BTreeSet<_>>();
            d.groups
                .insert(r, GroupAnswer::Members(members.into_iter().collect()));
        }
        1 => {
            d.groups.insert(r, GroupAnswer::NotFound);
        }
        2 => {
            d.groups.remove(&r);
        }
        3 => {
            let state = match rng.below(3) {
                0 => Some(AccountState::Active),
                1 => Some(AccountState::Locked {
                    by: "nsAccountLock".to_owned(),
                }),
                _ => None,
            };
            let accounts = d.accounts.get_or_insert_with(BTreeMap::new);
            match state {
                Some(s) => accounts.insert(login, s),
                None => accounts.remove(&login),
            };
        }
        4 => {
            d.accounts = match d.accounts {
                Some(_) => None,
                None => Some(
                    LOGINS
                        .iter()
                        .map(|l| ((*l).to_owned(), AccountState::Active))
                        .collect(),
                ),
            };
        }
        _ => *dir = None,
    }
}

fn with_dir(mut input: Input, dir: Option<&Dir>) -> Input {
    input.directory =
        dir.map(|d| Arc::new(DirectorySnapshot::new(d.groups.clone(), d.accounts.clone())));
    input
}

/// The same input with every file in a buffer of its own (equal bytes,
/// another buffer: as a full read gives them): compared byte by byte.
fn copied(input: Input) -> Input {
    let files = input
        .files
        .iter()
        .map(|(p, b)| (p.clone(), b.to_vec().into()))
        .collect();
    Input { files, ..input }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn the_cached_build_equals_the_full_build(
        seed in any::<u64>(),
        steps in proptest::collection::vec((0u8..23, any::<u64>(), 0u8..8, any::<bool>()), 1..12),
    ) {
        let mut files = base(seed);
        let mut memo = Memo::default();
        let mut dir = None;
        for (i, (what, seed, limits, copy)) in steps.into_iter().enumerate() {
            // 17 and on: a change of the directory (members, a group not
            // found or not synced, an account locked; it on or off).
            match what.checked_sub(17) {
                Some(d) => change_dir(&mut dir, d, seed),
                None => change(&mut files, what, seed),
            }
            // Now and then other limits: nothing read under the old ones is reused.
            let limits = Limits {
                max_name_bytes: if limits == 0 { 4 } else { 255 },
                max_query_depth: if limits == 1 { 1 } else { 32 },
                ..Limits::default()
            };
            // The unchanged files' very buffers, or copies of them.
            let input = match copy {
                false => input(&files, limits, i),
                true => copied(input(&files, limits, i)),
            };
            let input = with_dir(input, dir.as_ref());
            let cached = format!("{:#?}", build_cached(&input, &mut memo));
            // A full build (`build` is this with an empty memo).
            let mut fresh = Memo::default();
            let full = format!("{:#?}", build_cached(&input, &mut fresh));
            prop_assert_eq!(cached, full, "step {}", i);
            // The policy index, valid configuration or not (the report
            // shows it only with a snapshot), when the build made one.
            if let Some(full) = fresh.index.last() {
                let cached = format!("{:#?}", memo.index.last());
                prop_assert_eq!(cached, format!("{:#?}", Some(full)), "the policy index at step {}", i);
            }
        }
    }
}

#[test]
fn an_unchanged_file_is_taken_from_the_memo() {
    let mut files = base(7);
    files.insert(format!("{USERS_DIR}alice/user.xml"), b"<user/>".into());
    let mut memo = Memo::default();
    build_cached(&input(&files, Limits::default(), 0), &mut memo);
    let first = memo.stats();
    assert_eq!(first.parse_hits, 0);
    assert_eq!(first.parse_misses, files.len());
    build_cached(&input(&files, Limits::default(), 1), &mut memo);
    assert_eq!(memo.stats().parse_hits, files.len());
    assert_eq!(memo.stats().parse_misses, 0);
    let projects = memo.stats().project_hits;
    assert_eq!(memo.stats().project_misses, 0);
    assert!(projects >= 3, "{:?}", memo.stats());
    assert_eq!(memo.stats().group_misses, 0, "{:?}", memo.stats());
    // Every project's scope and the global one.
    assert_eq!(memo.stats().group_hits, memo.stats().projects + 1);
    // Every part of the policy index: the rules, the global part, each
    // project's.
    let parts = memo.stats().index_hits;
    assert_eq!(memo.stats().index_misses, 0, "{:?}", memo.stats());
    assert!(parts >= 2 + 3, "{:?}", memo.stats());
    // Their access-file lines are kept, and the check of the rest of it.
    assert_eq!(memo.stats().line_misses, 0, "{:?}", memo.stats());
    assert_eq!(memo.stats().line_hits, memo.stats().projects + 1);
    assert_eq!(
        (memo.stats().check_hits, memo.stats().check_misses),
        (1, 1),
        "{:?}",
        memo.stats()
    );
    // One project's roles changed: that project alone is lowered again.
    let path = "p2/.polarion/security/user-roles.xml";
    files.insert(
        path.to_owned(),
        b"<user-roles><user name=\"bob\"><role name=\"project_user\"/></user></user-roles>".into(),
    );
    build_cached(&input(&files, Limits::default(), 1), &mut memo);
    assert_eq!(
        (memo.stats().project_hits, memo.stats().project_misses),
        (projects - 1, 1)
    );
    assert_eq!(memo.stats().group_misses, 1, "{:?}", memo.stats());
    assert_eq!(
        (memo.stats().index_hits, memo.stats().index_misses),
        (parts - 1, 1)
    );
    // An account added: every project is lowered again (each may name it).
    files.insert(format!("{USERS_DIR}zed/user.xml"), b"<user/>".into());
    build_cached(&input(&files, Limits::default(), 1), &mut memo);
    assert_eq!(
        (memo.stats().project_hits, memo.stats().project_misses),
        (0, projects)
    );
    // In the policy index only the global part reads the accounts.
    assert_eq!(
        (memo.stats().index_hits, memo.stats().index_misses),
        (parts - 1, 1)
    );
    files.insert(ACCESS_FILE.to_owned(), b"[/]\n* = r\n# changed\n".into());
    build_cached(&input(&files, Limits::default(), 2), &mut memo);
    assert_eq!(memo.stats().parse_misses, 1);
    // Other limits: nothing is reused.
    let other = Limits {
        max_name_bytes: 200,
        ..Limits::default()
    };
    build_cached(&input(&files, other, 3), &mut memo);
    assert_eq!(memo.stats().parse_hits, 0);
}

/// The account files of the build before, the very buffers, are not read
/// again while the lowering memo holds the accounts lowered from them;
/// the report is the full build's each time (a reader's diagnostic of an
/// account file included), and a memo that lacks those accounts, other
/// buffers of equal bytes or a changed account file read them again.
#[test]
fn unchanged_account_files_are_not_read_again() {
    let mut files = base(11);
    files.insert(format!("{USERS_DIR}alice/user.xml"), b"<user/>".into());
    files.insert(format!("{USERS_DIR}bob/user.xml"), b"<user><".into());
    files.insert(
        format!("{USERS_DIR}carol/user.xml"),
        b"<user><field id=\"disabled\">true</field></user>".into(),
    );
    let mut memo = Memo::default();
    let accounts = |files: &Files| files.keys().filter(|p| p.starts_with(USERS_DIR)).count();
    let check = |input: &Input, memo: &mut Memo, kept: bool| {
        let kept = if kept { accounts(&input.files) } else { 0 };
        let cached = format!("{:#?}", build_cached(input, memo));
        assert_eq!(
            cached,
            format!("{:#?}", build_cached(input, &mut Memo::default()))
        );
        assert!(
            cached.contains("bob/user.xml"),
            "the reader's diagnostic is kept"
        );
        assert_eq!(memo.stats().accounts_kept, kept, "{:?}", memo.stats());
    };
    check(&input(&files, Limits::default(), 0), &mut memo, false);
    check(&input(&files, Limits::default(), 1), &mut memo, true);
    check(&input(&files, Limits::default(), 2), &mut memo, true);
    // A lowering memo without those accounts (as after a build that
    // stopped between reading and lowering): read again, then kept.
    memo.lower = crate::model::LowerMemo::default();
    check(&input(&files, Limits::default(), 3), &mut memo, false);
    check(&input(&files, Limits::default(), 4), &mut memo, true);
    // Equal bytes in other buffers: read (compared), then kept.
    check(
        &copied(input(&files, Limits::default(), 5)),
        &mut memo,
        false,
    );
    // One account changed, then a project's file alone.
    files.insert(
        format!("{USERS_DIR}alice/user.xml"),
        b"<user><field id=\"disabled\">true</field></user>".into(),
    );
    check(&input(&files, Limits::default(), 6), &mut memo, false);
    files.insert(
        "p2/.polarion/security/user-roles.xml".to_owned(),
        b"<user-roles><user name=\"alice\"><role name=\"project_user\"/></user></user-roles>"
            .into(),
    );
    check(&input(&files, Limits::default(), 7), &mut memo, true);
    // An account removed.
    files.remove(&format!("{USERS_DIR}carol/user.xml"));
    check(&input(&files, Limits::default(), 8), &mut memo, false);
    check(&input(&files, Limits::default(), 9), &mut memo, true);
}

/// A project added before the others, or removed, leaves every other
/// project's lowering reused (found by its folder once the places shift).
#[test]
fn a_project_added_or_removed_first_leaves_the_others_reused() {
    let mut files = base(5);
    let mut memo = Memo::default();
    build_cached(&input(&files, Limits::default(), 0), &mut memo);
    // Every part taken: each project's and the global user-roles.xml's.
    build_cached(&input(&files, Limits::default(), 0), &mut memo);
    let parts = memo.stats().project_hits;
    assert_eq!(memo.stats().project_misses, 0);
    let marker = "0/p0/.polarion/polarion-project.xml".to_owned();
    files.insert(marker.clone(), b"<project/>".into());
    build_cached(&input(&files, Limits::default(), 1), &mut memo);
    let stats = memo.stats();
    assert_eq!(
        (stats.project_hits, stats.project_misses),
        (parts, 1),
        "{stats:?}"
    );
    files.remove(&marker);
    build_cached(&input(&files, Limits::default(), 2), &mut memo);
    let stats = memo.stats();
    assert_eq!(
        (stats.project_hits, stats.project_misses),
        (parts, 0),
        "{stats:?}"
    );
}

/// A file known by its buffer is reused; one in another buffer is
/// compared byte by byte: reused when equal (the memo then keeps that
/// buffer), parsed again when it differs, even at the same length.
#[test]
fn a_file_is_reused_by_its_buffer_or_its_equal_bytes_never_by_its_size() {
    let path = "p2/.polarion/security/user-roles.xml";
    let roles = |login: &str| -> FileBytes {
        format!(
            "<user-roles><user name=\"{login}\"><role name=\"project_user\"/></user></user-roles>"
        )
        .into()
    };
    let mut memo = Memo::default();
    let mut step = |files: &Files, i: usize| {
        let input = input(files, Limits::default(), i);
        let cached = build_cached(&input, &mut memo);
        assert_eq!(format!("{cached:#?}"), format!("{:#?}", build(&input)));
        (memo.stats().parse_hits, memo.stats().parse_misses)
    };
    let mut files = base(11);
    files.insert(path.to_owned(), roles("alice"));
    step(&files, 0);
    assert_eq!(step(&files, 1), (files.len(), 0), "the very buffers");
    let copies = copied(input(&files, Limits::default(), 2)).files;
    assert_eq!(step(&copies, 2), (files.len(), 0), "equal bytes");
    assert_eq!(
        step(&copies, 3),
        (files.len(), 0),
        "the copies' buffers kept"
    );
    // Same length, other bytes, another buffer: parsed again.
    let mut other = copies.clone();
    other.insert(path.to_owned(), roles("Alice"));
    assert_eq!(other[path].len(), copies[path].len());
    assert_eq!(step(&other, 4), (files.len() - 1, 1));
}

#[test]
fn the_memo_holds_only_the_last_inputs_files() {
    let mut files = base(11);
    let mut memo = Memo::default();
    build_cached(&input(&files, Limits::default(), 0), &mut memo);
    assert_eq!(memo.stats().files, files.len());
    let removed: Vec<String> = files
        .keys()
        .filter(|p| p.starts_with(USERS_DIR) || p.starts_with("A/"))
        .cloned()
        .collect();
    assert!(!removed.is_empty());
    for p in &removed {
        files.remove(p);
    }
    build_cached(&input(&files, Limits::default(), 1), &mut memo);
    assert_eq!(memo.stats().files, files.len());
    // Each project kept, and the global user-roles.xml's part.
    assert!(files.contains_key(USER_ROLES));
    assert_eq!(
        memo.stats().projects + 1,
        memo.stats().project_misses + memo.stats().project_hits
    );
}

#[test]
fn an_account_changed_in_place_is_lowered_again() {
    let account = |disabled: bool| -> FileBytes {
        format!(
            "<user><field id=\"name\">Bob</field><field id=\"disabled\">{disabled}</field></user>"
        )
        .into()
    };
    let mut files = Files::from([
        (
            USER_ROLES.to_owned(),
            b"<user-roles><user name=\"bob\"><role name=\"admin\"/></user></user-roles>".into(),
        ),
        (ACCESS_FILE.to_owned(), b"[/]\n@admin = rw\n* = r\n".into()),
        (format!("{USERS_DIR}alice/user.xml"), b"<user/>".into()),
        (format!("{USERS_DIR}bob/user.xml"), account(false)),
    ]);
    let mut memo = Memo::default();
    for (step, disabled) in [false, true, false].into_iter().enumerate() {
        files.insert(format!("{USERS_DIR}bob/user.xml"), account(disabled));
        let input = input(&files, Limits::default(), step);
        let cached = build_cached(&input, &mut memo);
        assert!(cached.is_valid(), "{:#?}", cached.diagnostics);
        assert_eq!(format!("{cached:#?}"), format!("{:#?}", build(&input)));
    }
}

#[test]
fn an_account_or_a_group_changed_rebuilds_only_the_scopes_it_reaches() {
    let roles = |kind: &str, name: &str| {
        format!(
            "<user-roles><{kind} name=\"{name}\"><role name=\"project_user\"/></{kind}></user-roles>"
        )
    };
    let account = |disabled: bool| -> FileBytes {
        format!("<user><field id=\"disabled\">{disabled}</field></user>").into()
    };
    let mut files = Files::from([
        (
            USER_ROLES.to_owned(),
            b"<user-roles><user name=\"carol\"><role name=\"admin\"/></user></user-roles>".into(),
        ),
        (ACCESS_FILE.to_owned(), b"[/]\n* = r\n".into()),
        (
            GROUPS.to_owned(),
            b"<user-groups><group id=\"g1\"><user name=\"bob\"/></group></user-groups>".into(),
        ),
    ]);
    for login in ["alice", "bob", "carol", "erin"] {
        files.insert(format!("{USERS_DIR}{login}/user.xml"), account(false));
    }
    for (p, kind, name) in [
        ("p1", "user", "bob"),
        ("p2", "user", "alice"),
        ("p3", "group", "g1"),
    ] {
        files.insert(
            format!("{p}/.polarion/polarion-project.xml"),
            b"<project/>".into(),
        );
        files.insert(
            format!("{p}/.polarion/security/user-roles.xml"),
            roles(kind, name).into(),
        );
    }
    let mut memo = Memo::default();
    let step = |files: &Files, memo: &mut Memo| {
        let input = input(files, Limits::default(), 0);
        let cached = build_cached(&input, memo);
        assert!(cached.is_valid(), "{:#?}", cached.diagnostics);
        assert_eq!(format!("{cached:#?}"), format!("{:#?}", build(&input)));
        let s = memo.stats();
        (s.group_hits, s.group_misses)
    };
    assert_eq!(step(&files, &mut memo), (0, 4));
    // bob disabled: the global scope (`everyone`), p1 (his) and p3 (his
    // group's); p2 kept.
    files.insert(format!("{USERS_DIR}bob/user.xml"), account(true));
    assert_eq!(step(&files, &mut memo), (1, 3));
    // erin added to g1: p3 alone.
    files.insert(
        GROUPS.to_owned(),
        b"<user-groups><group id=\"g1\"><user name=\"bob\"/><user name=\"erin\"/></group></user-groups>".into(),
    );
    assert_eq!(step(&files, &mut memo), (3, 1));
}

/// More folders: nested ones of an id already taken, one sorting first.
const MORE_FOLDERS: &[&str] = &["A/p1", "B/p1", "p2", "C/p3", "p4", "0/p0", "D/p2", "p2x"];

/// A change the main property test does not make: a project folder moved
/// (or copied) with its files to another folder, a project's file's bytes
/// copied or swapped to another project's same file, every account file
/// removed.
fn shuffle(files: &mut Files, what: u8, seed: u64) {
    let rng = &mut Rng(seed);
    let from = rng.pick(MORE_FOLDERS);
    let to = rng.pick(MORE_FOLDERS);
    match what {
        0 | 1 => {
            let prefix = format!("{from}/.polarion/");
            let moved: Vec<(String, FileBytes)> = files
                .iter()
                .filter(|(p, _)| p.starts_with(&prefix))
                .map(|(p, b)| (p.clone(), b.clone()))
                .collect();
            for (p, b) in moved {
                if what == 0 {
                    files.remove(&p);
                }
                files.insert(format!("{to}/.polarion/{}", &p[prefix.len()..]), b);
            }
        }
        2 | 3 => {
            let rest = [
                "security/user-roles.xml",
                "security/permissions.xml",
                "security/roles.xml",
            ][rng.below(3)];
            let (a, b) = (
                format!("{from}/.polarion/{rest}"),
                format!("{to}/.polarion/{rest}"),
            );
            let (ta, tb) = (files.get(&a).cloned(), files.get(&b).cloned());
            let put = |files: &mut Files, p: &str, t: Option<FileBytes>| match t {
                Some(t) => files.insert(p.to_owned(), t),
                None => files.remove(p),
            };
            put(files, &b, ta.clone());
            if what == 3 {
                put(files, &a, tb);
            }
        }
        _ => files.retain(|p, _| !p.starts_with(USERS_DIR)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]
    /// One memo for two configurations built in turn (as the validator's
    /// memo builds the applied revision and each request's change), with
    /// projects moved between folders, files' bytes moved between
    /// projects, the directory's answer the same `Arc` while unchanged,
    /// and limits that refuse the access file or build on one thread.
    #[test]
    fn the_cached_build_equals_the_full_build_across_inputs_and_moves(
        seeds in (any::<u64>(), any::<u64>()),
        steps in proptest::collection::vec(
            (0u8..28, any::<u64>(), 0u8..10, any::<bool>(), any::<bool>(), any::<bool>()),
            1..14,
        ),
    ) {
        let mut trees = [base(seeds.0), base(seeds.1)];
        let mut memo = Memo::default();
        let mut dir: Option<Dir> = None;
        let mut dir_arc: Option<Arc<DirectorySnapshot>> = None;
        for (i, (what, seed, limits, copy, which, build_other)) in steps.into_iter().enumerate() {
            let files = &mut trees[usize::from(which)];
            match what {
                0..17 => change(files, what, seed),
                17..23 => {
                    change_dir(&mut dir, what - 17, seed);
                    dir_arc = dir.as_ref().map(|d| {
                        Arc::new(DirectorySnapshot::new(d.groups.clone(), d.accounts.clone()))
                    });
                }
                _ => shuffle(files, what - 23, seed),
            }
            let limits = Limits {
                max_name_bytes: if limits == 0 { 4 } else { 255 },
                max_query_depth: if limits == 1 { 1 } else { 32 },
                max_access_bytes: if limits == 2 { 400 } else { Limits::default().max_access_bytes },
                max_build_threads: if limits == 3 { 1 } else { Limits::default().max_build_threads },
                ..Limits::default()
            };
            let built = &trees[usize::from(which ^ build_other)];
            let mut input = match copy {
                false => input(built, limits, i),
                true => copied(input(built, limits, i)),
            };
            input.directory.clone_from(&dir_arc);
            let cached = format!("{:#?}", build_cached(&input, &mut memo));
            let full = format!("{:#?}", build_cached(&input, &mut Memo::default()));
            prop_assert_eq!(cached, full, "step {}", i);
        }
    }
}
