//! The daemon's long-lived reader of a local SVN repository (issue 13): one
//! `svnserve -t` child per repository, spoken to in Subversion's own
//! protocol (ra_svn, `subversion/libsvn_ra_svn/protocol`) over its
//! standard input and output, kept open between reloads. Per new revision
//! it asks `log` (the changed paths of revisions `(from, to]`) and
//! `get-file` (each changed configuration file's text and properties at
//! `to`), so that a plain edit costs two round trips instead of one
//! `svnadmin dump` process (its start-up and the repository's opening,
//! ~9 ms on the 10,000-user tree).
//!
//! A fast path only: [`Shared::changes`] answers the same
//! `svn_since::Dumped` the incremental dump would, and only when every
//! change at or below the configuration's folder is a file added or
//! changed (no copy, no property change, no `svn:special`) or deleted, or a
//! folder added (no copy) or its properties changed, and nothing at or
//! above the folder but a property change; in every other case it
//! declines, and `svn::read_since` dumps as before.
//!
//! The child: `svnserve -t -R --config-file /dev/null -r REPO` (read only;
//! an empty configuration no one but root can change, so the repository's
//! own `svnserve.conf` and authz file cannot restrict or alter what is
//! read), its standard error discarded. Each response is bounded (bytes:
//! `Limits::max_total_bytes` plus [`MAX_PROTOCOL_OVERHEAD`]; items
//! [`MAX_ITEMS`]; list depth [`MAX_DEPTH`]; a word [`MAX_WORD_BYTES`]) and
//! must arrive whole within [`TIMEOUT`]; a declared string length is
//! checked against what is left of the bound and the bytes are kept only
//! as they arrive, never allocated ahead. A command is at most
//! [`MAX_COMMAND_BYTES`] (below a pipe's 64 KiB buffer) and written only
//! once the previous response was read whole, so the server holds at most
//! one unread command and a write never waits on it. Anything the client
//! does not expect, a server failure, a timeout or a closed pipe ends the
//! session (the child killed and waited for) and the read falls back; the
//! next session is started lazily, after a back-off ([`FIRST_BACKOFF`]
//! doubling to [`MAX_BACKOFF`]), so a broken `svnserve` does not cost a
//! spawn per reload.
//!
//! The child dies with the daemon: killed when the session is dropped,
//! and `svnserve -t` ends at the end of its standard input, which the
//! kernel closes when the daemon dies. (No `PR_SET_PDEATHSIG`: it needs
//! `unsafe` `pre_exec`, which the crate forbids, and it fires when the
//! *thread* that spawned the child ends, which in tokio's blocking pool
//! is any idle moment.) The session also ends when the repository on
//! disk is another (`db`'s device and inode, `db/uuid`'s bytes), since
//! the child's caches are of the repository it opened.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::SubPath;
use super::svn_since::{Dumped, Op, in_one_dump, revision_meta_of};
use crate::snapshot::Limits;

/// Bytes of one response beyond the configuration files' own
/// (`Limits::max_total_bytes`): the protocol's framing, paths, log
/// messages, properties. 16 MiB.
pub const MAX_PROTOCOL_OVERHEAD: usize = 16 << 20;
/// Items (numbers, strings, words, lists) of one response, at most.
pub const MAX_ITEMS: usize = 1 << 20;
/// Nesting depth of lists in one response (the deepest Subversion sends
/// is 4), at most.
pub const MAX_DEPTH: usize = 16;
/// Bytes of one protocol word, at most.
pub const MAX_WORD_BYTES: usize = 64;
/// Bytes of one command, at most.
pub const MAX_COMMAND_BYTES: usize = 16 << 10;
/// The time one response (the greeting and handshake together) has to
/// arrive whole.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// The wait before a new session after a failed one; it doubles with each
/// failure in a row.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait before a new session.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Bytes of standard output the reader thread holds ahead of the session
/// (in chunks of [`CHUNK_BYTES`]).
const CHUNKS_AHEAD: usize = 16;
const CHUNK_BYTES: usize = 64 << 10;

