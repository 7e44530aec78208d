//! The decision log: one JSON line per decision of `/v1/authorize` and
//! `/v1/check` (GET and bulk POST), to a file or stdout, off by default.
//!
//! Bounded so that it can neither fill a disk nor slow a decision: a
//! request takes a token from a token bucket (`rate` lines a second,
//! `burst` at once) and hands its [`Entry`] to a bounded queue with
//! `try_send` (never blocking); a full bucket or queue drops the line and
//! counts it (`rolesync_decision_log_dropped_total{reason}`). One writer
//! thread (`writer`) turns entries into lines — it asks the snapshot the
//! decision was made on which rule decided (`why`, the explain machinery,
//! off the request path) — and rotates the file by size (`max_bytes`,
//! `keep` old files). Every value from a request is cut to a bound
//! (`bounded`) and JSON-escaped; no header but the user's is read.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::decisions::{Endpoint, Outcome};
use crate::policy::{Object, RestCall};
use crate::snapshot::Snapshot;

mod why;
mod writer;

/// The default `decision_log_max_bytes`: 100 MiB per file.
pub const DEFAULT_MAX_BYTES: u64 = 100 * 1024 * 1024;
/// The least `decision_log_max_bytes` accepted: 64 KiB.
pub const MIN_MAX_BYTES: u64 = 64 * 1024;
/// The default `decision_log_keep`: rotated files kept beside the live one.
pub const DEFAULT_KEEP: usize = 5;
/// The default `decision_log_rate`: lines a second.
pub const DEFAULT_RATE: u32 = 1000;
/// The default `decision_log_burst`: lines at once.
pub const DEFAULT_BURST: u32 = 2000;
/// Entries waiting for the writer at most.
pub const QUEUE: usize = 4096;
/// The most bytes of a user, permission, project or attribute kept.
pub const MAX_FIELD_BYTES: usize = 256;
/// The most bytes of a path kept.
pub const MAX_PATH_BYTES: usize = 1024;
/// The most object attributes kept.
pub const MAX_ATTRS: usize = 16;

/// Where the lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `-`: standard output (no rotation: the supervisor's job).
    Stdout,
    File(PathBuf),
}

impl Target {
    /// `-` is stdout, anything else a file.
    pub fn parse(s: &str) -> Target {
        if s == "-" {
            Target::Stdout
        } else {
            Target::File(PathBuf::from(s))
        }
    }
}

/// The decision log's settings (`decision_log*` keys, `--decision-log`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    pub target: Target,
    /// Bytes of one file before it is rotated.
    pub max_bytes: u64,
    /// Rotated files kept (`FILE.1` … `FILE.keep`); 0: the file is
    /// truncated instead.
    pub keep: usize,
    /// Lines a second, on average.
    pub rate: u32,
    /// Lines at once, beyond the rate.
    pub burst: u32,
}

impl LogConfig {
    /// `target` with the default bounds.
    pub fn new(target: Target) -> Self {
        LogConfig {
            target,
            max_bytes: DEFAULT_MAX_BYTES,
            keep: DEFAULT_KEEP,
            rate: DEFAULT_RATE,
            burst: DEFAULT_BURST,
        }
    }
}

impl LogConfig {
    /// Whether the target can be written: a file is opened for appending
    /// (created when missing), then closed.
    pub fn check(&self) -> std::io::Result<()> {
        match &self.target {
            Target::Stdout => Ok(()),
            Target::File(path) => writer::open(path).map(drop),
        }
    }
}

/// What a decision asked.
#[derive(Debug, Clone)]
pub enum Question {
    /// `/v1/authorize`: the original method and path (canonical when it
    /// parsed: then `call` is it).
    Call {
        method: String,
        path: String,
        call: Option<RestCall>,
        items: bool,
    },
    /// `/v1/check`: a permission in a context (a REST line too: `rest`).
    Permission {
        permission: String,
        project: Option<String>,
        object: Arc<Object>,
        rest: Option<RestCall>,
    },
}

/// One decision, as the request handler hands it over.
#[derive(Debug, Clone)]
pub struct Entry {
    pub at: SystemTime,
    pub endpoint: Endpoint,
    /// The snapshot decided on (none: nothing loaded).
    pub snapshot: Option<Arc<Snapshot>>,
    pub user: Option<String>,
    pub question: Question,
    pub outcome: Outcome,
    /// Why it was not decided (`Outcome::Error`).
    pub error: Option<String>,
    pub latency: Duration,
    /// A value was cut to its bound: the line names no rule (it would be
    /// another question's).
    pub truncated: bool,
}

/// What a permission decision asked, borrowed from the request.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    pub user: &'a str,
    pub permission: &'a str,
    pub project: Option<&'a str>,
    pub rest: Option<&'a RestCall>,
}

