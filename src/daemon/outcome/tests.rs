//! The outcome of a reload → the status, on tokio's paused clock; and the
//! decide step on real reports.

use std::collections::BTreeMap;

use tokio::time::Instant;

use super::*;
use crate::snapshot::{self, Input};

/// The report of a configuration where alice holds `role` globally, at
/// `revision`.
fn report(revision: &str, role: &str) -> Report {
    let files: snapshot::Files = [
        (
            snapshot::ROLES,
            format!(r#"<roles><role id="{role}" scope="global"/></roles>"#),
        ),
        (
            snapshot::USER_ROLES,
            format!(r#"<user-roles><user name="alice"><role name="{role}"/></user></user-roles>"#),
        ),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_owned(), t.into()))
    .collect();
    snapshot::build(&Input {
        revision: revision.into(),
        files,
        ..Input::default()
    })
}

/// The report of a configuration that does not parse.
fn broken(revision: &str) -> Report {
    let files = BTreeMap::from([(snapshot::ROLES.to_owned(), b"<roles><role".into())]);
    snapshot::build(&Input {
        revision: revision.into(),
        files,
        ..Input::default()
    })
}

fn snapshot_of(revision: &str, role: &str) -> Snapshot {
    report(revision, role)
        .snapshot
        .expect("a valid configuration")
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

fn failed(revision: &str) -> Outcome {
    match decide(None, broken(revision), None) {
        Decision::Reject(f) => Outcome::Failed(f),
        d => panic!("a broken configuration is rejected, not {d:?}"),
    }
}

fn applied(revision: &str) -> Outcome {
    Outcome::Applied(Applied {
        snapshot: Arc::new(snapshot_of(revision, "dev")),
        changes: Memberships::Changed(state::Changes::default()),
        diff: None,
        warnings: Vec::new(),
        source: Sources::default(),
    })
}

/// Run `outcome` into `s` as a reload that took `took` on the paused clock.
async fn after(s: &mut Status, outcome: Outcome, now: SystemTime, took: Duration) -> bool {
    let started = Instant::now();
    tokio::time::advance(took).await;
    transition(s, outcome, now, started.elapsed())
}

#[test]
fn decide_rejects_an_invalid_revision_with_its_errors() {
    let Decision::Reject(f) = decide(None, broken("r2"), None) else {
        panic!("not rejected");
    };
    assert_eq!(f.revision.as_deref(), Some("r2"));
    assert!(!f.errors.is_empty() && f.errors.iter().all(Diagnostic::is_error));
    assert_eq!(f.message, None);
}

#[test]
fn decide_is_unchanged_only_for_the_same_revision_and_access_file() {
    let current = snapshot_of("r1", "dev");
    assert!(matches!(
        decide(Some(&current), report("r1", "dev"), None),
        Decision::Unchanged { revision } if revision == "r1"
    ));
    for (revision, role) in [("r2", "dev"), ("r1", "qa")] {
        assert!(
            matches!(
                decide(Some(&current), report(revision, role), None),
                Decision::Apply { .. }
            ),
            "{revision} {role}"
        );
    }
    assert!(matches!(
        decide(None, report("r1", "dev"), None),
        Decision::Apply { .. }
    ));
}

#[test]
fn an_applied_outcome_carries_the_diff_the_rails_step_computed_into_the_audit_record() {
    let old = snapshot_of("r1", "dev");
    let new = report("r2", "qa");
    let diff = crate::diff::diff(&old, new.snapshot.as_ref().expect("valid")).expect("a diff");
    let Decision::Apply { diff: carried, .. } =
        decide(Some(&old), new, Some(Ok(Box::new(diff.clone()))))
    else {
        panic!("a new access file is applied");
    };
    assert_eq!(
        carried.as_ref().and_then(|d| d.as_deref().ok()),
        Some(&diff),
        "the same diff, not another"
    );
    let (json, error) = state::diff_fields(&carried);
    let json = serde_json::to_value(json.expect("a diff")).expect("JSON");
    assert_eq!(error, None);
    assert_eq!(
        (
            json["version"].clone(),
            json["from"].clone(),
            json["to"].clone()
        ),
        (1.into(), "r1".into(), "r2".into())
    );
    let groups: Vec<(String, String, String)> = json["groups"]["changes"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            (
                c["login"].to_string(),
                c["group"].to_string(),
                c["change"].to_string(),
            )
        })
        .collect();
    let q = |s: &str| format!("\"{s}\"");
    assert_eq!(
        groups,
        [
            (q("alice"), q("dev"), q("left")),
            (q("alice"), q("qa"), q("joined"))
        ]
    );
    // The same revision again is unchanged: no diff goes anywhere.
    assert!(matches!(
        decide(Some(&old), report("r1", "dev"), Some(Ok(Box::new(diff)))),
        Decision::Unchanged { .. }
    ));
}

#[test]
fn a_diff_that_failed_or_was_never_computed_is_said_so_in_the_audit_record() {
    assert_eq!(state::diff_fields(&None).1, None);
    assert!(
        state::diff_fields(&None).0.is_none(),
        "nothing applied before: no diff"
    );
    let failed: state::ChangeDiff = Some(Err("the access file does not load".into()));
    let (json, error) = state::diff_fields(&failed);
    assert!(json.is_none());
    assert_eq!(error, Some("the access file does not load"));
}

#[tokio::test(start_paused = true)]
async fn a_failure_makes_the_status_stale_and_a_retry_keeps_the_first_time() {
    let mut s = Status::default();
    let second = Duration::from_secs(1);
    assert!(!after(&mut s, failed("r2"), at(100), second).await);
    assert_eq!(s.stale_since, Some(at(100)));
    assert!(!after(&mut s, failed("r2"), at(160), second * 3).await);
    assert_eq!(s.stale_since, Some(at(100)), "the first failure's time");
    assert_eq!((s.applied, s.unchanged, s.failed), (0, 0, 2));
    assert_eq!(s.last_duration, second * 3);
    let a = s.last_attempt.as_ref().expect("an attempt");
    assert_eq!(
        (a.revision.as_deref(), a.result, a.at),
        (Some("r2"), ReloadResult::Failed, at(160))
    );
    assert!(!a.errors.is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_applied_revision_ends_the_stale_spell_and_is_the_attempt() {
    let mut s = Status::default();
    after(&mut s, failed("r2"), at(100), Duration::ZERO).await;
    let took = Duration::from_millis(1500);
    assert!(
        after(&mut s, applied("r3"), at(200), took).await,
        "no longer degraded"
    );
    assert_eq!(s.stale_since, None);
    assert_eq!(s.applied_at, Some(at(200)));
    assert_eq!((s.applied, s.unchanged, s.failed), (1, 0, 1));
    assert_eq!(s.last_duration, took);
    let a = s.last_attempt.as_ref().expect("an attempt");
    assert_eq!(
        (a.revision.as_deref(), a.result),
        (Some("r3"), ReloadResult::Applied)
    );
    assert!(
        a.errors.is_empty() && a.message.is_none(),
        "the failure's errors are gone"
    );
}

#[tokio::test(start_paused = true)]
async fn unchanged_counts_and_clears_stale_without_touching_applied_at() {
    let mut s = Status::default();
    after(&mut s, applied("r1"), at(50), Duration::ZERO).await;
    after(&mut s, failed("r2"), at(100), Duration::ZERO).await;
    let unchanged = Outcome::Unchanged {
        revision: "r1".into(),
    };
    assert!(after(&mut s, unchanged, at(200), Duration::from_millis(20)).await);
    assert_eq!((s.applied, s.unchanged, s.failed), (1, 1, 1));
    assert_eq!((s.stale_since, s.applied_at), (None, Some(at(50))));
    assert_eq!(s.last_duration, Duration::from_millis(20));
    let a = s.last_attempt.as_ref().expect("an attempt");
    assert_eq!(
        (a.revision.as_deref(), a.result),
        (Some("r1"), ReloadResult::Unchanged)
    );
}

#[tokio::test(start_paused = true)]
async fn an_unmoved_head_counts_nothing_but_ends_a_stale_spell() {
    let mut s = Status::default();
    after(&mut s, failed("r2"), at(100), Duration::from_secs(2)).await;
    let before = s.last_attempt.clone().map(|a| (a.revision, a.at));
    assert!(
        after(
            &mut s,
            Outcome::HeadUnmoved,
            at(300),
            Duration::from_secs(9)
        )
        .await
    );
    assert_eq!(s.stale_since, None);
    assert_eq!((s.applied, s.unchanged, s.failed), (0, 0, 1));
    assert_eq!(s.last_duration, Duration::from_secs(2), "not a reload");
    assert_eq!(s.last_attempt.clone().map(|a| (a.revision, a.at)), before);
    assert!(!after(&mut s, Outcome::HeadUnmoved, at(400), Duration::ZERO).await);
}

#[test]
fn a_retried_failure_has_the_same_audit_key_and_another_does_not() {
    let Outcome::Failed(first) = failed("r2") else {
        unreachable!()
    };
    let Outcome::Failed(again) = failed("r2") else {
        unreachable!()
    };
    assert_eq!(first.audit_key(), again.audit_key());
    let Outcome::Failed(other) = failed("r3") else {
        unreachable!()
    };
    assert_ne!(first.audit_key(), other.audit_key());
    let unread = Failure::message(None, "cannot read".into());
    assert_eq!(
        unread.audit_key(),
        (String::new(), vec!["cannot read".to_owned()])
    );
}

#[test]
fn the_source_of_a_change_is_whichever_moved() {
    let of = |served, revision, served_dir, dir| Sources::of((served, revision), (served_dir, dir));
    assert_eq!(of(Some("r1"), "r2", None, None), Sources::default());
    let moved = |s: Sources| s.moved;
    assert_eq!(moved(of(None, "r1", None, Some("d1"))), Some("both"));
    assert_eq!(
        moved(of(Some("r1"), "r2", Some("d1"), Some("d1"))),
        Some("repository")
    );
    assert_eq!(
        moved(of(Some("r1"), "r1", Some("d1"), Some("d2"))),
        Some("directory")
    );
    assert_eq!(
        moved(of(Some("r1"), "r2", Some("d1"), Some("d2"))),
        Some("both")
    );
    // A limit changed by SIGHUP rebuilds the same two: the repository's.
    assert_eq!(
        moved(of(Some("r1"), "r1", Some("d1"), Some("d1"))),
        Some("repository")
    );
    assert_eq!(
        of(Some("r1"), "r1", Some("d1"), Some("d2"))
            .directory
            .as_deref(),
        Some("d2")
    );
}