/// Why a session ended (said at debug level): it is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fail {
    /// `svnserve` does not start.
    Spawn,
    /// The response did not arrive within [`TIMEOUT`].
    Timeout,
    /// The server closed its output.
    Closed,
    /// A response over one of its bounds.
    Bound(&'static str),
    /// A response that is not what the protocol says.
    Malformed(&'static str),
    /// The server answered `failure`.
    Server(String),
    /// The repository on disk is not the one the session opened.
    Replaced,
}

/// Why the fast path does not answer: a session failure, or a change it
/// is not sure of (the session then stays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Decline {
    Failed(Fail),
    NotSure(&'static str),
    /// The last session failed a moment ago (the back-off).
    Waiting,
}

impl From<Fail> for Decline {
    fn from(f: Fail) -> Self {
        Decline::Failed(f)
    }
}

/// One item of the wire format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Number(u64),
    String(Vec<u8>),
    Word(String),
    List(Vec<Item>),
}

impl Item {
    fn list(&self) -> Result<&[Item], Fail> {
        match self {
            Item::List(l) => Ok(l),
            _ => Err(Fail::Malformed("a list expected")),
        }
    }
    fn number(&self) -> Result<u64, Fail> {
        match self {
            Item::Number(n) => Ok(*n),
            _ => Err(Fail::Malformed("a number expected")),
        }
    }
    fn bytes(&self) -> Result<&[u8], Fail> {
        match self {
            Item::String(s) => Ok(s),
            _ => Err(Fail::Malformed("a string expected")),
        }
    }
    fn word(&self) -> Result<&str, Fail> {
        match self {
            Item::Word(w) => Ok(w),
            _ => Err(Fail::Malformed("a word expected")),
        }
    }
    fn boolean(&self) -> Result<bool, Fail> {
        match self.word()? {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(Fail::Malformed("a boolean expected")),
        }
    }
}

/// The `i`th element of `l`.
fn at(l: &[Item], i: usize) -> Result<&Item, Fail> {
    l.get(i).ok_or(Fail::Malformed("a tuple too short"))
}

/// An optional tuple part `( ?x )`: its element, if any.
fn optional(item: &Item) -> Result<Option<&Item>, Fail> {
    match item.list()? {
        [] => Ok(None),
        [x, ..] => Ok(Some(x)),
    }
}

/// `( success ( params ) )` → params; `( failure ( … ) )` → the server's
/// first message.
fn success(item: Item) -> Result<Vec<Item>, Fail> {
    let Item::List(mut l) = item else {
        return Err(Fail::Malformed("a response that is no list"));
    };
    if l.len() != 2 {
        return Err(Fail::Malformed("a response of another shape"));
    }
    let params = l.pop().expect("two elements");
    match (l[0].word()?, params) {
        ("success", Item::List(p)) => Ok(p),
        ("failure", Item::List(p)) => {
            let first = p.first().and_then(|e| e.list().ok()).and_then(|e| e.get(1));
            let msg = first.and_then(|m| m.bytes().ok()).unwrap_or(b"");
            Err(Fail::Server(String::from_utf8_lossy(msg).into_owned()))
        }
        _ => Err(Fail::Malformed("a response neither success nor failure")),
    }
}

/// What is left of one response's bounds.
struct Budget {
    deadline: Instant,
    bytes: usize,
    items: usize,
}

impl Budget {
    fn new(limits: Limits) -> Budget {
        Budget {
            deadline: Instant::now() + TIMEOUT,
            bytes: limits.max_total_bytes.saturating_add(MAX_PROTOCOL_OVERHEAD),
            items: MAX_ITEMS,
        }
    }
    fn take(&mut self, n: usize) -> Result<(), Fail> {
        self.bytes = self
            .bytes
            .checked_sub(n)
            .ok_or(Fail::Bound("a response over its byte bound"))?;
        Ok(())
    }
    fn item(&mut self) -> Result<(), Fail> {
        self.items = self
            .items
            .checked_sub(1)
            .ok_or(Fail::Bound("a response of too many items"))?;
        Ok(())
    }
}

