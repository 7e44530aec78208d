//! The hold-back rail on answers built as the LDAP client builds them.

use std::collections::BTreeMap;

use super::*;
use crate::directory::Member;

const QA: &str = "cn=qa,ou=groups,dc=example,dc=org";
const DEV: &str = "cn=dev,ou=groups,dc=example,dc=org";

fn members(logins: impl IntoIterator<Item = String>) -> GroupAnswer {
    let mut m: Vec<Member> = logins
        .into_iter()
        .map(|login| Member { login, via: vec![] })
        .collect();
    m.sort();
    GroupAnswer::Members(m)
}

fn users(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("u{i:03}")).collect()
}

fn answer(
    groups: &[(&str, GroupAnswer)],
    accounts: Option<&[(String, bool)]>,
) -> DirectorySnapshot {
    let groups = groups
        .iter()
        .map(|(dn, a)| (GroupRef::Dn((*dn).to_owned()), a.clone()))
        .collect();
    let accounts = accounts.map(|list| {
        list.iter()
            .map(|(login, active)| {
                let state = match active {
                    true => AccountState::Active,
                    false => AccountState::Locked {
                        by: "pwdAccountLockedTime".to_owned(),
                    },
                };
                (login.clone(), state)
            })
            .collect::<BTreeMap<_, _>>()
    });
    DirectorySnapshot::new(groups, accounts)
}

fn accounts(logins: &[String], locked: &[&str]) -> Vec<(String, bool)> {
    logins
        .iter()
        .map(|l| (l.clone(), !locked.contains(&l.as_str())))
        .collect()
}

#[test]
fn the_first_answer_is_always_taken() {
    let empty = answer(&[(QA, members(vec![]))], None);
    assert_eq!(judge(None, &empty, HoldBack::default()), Ok(()));
}

#[test]
fn removals_up_to_the_floor_or_the_share_pass_and_one_more_is_held_back() {
    let old = answer(&[(QA, members(users(0..100)))], None);
    // 20 % of 100 is 20: 80 members left passes, 79 is held back.
    let kept = answer(&[(QA, members(users(20..100)))], None);
    assert_eq!(judge(Some(&old), &kept, HoldBack::default()), Ok(()));
    let cut = answer(&[(QA, members(users(21..100)))], None);
    let refusal = judge(Some(&old), &cut, HoldBack::default()).expect_err("held back");
    assert_eq!(
        refusal,
        Refusal::TooMany {
            what: "memberships",
            removed: 21,
            before: 100,
            limit: 20
        }
    );
    assert!(
        refusal
            .to_string()
            .contains("removes 21 of 100 memberships")
    );
    // A small group: the floor (10) lets 9 of 12 go.
    let small = answer(&[(DEV, members(users(0..12)))], None);
    let three = answer(&[(DEV, members(users(9..12)))], None);
    assert_eq!(judge(Some(&small), &three, HoldBack::default()), Ok(()));
}

#[test]
fn an_empty_answer_is_held_back_even_with_the_rail_off() {
    let old = answer(&[(QA, members(users(0..3)))], None);
    let off = HoldBack {
        max_removed_share: 1.0,
        max_removed_floor: 1000,
    };
    for empty in [
        answer(&[(QA, members(vec![]))], None),
        answer(&[(QA, GroupAnswer::NotFound)], None),
    ] {
        assert_eq!(
            judge(Some(&old), &empty, off),
            Err(Refusal::Empty {
                what: "memberships",
                before: 3
            })
        );
    }
    // One member left is not empty: the rail off lets it through.
    let one = answer(&[(QA, members(users(2..3)))], None);
    assert_eq!(judge(Some(&old), &one, off), Ok(()));
}

#[test]
fn a_reference_the_repository_no_longer_names_is_no_removal() {
    let old = answer(
        &[(QA, members(users(0..50))), (DEV, members(users(50..100)))],
        None,
    );
    let new = answer(&[(QA, members(users(0..50)))], None);
    assert_eq!(judge(Some(&old), &new, HoldBack::default()), Ok(()));
}

#[test]
fn locked_accounts_count_as_removed_memberships_and_accounts() {
    let logins = users(0..40);
    let old = answer(
        &[(QA, members(logins.clone()))],
        Some(&accounts(&logins, &[])),
    );
    // One account locked: one membership and one account go; passes.
    let one = answer(
        &[(QA, members(logins.clone()))],
        Some(&accounts(&logins, &["u007"])),
    );
    assert_eq!(judge(Some(&old), &one, HoldBack::default()), Ok(()));
    // A truncated account search: half the accounts missing.
    let truncated = answer(
        &[(QA, members(logins.clone()))],
        Some(&accounts(&logins[..20], &[])),
    );
    let tight = HoldBack {
        max_removed_share: 0.2,
        max_removed_floor: 5,
    };
    assert_eq!(
        judge(Some(&old), &truncated, tight),
        Err(Refusal::TooMany {
            what: "memberships",
            removed: 20,
            before: 40,
            limit: 8
        })
    );
    // No account at all: empty, whatever the groups say.
    let none = answer(&[], Some(&[]));
    let accounts_only = answer(&[], Some(&accounts(&logins, &[])));
    assert_eq!(
        judge(Some(&accounts_only), &none, tight),
        Err(Refusal::Empty {
            what: "active accounts",
            before: 40
        })
    );
}

#[test]
fn the_limit_is_the_larger_of_floor_and_share() {
    let h = HoldBack {
        max_removed_share: 0.25,
        max_removed_floor: 3,
    };
    assert_eq!(
        [h.limit(0), h.limit(8), h.limit(13), h.limit(400)],
        [3, 3, 3, 100]
    );
}
