//! The SVN backend's read of a whole revision in one process: `svnadmin
//! dump -r REV` (not incremental: the revision's full tree as additions,
//! each file's bytes as the repository holds them, no keyword or
//! end-of-line translation — what `svnlook cat` prints) parsed as it
//! streams, instead of one `svnlook cat` per file.
//!
//! Only a clean answer is taken: anything this reader does not expect (an
//! unknown record, a copy, a delta, a header or property block over its
//! bound, a stream longer than [`MAX_DUMP_OTHER_BYTES`] beyond the files'
//! `Limits::max_total_bytes`, `svnadmin` missing or failing) and anything
//! the per-file read would refuse or stop at (a symbolic link where
//! configuration belongs, files together over `max_total_bytes`, more than
//! `MAX_TREE_ENTRIES` entries, a configuration folder that is not there)
//! makes it answer `None`, and the per-file read (`svn::read_listed`) then
//! answers, with its diagnostics, in its order. So the result is the
//! per-file read's, byte for byte. (`svnadmin dump --include` cannot
//! restrict a non-incremental dump in Subversion 1.14: it fails with
//! "Unable to open root of edit" at the first excluded node, so the
//! configuration's folder is selected here. An incremental dump can be
//! restricted: `svn_since`, which shares this file's record reader and
//! [`dump`].)

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use super::{MAX_TREE_ENTRIES, SubPath};
use crate::snapshot::Limits;

/// Bytes of the dump stream beyond the configuration files' own (at most
/// `Limits::max_total_bytes`): headers, properties, the bytes of files
/// rolesync does not read and of files past `max_file_bytes`. 64 MiB; a
/// longer stream is stopped and the revision is read file by file.
pub const MAX_DUMP_OTHER_BYTES: usize = 64 << 20;
/// One header line of the dump (a node's path among them), at most.
const MAX_LINE_BYTES: usize = 64 << 10;
/// A configuration node's properties, at most (read to find
/// `svn:special`); larger, the revision is read file by file.
pub(super) const MAX_PROPS_BYTES: usize = 1 << 20;

/// Why the dump did not answer (said at debug level).
pub(super) type Fallback = &'static str;

/// The configuration files under `subpath` at revision `rev`, from one
/// `svnadmin dump`; `None` when the per-file read must answer.
pub(super) fn read(
    repo: &Path,
    rev: &str,
    subpath: &SubPath,
    limits: Limits,
) -> Option<crate::snapshot::Files> {
    let started = std::time::Instant::now();
    let answer = run(repo, rev, subpath, limits);
    match &answer {
        Ok(files) => tracing::debug!(
            revision = rev,
            files = files.len(),
            ms = started.elapsed().as_millis() as u64,
            "read by svnadmin dump"
        ),
        Err(why) => tracing::debug!(
            revision = rev,
            "svnadmin dump did not answer ({why}); reading file by file"
        ),
    }
    answer.ok()
}

fn run(
    repo: &Path,
    rev: &str,
    subpath: &SubPath,
    limits: Limits,
) -> Result<crate::snapshot::Files, Fallback> {
    dump(repo, &["-r", rev], limits, |stream| {
        parse(stream, rev, subpath, limits)
    })
}

/// The stream `parse` of [`dump`] reads: `svnadmin`'s standard output, at
/// most `Limits::max_total_bytes` plus [`MAX_DUMP_OTHER_BYTES`].
pub(super) type Stream = BufReader<std::io::Take<std::process::ChildStdout>>;

/// Run `svnadmin dump --quiet ARGS… -- REPO` and `parse` its bounded
/// output as it streams; `svnadmin` is stopped when `parse` gives up, and
/// its failure is `parse`'s too.
pub(super) fn dump<T, E: From<Fallback>>(
    repo: &Path,
    args: &[&str],
    limits: Limits,
    parse: impl FnOnce(&mut Stream) -> Result<T, E>,
) -> Result<T, E> {
    let mut child = Command::new("svnadmin")
        .args(["dump", "--quiet"])
        .args(args)
        .arg("--")
        .arg(repo)
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|_| E::from("svnadmin does not run"))?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("svnadmin has no standard output".into());
    };
    let bound = limits.max_total_bytes.saturating_add(MAX_DUMP_OTHER_BYTES);
    let mut stream = BufReader::with_capacity(256 << 10, stdout.take(bound as u64));
    let parsed = parse(&mut stream);
    if parsed.is_err() {
        // Stopped early: the rest is never read.
        let _ = child.kill();
    }
    drop(stream);
    let status = child
        .wait()
        .map_err(|_| E::from("svnadmin cannot be waited for"))?;
    let parsed = parsed?;
    if !status.success() {
        return Err("svnadmin failed".into());
    }
    Ok(parsed)
}