/// The server's output as the reader thread hands it over, in chunks.
#[derive(Debug)]
struct Wire {
    rx: Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
}

impl Wire {
    /// A wire over `out`, read on a thread of its own (it ends with the
    /// stream, or once the wire is gone and the next chunk arrives).
    fn new(mut out: impl Read + Send + 'static) -> std::io::Result<Wire> {
        let (tx, rx) = sync_channel(CHUNKS_AHEAD);
        std::thread::Builder::new()
            .name("svnserve-out".into())
            .spawn(move || {
                loop {
                    let mut chunk = vec![0; CHUNK_BYTES];
                    match out.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            chunk.truncate(n);
                            if tx.send(chunk).is_err() {
                                break;
                            }
                        }
                    }
                }
            })?;
        Ok(Wire {
            rx,
            buf: Vec::new(),
            pos: 0,
        })
    }

    /// The bytes at hand, waiting for the next chunk if there are none.
    fn ready(&mut self, b: &Budget) -> Result<&[u8], Fail> {
        while self.pos == self.buf.len() {
            let left = b.deadline.saturating_duration_since(Instant::now());
            self.buf = self.rx.recv_timeout(left).map_err(|e| match e {
                RecvTimeoutError::Timeout => Fail::Timeout,
                RecvTimeoutError::Disconnected => Fail::Closed,
            })?;
            self.pos = 0;
        }
        Ok(&self.buf[self.pos..])
    }

    fn peek(&mut self, b: &Budget) -> Result<u8, Fail> {
        Ok(self.ready(b)?[0])
    }

    fn next(&mut self, b: &mut Budget) -> Result<u8, Fail> {
        let c = self.peek(b)?;
        b.take(1)?;
        self.pos += 1;
        Ok(c)
    }

    /// `n` bytes, the first `keep` of them appended to `out`, the rest
    /// dropped; taken as they arrive.
    fn bytes(
        &mut self,
        mut n: usize,
        b: &mut Budget,
        out: &mut Vec<u8>,
        keep: usize,
    ) -> Result<(), Fail> {
        b.take(n)?;
        while n > 0 {
            let at_hand = self.ready(b)?;
            let k = at_hand.len().min(n);
            let kept = k.min(keep.saturating_sub(out.len()));
            out.extend_from_slice(&at_hand[..kept]);
            self.pos += k;
            n -= k;
        }
        Ok(())
    }

    /// Whitespace before an item.
    fn blanks(&mut self, b: &mut Budget) -> Result<(), Fail> {
        while matches!(self.peek(b)?, b' ' | b'\n') {
            self.next(b)?;
        }
        Ok(())
    }

    /// The one whitespace byte that ends a token.
    fn end(&mut self, b: &mut Budget) -> Result<(), Fail> {
        match self.next(b)? {
            b' ' | b'\n' => Ok(()),
            _ => Err(Fail::Malformed("a token not followed by whitespace")),
        }
    }

    /// A number's digits (the first one at hand).
    fn digits(&mut self, b: &mut Budget) -> Result<u64, Fail> {
        let mut n: u64 = 0;
        while let c @ b'0'..=b'9' = self.peek(b)? {
            self.next(b)?;
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(c - b'0')))
                .ok_or(Fail::Bound("a number out of range"))?;
        }
        Ok(n)
    }

    /// A string's bytes after its length, the first `keep` kept.
    fn string_rest(&mut self, len: u64, b: &mut Budget, keep: usize) -> Result<Vec<u8>, Fail> {
        let len = usize::try_from(len).map_err(|_| Fail::Bound("a string over its bound"))?;
        if len > b.bytes {
            return Err(Fail::Bound("a string longer than the response's bound"));
        }
        let mut out = Vec::new();
        self.bytes(len, b, &mut out, keep)?;
        self.end(b)?;
        Ok(out)
    }

    /// One whole item (a list with everything in it), within `b`.
    fn item(&mut self, b: &mut Budget) -> Result<Item, Fail> {
        let mut open: Vec<Vec<Item>> = Vec::new();
        loop {
            self.blanks(b)?;
            let item = match self.peek(b)? {
                b'(' => {
                    self.next(b)?;
                    self.end(b)?;
                    if open.len() == MAX_DEPTH {
                        return Err(Fail::Bound("lists nested too deep"));
                    }
                    b.item()?;
                    open.push(Vec::new());
                    continue;
                }
                b')' => {
                    self.next(b)?;
                    self.end(b)?;
                    Item::List(open.pop().ok_or(Fail::Malformed("a ')' outside a list"))?)
                }
                b'0'..=b'9' => {
                    b.item()?;
                    let n = self.digits(b)?;
                    if self.peek(b)? == b':' {
                        self.next(b)?;
                        Item::String(self.string_rest(n, b, usize::MAX)?)
                    } else {
                        self.end(b)?;
                        Item::Number(n)
                    }
                }
                c if c.is_ascii_alphabetic() => {
                    b.item()?;
                    let mut w = String::new();
                    while let c @ (b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-') = self.peek(b)? {
                        if w.len() == MAX_WORD_BYTES {
                            return Err(Fail::Bound("a word over its bound"));
                        }
                        self.next(b)?;
                        w.push(char::from(c));
                    }
                    self.end(b)?;
                    Item::Word(w)
                }
                _ => return Err(Fail::Malformed("a byte that starts no item")),
            };
            match open.last_mut() {
                Some(list) => list.push(item),
                None => return Ok(item),
            }
        }
    }

    /// A file's text: strings up to the empty one, the first `keep`
    /// bytes kept.
    fn text(&mut self, b: &mut Budget, keep: usize) -> Result<Vec<u8>, Fail> {
        let mut out = Vec::new();
        loop {
            self.blanks(b)?;
            if !self.peek(b)?.is_ascii_digit() {
                return Err(Fail::Malformed("a file's text that is no string"));
            }
            b.item()?;
            let n = self.digits(b)?;
            if self.next(b)? != b':' {
                return Err(Fail::Malformed("a file's text that is no string"));
            }
            if n == 0 {
                self.end(b)?;
                return Ok(out);
            }
            let room = keep.saturating_sub(out.len());
            let chunk = self.string_rest(n, b, room)?;
            out.extend_from_slice(&chunk);
        }
    }
}

