//! Lossless reader for the INI dialect of Subversion access files.
//!
//! [`parse`] never fails and loses nothing: every byte of the input belongs
//! to the preamble or to exactly one section (its header line or its body),
//! and every section knows its entries with byte spans. It follows
//! Subversion 1.14's INI reader (`libsvn_subr/config_file.c`) exactly:
//!
//! * a UTF-8 BOM at the start is skipped; carriage returns at the very start
//!   of a line (and right after a header's `[`) are ignored, elsewhere a CR is
//!   whitespace, so CRLF files read like LF files;
//! * headers, comments and options start in column 1; `#` starts a comment
//!   only there (there are no inline comments, and `;` is no comment);
//! * a header's name runs to the first `]`; the rest of its line is ignored;
//! * an option's separator is the first `=`, unless a `:` comes before it;
//!   the name is trimmed at its end, the value at both ends;
//! * after an option, every indented non-blank line is a continuation: it is
//!   trimmed and appended with one space; a blank line ends the value.
//!
//! Problems of this layer go to [`Doc::errors`], one per offending line.
//! Where Subversion stops at the first error, this reader goes on with the
//! next line, so that all of them are reported. A header line that is itself
//! an error (indented, or without `]`) still starts a section, flagged as not
//! [`Section::well_formed`], so that byte ranges stay contiguous.

use std::borrow::Cow;
use std::ops::Range;

/// A parsed access (or global groups) file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Doc {
    /// Everything before the first section header line (BOM, comments,
    /// blank lines, stray lines reported in `errors`); `0..text.len()` when
    /// there is no section.
    pub preamble: Range<usize>,
    /// The sections in file order. Together with the preamble their
    /// `header` lines and `body` ranges cover the whole text.
    pub sections: Vec<Section>,
    /// INI-layer errors, each spanning the offending line (without its line
    /// end), in file order.
    pub errors: Vec<(Range<usize>, String)>,
}

/// One `[name]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name as Subversion sees it: everything after `[` (leading CRs
    /// dropped) up to the first `]`, not trimmed.
    pub name: String,
    /// Where `name` is in the text.
    pub name_span: Range<usize>,
    /// The header line, without its line end (`\n` or `\r\n`).
    pub header: Range<usize>,
    /// From the start of the line after the header to the start of the next
    /// header line (or the end of the text).
    pub body: Range<usize>,
    /// The options of the section, in file order.
    pub entries: Vec<Entry>,
    /// False when the header line is itself an INI error (indented, or no
    /// `]`); such a section exists only to keep the byte ranges contiguous.
    pub well_formed: bool,
}

/// One `name = value` option, with its continuation lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The option name, trailing whitespace trimmed.
    pub name: String,
    /// The value exactly as Subversion sees it: the first line trimmed, each
    /// continuation line trimmed and appended after one space. (An empty
    /// first line followed by a continuation gives a leading space, as in
    /// Subversion.)
    pub value: String,
    /// Where `name` is in the text.
    pub name_span: Range<usize>,
    /// Byte offset of the separator (`=` or `:`).
    pub separator: usize,
    /// From the first to the last non-blank byte of the value, across
    /// continuation lines; empty (right after the separator) for an empty
    /// value.
    pub value_span: Range<usize>,
    /// The option line and its continuation lines, including the final line
    /// end (if any).
    pub lines: Range<usize>,
}

impl Doc {
    /// The first section with this exact name.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }
}

impl Section {
    /// The whole section: header line, its line end and the body.
    pub fn span(&self) -> Range<usize> {
        self.header.start..self.body.end
    }
}

/// Whitespace as Subversion's `svn_ctype_isspace` sees it.
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Trim Subversion whitespace at both ends.
pub(crate) fn trim_ws(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && is_ws(c as u8))
}

fn trim_ws_end(s: &str) -> &str {
    s.trim_end_matches(|c: char| c.is_ascii() && is_ws(c as u8))
}

const BOM: &str = "\u{feff}";

/// One physical line.
struct Line {
    /// Start of the line in the text.
    start: usize,
    /// Start of the content: after CRs that Subversion drops (and the BOM).
    content: usize,
    /// End of the line content, before `\n` (a `\r` before it is included).
    end: usize,
    /// Start of the next line (after the `\n`), or the text length.
    next: usize,
}

