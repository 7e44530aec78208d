//! The daemon's read of the revisions since its last read in one process:
//! `svnadmin dump -r A:B --incremental` (full texts and property lists,
//! never `--deltas`), restricted with `--pattern --include` to the
//! configuration's folder, what is below it and each folder above it (so
//! that a folder above that is deleted, replaced or moved is seen), parsed
//! as it streams into the changes ([`Op`]) that [`apply`] puts on the
//! previous read.
//!
//! What Subversion 1.14's filtered dump says (`svn_repos_replay2` with the
//! filter as an authz function): a copy from outside the included paths is
//! an addition with every file's text and properties; a copy from inside
//! names its source and gives only what differs from it (a folder: nothing
//! below it), so such a file is read again and such a folder walked
//! (`svnlook`) at the newest revision; a move is a copy and a deletion; a
//! replacement by a copy is a deletion and an addition; a deletion of a
//! folder is one record; a property change is the node's whole property
//! list. A revision whose changed paths are not all included keeps its
//! log message out of the dump (Subversion's partial readability); its
//! author, date and log are then asked of `svnlook info`.
//!
//! The dump answers only when it is sure: a record it does not expect, a
//! stream longer than the bound of `svn_dump::dump`, `svnadmin` failing
//! make it [`Why::Follow`] (the per-change read by `svnlook`); the
//! configuration's folder (or one above it) added, deleted or replaced, a
//! symbolic link where configuration belongs, make it [`Why::Full`].

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::Path;

use super::SubPath;
use super::svn_dump::{self, Fallback, Headers, MAX_PROPS_BYTES, Node};
use super::svnlook::parse_svn_date;
use crate::snapshot::{Limits, RevisionMeta, message_tail};

/// Revisions at most in one dump; further apart, the read is a full one.
pub const MAX_DUMPED_REVISIONS: u64 = 1024;

/// Why the dump did not answer, and who answers instead.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Why {
    /// The changes read by `svnlook` (`svn::read_from`'s walk).
    Follow(Fallback),
    /// Only a full read can answer.
    Full(Fallback),
}

impl From<Fallback> for Why {
    fn from(why: Fallback) -> Self {
        Why::Follow(why)
    }
}

/// One change the dump gives below the configuration's folder, in order.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Op {
    /// `rel` and everything below it are gone (deleted, or replaced).
    Remove(String),
    /// A folder added as a copy from inside the included paths: its
    /// content is the source's, so it is walked at the newest revision.
    CopiedDir(String),
    /// A file added, replaced or changed where a configuration file
    /// (`folder: false`) or folder (`folder: true`) belongs.
    File {
        rel: String,
        folder: bool,
        /// Its text (up to `max_file_bytes` plus one byte), when dumped.
        text: Option<Vec<u8>>,
        /// Whether it carries `svn:special`, when its properties are dumped.
        special: Option<bool>,
        /// Added as a copy: what is not dumped is the source's.
        copied: bool,
    },
}

/// What the dump of revisions `(from, to]` gives: the changes, and the
/// author, date and log of `to` when the dump holds them whole.
#[derive(Debug, Default)]
pub(super) struct Dumped {
    pub(super) ops: Vec<Op>,
    pub(super) meta: Option<RevisionMeta>,
}

/// Whether revisions `(from, to]` are read in one dump (at least one, at
/// most [`MAX_DUMPED_REVISIONS`]).
pub(super) fn in_one_dump(from: u64, to: u64) -> bool {
    to > from && to - from <= MAX_DUMPED_REVISIONS
}

/// Dump revisions `(from, to]` of `repo`, only the paths the configuration
/// under `subpath` depends on.
pub(super) fn dump(
    repo: &Path,
    subpath: &SubPath,
    from: u64,
    to: u64,
    limits: Limits,
) -> Result<Dumped, Why> {
    if !in_one_dump(from, to) {
        return Err(Why::Full("too many revisions for one dump"));
    }
    let range = format!("{}:{to}", from + 1);
    let mut args = vec!["-r".to_owned(), range, "--incremental".to_owned()];
    args.extend(filter(subpath));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    svn_dump::dump(repo, &args, limits, |stream| {
        parse(stream, subpath, from, to, limits)
    })
}