/// What tells the repository on disk from another at the same path: the
/// device and inode of its `db` folder and the bytes of `db/uuid`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    uuid: Vec<u8>,
}

impl Identity {
    fn of(repo: &Path) -> Option<Identity> {
        use std::os::unix::fs::MetadataExt as _;
        let db = std::fs::metadata(repo.join("db")).ok()?;
        let mut uuid = Vec::new();
        std::fs::File::open(repo.join("db/uuid"))
            .ok()?
            .take(256)
            .read_to_end(&mut uuid)
            .ok()?;
        Some(Identity {
            dev: db.dev(),
            ino: db.ino(),
            uuid,
        })
    }
}

/// One `svnserve -t` child past its handshake.
#[derive(Debug)]
pub(super) struct Session {
    child: Child,
    /// `None` once closed (the tests' stand-in for the daemon's death).
    stdin: Option<ChildStdin>,
    wire: Wire,
    identity: Identity,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A string of the wire format.
fn string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(format!("{}:", s.len()).as_bytes());
    out.extend_from_slice(s);
    out.push(b' ');
}

impl Session {
    /// Start `program` on `repo` and shake hands.
    pub(super) fn open(program: &Path, repo: &Path) -> Result<Session, Fail> {
        let identity = Identity::of(repo).ok_or(Fail::Replaced)?;
        let mut child = Command::new(program)
            .args(["-t", "-R", "--config-file", "/dev/null", "-r"])
            .arg(repo)
            .env("LC_ALL", "C.UTF-8")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|_| Fail::Spawn)?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Fail::Spawn);
        };
        let wire = match Wire::new(stdout) {
            Ok(wire) => wire,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Fail::Spawn);
            }
        };
        let mut session = Session {
            child,
            stdin: Some(stdin),
            wire,
            identity,
        };
        session.handshake()?;
        Ok(session)
    }

    fn handshake(&mut self) -> Result<(), Fail> {
        // One budget for the greeting, the authentication and the
        // repository's answer.
        let mut b = Budget::new(Limits {
            max_total_bytes: 0,
            ..Limits::DEFAULT
        });
        let greeting = success(self.wire.item(&mut b)?)?;
        let (min, max) = (at(&greeting, 0)?.number()?, at(&greeting, 1)?.number()?);
        if !(min..=max).contains(&2) {
            return Err(Fail::Malformed("a server without protocol version 2"));
        }
        let mut hello =
            b"( 2 ( edit-pipeline svndiff1 absent-entries depth mergeinfo log-revprops ) ".to_vec();
        string(&mut hello, b"svn+ssh://rolesync/");
        string(&mut hello, b"rolesync");
        hello.extend_from_slice(b"( ) ) ");
        self.send(&hello)?;
        let auth = success(self.wire.item(&mut b)?)?;
        let mechs = at(&auth, 0)?.list()?;
        let offered = |m: &str| mechs.iter().any(|w| w.word() == Ok(m));
        let mech = match () {
            _ if offered("EXTERNAL") => "EXTERNAL",
            _ if offered("ANONYMOUS") => "ANONYMOUS",
            _ => return Err(Fail::Malformed("no EXTERNAL or ANONYMOUS authentication")),
        };
        self.send(format!("( {mech} ( 0: ) ) ").as_bytes())?;
        success(self.wire.item(&mut b)?)?;
        let info = success(self.wire.item(&mut b)?)?;
        let uuid = at(&info, 0)?.bytes()?;
        if !self.identity.uuid.starts_with(uuid) || uuid.is_empty() {
            return Err(Fail::Replaced);
        }
        Ok(())
    }

    fn send(&mut self, command: &[u8]) -> Result<(), Fail> {
        if command.len() > MAX_COMMAND_BYTES {
            return Err(Fail::Bound("a command over its bound"));
        }
        let stdin = self.stdin.as_mut().ok_or(Fail::Closed)?;
        stdin.write_all(command).map_err(|_| Fail::Closed)?;
        stdin.flush().map_err(|_| Fail::Closed)
    }

    /// Send `command`, read the (empty) authentication request every
    /// command is answered with first, then the response's first item.
    fn ask(&mut self, command: &[u8], b: &mut Budget) -> Result<Vec<Item>, Fail> {
        self.send(command)?;
        let auth = success(self.wire.item(b)?)?;
        if !at(&auth, 0)?.list()?.is_empty() {
            return Err(Fail::Malformed("a command that asks for authentication"));
        }
        success(self.wire.item(b)?)
    }

    /// The log of revisions `(from, to]` of the whole repository, with
    /// changed paths and author, date and log message.
    pub(super) fn log(&mut self, from: u64, to: u64, limits: Limits) -> Result<Vec<Entry>, Fail> {
        let command = format!(
            "( log ( ( 0: ) ( {} ) ( {to} ) true false 0 false revprops \
             ( 10:svn:author 8:svn:date 7:svn:log ) ) ) ",
            from + 1
        );
        let mut b = Budget::new(limits);
        self.send(command.as_bytes())?;
        let auth = success(self.wire.item(&mut b)?)?;
        if !at(&auth, 0)?.list()?.is_empty() {
            return Err(Fail::Malformed("a command that asks for authentication"));
        }
        let mut entries = Vec::new();
        loop {
            let item = self.wire.item(&mut b)?;
            match &item {
                Item::Word(w) if w == "done" => break,
                Item::List(l) if l.first().is_some_and(|w| w.word() == Ok("failure")) => {
                    success(item)?;
                }
                Item::List(l) => entries.push(Entry::parse(l)?),
                _ => return Err(Fail::Malformed("a log entry that is no list")),
            }
        }
        success(self.wire.item(&mut b)?)?;
        Ok(entries)
    }

    /// The file at `path` (from the repository's root) in revision `rev`:
    /// whether it carries `svn:special`, and (`want_text`) its text, the
    /// first `keep` bytes of it.
    pub(super) fn file(
        &mut self,
        path: &str,
        rev: u64,
        want_text: bool,
        keep: usize,
        limits: Limits,
    ) -> Result<(bool, Vec<u8>), Fail> {
        let mut command = b"( get-file ( ".to_vec();
        string(&mut command, path.as_bytes());
        command.extend_from_slice(format!("( {rev} ) true {want_text} ) ) ").as_bytes());
        let mut b = Budget::new(limits);
        let r = self.ask(&command, &mut b)?;
        let props = at(&r, 2)?.list()?;
        let mut special = false;
        for p in props {
            special |= at(p.list()?, 0)?.bytes()? == b"svn:special";
        }
        if !want_text {
            return Ok((special, Vec::new()));
        }
        let text = self.wire.text(&mut b, keep)?;
        success(self.wire.item(&mut b)?)?;
        Ok((special, text))
    }
}

