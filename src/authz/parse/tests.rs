// Test code: tests/it/purity.rs checks only what precedes this attribute,
// as it did when these tests were inline.
#[cfg(test)]
use super::*;

/// (section name, [(entry name, value)]) in file order.
fn shape(doc: &Doc) -> Vec<(String, Vec<(String, String)>)> {
    doc.sections
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.entries
                    .iter()
                    .map(|e| (e.name.clone(), e.value.clone()))
                    .collect(),
            )
        })
        .collect()
}

fn check(text: &str, expect: &[(&str, &[(&str, &str)])]) {
    let doc = parse(text);
    assert!(doc.errors.is_empty(), "unexpected errors {:?}", doc.errors);
    let want: Vec<(String, Vec<(String, String)>)> = expect
        .iter()
        .map(|(n, es)| {
            (
                (*n).to_owned(),
                es.iter()
                    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(shape(&doc), want);
    check_coverage(text, &doc);
}

/// The errors of `text`, as (line number, message).
fn errors(text: &str) -> Vec<(usize, &'static str)> {
    check_coverage(text, &parse(text));
    parse_raw(text)
        .errors
        .iter()
        .map(|(span, msg)| (text[..span.start].matches('\n').count() + 1, *msg))
        .collect()
}

/// Preamble, headers and bodies tile the text; entries lie in bodies.
fn check_coverage(text: &str, doc: &Doc) {
    let mut at = 0;
    assert_eq!(doc.preamble.start, 0);
    at = at.max(doc.preamble.end);
    for s in &doc.sections {
        assert_eq!(
            s.header.start, at,
            "header starts where the last part ended"
        );
        assert!(s.header.end <= s.body.start);
        assert!(
            text[s.header.end..s.body.start]
                .chars()
                .all(|c| c == '\r' || c == '\n')
        );
        for e in &s.entries {
            assert!(s.body.start <= e.lines.start && e.lines.end <= s.body.end);
            assert!(e.lines.start <= e.name_span.start && e.value_span.end <= e.lines.end);
            assert_eq!(&text[e.name_span.clone()], e.name);
        }
        at = s.body.end;
    }
    assert_eq!(at, text.len());
}

#[test]
fn empty_text_has_only_a_preamble() {
    let doc = parse("");
    assert_eq!(doc.preamble, 0..0);
    assert!(doc.sections.is_empty() && doc.errors.is_empty());
}

#[test]
fn sections_and_options_in_file_order() {
    check(
        "[groups]\ng = a, b\n[/]\n* = r\nh = rw\n",
        &[
            ("groups", &[("g", "a, b")]),
            ("/", &[("*", "r"), ("h", "rw")]),
        ],
    );
}

#[test]
fn colon_separator() {
    check("[/]\nh: rw\n", &[("/", &[("h", "rw")])]);
}

#[test]
fn first_separator_wins_colon_before_equals() {
    check("[/]\na:b = rw\n", &[("/", &[("a", "b = rw")])]);
}

#[test]
fn colon_after_equals_belongs_to_value() {
    check("[aliases]\na = C=x:y\n", &[("aliases", &[("a", "C=x:y")])]);
}

#[test]
fn header_name_ends_at_first_bracket_rest_ignored() {
    check("[/a]b] # note\nh = r\n", &[("/a", &[("h", "r")])]);
}

#[test]
fn header_name_is_not_trimmed() {
    check("[ /trunk ]\n", &[(" /trunk ", &[])]);
}

#[test]
fn no_inline_comments() {
    check("[/]\nh = rw # c\n", &[("/", &[("h", "rw # c")])]);
}

#[test]
fn semicolon_is_no_comment() {
    assert_eq!(errors("; c\n[/]\n"), vec![(1, "section header expected")]);
}

#[test]
fn comment_in_column_one_is_ignored_anywhere() {
    check("# top\n[/]\n# in\nh = r\n#x\n", &[("/", &[("h", "r")])]);
}

#[test]
fn continuation_lines_join_with_one_space() {
    check(
        "[groups]\ng = a,\n   b ,\n\tc\n",
        &[("groups", &[("g", "a, b , c")])],
    );
}

#[test]
fn continuation_of_empty_value_keeps_a_leading_space() {
    check("[aliases]\na =\n  bob\n", &[("aliases", &[("a", " bob")])]);
}

#[test]
fn indented_comment_or_header_after_option_is_continuation() {
    check(
        "[/]\nh = r\n  # c\n  [x]\n",
        &[("/", &[("h", "r # c [x]")])],
    );
}

#[test]
fn blank_line_ends_continuation() {
    assert_eq!(errors("[/]\nh = r\n\n  w\n"), vec![(4, "option expected")]);
}

#[test]
fn whitespace_only_line_is_blank() {
    assert_eq!(
        errors("[/]\nh = r\n \t \n  w\n"),
        vec![(4, "option expected")]
    );
}

#[test]
fn vertical_tab_and_form_feed_indent_a_continuation() {
    check("[/]\nh = r\n\x0bw\n\x0cw\n", &[("/", &[("h", "r w w")])]);
}

#[test]
fn crlf_reads_like_lf() {
    check(
        "[groups]\r\ng = a, b\r\n  c\r\n[/]\r\n@g = rw\r\n",
        &[("groups", &[("g", "a, b c")]), ("/", &[("@g", "rw")])],
    );
}

#[test]
fn leading_carriage_returns_are_dropped() {
    check("\r[/]\n\r\rh = rw\n", &[("/", &[("h", "rw")])]);
}

#[test]
fn carriage_return_after_bracket_is_dropped() {
    check("[\r\r/a]\n", &[("/a", &[])]);
}

#[test]
fn carriage_return_inside_names_is_kept() {
    check("[/a\r]\nh\rx = rw\n", &[("/a\r", &[("h\rx", "rw")])]);
}

#[test]
fn line_starting_with_cr_is_not_a_continuation() {
    assert_eq!(
        errors("[/]\nh = r\n\rw\n"),
        vec![(3, "option must end with ':' or '='")]
    );
}

#[test]
fn cr_then_space_is_indentation() {
    assert_eq!(errors("[/]\n\r h = rw\n"), vec![(2, "option expected")]);
}

#[test]
fn bom_is_skipped_once() {
    check("\u{feff}[/]\nh = rw\n", &[("/", &[("h", "rw")])]);
    assert_eq!(parse("\u{feff}[/]\n").preamble, 0..3, "the BOM is preamble");
    assert_eq!(
        errors("\u{feff}\u{feff}[/]\n"),
        vec![(1, "section header expected")]
    );
}

#[test]
fn empty_option_name() {
    check("[/]\n= rw\n", &[("/", &[("", "rw")])]);
}

#[test]
fn ini_errors_each_on_their_line() {
    let text = "h = rw\n[/]\n  [/a]\n[/b\n  # c\nnosep\n";
    assert_eq!(
        errors(text),
        vec![
            (1, "section header expected"),
            (3, "section header must start in the first column"),
            (4, "section header must end with ']'"),
            (5, "comment must start in the first column"),
            (6, "option must end with ':' or '='"),
        ]
    );
}

#[test]
fn malformed_headers_still_start_sections() {
    let doc = parse("[/]\n  [/a]\nh = r\n[/b\n");
    let names: Vec<(&str, bool)> = doc
        .sections
        .iter()
        .map(|s| (s.name.as_str(), s.well_formed))
        .collect();
    assert_eq!(names, vec![("/", true), ("/a", false), ("/b", false)]);
}

#[test]
fn option_before_first_section_swallows_its_continuation() {
    assert_eq!(
        errors("h = r\n  w\n[/]\n"),
        vec![(1, "section header expected")]
    );
}

#[test]
fn options_after_empty_section_name_need_a_header() {
    assert_eq!(errors("[]\nh = r\n"), vec![(2, "section header expected")]);
}

#[test]
fn spans_locate_names_values_and_lines() {
    let text = "# c\n[groups]\r\nteam = alice,\n  bob\n\n[/]\nh=\n";
    let doc = parse(text);
    assert_eq!(&text[doc.preamble.clone()], "# c\n");
    let g = &doc.sections[0];
    assert_eq!(&text[g.header.clone()], "[groups]");
    assert_eq!(&text[g.name_span.clone()], "groups");
    assert_eq!(&text[g.body.clone()], "team = alice,\n  bob\n\n");
    let e = &g.entries[0];
    assert_eq!(&text[e.name_span.clone()], "team");
    assert_eq!(&text[e.value_span.clone()], "alice,\n  bob");
    assert_eq!(&text[e.lines.clone()], "team = alice,\n  bob\n");
    assert_eq!(&text[e.separator..=e.separator], "=");
    let h = &doc.sections[1].entries[0];
    assert_eq!(h.value_span, text.len() - 1..text.len() - 1);
    assert_eq!(&text[h.lines.clone()], "h=\n");
}

#[test]
fn last_line_without_newline() {
    let text = "[/]\nh = r\n w";
    let doc = parse(text);
    assert_eq!(doc.sections[0].entries[0].value, "r w");
    assert_eq!(doc.sections[0].entries[0].lines, 4..text.len());
}

#[test]
fn non_ascii_is_byte_exact() {
    check("[/ä]\nJosé = r\n", &[("/ä", &[("José", "r")])]);
}

proptest::proptest! {
    #[test]
    fn any_text_is_covered_and_never_panics(text in "[\\[\\] a=:#,\r\n\t\x0b~@é/]{0,60}") {
        let doc = parse(&text);
        check_coverage(&text, &doc);
    }
}