/// One record's headers: the values the readers need.
#[derive(Debug, Default)]
pub(super) struct Headers {
    pub(super) node_path: Option<String>,
    pub(super) node_kind: Option<String>,
    pub(super) node_action: Option<String>,
    pub(super) revision: Option<String>,
    pub(super) prop_len: Option<usize>,
    pub(super) text_len: Option<usize>,
    pub(super) content_len: Option<usize>,
    /// Added with history (`Node-copyfrom-path`, `-rev`): what is not
    /// dumped is the copy source's.
    pub(super) copied: bool,
    /// A delta (`Text-delta`, `Prop-delta`): never asked for.
    pub(super) delta: bool,
}

/// Parse a dump stream of one revision, `rev`: the configuration files
/// below `subpath`, as the per-file read takes them.
pub(super) fn parse(
    stream: &mut impl BufRead,
    rev: &str,
    subpath: &SubPath,
    limits: Limits,
) -> Result<crate::snapshot::Files, Fallback> {
    let mut tree = Tree {
        subpath,
        limits,
        files: BTreeMap::new(),
        total: 0,
        // As `svnlook tree` lists them: the configuration's folder (the
        // root `/` too) and every entry below it.
        entries: usize::from(subpath.prefix().is_none()),
        seen_folder: subpath.prefix().is_none(),
    };
    let mut revisions = 0;
    while let Some(h) = headers(stream)? {
        if h.copied || h.delta {
            return Err("a copy or a delta in the dump");
        }
        let content = content_len(&h)?;
        let Some(path) = &h.node_path else {
            if let Some(r) = &h.revision {
                revisions += 1;
                if r != rev || revisions > 1 {
                    return Err("another revision in the dump");
                }
            }
            skip(stream, content)?;
            continue;
        };
        if h.node_action.as_deref() != Some("add") || revisions != 1 {
            return Err("a node that is not an addition");
        }
        tree.node(stream, path, &h, content)?;
    }
    if revisions != 1 {
        return Err("no revision in the dump");
    }
    if !tree.seen_folder {
        return Err("the configuration's folder is not in the revision");
    }
    Ok(tree.files)
}

/// What the nodes of the dump have given so far.
struct Tree<'a> {
    subpath: &'a SubPath,
    limits: Limits,
    files: crate::snapshot::Files,
    /// The files' bytes together.
    total: usize,
    /// The entries at and below the configuration's folder.
    entries: usize,
    /// Whether the configuration's folder was there.
    seen_folder: bool,
}

impl Tree<'_> {
    /// Take the node at `path` (its content, `content` bytes, follows).
    fn node(
        &mut self,
        stream: &mut impl BufRead,
        path: &str,
        h: &Headers,
        content: usize,
    ) -> Result<(), Fallback> {
        let is_dir = match h.node_kind.as_deref() {
            Some("dir") => true,
            Some("file") => false,
            _ => return Err("a node of no known kind"),
        };
        let at_folder = self.subpath.prefix() == Some(path);
        if at_folder && !is_dir {
            return Err("the configuration's folder is a file");
        }
        self.seen_folder |= at_folder;
        let rel = self.subpath.strip(path);
        if at_folder || rel.is_some() {
            self.entries += 1;
            if self.entries > MAX_TREE_ENTRIES {
                return Err("more entries than the tree bound");
            }
        }
        let kind = rel.and_then(super::expected_kind);
        let (Some(rel), Some(kind), false) = (rel, kind, is_dir) else {
            return skip(stream, content);
        };
        let node = Node {
            prop_len: h.prop_len.unwrap_or(0),
            text_len: h.text_len.unwrap_or(0),
        };
        let (special, bytes) = node.read(stream, content, kind == "file", self.limits)?;
        let Some(bytes) = bytes else {
            return match special {
                true => Err("a symbolic link where a configuration folder belongs"),
                false => Ok(()),
            };
        };
        if special && bytes.starts_with(b"link ") {
            return Err("a symbolic link where a configuration file belongs");
        }
        if super::add_total(&mut self.total, bytes.len(), self.limits) {
            return Err("the files together pass max_total_bytes");
        }
        self.files.insert(rel.to_owned(), bytes.into());
        Ok(())
    }
}

/// The length of a record's content: `Content-length`, which must be the
/// sum of the properties' and the text's.
pub(super) fn content_len(h: &Headers) -> Result<usize, Fallback> {
    let parts = h
        .prop_len
        .unwrap_or(0)
        .checked_add(h.text_len.unwrap_or(0))
        .ok_or("a length out of range")?;
    match h.content_len {
        Some(c) if c == parts => Ok(c),
        None if parts == 0 => Ok(0),
        _ => Err("the lengths of a record disagree"),
    }
}

/// A file node's content: properties, then text.
pub(super) struct Node {
    pub(super) prop_len: usize,
    pub(super) text_len: usize,
}

