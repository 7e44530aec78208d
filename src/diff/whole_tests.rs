//! The diff that reads only what changed equals the diff that reads both
//! access files whole: random valid configurations (eight projects, two
//! user groups, accounts, hand-written groups and aliases naming role
//! groups, rules on the role groups) changed by random steps (a
//! project's roles, one holder more, the user groups, an account
//! disabled or enabled, the global roles, the access file), each revision
//! built with one memo as the daemon builds it and diffed against the
//! revision before and the first one, both ways, under the default
//! bounds and tight ones. And the membership changes, found through the
//! runs the two models share, equal those found reading every run.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::groups;
use super::paths::Reading;
use super::{Bounds, diff_reading};
use crate::snapshot::incremental_tests::Rng;
use crate::snapshot::{self, Input, Memo, Snapshot, build_cached};

const LOGINS: &[&str] = &["alice", "bob", "carol", "dave", "erin", "x@corp.example"];
const PROJECTS: usize = 8;
const ROLES: &[&str] = &["project_user", "project_tester", "project_admin"];

fn holders(rng: &mut Rng, roles: &[&str]) -> String {
    let mut xml = String::from("<user-roles>\n");
    for _ in 0..rng.below(5) {
        let (kind, name) = match rng.below(4) {
            0 => ("group", ["g1", "g2"][rng.below(2)]),
            _ => ("user", rng.pick(LOGINS)),
        };
        xml.push_str(&format!(
            "  <{kind} name=\"{name}\"><role name=\"{}\"/></{kind}>\n",
            rng.pick(roles)
        ));
    }
    xml + "</user-roles>\n"
}

fn groups(rng: &mut Rng) -> String {
    let mut xml = String::from("<user-groups>\n");
    for g in ["g1", "g2"] {
        xml.push_str(&format!("  <group id=\"{g}\">"));
        for _ in 0..rng.below(4) {
            xml.push_str(&format!("<user name=\"{}\"/>", rng.pick(LOGINS)));
        }
        xml.push_str("</group>\n");
    }
    xml + "</user-groups>\n"
}

/// An access file: a head defining hand-written groups (or none) and
/// rules naming role groups and the head's groups.
fn access(rng: &mut Rng) -> String {
    let (head, own): (&str, &[&str]) = [
        ("", &[][..]),
        (
            "[groups]\nteam = alice, @p2-project_user\n",
            &["@team = rw", "~@team = r"][..],
        ),
        (
            "[aliases]\njoe = alice\n[groups]\nops = &joe, @p4-project_user, @p5-project_tester\n",
            &["@ops = r", "&joe = rw"][..],
        ),
    ][rng.below(3)];
    let mut text = format!("{head}[/]\n@admin = rw\n");
    for p in 0..PROJECTS {
        if rng.below(3) == 0 {
            continue;
        }
        text.push_str(&format!("[/p{p}]\n"));
        for _ in 0..1 + rng.below(2) {
            let line = match rng.below(4) {
                0 if !own.is_empty() => own[rng.below(own.len())].to_owned(),
                1 => "* = r".to_owned(),
                2 => format!("~@p{p}-{} = r", rng.pick(ROLES)),
                _ => format!("@p{}-{} = rw", rng.below(PROJECTS), rng.pick(ROLES)),
            };
            text.push_str(&line);
            text.push('\n');
        }
    }
    text
}

fn roles_path(p: usize) -> String {
    format!("p{p}/.polarion/security/user-roles.xml")
}

/// One change to the files, named by `what` and drawn from `seed`.
fn change(files: &mut crate::snapshot::Files, what: u8, seed: u64) {
    let rng = &mut Rng(seed);
    let (path, text) = match what {
        0 => (roles_path(rng.below(PROJECTS)), holders(rng, ROLES)),
        1 => {
            let path = roles_path(rng.below(PROJECTS));
            let text = String::from_utf8_lossy(&files[&path]).replace(
                "</user-roles>",
                &format!(
                    "<user name=\"{}\"><role name=\"{}\"/></user></user-roles>",
                    rng.pick(LOGINS),
                    rng.pick(ROLES)
                ),
            );
            (path, text)
        }
        2 => (snapshot::GROUPS.to_owned(), groups(rng)),
        3 => {
            let login = rng.pick(LOGINS);
            let disabled = rng.below(2) == 0;
            (
                format!("{}{login}/user.xml", snapshot::USERS_DIR),
                format!("<user><field id=\"disabled\">{disabled}</field></user>"),
            )
        }
        4 => (
            snapshot::USER_ROLES.to_owned(),
            holders(rng, &["admin", "user"]),
        ),
        _ => (snapshot::ACCESS_FILE.to_owned(), access(rng)),
    };
    files.insert(path, text.into());
}

fn base(seed: u64) -> crate::snapshot::Files {
    let mut files = BTreeMap::new();
    files.insert(
        snapshot::ROLES.to_owned(),
        b"<roles><role id=\"project_tester\" scope=\"project\"/></roles>".into(),
    );
    for login in LOGINS {
        files.insert(
            format!("{}{login}/user.xml", snapshot::USERS_DIR),
            b"<user/>".into(),
        );
    }
    for p in 0..PROJECTS {
        files.insert(
            format!("p{p}/.polarion/polarion-project.xml"),
            b"<project/>".into(),
        );
    }
    let rng = &mut Rng(seed);
    for what in [2, 4, 5] {
        change(&mut files, what, rng.below(1 << 30) as u64);
    }
    for p in 0..PROJECTS {
        files.insert(roles_path(p), holders(rng, ROLES).into());
    }
    files
}

/// Both readings of one diff, which must be equal.
fn both(old: &Snapshot, new: &Snapshot, bounds: &Bounds) -> (String, String) {
    let changed = diff_reading(old, new, bounds, Reading::Changed);
    let whole = diff_reading(old, new, bounds, Reading::Whole);
    (format!("{changed:#?}"), format!("{whole:#?}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn reading_what_changed_equals_reading_both_files_whole(
        seed in any::<u64>(),
        steps in proptest::collection::vec((0u8..7, any::<u64>()), 1..12),
        tight in any::<bool>(),
    ) {
        let bounds = if tight {
            Bounds { max_listed: 2, max_evaluations: 5 }
        } else {
            Bounds::default()
        };
        let mut files = base(seed);
        let mut memo = Memo::default();
        let build = |files: &crate::snapshot::Files, i: usize, memo: &mut Memo| {
            let input = Input { revision: format!("r{i}"), files: files.clone(), ..Input::default() };
            let report = build_cached(&input, memo);
            assert!(report.snapshot.is_some(), "{:#?}", report.diagnostics);
            report.snapshot
        };
        let first = build(&files, 0, &mut memo);
        let mut last = first.clone();
        for (i, (what, seed)) in steps.into_iter().enumerate() {
            change(&mut files, what, seed);
            let new = build(&files, i + 1, &mut memo).expect("valid");
            for old in [&last, &first].into_iter().flatten() {
                for (x, y) in [(&old.model, &new.model), (&new.model, &old.model)] {
                    let shared = groups::memberships(x, y);
                    let every_run = groups::memberships_from(x, y, (groups::by_scope(x), groups::by_scope(y)));
                    prop_assert_eq!(format!("{shared:?}"), format!("{every_run:?}"), "step {}", i);
                }
                let (changed, whole) = both(old, &new, &bounds);
                prop_assert_eq!(&changed, &whole, "step {}", i);
                let (changed, whole) = both(&new, old, &bounds);
                prop_assert_eq!(changed, whole, "step {} backwards", i);
            }
            last = Some(new);
        }
    }
}