/// A changed path of a log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Changed {
    /// From the repository's root, without the leading `/`.
    pub(super) path: String,
    /// `A`, `D`, `R` or `M`.
    pub(super) action: u8,
    pub(super) copied: bool,
    /// `file`, `dir` (`None`: not said, or another).
    pub(super) kind: Option<Kind>,
    pub(super) prop_mods: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    File,
    Dir,
}

/// One revision of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) revision: u64,
    pub(super) changed: Vec<Changed>,
    pub(super) author: Option<Vec<u8>>,
    pub(super) date: Option<Vec<u8>>,
    pub(super) message: Option<Vec<u8>>,
}

impl Entry {
    /// `( ( changed… ) rev ( ?author ) ( ?date ) ( ?message ) … )`.
    fn parse(l: &[Item]) -> Result<Entry, Fail> {
        let text = |i| -> Result<Option<Vec<u8>>, Fail> {
            optional(at(l, i)?)?
                .map(|s| s.bytes().map(<[u8]>::to_vec))
                .transpose()
        };
        let mut changed = Vec::new();
        for c in at(l, 0)?.list()? {
            changed.push(Changed::parse(c.list()?)?);
        }
        Ok(Entry {
            revision: at(l, 1)?.number()?,
            changed,
            author: text(2)?,
            date: text(3)?,
            message: text(4)?,
        })
    }
}