impl Line {
    /// End of the line without its line end (`\n`, or `\r\n`).
    fn end_without_cr(&self, text: &str) -> usize {
        if self.end > self.content && text.as_bytes()[self.end - 1] == b'\r' {
            self.end - 1
        } else {
            self.end
        }
    }
}

/// The physical lines of `text`.
fn lines(text: &str) -> impl Iterator<Item = Line> + '_ {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let end = memchr_nl(bytes, start);
        let next = if end < bytes.len() { end + 1 } else { end };
        let mut content = start;
        while content < end && bytes[content] == b'\r' {
            content += 1;
        }
        if start == 0 && text[content..end].starts_with(BOM) {
            content += BOM.len();
            while content < end && bytes[content] == b'\r' {
                content += 1;
            }
        }
        let line = Line {
            start,
            content,
            end,
            next,
        };
        start = next;
        Some(line)
    })
}

fn memchr_nl(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| from + i)
}

/// [`Doc`] borrowing from the text: what the rest of the module works on.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawDoc<'a> {
    pub preamble: Range<usize>,
    pub sections: Vec<RawSection<'a>>,
    pub errors: Vec<(Range<usize>, &'static str)>,
}

/// [`Section`] borrowing from the text.
#[derive(Debug, Clone)]
pub(crate) struct RawSection<'a> {
    pub name: &'a str,
    pub name_span: Range<usize>,
    pub header: Range<usize>,
    pub body: Range<usize>,
    pub entries: Vec<RawEntry<'a>>,
    pub well_formed: bool,
}

/// [`Entry`] borrowing from the text (a value with continuation lines is
/// owned).
#[derive(Debug, Clone)]
pub(crate) struct RawEntry<'a> {
    pub name: &'a str,
    pub value: Cow<'a, str>,
    pub name_span: Range<usize>,
    pub separator: usize,
    pub value_span: Range<usize>,
    pub lines: Range<usize>,
}

/// What the line after an option may continue.
enum Cont {
    /// Nothing: an indented line is an error.
    None,
    /// The last entry of the last section.
    Entry,
    /// An option that is itself an error (before any section): swallow its
    /// continuation lines silently.
    Orphan,
}

/// Read `text` the way Subversion's INI reader does, keeping every byte
/// locatable. Never fails; see the module documentation.
pub fn parse(text: &str) -> Doc {
    let raw = parse_raw(text);
    Doc {
        preamble: raw.preamble,
        sections: raw
            .sections
            .into_iter()
            .map(|s| Section {
                name: s.name.to_owned(),
                name_span: s.name_span,
                header: s.header,
                body: s.body,
                entries: s
                    .entries
                    .into_iter()
                    .map(|e| Entry {
                        name: e.name.to_owned(),
                        value: e.value.into_owned(),
                        name_span: e.name_span,
                        separator: e.separator,
                        value_span: e.value_span,
                        lines: e.lines,
                    })
                    .collect(),
                well_formed: s.well_formed,
            })
            .collect(),
        errors: raw
            .errors
            .into_iter()
            .map(|(span, msg)| (span, msg.to_owned()))
            .collect(),
    }
}

/// [`parse`] without copying names and values.
pub(crate) fn parse_raw(text: &str) -> RawDoc<'_> {
    let bytes = text.as_bytes();
    let mut doc = RawDoc {
        preamble: 0..text.len(),
        sections: Vec::new(),
        errors: Vec::new(),
    };
    let mut cont = Cont::None;
    let lines = lines(text);
    // A BOM belongs to the preamble, never to the first header line.
    let crs = bytes.iter().take_while(|&&b| b == b'\r').count();
    let bom_end = if text[crs..].starts_with(BOM) {
        crs + BOM.len()
    } else {
        0
    };
    for line in lines {
        let content = &text[line.content..line.end];
        let indent = content.bytes().take_while(|&b| is_ws(b)).count();
        let body_start = line.content + indent;
        let body = trim_ws_end(&text[body_start..line.end]);
        let line_span = line.start.max(bom_end)..line.end_without_cr(text);

        if body.is_empty() {
            cont = Cont::None;
            continue;
        }
        if indent > 0 {
            match cont {
                Cont::Entry => {
                    doc.continue_entry(&line, body_start, body);
                    continue;
                }
                Cont::Orphan => continue,
                Cont::None => {}
            }
        }
        let b = Body {
            indent,
            start: body_start,
            text: body,
            span: line_span,
        };
        cont = match bytes[body_start] {
            b'[' => {
                doc.header(text, &line, b);
                Cont::None
            }
            b'#' => {
                if indent > 0 {
                    doc.errors
                        .push((b.span, "comment must start in the first column"));
                }
                Cont::None
            }
            _ => doc.option_line(text, &line, b),
        };
    }
    doc
}

