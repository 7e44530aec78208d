//! The hooks' notifications on `rolesync.sock`, and who pushed which
//! revision. One line per connection:
//!
//! ```text
//! reload [rev=REVISION]… [pusher=NAME]\n     post-receive, post-commit: reload
//! push [rev=REVISION]… [pusher=NAME]\n       pre-receive: who pushes, before the ref moves
//! ```
//!
//! A value is percent-encoded (`%`, space and control bytes as `%XX`).
//! Whoever can write the state folder can write here, so the line is
//! hostile input: at most [`MAX_LINE_BYTES`], read within
//! [`READ_TIMEOUT`]; a pusher is 1 to [`MAX_PUSHER_BYTES`] bytes of UTF-8
//! without control characters, a revision 1 to [`MAX_REVISION_BYTES`]
//! ASCII letters and digits, at most [`MAX_REVISIONS`] of them. Anything
//! else is ignored with a warning; any connection but a `push` still asks
//! for a reload (the hooks before this protocol wrote `reload` alone).
//! [`Pushes`] remembers the pusher of the last [`REMEMBERED`] revisions.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The longest line read from one connection.
pub const MAX_LINE_BYTES: usize = 4096;
/// The longest pusher name, in bytes.
pub const MAX_PUSHER_BYTES: usize = 256;
/// The longest revision (a SHA-256 commit id is 64 hex digits).
pub const MAX_REVISION_BYTES: usize = 64;
/// The most revisions one notification names.
pub const MAX_REVISIONS: usize = 32;
/// How long a connection may take to send its line.
pub const READ_TIMEOUT: Duration = Duration::from_secs(1);
/// How many revisions' pushers are remembered.
pub const REMEMBERED: usize = 64;

/// What one notification says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notice {
    /// `push`: only who pushes; no reload is asked for.
    pub only_push: bool,
    pub pusher: Option<String>,
    pub revisions: Vec<String>,
}

impl Notice {
    /// The notification's line, newline included.
    pub fn line(&self) -> String {
        let mut out = String::from(if self.only_push { "push" } else { "reload" });
        for r in self.revisions.iter().take(MAX_REVISIONS) {
            out.push_str(" rev=");
            out.push_str(&encode(r));
        }
        if let Some(p) = &self.pusher {
            out.push_str(" pusher=");
            out.push_str(&encode(p));
        }
        out.push('\n');
        out
    }
}

/// Percent-encode `%`, space and control bytes.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c == '%' || c == ' ' || c.is_ascii_control() {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Undo [`encode`]; `None` for a malformed escape or bytes that are not UTF-8.
fn decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The notice of one line (without its newline), and a warning for each
/// part of it that is ignored.
pub fn parse(line: &str) -> (Notice, Vec<String>) {
    let mut notice = Notice::default();
    let mut warnings = Vec::new();
    let mut words = line.split(' ').filter(|w| !w.is_empty());
    match words.next() {
        Some("reload") | None => {}
        Some("push") => notice.only_push = true,
        Some(_) => warnings.push("an unknown verb (taken as `reload`)".to_owned()),
    }
    for word in words {
        match field(word) {
            Ok(Field::Pusher(p)) => notice.pusher = Some(p),
            Ok(Field::Revision(_)) if notice.revisions.len() == MAX_REVISIONS => {
                warnings.push(format!("more than {MAX_REVISIONS} revisions"));
            }
            Ok(Field::Revision(r)) => notice.revisions.push(r),
            Err(why) => warnings.push(why),
        }
    }
    (notice, warnings)
}

enum Field {
    Pusher(String),
    Revision(String),
}

/// One `key=value` word, validated.
fn field(word: &str) -> Result<Field, String> {
    let (key, value) = word.split_once('=').unwrap_or((word, ""));
    let value = decode(value).ok_or_else(|| format!("a malformed value of `{}`", clip(key)))?;
    match key {
        "pusher" if valid_pusher(&value) => Ok(Field::Pusher(value)),
        "pusher" => Err(format!(
            "a pusher that is empty, longer than {MAX_PUSHER_BYTES} bytes or holds a control character"
        )),
        "rev" if valid_revision(&value) => Ok(Field::Revision(value)),
        "rev" => Err(format!(
            "a revision that is not 1 to {MAX_REVISION_BYTES} letters and digits"
        )),
        _ => Err(format!("an unknown field `{}`", clip(key))),
    }
}

/// A key for a warning: at most 32 characters, controls escaped.
fn clip(key: &str) -> String {
    let short: String = key.chars().take(32).collect();
    crate::diag::escape_controls(&short).into_owned()
}

/// Whether `p` may be sent as a pusher.
pub fn valid_pusher(p: &str) -> bool {
    !p.is_empty() && p.len() <= MAX_PUSHER_BYTES && !p.chars().any(char::is_control)
}

fn valid_revision(r: &str) -> bool {
    !r.is_empty() && r.len() <= MAX_REVISION_BYTES && r.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Read one notification from `stream`: its first line, within
/// [`READ_TIMEOUT`] and [`MAX_LINE_BYTES`]; a line that breaks a bound is
/// ignored with a warning (the connection still counts).
pub async fn read(stream: tokio::net::UnixStream) -> Notice {
    use tokio::io::AsyncReadExt as _;
    let mut buf = Vec::new();
    let limit = (MAX_LINE_BYTES + 1) as u64;
    let mut taken = stream.take(limit);
    let read = async {
        loop {
            let start = buf.len();
            match taken.read_buf(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(_) if buf[start..].contains(&b'\n') => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    };
    match tokio::time::timeout(READ_TIMEOUT, read).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "hook socket: cannot read the notification"),
        Err(_) => {
            tracing::warn!("hook socket: the notification took too long; its fields are ignored");
            return Notice::default();
        }
    }
    of_bytes(&buf)
}

/// The notice of what a connection sent (up to `MAX_LINE_BYTES + 1` bytes).
fn of_bytes(buf: &[u8]) -> Notice {
    let line = match buf.iter().position(|&b| b == b'\n') {
        Some(end) => &buf[..end],
        None if buf.len() > MAX_LINE_BYTES => {
            tracing::warn!(
                "hook socket: a notification longer than {MAX_LINE_BYTES} bytes; its fields are ignored"
            );
            return Notice::default();
        }
        None => buf,
    };
    let Ok(line) = std::str::from_utf8(line) else {
        tracing::warn!("hook socket: a notification that is not UTF-8; its fields are ignored");
        return Notice::default();
    };
    let (notice, warnings) = parse(line);
    for w in warnings {
        tracing::warn!("hook socket: ignored {w}");
    }
    notice
}

/// The pushers of the last [`REMEMBERED`] revisions notified (shared by
/// the hook socket and the reloader; clones share them).
#[derive(Debug, Clone, Default)]
pub struct Pushes(Arc<Mutex<VecDeque<(String, String)>>>);

impl Pushes {
    /// Remember who pushed each revision `notice` names.
    pub fn note(&self, notice: &Notice) {
        let Some(pusher) = &notice.pusher else {
            return;
        };
        let mut seen = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for r in &notice.revisions {
            seen.retain(|(rev, _)| rev != r);
            if seen.len() == REMEMBERED {
                seen.pop_front();
            }
            seen.push_back((r.clone(), pusher.clone()));
        }
    }

    /// Who pushed `revision`, when a notification said so.
    pub fn pusher_of(&self, revision: &str) -> Option<String> {
        let seen = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.iter()
            .rev()
            .find(|(rev, _)| rev == revision)
            .map(|(_, p)| p.clone())
    }
}

#[cfg(test)]
#[path = "notice_tests.rs"]
mod tests;
