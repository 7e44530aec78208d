//! The audit writer: every record written, once, in order, before the
//! status shows it; a full queue makes the sender wait.

use std::time::{Duration, SystemTime};

use super::*;
use crate::daemon::outcome::Failure;

fn failed(i: usize) -> Job {
    Job {
        save: None,
        audit: true,
        outcome: Outcome::Failed(Failure::message(Some(format!("rev-{i}")), "bad".into())),
        at: SystemTime::now(),
        elapsed: Duration::ZERO,
        pusher: None,
    }
}

/// The revisions of the audit log's complete lines (a reader racing the
/// writer may see the last line half written: it is not on disk yet).
fn revisions(dir: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("audit.jsonl")).unwrap_or_default();
    text.split_inclusive('\n')
        .filter_map(|l| l.strip_suffix('\n'))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("one JSON record a line");
            v["revision"].as_str().expect("revision").to_owned()
        })
        .collect()
}

const JOBS: usize = 200;

/// A state folder, a status, and a recorder of at most `bound` jobs
/// auditing into that folder.
fn recorder(bound: usize) -> (tempfile::TempDir, Arc<Current>, Recorder) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let shared = Arc::new(Current::new(tx));
    let audit = state::Audit::new(dir.path());
    let recorder = Recorder::start(shared.clone(), Some(audit), bound);
    (dir, shared, recorder)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_is_written_once_in_order_through_a_full_queue() {
    // A queue of one: most sends find it full and must wait, not drop.
    let (dir, shared, recorder) = recorder(1);
    for i in 0..JOBS {
        recorder.send(failed(i)).await;
    }
    recorder.finish().await;
    let want: Vec<String> = (0..JOBS).map(|i| format!("rev-{i}")).collect();
    assert_eq!(revisions(dir.path()), want);
    let status = shared.status();
    assert_eq!(status.failed, JOBS as u64);
    let last = status.last_attempt.expect("an attempt");
    assert_eq!(
        last.revision.as_deref(),
        Some(format!("rev-{}", JOBS - 1).as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_shows_a_record_only_once_it_is_on_disk() {
    let (dir, shared, recorder) = recorder(8);
    let watcher = {
        let (shared, dir) = (shared.clone(), dir.path().to_owned());
        tokio::task::spawn_blocking(move || {
            let mut seen = 0;
            while seen < JOBS as u64 {
                seen = shared.status().failed;
                // Read after the status: the file only grows.
                let written = revisions(&dir).len() as u64;
                assert!(written >= seen, "status shows {seen}, {written} on disk");
            }
        })
    };
    for i in 0..JOBS {
        recorder.send(failed(i)).await;
    }
    recorder.finish().await;
    watcher
        .await
        .expect("the status never ran ahead of the audit log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applied_revision_is_saved_before_the_status_shows_it() {
    let (dir, shared, recorder) = recorder(4);
    let persisted = state::Persisted {
        applied_revision: Some("abc".into()),
    };
    recorder
        .send(Job {
            save: Some((dir.path().to_owned(), persisted.clone())),
            audit: false,
            outcome: Outcome::Unchanged {
                revision: "abc".into(),
            },
            at: SystemTime::now(),
            elapsed: Duration::ZERO,
            pusher: None,
        })
        .await;
    recorder.finish().await;
    assert_eq!(state::load(dir.path()).expect("load"), persisted);
    assert_eq!(shared.status().unchanged, 1);
}