/// The `svnadmin dump` options that keep the configuration's folder, what
/// is below it and each folder above it (none at the root): glob patterns,
/// matched against the whole path, with `*`, `?`, `[` and `\` escaped.
fn filter(subpath: &SubPath) -> Vec<String> {
    let Some(prefix) = subpath.prefix() else {
        return Vec::new();
    };
    let mut args = vec!["--pattern".to_owned()];
    let mut above = String::new();
    for part in subpath.components() {
        above.push('/');
        above.push_str(&escape_glob(part));
        args.extend(["--include".to_owned(), above.clone()]);
    }
    debug_assert!(!prefix.is_empty());
    args.extend(["--include".to_owned(), format!("{above}/*")]);
    args
}

/// `s` as a glob pattern that matches only `s` (`apr_fnmatch` without
/// flags: a backslash quotes the next character).
fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Parse an incremental dump of revisions `(from, to]`.
pub(super) fn parse(
    stream: &mut impl BufRead,
    subpath: &SubPath,
    from: u64,
    to: u64,
    limits: Limits,
) -> Result<Dumped, Why> {
    let mut next = from + 1;
    let mut dumped = Dumped::default();
    while let Some(h) = svn_dump::headers(stream)? {
        if h.delta {
            return Err(Why::Follow("a delta in the dump"));
        }
        let content = svn_dump::content_len(&h)?;
        let Some(path) = &h.node_path else {
            if let Some(r) = &h.revision {
                if next > to || *r != next.to_string() {
                    return Err(Why::Follow("a revision out of order in the dump"));
                }
                dumped.meta = revision_meta(stream, &h, content, limits)?;
                next += 1;
            } else {
                svn_dump::skip(stream, content)?;
            }
            continue;
        };
        if next == from + 1 {
            return Err(Why::Follow("a node before any revision"));
        }
        node(stream, &mut dumped.ops, subpath, path, &h, content, limits)?;
    }
    if next != to + 1 {
        return Err(Why::Follow("revisions missing from the dump"));
    }
    Ok(dumped)
}

/// Take one node record (its content, `content` bytes, follows).
fn node(
    stream: &mut impl BufRead,
    ops: &mut Vec<Op>,
    subpath: &SubPath,
    path: &str,
    h: &Headers,
    content: usize,
    limits: Limits,
) -> Result<(), Why> {
    let action = h.node_action.as_deref();
    if subpath.is_at_or_below(path) {
        // The configuration's folder or one above it: only its
        // properties may change.
        if action != Some("change") {
            return Err(Why::Full(
                "the configuration's folder or one above it changed",
            ));
        }
        return Ok(svn_dump::skip(stream, content)?);
    }
    let Some(rel) = subpath.strip(path) else {
        return Ok(svn_dump::skip(stream, content)?);
    };
    let is_dir = match h.node_kind.as_deref() {
        Some("dir") => Some(true),
        Some("file") => Some(false),
        None => None,
        Some(_) => return Err(Why::Follow("a node of no known kind")),
    };
    match (action, is_dir) {
        (Some("delete"), _) => ops.push(Op::Remove(rel.to_owned())),
        (Some(a @ ("add" | "replace" | "change")), Some(is_dir)) => {
            if a == "replace" {
                ops.push(Op::Remove(rel.to_owned()));
            }
            let copied = h.copied && a != "change";
            if is_dir && copied {
                ops.push(Op::CopiedDir(rel.to_owned()));
            }
            if let (false, Some(kind)) = (is_dir, super::expected_kind(rel)) {
                let folder = kind == "folder";
                let (special, text) = file_content(stream, h, content, !folder, limits)?;
                let rel = rel.to_owned();
                ops.push(Op::File {
                    rel,
                    folder,
                    text,
                    special,
                    copied,
                });
                return Ok(());
            }
        }
        _ => return Err(Why::Follow("a node of no known action or kind")),
    }
    Ok(svn_dump::skip(stream, content)?)
}

