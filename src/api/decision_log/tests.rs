//! The decision log's bounds: the token bucket, the cuts, rotation, and
//! the writer's lines.

use super::*;

#[test]
fn the_bucket_gives_its_burst_then_its_rate() {
    let t0 = Instant::now();
    let mut b = Bucket::new(10, 3, t0);
    assert_eq!((0..5).filter(|_| b.take(t0)).count(), 3);
    assert!(!b.take(t0 + Duration::from_millis(50)), "half a token");
    assert!(
        b.take(t0 + Duration::from_millis(100)),
        "one token in 1/10 s"
    );
    assert_eq!(
        (0..100)
            .filter(|_| b.take(t0 + Duration::from_secs(60)))
            .count(),
        3,
        "never more than the burst"
    );
}

#[test]
fn a_cut_keeps_characters_whole_and_says_so() {
    let mut cut = Cut::default();
    assert_eq!(cut.cut("alice", 8), "alice");
    assert!(!cut.truncated);
    assert_eq!(cut.cut("ééé", 3), "é…");
    assert!(cut.truncated);
}

#[test]
fn an_object_beyond_its_bounds_is_cut_and_marked() {
    let mut small = Object::new();
    small.push("status", "open");
    let small = Arc::new(small);
    let mut cut = Cut::default();
    assert!(Arc::ptr_eq(&cut.object(&small), &small));
    assert!(!cut.truncated);
    let mut big = Object::new();
    for i in 0..40 {
        big.push(&format!("k{i}"), &"x".repeat(1000));
    }
    let big = cut.object(&Arc::new(big));
    assert!(cut.truncated);
    assert_eq!(big.attrs().len(), MAX_ATTRS);
    assert!(
        big.attrs()
            .iter()
            .all(|(_, v)| v.len() <= MAX_FIELD_BYTES + 3)
    );
}

fn entry(user: &str) -> Entry {
    Entry {
        at: SystemTime::now(),
        endpoint: Endpoint::Authorize,
        snapshot: None,
        user: Some(user.to_owned()),
        question: Question::Call {
            method: "GET".into(),
            path: "/polarion/rest/v1/projects".into(),
            call: None,
            items: false,
        },
        outcome: Outcome::Error,
        error: Some("no configuration is loaded yet".into()),
        latency: Duration::from_micros(42),
        truncated: false,
    }
}

/// Wait until `log` has written `n` lines.
fn written(log: &DecisionLog, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while log.counters.written.load(Ordering::Relaxed) < n {
        assert!(Instant::now() < deadline, "the writer wrote too little");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn lines_are_json_with_hostile_values_escaped() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("d.jsonl");
    let log = DecisionLog::start(&LogConfig::new(Target::File(path.clone()))).expect("started");
    log.send(entry("mallory\"\n{\"decision\":\"allow\"}"));
    written(&log, 1);
    drop(log);
    let text = std::fs::read_to_string(&path).expect("the log");
    assert_eq!(text.lines().count(), 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(text.trim_end()).expect("one JSON line");
    assert_eq!(v["user"], "mallory\"\n{\"decision\":\"allow\"}");
    assert_eq!(v["decision"], "error");
    assert_eq!(v["latency_us"], 42);
    assert_eq!(v["method"], "GET");
    assert!(v["revision"].is_null());
}

#[test]
fn the_file_is_rotated_by_size_and_old_files_fall_off() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("d.jsonl");
    let config = LogConfig {
        max_bytes: 2000,
        keep: 2,
        ..LogConfig::new(Target::File(path.clone()))
    };
    let log = DecisionLog::start(&config).expect("started");
    for i in 0..100 {
        log.send(entry(&format!("user{i}")));
    }
    written(&log, 100);
    drop(log);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("the folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["d.jsonl", "d.jsonl.1", "d.jsonl.2"]);
    for name in &names {
        let len = std::fs::metadata(dir.path().join(name))
            .expect("a file")
            .len();
        assert!(len <= 2000, "{name}: {len} bytes");
    }
    let last = std::fs::read_to_string(&path).expect("the log");
    assert!(last.contains("\"user99\""), "{last}");
}

#[test]
fn a_full_queue_drops_and_counts() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("d.jsonl");
    let log = DecisionLog::start(&LogConfig::new(Target::File(path))).expect("started");
    for _ in 0..QUEUE * 4 {
        log.send(entry("alice"));
    }
    let dropped = log.counters.queue_full.load(Ordering::Relaxed);
    let mut out = String::new();
    log.render(&mut out);
    assert!(
        out.contains(&format!(
            "rolesync_decision_log_dropped_total{{reason=\"queue_full\"}} {dropped}\n"
        )),
        "{out}"
    );
}
