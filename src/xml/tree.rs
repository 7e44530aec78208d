//! A small element tree with byte spans, read with quick-xml.
//!
//! The config files are small and their shape is fixed, so they are read
//! into this tree first; the wire types of the parent module (`xml`) are
//! read from it with every element and attribute keeping its span for
//! diagnostics.
//!
//! Hostile input is refused here: a DTD (and with it every entity
//! declaration) is an error, and so is any entity reference but the five
//! predefined ones and character references. Nothing is ever expanded.
//!
//! quick-xml has no limits of its own, so the reader counts: nesting depth
//! (`max_xml_depth`), elements (`max_xml_elements`) and the bytes of each
//! attribute value and element text (`max_value_bytes`) are checked as
//! each event arrives, before it is stored. The tree is built with an
//! explicit stack and dropped iteratively, so no depth can overflow the
//! call stack; its size is linear in the input.

use std::borrow::Cow;
use std::ops::Range;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::diag::{Code, Diagnostic, Source};
use crate::limits::Limits;

/// An attribute: name and unescaped value, with spans. Both borrow from
/// the file's text unless unescaping changed the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr<'a> {
    pub name: Cow<'a, str>,
    pub value: Cow<'a, str>,
    pub name_span: Range<usize>,
    pub value_span: Range<usize>,
}

/// An element with its attributes, child elements and text content.
/// Names and text borrow from the file's text where they can: reading a
/// file copies only what unescaping or concatenation changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element<'a> {
    pub name: Cow<'a, str>,
    /// The element's name in its start tag.
    pub name_span: Range<usize>,
    pub attrs: Vec<Attr<'a>>,
    pub children: Vec<Element<'a>>,
    /// Text directly inside the element (entities resolved), concatenated;
    /// whitespace between child elements is left out.
    pub text: Cow<'a, str>,
    /// From the end of the start tag to the start of the end tag.
    pub text_span: Range<usize>,
}

impl<'a> Element<'a> {
    pub fn attr(&self, name: &str) -> Option<&Attr<'a>> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

impl Drop for Element<'_> {
    /// Without this, dropping a deep tree recurses once per level.
    fn drop(&mut self) {
        let mut pending = std::mem::take(&mut self.children);
        while let Some(mut el) = pending.pop() {
            pending.append(&mut el.children);
        }
    }
}

/// Parse a whole document into its root element, within `limits`.
pub fn parse<'a>(src: &Source<'a>, limits: &Limits) -> Result<Element<'a>, Box<Diagnostic>> {
    let mut reader = Reader::from_str(src.text);
    reader.config_mut().check_end_names = true;
    let mut tree = Building {
        src,
        limits,
        stack: Vec::new(),
        root: None,
        elements: 0,
    };
    loop {
        let start = offset(reader.buffer_position());
        let event = reader.read_event().map_err(|e| {
            let at = offset(reader.error_position());
            Box::new(src.diag(Code::XmlMalformed, at..at, format!("malformed XML: {e}")))
        })?;
        let end = offset(reader.buffer_position());
        if matches!(event, Event::Eof) {
            break;
        }
        tree.event(event, start..end)?;
    }
    finish(src, &tree.stack, tree.root)
}

/// The tree while it is read: the open elements, the root once it is
/// closed, and the elements counted so far.
struct Building<'s, 'a> {
    src: &'s Source<'a>,
    limits: &'s Limits,
    stack: Vec<Element<'a>>,
    root: Option<Element<'a>>,
    elements: usize,
}