impl Changed {
    /// `( path action ( ?copy-path copy-rev ) ( ?kind ?text-mods ?prop-mods ) )`.
    fn parse(c: &[Item]) -> Result<Changed, Fail> {
        let path = std::str::from_utf8(at(c, 0)?.bytes()?)
            .map_err(|_| Fail::Malformed("a path that is not UTF-8"))?;
        let path = path
            .strip_prefix('/')
            .ok_or(Fail::Malformed("a changed path not from the root"))?;
        let action = match at(c, 1)?.word()? {
            "A" => b'A',
            "D" => b'D',
            "R" => b'R',
            "M" => b'M',
            _ => return Err(Fail::Malformed("a change of no known action")),
        };
        let copied = optional(at(c, 2)?)?.is_some();
        let (mut kind, mut prop_mods) = (None, None);
        if let Some(more) = c.get(3) {
            let more = more.list()?;
            if let Some(k) = more.first() {
                kind = match k.bytes()? {
                    b"file" => Some(Kind::File),
                    b"dir" => Some(Kind::Dir),
                    _ => None,
                };
            }
            if let Some(p) = more.get(2) {
                prop_mods = Some(p.boolean()?);
            }
        }
        Ok(Changed {
            path: path.to_owned(),
            action,
            copied,
            kind,
            prop_mods,
        })
    }
}