/// The non-blank part of one line.
struct Body<'a> {
    /// Width of its leading whitespace.
    indent: usize,
    /// Where it starts in the text.
    start: usize,
    /// The text, trailing whitespace trimmed.
    text: &'a str,
    /// The whole line (BOM excluded), for diagnostics.
    span: Range<usize>,
}

impl<'a> RawDoc<'a> {
    /// An indented line after an option: its value goes on, joined with
    /// one space.
    fn continue_entry(&mut self, line: &Line, body_start: usize, body: &str) {
        if let Some(entry) = self.sections.last_mut().and_then(|s| s.entries.last_mut()) {
            let value = entry.value.to_mut();
            value.push(' ');
            value.push_str(body);
            if entry.value_span.is_empty() {
                entry.value_span.start = body_start;
            }
            entry.value_span.end = body_start + body.len();
            entry.lines.end = line.next;
        }
    }

    /// A `[section]` header line: it starts a section (even malformed).
    fn header(&mut self, text: &'a str, line: &Line, b: Body<'_>) {
        let bytes = text.as_bytes();
        let line_span = b.span;
        let mut well_formed = true;
        if b.indent > 0 {
            self.errors.push((
                line_span.clone(),
                "section header must start in the first column",
            ));
            well_formed = false;
        }
        let mut name_start = b.start + 1;
        while name_start < line.end && bytes[name_start] == b'\r' {
            name_start += 1;
        }
        let name_end = match text[name_start..line.end].find(']') {
            Some(i) => name_start + i,
            None => {
                if well_formed {
                    self.errors
                        .push((line_span.clone(), "section header must end with ']'"));
                }
                well_formed = false;
                line.end_without_cr(text).max(name_start)
            }
        };
        if let Some(prev) = self.sections.last_mut() {
            prev.body.end = line_span.start;
        } else {
            self.preamble.end = line_span.start;
        }
        self.sections.push(RawSection {
            name: &text[name_start..name_end],
            name_span: name_start..name_end,
            header: line_span,
            body: line.next..text.len(),
            entries: Vec::new(),
            well_formed,
        });
    }

    /// Any other line: an option of the current section, or an error.
    /// Returns what an indented next line continues.
    fn option_line(&mut self, text: &'a str, line: &Line, b: Body<'a>) -> Cont {
        let in_section = self.sections.last().is_some_and(|s| !s.name.is_empty());
        if !in_section {
            self.errors.push((b.span, "section header expected"));
            if separator(b.text).is_some() {
                return Cont::Orphan;
            }
        } else if b.indent > 0 {
            self.errors.push((b.span, "option expected"));
        } else {
            match option(text, line, b.start, b.text) {
                Some(entry) => {
                    if let Some(section) = self.sections.last_mut() {
                        section.entries.push(entry);
                    }
                    return Cont::Entry;
                }
                None => self
                    .errors
                    .push((b.span, "option must end with ':' or '='")),
            }
        }
        Cont::None
    }
}

/// The separator of an option line: the first `=`, or the first `:` if one
/// comes before it.
fn separator(line: &str) -> Option<usize> {
    line.find(['=', ':'])
}

fn option<'a>(text: &'a str, line: &Line, start: usize, body: &'a str) -> Option<RawEntry<'a>> {
    let sep = separator(body)?;
    let name = trim_ws_end(&body[..sep]);
    let raw_value = &text[start + sep + 1..line.end];
    let lead = raw_value.len()
        - raw_value
            .trim_start_matches(|c: char| c.is_ascii() && is_ws(c as u8))
            .len();
    let value = trim_ws(raw_value);
    let value_start = if value.is_empty() {
        start + sep + 1
    } else {
        start + sep + 1 + lead
    };
    Some(RawEntry {
        name,
        value: Cow::Borrowed(value),
        name_span: start..start + name.len(),
        separator: start + sep,
        value_span: value_start..value_start + value.len(),
        lines: line.start..line.next,
    })
}

#[cfg(test)]
mod tests;
