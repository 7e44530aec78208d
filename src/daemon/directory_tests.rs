//! The sync task's decisions on real answers: taken, the same again,
//! failed (stale, the last good kept), held back (audited once), timed
//! out, stored for a restart; and what the reloader is given to build.

use std::collections::BTreeMap;

use super::*;
use crate::directory::Member;

const QA: &str = "cn=qa,ou=groups,dc=example,dc=org";

fn qa() -> GroupRef {
    GroupRef::Dn(QA.to_owned())
}

/// An answer for `qa` with members `u000`… `u{n-1}`.
fn answer(n: u32) -> DirectorySnapshot {
    let members = (0..n)
        .map(|i| Member {
            login: format!("u{i:03}"),
            via: vec![],
        })
        .collect();
    DirectorySnapshot::new(
        BTreeMap::from([(qa(), GroupAnswer::Members(members))]),
        None,
    )
}

/// What the directory answers next, set by the test.
type Next = Arc<Mutex<Result<DirectorySnapshot, String>>>;

fn sync_fn(next: &Next) -> SyncFn {
    let next = next.clone();
    Arc::new(move |_refs| {
        let r = next.lock().expect("next").clone();
        Box::pin(async move { r })
    })
}

fn settings(sync: SyncFn) -> DirectorySettings {
    DirectorySettings {
        sync,
        sync_interval: Duration::from_secs(3600),
        sync_timeout: Duration::from_secs(5),
        hold_back: HoldBack::default(),
        name: "ldap://127.0.0.1:1".into(),
    }
}

struct Fixture {
    syncer: Syncer,
    shared: Arc<Current>,
    next: Next,
    dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let (tx, _rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Current::new(tx));
    shared.update(|s| s.directory = Some(DirectoryStatus::default()));
    let next: Next = Arc::new(Mutex::new(Ok(answer(100))));
    let dir = tempfile::tempdir().expect("temp dir");
    let syncer = Syncer {
        settings: settings(sync_fn(&next)),
        good: Arc::default(),
        refs: Arc::new(Mutex::new(vec![qa()])),
        hold_back: Arc::new(ArcSwap::from_pointee(HoldBack::default())),
        shared: shared.clone(),
        state_dir: Some(dir.path().to_owned()),
        audit: Some(state::Audit::new(dir.path())),
        last_error: None,
        last_held: None,
    };
    Fixture {
        syncer,
        shared,
        next,
        dir,
    }
}

impl Fixture {
    fn answers(&self, r: Result<DirectorySnapshot, String>) {
        *self.next.lock().expect("next") = r;
    }

    fn status(&self) -> DirectoryStatus {
        self.shared.status().directory.expect("a directory status")
    }

    fn audit_lines(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.path().join("audit.jsonl")).unwrap_or_default();
        (text.lines())
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect()
    }
}

#[tokio::test]
async fn a_good_answer_is_taken_stored_and_counted_and_the_same_again_is_nothing_new() {
    let mut f = fixture();
    assert_eq!(f.syncer.sync().await, Synced::New);
    let s = f.status();
    let revision = answer(100).revision;
    assert_eq!(s.revision.as_deref(), Some(revision.as_str()));
    assert_eq!((s.groups, s.members, s.accounts), (1, 100, None));
    assert_eq!((s.last_sync_ok, s.stale_since()), (Some(true), None));
    assert!(s.last_sync_at.is_some());
    assert_eq!(directory_store::load(f.dir.path()), Ok(answer(100)));
    assert_eq!(f.syncer.sync().await, Synced::Same);
    // A restart reads the stored answer.
    assert_eq!(load_stored(f.dir.path()), Some(answer(100)));
}