impl Entry {
    /// The entry of a permission decision of `endpoint` on `snap`; its
    /// latency is set by the caller.
    pub fn permission(
        endpoint: Endpoint,
        snap: &Arc<Snapshot>,
        asked: Asked<'_>,
        object: &Arc<Object>,
        outcome: Outcome,
        error: Option<String>,
    ) -> Entry {
        let mut cut = Cut::default();
        let question = Question::Permission {
            permission: cut.cut(asked.permission, MAX_FIELD_BYTES),
            project: asked.project.map(|p| cut.cut(p, MAX_FIELD_BYTES)),
            object: cut.object(object),
            rest: asked.rest.cloned(),
        };
        Entry {
            at: SystemTime::now(),
            endpoint,
            snapshot: Some(snap.clone()),
            user: Some(cut.cut(asked.user, MAX_FIELD_BYTES)),
            question,
            outcome,
            error: error.map(|e| cut.cut(&e, MAX_FIELD_BYTES)),
            latency: Duration::ZERO,
            truncated: cut.truncated,
        }
    }
}

/// Cuts values to their bounds and remembers whether it cut any.
#[derive(Debug, Default)]
pub struct Cut {
    pub truncated: bool,
}

impl Cut {
    /// `s` cut to at most `max` bytes (on a character boundary), `…`
    /// marking a cut.
    pub fn cut(&mut self, s: &str, max: usize) -> String {
        if s.len() <= max {
            return s.to_owned();
        }
        self.truncated = true;
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }

    /// `object` itself when within [`MAX_ATTRS`] and [`MAX_FIELD_BYTES`]
    /// a value (shared, not copied), else its bounded copy.
    pub fn object(&mut self, object: &Arc<Object>) -> Arc<Object> {
        let attrs = object.attrs();
        let fits = attrs.len() <= MAX_ATTRS
            && attrs
                .iter()
                .all(|(k, v)| k.len() <= MAX_FIELD_BYTES && v.len() <= MAX_FIELD_BYTES);
        if fits {
            return object.clone();
        }
        self.truncated = true;
        let mut out = Object::new();
        for (k, v) in attrs.iter().take(MAX_ATTRS) {
            out.push(&self.cut(k, MAX_FIELD_BYTES), &self.cut(v, MAX_FIELD_BYTES));
        }
        Arc::new(out)
    }
}

/// A token bucket: `rate` tokens a second, at most `burst` held.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
    rate: f64,
    burst: f64,
}

impl Bucket {
    fn new(rate: u32, burst: u32, now: Instant) -> Self {
        Bucket {
            tokens: f64::from(burst),
            last: now,
            rate: f64::from(rate),
            burst: f64::from(burst.max(1)),
        }
    }

    /// Take one token at `now`, if there is one.
    fn take(&mut self, now: Instant) -> bool {
        let gained = now.saturating_duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + gained).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What the log counts, for `/metrics`.
#[derive(Debug, Default)]
struct Counters {
    written: AtomicU64,
    rate_limited: AtomicU64,
    queue_full: AtomicU64,
    write_error: AtomicU64,
}

/// The running decision log: the bucket, the queue to the writer thread
/// and the counters. Dropping it ends the thread once the queue is written.
#[derive(Debug)]
pub struct DecisionLog {
    bucket: Mutex<Bucket>,
    queue: SyncSender<Entry>,
    counters: Arc<Counters>,
}

impl DecisionLog {
    /// Open the target (a file is created, mode 0640, and appended to) and
    /// start the writer thread.
    pub fn start(config: &LogConfig) -> std::io::Result<DecisionLog> {
        let counters = Arc::new(Counters::default());
        let queue = writer::start(config, counters.clone())?;
        Ok(DecisionLog {
            bucket: Mutex::new(Bucket::new(config.rate, config.burst, Instant::now())),
            queue,
            counters,
        })
    }

    /// Whether a line may be written now (a token taken); a refusal is
    /// counted.
    pub fn admit(&self) -> bool {
        let ok = self
            .bucket
            .lock()
            .map(|mut b| b.take(Instant::now()))
            .unwrap_or(false);
        if !ok {
            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// Hand `entry` to the writer, never waiting: a full queue drops it
    /// (counted).
    pub fn send(&self, entry: Entry) {
        match self.queue.try_send(entry) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counters.queue_full.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// `rolesync_decision_log_lines_total` and
    /// `rolesync_decision_log_dropped_total{reason}`.
    pub fn render(&self, out: &mut String) {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        out.push_str(&format!(
            "# HELP rolesync_decision_log_lines_total Lines written to the decision log.\n\
             # TYPE rolesync_decision_log_lines_total counter\n\
             rolesync_decision_log_lines_total {}\n\
             # HELP rolesync_decision_log_dropped_total Decisions not logged, by reason.\n\
             # TYPE rolesync_decision_log_dropped_total counter\n\
             rolesync_decision_log_dropped_total{{reason=\"rate_limit\"}} {}\n\
             rolesync_decision_log_dropped_total{{reason=\"queue_full\"}} {}\n\
             rolesync_decision_log_dropped_total{{reason=\"write_error\"}} {}\n",
            get(&c.written),
            get(&c.rate_limited),
            get(&c.queue_full),
            get(&c.write_error),
        ));
    }
}

#[cfg(test)]
mod tests;
