//! The decision log's writer thread: entries from the bounded queue, each
//! explained (`why`) and written as one JSON line; the file rotated by
//! size (`FILE` → `FILE.1` → … → `FILE.keep`, the oldest removed), the
//! buffer flushed whenever the queue is empty.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};

use serde::Serialize;

use super::why::{self, Why};
use super::{Counters, Entry, LogConfig, QUEUE, Question, Target};

/// One line of the log (fields absent when they do not apply).
#[derive(Debug, Serialize)]
struct Line<'a> {
    time: String,
    endpoint: &'static str,
    revision: Option<&'a str>,
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    permission: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    object: BTreeMap<&'a str, Vec<&'a str>>,
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(flatten)]
    why: Option<Why>,
    latency_us: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

/// The line of `e`, its deciding rule asked of its snapshot.
fn line(e: &Entry) -> Line<'_> {
    let mut l = Line {
        time: humantime::format_rfc3339_micros(e.at).to_string(),
        endpoint: e.endpoint.as_str(),
        revision: e.snapshot.as_deref().map(|s| s.revision.as_str()),
        user: e.user.as_deref(),
        method: None,
        path: None,
        rest: None,
        permission: None,
        project: None,
        object: BTreeMap::new(),
        decision: e.outcome.as_str(),
        error: e.error.as_deref(),
        why: None,
        latency_us: u64::try_from(e.latency.as_micros()).unwrap_or(u64::MAX),
        truncated: e.truncated,
    };
    let decided = e.error.is_none() && !e.truncated;
    let (snap, user) = match (&e.snapshot, &e.user) {
        (Some(s), Some(u)) if decided => (Some(&**s), u.as_str()),
        _ => (None, ""),
    };
    match &e.question {
        Question::Call {
            method,
            path,
            call,
            items,
        } => {
            l.method = Some(method);
            l.path = Some(path);
            l.why = snap
                .zip(call.as_ref())
                .and_then(|(s, c)| why::of_call(s, user, c, &crate::policy::Object::new(), *items));
        }
        Question::Permission {
            permission,
            project,
            object,
            rest,
        } => {
            l.permission = Some(permission);
            l.project = project.as_deref();
            for (k, v) in object.attrs() {
                l.object.entry(k.as_str()).or_default().push(v.as_str());
            }
            l.rest = rest
                .as_ref()
                .map(|c| format!("{} {}", c.verb.as_str(), c.path.as_str()));
            l.why = snap.and_then(|s| match rest {
                Some(c) => why::of_call(s, user, c, object, true),
                None => why::of_permission(s, user, permission, project.as_deref(), object),
            });
        }
    }
    l
}

/// Where lines are written: stdout, or a file of at most `max_bytes`.
#[derive(Debug)]
enum Sink {
    Stdout,
    File {
        path: PathBuf,
        out: BufWriter<File>,
        size: u64,
        max_bytes: u64,
        keep: usize,
    },
}

pub(super) fn open(path: &Path) -> std::io::Result<(BufWriter<File>, u64)> {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let size = file.metadata()?.len();
    Ok((BufWriter::new(file), size))
}

/// `FILE.n`.
fn numbered(path: &Path, n: usize) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// Shift `FILE.1` … to `FILE.2` …, `FILE` to `FILE.1` (the oldest falls
/// off); with `keep` 0, `FILE` is removed.
fn rotate(path: &Path, keep: usize) -> std::io::Result<()> {
    if keep == 0 {
        return std::fs::remove_file(path);
    }
    for n in (1..keep).rev() {
        let from = numbered(path, n);
        if from.exists() {
            std::fs::rename(&from, numbered(path, n + 1))?;
        }
    }
    std::fs::rename(path, numbered(path, 1))
}

impl Sink {
    fn open(config: &LogConfig) -> std::io::Result<Sink> {
        match &config.target {
            Target::Stdout => Ok(Sink::Stdout),
            Target::File(path) => {
                let (out, size) = open(path)?;
                Ok(Sink::File {
                    path: path.clone(),
                    out,
                    size,
                    max_bytes: config.max_bytes,
                    keep: config.keep,
                })
            }
        }
    }

    /// Write one line (ending in a line feed), rotating first when it
    /// would pass `max_bytes`.
    fn write(&mut self, line: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Stdout => std::io::stdout().lock().write_all(line),
            Sink::File {
                path,
                out,
                size,
                max_bytes,
                keep,
            } => {
                let len = line.len() as u64;
                if *size + len > *max_bytes && *size > 0 {
                    out.flush()?;
                    rotate(path, *keep)?;
                    (*out, *size) = open(path)?;
                }
                out.write_all(line)?;
                *size += len;
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout => std::io::stdout().lock().flush(),
            Sink::File { out, .. } => out.flush(),
        }
    }
}

/// Open the target and start the thread; the queue's sender.
pub(super) fn start(
    config: &LogConfig,
    counters: Arc<Counters>,
) -> std::io::Result<SyncSender<Entry>> {
    let sink = Sink::open(config)?;
    let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
    std::thread::Builder::new()
        .name("decision-log".into())
        .spawn(move || run(sink, &rx, &counters))?;
    Ok(tx)
}

/// Write every entry until every sender is gone; flush when idle.
fn run(mut sink: Sink, rx: &Receiver<Entry>, counters: &Counters) {
    let mut buf = Vec::with_capacity(1024);
    let mut warned = false;
    while let Ok(mut entry) = rx.recv() {
        loop {
            buf.clear();
            // Serialising into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut buf, &line(&entry));
            buf.push(b'\n');
            match sink.write(&buf) {
                Ok(()) => counters.written.fetch_add(1, Ordering::Relaxed),
                Err(e) => {
                    if !warned {
                        tracing::error!(error = %e, "cannot write the decision log; dropping lines");
                        warned = true;
                    }
                    counters.write_error.fetch_add(1, Ordering::Relaxed)
                }
            };
            match rx.try_recv() {
                Ok(next) => entry = next,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        if let Err(e) = sink.flush() {
            tracing::warn!(error = %e, "cannot flush the decision log");
        }
    }
}