/// A file node's content: whether it carries `svn:special` and its text
/// (`want_text`), each when the dump holds it.
fn file_content(
    stream: &mut impl BufRead,
    h: &Headers,
    content: usize,
    want_text: bool,
    limits: Limits,
) -> Result<(Option<bool>, Option<Vec<u8>>), Why> {
    let node = Node {
        prop_len: h.prop_len.unwrap_or(0),
        text_len: h.text_len.unwrap_or(0),
    };
    let want_text = want_text && h.text_len.is_some();
    let (special, text) = node.read(stream, content, want_text, limits)?;
    Ok((h.prop_len.map(|_| special), text))
}

/// A revision record's author, date and log, as `svnlook info` gives them
/// (`None` where the dump does not hold them whole or `svnlook` might
/// print them otherwise: no log (hidden by the filter, or none), no date
/// in Subversion's form, an author over one line, text that is not UTF-8,
/// a NUL byte).
fn revision_meta(
    stream: &mut impl BufRead,
    h: &Headers,
    content: usize,
    limits: Limits,
) -> Result<Option<RevisionMeta>, Why> {
    let len = h.prop_len.unwrap_or(0);
    if len > MAX_PROPS_BYTES || len != content || h.text_len.is_some() {
        svn_dump::skip(stream, content)?;
        return Ok(None);
    }
    let mut block = vec![0; len];
    stream
        .read_exact(&mut block)
        .map_err(|_| "the dump ends inside a revision")?;
    if len == 0 {
        return Ok(None);
    }
    let props = svn_dump::props(&block)?;
    let get = |key: &[u8]| props.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    Ok(revision_meta_of(
        get(b"svn:log"),
        get(b"svn:date"),
        get(b"svn:author"),
        limits,
    ))
}

/// A revision's author, date and log from its properties' values, as
/// `svnlook info` gives them; `None` where `svnlook` might print them
/// otherwise (see [`revision_meta`]). Shared with the session's log
/// (`svn_ra`).
pub(super) fn revision_meta_of(
    log: Option<&[u8]>,
    date: Option<&[u8]>,
    author: Option<&[u8]>,
    limits: Limits,
) -> Option<RevisionMeta> {
    fn text(v: &[u8]) -> Option<&str> {
        std::str::from_utf8(v).ok().filter(|t| !t.contains('\0'))
    }
    let log = text(log?)?;
    let time = parse_dump_date(text(date?)?)?;
    let author = text(author.unwrap_or(b""))?;
    if author.contains('\n') {
        return None;
    }
    Some(RevisionMeta {
        author: author.to_owned(),
        time,
        message: message_tail(log.as_bytes(), limits.max_message_bytes),
    })
}

/// `svn:date` (`2026-12-01T23:40:03.759930Z`) → seconds since the epoch
/// (the fraction dropped, as `svnlook info` prints it); `None` for any
/// other form.
fn parse_dump_date(s: &str) -> Option<i64> {
    let (date, time) = s.strip_suffix('Z')?.split_once('T')?;
    let (secs, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let shape = |s: &str, form: &str| {
        s.len() == form.len()
            && s.bytes().zip(form.bytes()).all(|(c, f)| {
                if f == b'0' {
                    c.is_ascii_digit()
                } else {
                    c == f
                }
            })
    };
    let digits = !fraction.is_empty() && fraction.bytes().all(|c| c.is_ascii_digit());
    if !(shape(date, "0000-00-00") && shape(secs, "00:00:00") && digits) {
        return None;
    }
    parse_svn_date(&format!("{date} {secs} +0000"))
}

/// What the changes since an earlier read ask for: files to read again and
/// copied folders to walk, at the end, where they are (`svnlook`).
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub(super) read: BTreeSet<String>,
    pub(super) walk: BTreeSet<String>,
}