/// Where a file below the configuration's folder stands at the newest
/// revision of the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Last {
    /// Added or changed: read it at the newest revision.
    There,
    Deleted,
}

/// What the changes of the log ask for, path by path (relative to the
/// configuration's folder), when the fast path is sure of them: each
/// file's last change; `Err` names what it is not sure of.
pub(super) fn plan(
    entries: &[Entry],
    subpath: &SubPath,
) -> Result<BTreeMap<String, Last>, &'static str> {
    let mut files = BTreeMap::new();
    let mut dirs = std::collections::BTreeSet::new();
    for c in entries.iter().flat_map(|e| &e.changed) {
        if c.path.is_empty() || subpath.is_at_or_below(&c.path) {
            // The configuration's folder or one above it: only its
            // properties may change.
            match (c.action, c.copied) {
                (b'M', false) => continue,
                _ => return Err("the configuration's folder or one above it changed"),
            }
        }
        let Some(rel) = subpath.strip(&c.path) else {
            continue;
        };
        if c.copied {
            return Err("a copy");
        }
        match (c.kind, c.action) {
            (Some(Kind::Dir), b'A' | b'M') => {
                dirs.insert(rel.to_owned());
            }
            (Some(Kind::Dir), _) => return Err("a folder deleted or replaced"),
            (Some(Kind::File), b'A' | b'M') if c.prop_mods == Some(false) => {
                files.insert(rel.to_owned(), Last::There);
            }
            (Some(Kind::File), b'D') => {
                files.insert(rel.to_owned(), Last::Deleted);
            }
            (Some(Kind::File), b'A' | b'M') => return Err("a file's properties changed"),
            (Some(Kind::File), _) => return Err("a file replaced"),
            (None, _) => return Err("a change of no known kind"),
        }
        if files.contains_key(rel) && dirs.contains(rel) {
            return Err("a path that was a file and a folder");
        }
    }
    Ok(files)
}

/// The state one `Source` shares across its clones (it is cloned into
/// each reload's blocking task): the session, if one is open, and the
/// back-off after a failed one. One request at a time, under the mutex.
#[derive(Debug, Clone)]
pub(crate) struct Shared(Arc<Mutex<State>>);

#[derive(Debug)]
struct State {
    program: PathBuf,
    session: Option<Session>,
    /// No new session before this instant.
    retry_at: Option<Instant>,
    backoff: Duration,
    /// Reads the fast path answered (for the tests).
    answered: u64,
}

impl Default for Shared {
    fn default() -> Self {
        Shared::with_program(PathBuf::from("svnserve"))
    }
}

impl Shared {
    /// A session of `program` instead of `svnserve` (the tests' fake
    /// servers).
    pub(crate) fn with_program(program: PathBuf) -> Shared {
        Shared(Arc::new(Mutex::new(State {
            program,
            session: None,
            retry_at: None,
            backoff: FIRST_BACKOFF,
            answered: 0,
        })))
    }

    /// Reads the fast path answered so far.
    #[cfg(test)]
    pub(super) fn answered(&self) -> u64 {
        self.lock().answered
    }

    /// Whether a session is open (for the tests).
    #[cfg(test)]
    pub(super) fn is_open(&self) -> bool {
        self.lock().session.is_some()
    }

    /// The open session's child's process id (for the tests).
    #[cfg(test)]
    pub(super) fn child_id(&self) -> Option<u32> {
        self.lock().session.as_ref().map(|s| s.child.id())
    }

