//! `apply_diffing`, the threaded judge, against `rails::apply` after
//! `diff::diff` in sequence.

use super::apply_diffing;
use crate::diff;
use crate::rails::Target;
use crate::rails::tests::{ThreeHolders, config, snap};
use crate::snapshot::{Report, Snapshot};

fn report(snapshot: Option<Snapshot>) -> Report {
    Report {
        revision: "r".into(),
        snapshot,
        diagnostics: Vec::new(),
        tests: Vec::new(),
    }
}

fn lines(r: &Report) -> Vec<String> {
    (r.diagnostics.iter())
        .map(|d| format!("{}[{}] {}", d.severity.as_str(), d.code, d.message))
        .collect()
}

#[test]
fn the_threaded_judge_says_what_the_rails_after_the_diff_say() {
    let ThreeHolders { holders, old } = ThreeHolders::new();
    let mut refusals = Vec::new();
    // The mass change (two leave) is the rail that reads the diff.
    for (keep, message) in ThreeHolders::cases(&holders) {
        let new = ThreeHolders::with(keep, message);
        let in_sequence = diff::diff(&old, &new).expect("diff");
        let mut after = report(Some(new.clone()));
        let refused_after =
            crate::rails::apply(&mut after, Some(&old), &Target::Folder, Some(&in_sequence));
        let mut beside = report(Some(new));
        let (refused, computed) =
            apply_diffing(&mut beside, Some(&old), &Target::Folder, diff::diff, |d| {
                d.as_ref().ok()
            });
        let case = format!("{keep:?} {message:?}");
        assert_eq!(refused, refused_after, "{case}");
        assert_eq!(lines(&beside), lines(&after), "{case}");
        assert_eq!(
            beside.snapshot.is_some(),
            after.snapshot.is_some(),
            "{case}"
        );
        assert_eq!(
            computed.expect("computed").as_ref(),
            Ok(&in_sequence),
            "{case}"
        );
        refusals.push(refused);
    }
    assert_eq!(refusals, [false, false, true, true, false]);
}

#[test]
fn the_mass_change_rail_reads_the_diff_computed_beside() {
    let ThreeHolders { holders, old } = ThreeHolders::new();
    let new = ThreeHolders::with(&holders[..1], "");
    let judge = |diff: fn(&Snapshot, &Snapshot) -> Result<diff::Diff, diff::DiffError>| {
        let mut r = report(Some(new.clone()));
        apply_diffing(&mut r, Some(&old), &Target::Folder, diff, |d| {
            d.as_ref().ok()
        })
        .0
    };
    // Two leave: refused on the change's diff; a diff that says nothing
    // changed (the old snapshot against itself) is what the rail then
    // reads, so it is not computed again.
    assert!(judge(diff::diff));
    assert!(!judge(|o, _| diff::diff(o, o)));
}

#[test]
fn without_two_snapshots_nothing_is_judged_or_diffed() {
    let users = [("alice", false)];
    let holders = [("alice", "admin")];
    let built = snap(&config(&holders, &users, &[]), "");
    let never = |_: &Snapshot, _: &Snapshot| -> u8 { panic!("no diff without two snapshots") };
    // No configuration in force (the first build), and no new snapshot (a
    // broken change): neither refused nor diffed.
    let mut first = report(Some(built.clone()));
    let answer = apply_diffing(&mut first, None, &Target::Folder, never, |_| None);
    assert_eq!(answer, (false, None));
    assert!(first.diagnostics.is_empty());
    let mut broken = report(None);
    let answer = apply_diffing(&mut broken, Some(&built), &Target::Folder, never, |_| None);
    assert_eq!(answer, (false, None));
}

#[test]
fn a_diff_that_panics_panics_in_the_judge() {
    let users = [("alice", false)];
    let holders = [("alice", "admin")];
    let old = snap(&config(&holders, &users, &[]), "");
    let mut r = report(Some(old.clone()));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        apply_diffing(
            &mut r,
            Some(&old),
            &Target::Folder,
            |_, _| -> u8 { std::panic::panic_any("the diff broke") },
            |_| None,
        )
    }));
    let payload = caught.expect_err("the diff's panic reaches the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the diff broke"));
}