impl<'a> Building<'_, 'a> {
    /// One event of the reader; `span`: its bytes.
    fn event(&mut self, event: Event<'_>, span: Range<usize>) -> Result<(), Box<Diagnostic>> {
        let (src, limits) = (self.src, self.limits);
        match event {
            Event::Start(_) | Event::Empty(_) if self.root.is_some() && self.stack.is_empty() => {
                return Err(src
                    .diag(
                        Code::XmlMalformed,
                        span,
                        "malformed XML: more than one root element",
                    )
                    .into());
            }
            Event::Start(e) => {
                let el = self.open(&e, span)?;
                self.stack.push(el);
            }
            Event::Empty(e) => {
                let el = self.open(&e, span)?;
                attach(&mut self.stack, &mut self.root, el);
            }
            Event::End(_) => {
                let Some(mut el) = self.stack.pop() else {
                    return Err(src
                        .diag(
                            Code::XmlMalformed,
                            span,
                            "malformed XML: unexpected end tag",
                        )
                        .into());
                };
                el.text_span.end = span.start;
                attach(&mut self.stack, &mut self.root, el);
            }
            Event::Text(t) => {
                let content = rebind(src.text, t.xml10_content());
                push_text(src, limits, &mut self.stack, content, span)?;
            }
            Event::CData(t) => {
                let content = rebind(src.text, t.xml10_content());
                push_text(src, limits, &mut self.stack, content, span)?;
            }
            Event::GeneralRef(r) => {
                let resolved = resolve_ref(src, &r, span.clone())?;
                let mut utf8 = [0; 4];
                let text = resolved.encode_utf8(&mut utf8);
                let text = Cow::Owned(String::from(&*text));
                push_text(src, limits, &mut self.stack, text, span)?;
            }
            Event::DocType(_) => {
                return Err(src
                    .diag(
                        Code::XmlDoctype,
                        span,
                        "a DTD (<!DOCTYPE …>) is refused: rolesync never reads entity declarations",
                    )
                    .into());
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::Eof => {}
        }
        Ok(())
    }

    /// A start tag (or an empty element) checked against the limits and
    /// read into an element without children.
    fn open(&mut self, e: &BytesStart, span: Range<usize>) -> Result<Element<'a>, Box<Diagnostic>> {
        let depth = self.stack.len() + 1;
        check_element(
            self.src,
            self.limits,
            e,
            span.start,
            depth,
            &mut self.elements,
        )?;
        let mut el = element(self.src, self.limits, e, span.start)?;
        el.text_span = span.end..span.end;
        Ok(el)
    }
}

/// A reference (`&…;`): a character reference or one of the five
/// predefined entities; any other entity is refused, never expanded.
fn resolve_ref(
    src: &Source,
    r: &quick_xml::events::BytesRef,
    span: Range<usize>,
) -> Result<char, Box<Diagnostic>> {
    match r.resolve_char_ref() {
        Ok(Some(c)) => Ok(c),
        Ok(None) => predefined(r).ok_or_else(|| {
            Box::new(src.diag(
                Code::XmlDoctype,
                span,
                format!("entity reference `&{};` refused: only the predefined entities and character references are read", &**r),
            ))
        }),
        Err(e) => Err(Box::new(src.diag(
            Code::XmlMalformed,
            span,
            format!("malformed XML: {e}"),
        ))),
    }
}

/// The root, once every element is closed.
fn finish<'a>(
    src: &Source,
    stack: &[Element<'a>],
    root: Option<Element<'a>>,
) -> Result<Element<'a>, Box<Diagnostic>> {
    let text = src.text;
    if let Some(open) = stack.last() {
        return Err(src
            .diag(
                Code::XmlMalformed,
                open.name_span.clone(),
                format!("malformed XML: element <{}> is never closed", open.name),
            )
            .into());
    }
    root.ok_or_else(|| {
        let at = text.len();
        Box::new(src.diag(Code::XmlMalformed, at..at, "malformed XML: no root element"))
    })
}

fn offset(pos: u64) -> usize {
    usize::try_from(pos).unwrap_or(usize::MAX)
}

fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}

fn attach<'a>(stack: &mut [Element<'a>], root: &mut Option<Element<'a>>, el: Element<'a>) {
    match stack.last_mut() {
        Some(parent) => {
            if parent.children.is_empty() && parent.text.trim().is_empty() {
                parent.text = Cow::Borrowed("");
            }
            parent.children.push(el)
        }
        None => *root = Some(el),
    }
}

fn push_text<'a>(
    src: &Source,
    limits: &Limits,
    stack: &mut [Element<'a>],
    content: Cow<'a, str>,
    span: Range<usize>,
) -> Result<(), Box<Diagnostic>> {
    match stack.last_mut() {
        // Whitespace between child elements (indentation) is not kept: it
        // would grow with the children and means nothing.
        Some(parent) if !parent.children.is_empty() && content.trim().is_empty() => Ok(()),
        Some(parent) => {
            let len = parent.text.len().saturating_add(content.len());
            // Leading whitespace may still turn out to be indentation (it
            // is dropped with the first child), so only text counts.
            let blank = content.trim().is_empty() && parent.text.trim().is_empty();
            if len > limits.max_value_bytes && !blank {
                return Err(src
                    .diag(
                        Code::ValueTooLong,
                        span,
                        format!(
                            "the text of <{}> is longer than the limit of {} bytes",
                            parent.name, limits.max_value_bytes
                        ),
                    )
                    .into());
            }
            if parent.text.is_empty() {
                parent.text = content;
            } else {
                parent.text.to_mut().push_str(&content);
            }
            Ok(())
        }
        None if content.trim().is_empty() => Ok(()),
        None => Err(src
            .diag(
                Code::XmlMalformed,
                span,
                "malformed XML: text outside the root element",
            )
            .into()),
    }
}