impl Plan {
    /// Forget `rel` and everything below it, in `files` and in the plan.
    pub(super) fn remove(&mut self, files: &mut crate::snapshot::Files, rel: &str) {
        files.retain(|p, _| !is_below(p, rel));
        self.read.retain(|p| !is_below(p, rel));
        self.walk.retain(|p| !is_below(p, rel));
    }
}

/// Whether `path` is `rel` or below it.
fn is_below(path: &str, rel: &str) -> bool {
    path == rel || path.strip_prefix(rel).is_some_and(|r| r.starts_with('/'))
}

/// Where a configuration path stands while the changes are put on the
/// previous read.
enum Now {
    /// Its bytes are known.
    Held(Vec<u8>),
    /// A symbolic link where configuration belongs (the full read refuses
    /// it, unless a later change takes it away).
    Link,
    /// Read again (`svnlook`) at the newest revision.
    Unknown,
}

/// The previous read's files with the changes put on them, and what is
/// left to read at the newest revision.
struct Paths<'a> {
    files: &'a mut crate::snapshot::Files,
    plan: &'a mut Plan,
    links: BTreeSet<String>,
}

impl Paths<'_> {
    fn put(&mut self, rel: &str, now: Now) {
        self.files.remove(rel);
        self.plan.read.remove(rel);
        self.links.remove(rel);
        let rel = rel.to_owned();
        match now {
            Now::Held(bytes) => drop(self.files.insert(rel, bytes.into())),
            Now::Link => drop(self.links.insert(rel)),
            Now::Unknown => drop(self.plan.read.insert(rel)),
        }
    }

    fn remove(&mut self, rel: &str) {
        self.plan.remove(self.files, rel);
        self.links.retain(|p| !is_below(p, rel));
    }

    /// A file where a configuration file belongs.
    fn file(&mut self, rel: &str, text: Option<Vec<u8>>, special: Option<bool>, copied: bool) {
        let link = |b: &[u8]| b.starts_with(b"link ");
        let was_link = self.links.contains(rel);
        let now = match (text, special) {
            (Some(t), Some(true)) if link(&t) => Now::Link,
            // Its properties are the source's (a copy) or as they were.
            (Some(t), None) if link(&t) => match was_link && !copied {
                true => Now::Link,
                false => Now::Unknown,
            },
            (Some(t), _) => Now::Held(t),
            (None, _) if copied => Now::Unknown,
            (None, special) => match self.files.get(rel) {
                Some(held) if special == Some(true) && link(held) => Now::Link,
                Some(_) => return,
                None if was_link && special != Some(false) => return,
                None => Now::Unknown,
            },
        };
        self.put(rel, now);
    }

    /// A file where a configuration folder belongs: refused if a link.
    fn folder(&mut self, rel: &str, special: Option<bool>, copied: bool) {
        match (special, copied) {
            (Some(true), _) => self.put(rel, Now::Link),
            (Some(false), _) => drop(self.links.remove(rel)),
            (None, true) => self.put(rel, Now::Unknown),
            (None, false) => {}
        }
    }
}

/// Put `ops` on `files` (the previous read's, moved in); what is to be
/// read or walked at the newest revision goes to `plan`. `false`: only a
/// full read can answer (a symbolic link where configuration belongs).
pub(super) fn apply(files: &mut crate::snapshot::Files, plan: &mut Plan, ops: Vec<Op>) -> bool {
    let mut paths = Paths {
        files,
        plan,
        links: BTreeSet::new(),
    };
    for op in ops {
        match op {
            Op::Remove(rel) => paths.remove(&rel),
            Op::CopiedDir(rel) => {
                paths.remove(&rel);
                paths.plan.walk.insert(rel);
            }
            Op::File {
                rel,
                folder: false,
                text,
                special,
                copied,
            } => paths.file(&rel, text, special, copied),
            Op::File {
                rel,
                folder: true,
                special,
                copied,
                ..
            } => paths.folder(&rel, special, copied),
        }
    }
    paths.links.is_empty()
}

#[cfg(test)]
#[path = "svn_since_tests.rs"]
pub(super) mod tests;