#[tokio::test]
async fn a_failed_sync_keeps_the_last_good_answer_and_is_stale_until_it_answers() {
    let mut f = fixture();
    f.syncer.sync().await;
    f.answers(Err("connection refused (ldap://127.0.0.1:1)".into()));
    assert_eq!(f.syncer.sync().await, Synced::Failed);
    assert_eq!(f.syncer.sync().await, Synced::Failed);
    let s = f.status();
    let since = s.unreachable_since.expect("unreachable");
    assert_eq!(s.stale_since(), Some(since));
    assert_eq!(
        s.error.as_deref(),
        Some("connection refused (ldap://127.0.0.1:1)")
    );
    assert_eq!(s.last_sync_ok, Some(false));
    assert_eq!(
        s.revision,
        Some(answer(100).revision),
        "the last good answer"
    );
    assert_eq!(f.syncer.good.load_full().as_deref(), Some(&answer(100)));
    f.answers(Ok(answer(95)));
    assert_eq!(f.syncer.sync().await, Synced::New);
    let s = f.status();
    assert_eq!((s.stale_since(), s.error, s.members), (None, None, 95));
}

#[tokio::test]
async fn a_mass_removal_is_held_back_audited_once_and_released_by_a_wider_share() {
    let mut f = fixture();
    f.syncer.sync().await;
    f.answers(Ok(answer(50)));
    assert_eq!(f.syncer.sync().await, Synced::HeldBack);
    assert_eq!(f.syncer.sync().await, Synced::HeldBack);
    let s = f.status();
    let held = s.held_back.clone().expect("held back");
    assert_eq!(held.revision, answer(50).revision);
    assert!(
        held.reason.contains("removes 50 of 100 memberships"),
        "{}",
        held.reason
    );
    assert_eq!(s.stale_since(), Some(held.since));
    assert_eq!(s.revision, Some(answer(100).revision), "never published");
    assert_eq!(directory_store::load(f.dir.path()), Ok(answer(100)));
    // The audit writes off the task: wait for its one line.
    let lines = wait_for(|| Some(f.audit_lines()).filter(|l| !l.is_empty())).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["result"], "held-back");
    assert_eq!(lines[0]["source"], "directory");
    assert_eq!(lines[0]["directory_revision"], answer(50).revision.as_str());
    f.syncer.hold_back.store(Arc::new(HoldBack {
        max_removed_share: 0.5,
        max_removed_floor: 10,
    }));
    assert_eq!(f.syncer.sync().await, Synced::New);
    assert_eq!(f.status().held_back, None);
}

#[tokio::test(start_paused = true)]
async fn a_sync_that_never_ends_fails_at_the_time_out() {
    let mut f = fixture();
    f.syncer.settings.sync = Arc::new(|_| Box::pin(std::future::pending()));
    assert_eq!(f.syncer.sync().await, Synced::Failed);
    let error = f.status().error.expect("an error");
    assert!(error.contains("did not end within 5s"), "{error}");
}

#[tokio::test]
async fn the_reloader_gets_an_answer_only_when_it_holds_every_reference() {
    let (tx, _rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Current::new(tx.clone()));
    let next: Next = Arc::new(Mutex::new(Err("no such host".into())));
    let (_stop_tx, stop) = watch::channel(false);
    let mut d = Directory::start(
        settings(sync_fn(&next)),
        shared.clone(),
        None,
        None,
        (tx, stop),
    );
    let none = d
        .answer_for(vec![qa()], &shared)
        .await
        .expect_err("no answer yet");
    assert!(none.contains("has not answered yet"), "{none}");
    // Without an answer, every reload syncs first.
    *next.lock().expect("next") = Ok(answer(3));
    assert_eq!(
        d.answer_for(vec![qa()], &shared).await,
        Ok(Arc::new(answer(3)))
    );
    // A reference the answer lacks syncs again (and this one lacks it);
    // the answer in force is still there for a revision it answers.
    *next.lock().expect("next") = Err("down".into());
    let other = GroupRef::Dn("cn=dev,ou=groups,dc=example,dc=org".into());
    let lacks = d
        .answer_for(vec![qa(), other], &shared)
        .await
        .expect_err("lacks dev");
    assert!(
        lacks.contains("lacks 1 of this revision's 2") && lacks.contains("cn=dev"),
        "{lacks}"
    );
    assert_eq!(
        d.answer_for(vec![qa()], &shared).await,
        Ok(Arc::new(answer(3)))
    );
}

async fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..500 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting")
}