/// Byte offset of `part` inside `whole`, when `part` borrows from it.
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let base = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    (p >= base && p + part.len() <= base + whole.len()).then(|| p - base)
}

/// `part` as a borrow of `whole` (the file's text) when it is one, so it
/// outlives the reader's event; otherwise copied.
fn rebind<'a>(whole: &'a str, part: Cow<'_, str>) -> Cow<'a, str> {
    match part {
        Cow::Borrowed(p) => match offset_in(whole, p).and_then(|at| whole.get(at..at + p.len())) {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(p.to_owned()),
        },
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// Depth and element count of the element starting at `tag_start`, before
/// it is read.
fn check_element(
    src: &Source,
    limits: &Limits,
    e: &BytesStart,
    tag_start: usize,
    depth: usize,
    elements: &mut usize,
) -> Result<(), Box<Diagnostic>> {
    let name_start = tag_start + 1;
    let span = name_start..name_start + e.name().as_ref().len();
    if depth > limits.max_xml_depth {
        return Err(src
            .diag(
                Code::XmlTooDeep,
                span,
                format!(
                    "elements are nested deeper than the limit of {} levels",
                    limits.max_xml_depth
                ),
            )
            .into());
    }
    *elements += 1;
    if *elements > limits.max_xml_elements {
        return Err(src
            .diag(
                Code::XmlTooManyElements,
                span,
                format!(
                    "the file has more elements than the limit of {}",
                    limits.max_xml_elements
                ),
            )
            .into());
    }
    Ok(())
}

fn element<'a>(
    src: &Source<'a>,
    limits: &Limits,
    e: &BytesStart,
    tag_start: usize,
) -> Result<Element<'a>, Box<Diagnostic>> {
    let name_bytes = e.name();
    let name = rebind(src.text, Cow::Borrowed(name_bytes.as_ref()));
    let name_start = tag_start + 1;
    let name_span = name_start..name_start + name_bytes.as_ref().len();
    let mut attrs = Vec::new();
    for attr in e.attributes().with_checks(true) {
        let attr = attr.map_err(|err| {
            src.diag(
                Code::XmlMalformed,
                name_span.clone(),
                format!("malformed XML: bad attribute in <{name}>: {err}"),
            )
        })?;
        let key = attr.key.as_ref();
        let key_start = offset_in(src.text, key).unwrap_or(name_span.start);
        let name_span_a = key_start..key_start + key.len();
        let raw: &str = attr.value.as_ref();
        let value_start = offset_in(src.text, raw).unwrap_or(key_start);
        let value_span = value_start..value_start + raw.len();
        if raw.len() > limits.max_value_bytes {
            return Err(src
                .diag(
                    Code::ValueTooLong,
                    value_span,
                    format!(
                        "the value of attribute `{key}` is {} bytes long; the limit is {} bytes",
                        raw.len(),
                        limits.max_value_bytes
                    ),
                )
                .into());
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map(|v| rebind(src.text, v))
            .map_err(|err| {
                let code = if err.to_string().contains("ntity") {
                    Code::XmlDoctype
                } else {
                    Code::XmlMalformed
                };
                src.diag(
                    code,
                    value_span.clone(),
                    format!("attribute `{}`: {err}", key),
                )
            })?;
        attrs.push(Attr {
            name: rebind(src.text, Cow::Borrowed(key)),
            value,
            name_span: name_span_a,
            value_span,
        });
    }
    Ok(Element {
        name,
        name_span,
        attrs,
        children: Vec::new(),
        text: Cow::Borrowed(""),
        text_span: 0..0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Element<'_>, Box<Diagnostic>> {
        parse(&Source::new("t.xml", text), &Limits::default())
    }

    fn parse_within(text: &str, limits: Limits) -> Result<Element<'_>, Box<Diagnostic>> {
        parse(&Source::new("t.xml", text), &limits)
    }

    #[test]
    fn nesting_is_bounded_where_it_starts() {
        let limits = Limits {
            max_xml_depth: 3,
            ..Limits::default()
        };
        assert!(parse_within("<a><b><c/></b></a>", limits).is_ok());
        let err = parse_within("<a><b><c><d/></c></b></a>", limits).expect_err("too deep");
        assert_eq!((err.code, err.span.clone()), (Code::XmlTooDeep, 10..11));
        let err = parse_within("<a><b><c><d></d></c></b></a>", limits).expect_err("too deep");
        assert_eq!(err.code, Code::XmlTooDeep);
    }

    #[test]
    fn a_duplicate_attribute_is_refused_as_quick_xml_reports_it() {
        let limits = Limits {
            max_value_bytes: 4,
            ..Limits::default()
        };
        let many: String = (0..12).map(|i| format!(" a{i}=\"1\"")).collect();
        for (text, at) in [
            ("<a x=\"1\" x=\"2\"/>".to_owned(), "position 8"),
            // The duplicate first, then a value over the bound: the
            // duplicate is the error, as when quick-xml checks as it reads.
            ("<a x=\"1\" x=\"2\" y=\"12345\"/>".to_owned(), "position 8"),
            (format!("<a{many} a3=\"2\"/>"), "position 88"),
        ] {
            let err = parse_within(&text, limits).expect_err("a duplicate");
            assert_eq!(err.code, Code::XmlMalformed, "{text}");
            assert!(
                err.message.contains("duplicated attribute") && err.message.contains(at),
                "{text}: {}",
                err.message
            );
        }
        assert!(parse_within(&format!("<a{many}/>"), limits).is_ok());
        assert!(parse_within("<a x=\"1\" xx=\"2\"/>", limits).is_ok());
    }

    #[test]
    fn elements_are_counted() {
        let limits = Limits {
            max_xml_elements: 3,
            ..Limits::default()
        };
        assert!(parse_within("<a><b/><c/></a>", limits).is_ok());
        let err = parse_within("<a><b/><c/><d/></a>", limits).expect_err("too many");
        assert_eq!(
            (err.code, err.line, err.col),
            (Code::XmlTooManyElements, 1, 13)
        );
    }

    #[test]
    fn values_and_texts_are_bounded() {
        let limits = Limits {
            max_value_bytes: 4,
            ..Limits::default()
        };
        assert!(parse_within("<a x=\"1234\">abcd</a>", limits).is_ok());
        let err = parse_within("<a x=\"12345\"/>", limits).expect_err("too long");
        assert_eq!((err.code, err.span.clone()), (Code::ValueTooLong, 6..11));
        // Text counts across pieces (entities, CDATA, comments between).
        let err = parse_within("<a>ab&amp;<!--x-->cd</a>", limits).expect_err("too long");
        assert_eq!(err.code, Code::ValueTooLong);
        // Indentation between children is not text.
        let children = "\n    <b/>".repeat(10);
        let text = format!("<a>{children}\n</a>");
        let root = parse_within(&text, limits).expect("read");
        assert_eq!((&*root.text, root.children.len()), ("", 10));
        // Whitespace inside text is.
        let root = parse_str("<a>&lt; &gt;</a>").expect("read");
        assert_eq!(root.text, "< >");
    }

    #[test]
    fn a_deep_tree_within_a_raised_limit_drops_without_recursion() {
        let depth = 100_000;
        let text = "<a>".repeat(depth) + &"</a>".repeat(depth);
        let limits = Limits {
            max_xml_depth: depth,
            ..Limits::default()
        };
        let handle = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || parse_within(&text, limits).map(|_| ()).is_ok())
            .expect("spawn");
        assert!(handle.join().expect("no stack overflow"));
    }

    #[test]
    fn reads_elements_attributes_and_spans() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<a x=\"1 &amp; 2\">\n  <b y='&#65;'/>\n</a>\n";
        let root = parse_str(text).expect("well-formed");
        assert_eq!(root.name, "a");
        assert_eq!(root.attrs[0].value, "1 & 2");
        assert_eq!(&text[root.attrs[0].value_span.clone()], "1 &amp; 2");
        let b = &root.children[0];
        assert_eq!(b.name, "b");
        assert_eq!(&text[b.name_span.clone()], "b");
        assert_eq!(b.attrs[0].value, "A");
    }

    #[test]
    fn text_resolves_predefined_entities_and_char_refs() {
        let root = parse_str("<a>x &lt; y &#x41;</a>").expect("well-formed");
        assert_eq!(root.text, "x < y A");
    }

    #[test]
    fn refuses_doctype() {
        let err = parse_str("<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY e \"boom\">]><a>&e;</a>")
            .expect_err("refused");
        assert_eq!(err.code, Code::XmlDoctype);
    }

    #[test]
    fn refuses_unknown_entity_reference() {
        let err = parse_str("<a>&e;</a>").expect_err("refused");
        assert_eq!(err.code, Code::XmlDoctype);
        let err = parse_str("<a b=\"&e;\"/>").expect_err("refused");
        assert_eq!(err.code, Code::XmlDoctype);
    }

    #[test]
    fn reports_malformed_documents() {
        for bad in [
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "",
            "text",
            "<a x=1/>",
            "<a x=\"1\" x=\"2\"/>",
        ] {
            let err = parse_str(bad).expect_err(bad);
            assert_eq!(err.code, Code::XmlMalformed, "{bad}: {}", err.message);
        }
    }
}