impl Node {
    /// Whether the node carries `svn:special`, and (`want_text`) its text
    /// up to `max_file_bytes` plus one byte, the rest skipped, as `svnlook
    /// cat` is read.
    pub(super) fn read(
        &self,
        stream: &mut impl BufRead,
        content: usize,
        want_text: bool,
        limits: Limits,
    ) -> Result<(bool, Option<Vec<u8>>), Fallback> {
        if self.prop_len > MAX_PROPS_BYTES {
            return Err("a node's properties pass their bound");
        }
        let mut props = vec![0; self.prop_len];
        stream
            .read_exact(&mut props)
            .map_err(|_| "the dump ends inside a node")?;
        let special = self.prop_len > 0 && has_special(&props)?;
        let rest = content - self.prop_len;
        if !want_text {
            skip(stream, rest)?;
            return Ok((special, None));
        }
        let keep = self.text_len.min(limits.max_file_bytes.saturating_add(1));
        let mut bytes = vec![0; keep];
        stream
            .read_exact(&mut bytes)
            .map_err(|_| "the dump ends inside a file")?;
        skip(stream, rest - keep)?;
        Ok((special, Some(bytes)))
    }
}

/// Whether a property block sets `svn:special`.
fn has_special(block: &[u8]) -> Result<bool, Fallback> {
    Ok(props(block)?.iter().any(|(key, _)| *key == b"svn:special"))
}

/// One property of a block: its name and its value.
pub(super) type Prop<'a> = (&'a [u8], &'a [u8]);

/// The properties of a block (`K n`, key, `V n`, value, …, `PROPS-END`),
/// in its order.
pub(super) fn props(mut block: &[u8]) -> Result<Vec<Prop<'_>>, Fallback> {
    let bad = "a property block that does not parse";
    let mut out = Vec::new();
    loop {
        let nl = block.iter().position(|&b| b == b'\n').ok_or(bad)?;
        let (line, rest) = (&block[..nl], &block[nl + 1..]);
        if line == b"PROPS-END" {
            return if rest.is_empty() { Ok(out) } else { Err(bad) };
        }
        let (key, rest) = counted(line, b"K ", rest).ok_or(bad)?;
        let nl = rest.iter().position(|&b| b == b'\n').ok_or(bad)?;
        let (value, rest) = counted(&rest[..nl], b"V ", &rest[nl + 1..]).ok_or(bad)?;
        out.push((key, value));
        block = rest;
    }
}

/// `line` is `TAG n`: the `n` bytes of `rest` (then a newline) and what
/// follows them.
fn counted<'a>(line: &[u8], tag: &[u8], rest: &'a [u8]) -> Option<(&'a [u8], &'a [u8])> {
    let n: usize = std::str::from_utf8(line.strip_prefix(tag)?)
        .ok()?
        .parse()
        .ok()?;
    let (value, after) = (rest.get(..n)?, rest.get(n..)?);
    Some((value, after.strip_prefix(b"\n")?))
}

/// Skip `n` bytes of the stream.
pub(super) fn skip(stream: &mut impl BufRead, n: usize) -> Result<(), Fallback> {
    let copied = std::io::copy(&mut stream.take(n as u64), &mut std::io::sink())
        .map_err(|_| "the dump cannot be read")?;
    if copied != n as u64 {
        return Err("the dump ends inside a record");
    }
    Ok(())
}

/// The next record's headers (blank lines before it skipped); `None` at
/// the end of the stream.
pub(super) fn headers(stream: &mut impl BufRead) -> Result<Option<Headers>, Fallback> {
    let mut h = Headers::default();
    let mut any = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut *stream)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|_| "the dump cannot be read")?;
        if n == 0 {
            return if any {
                Err("the dump ends inside headers")
            } else {
                Ok(None)
            };
        }
        if line.last() != Some(&b'\n') {
            return Err("a header line passes its bound");
        }
        line.pop();
        if line.is_empty() {
            if any {
                return Ok(Some(h));
            }
            continue;
        }
        any = true;
        header(&mut h, &line)?;
    }
}

/// Take one `Name: value` line into `h`.
fn header(h: &mut Headers, line: &[u8]) -> Result<(), Fallback> {
    let line = std::str::from_utf8(line).map_err(|_| "a header that is not UTF-8")?;
    let (name, value) = line.split_once(": ").ok_or("a line that is no header")?;
    let number = || {
        value
            .parse::<usize>()
            .map_err(|_| "a length that is no number")
    };
    match name {
        "Node-path" => h.node_path = Some(value.to_owned()),
        "Node-kind" => h.node_kind = Some(value.to_owned()),
        "Node-action" => h.node_action = Some(value.to_owned()),
        "Revision-number" => h.revision = Some(value.to_owned()),
        "Prop-content-length" => h.prop_len = Some(number()?),
        "Text-content-length" => h.text_len = Some(number()?),
        "Content-length" => h.content_len = Some(number()?),
        "Node-copyfrom-rev" | "Node-copyfrom-path" => h.copied = true,
        "Text-delta" | "Prop-delta" => h.delta = true,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
#[path = "svn_dump_tests.rs"]
mod tests;
