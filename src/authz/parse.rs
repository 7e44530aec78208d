//! TEMPORARY local scaffold (not committed): replaced by the authz branch.
use std::ops::Range;
#[derive(Debug, Default)]
pub struct Doc { pub sections: Vec<Section> }
#[derive(Debug)]
pub struct Section { pub name: String, pub header: Range<usize>, pub body: Range<usize>, pub entries: Vec<Entry> }
#[derive(Debug)]
pub struct Entry { pub name: String, pub value: String, pub name_span: Range<usize>, pub value_span: Range<usize>, pub lines: Range<usize> }
pub fn parse(text: &str) -> Doc {
    let mut doc = Doc::default();
    let mut pos = 0;
    while pos < text.len() {
        let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
        let line = text[pos..end].trim_end_matches(['\n', '\r']);
        if line.starts_with('[') {
            if let Some(last) = doc.sections.last_mut() { last.body.end = pos; }
            let close = line.find(']').unwrap_or(line.len());
            doc.sections.push(Section { name: line[1..close].to_owned(), header: pos..pos + line.len(), body: end..text.len(), entries: vec![] });
        } else if !line.trim().is_empty() && !line.starts_with('#') && !line.starts_with(char::is_whitespace) {
            if let (Some(s), Some(eq)) = (doc.sections.last_mut(), line.find(['=', ':'])) {
                s.entries.push(Entry { name: line[..eq].trim().to_owned(), value: line[eq + 1..].trim().to_owned(), name_span: pos..pos + eq, value_span: pos + eq + 1..pos + line.len(), lines: pos..end });
            }
        }
        pos = end;
    }
    doc
}