    /// Let the next read start a session at once (for the tests).
    #[cfg(test)]
    pub(super) fn forget_backoff(&self) {
        self.lock().retry_at = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while the lock was held may have left the session
        // midway through a response: it goes.
        self.0.lock().unwrap_or_else(|poisoned| {
            let mut state = poisoned.into_inner();
            state.session = None;
            state
        })
    }

    /// The changes of revisions `(from, to]` of `repo` below `subpath`, as
    /// `svn_since::dump` would give them, when the fast path is sure.
    pub(super) fn changes(
        &self,
        repo: &Path,
        subpath: &SubPath,
        from: u64,
        to: u64,
        limits: Limits,
    ) -> Result<Dumped, Decline> {
        if !in_one_dump(from, to) {
            return Err(Decline::NotSure("a range the dump reads in full"));
        }
        let mut state = self.lock();
        let state = &mut *state;
        let answer = state
            .session(repo)
            .and_then(|s| changes(s, subpath, from, to, limits));
        match &answer {
            Ok(_) => {
                state.answered += 1;
                state.backoff = FIRST_BACKOFF;
            }
            Err(Decline::Failed(_)) => {
                state.session = None;
                state.retry_at = Some(Instant::now() + state.backoff);
                state.backoff = (state.backoff * 2).min(MAX_BACKOFF);
            }
            Err(_) => {}
        }
        answer
    }
}

impl State {
    /// The open session of `repo`, started if there is none (but not
    /// within the back-off).
    fn session(&mut self, repo: &Path) -> Result<&mut Session, Decline> {
        if let Some(s) = &self.session
            && Identity::of(repo).as_ref() != Some(&s.identity)
        {
            self.session = None;
        }
        if self.session.is_none() {
            if self.retry_at.is_some_and(|t| Instant::now() < t) {
                return Err(Decline::Waiting);
            }
            self.session = Some(Session::open(&self.program, repo)?);
        }
        Ok(self.session.as_mut().expect("just opened"))
    }
}

/// The fast path on an open session.
fn changes(
    s: &mut Session,
    subpath: &SubPath,
    from: u64,
    to: u64,
    limits: Limits,
) -> Result<Dumped, Decline> {
    let entries = s.log(from, to, limits)?;
    if entries
        .iter()
        .any(|e| e.revision <= from || e.revision > to)
    {
        return Err(Fail::Malformed("a log entry out of the range").into());
    }
    let files = plan(&entries, subpath).map_err(Decline::NotSure)?;
    let mut ops = Vec::new();
    let mut total = 0usize;
    let keep = limits.max_file_bytes.saturating_add(1);
    for (rel, last) in files {
        let kind = super::expected_kind(&rel);
        match (last, kind) {
            (_, None) => {}
            (Last::Deleted, Some(_)) => ops.push(Op::Remove(rel)),
            (Last::There, Some(kind)) => {
                let want_text = kind == "file";
                let (special, text) = s.file(&subpath.join(&rel), to, want_text, keep, limits)?;
                if special {
                    return Err(Decline::NotSure("a file with svn:special"));
                }
                if !want_text {
                    continue;
                }
                total = total.saturating_add(text.len());
                if total > limits.max_total_bytes {
                    return Err(Decline::NotSure("the files together pass max_total_bytes"));
                }
                ops.push(Op::File {
                    rel,
                    folder: false,
                    text: Some(text),
                    special: Some(false),
                    copied: false,
                });
            }
        }
    }
    let meta = entries.iter().find(|e| e.revision == to).and_then(|e| {
        revision_meta_of(
            e.message.as_deref(),
            e.date.as_deref(),
            e.author.as_deref(),
            limits,
        )
    });
    Ok(Dumped { ops, meta })
}

#[cfg(test)]
#[path = "svn_ra_tests.rs"]
mod tests;
