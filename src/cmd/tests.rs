//! `validate --format json`'s document, byte for byte.

use std::path::Path;

use super::*;

#[test]
fn json_diagnostics_are_one_document_of_these_bytes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/diag/invalid-login");
    let source = repo::Source::open(&root, &repo::Options::default()).expect("open");
    let mut input = source.read(None, Limits::default()).expect("read");
    input.revision = "7".into();
    let report = snapshot::build(&input);
    let mut out = Vec::new();
    print_diagnostics(&mut out, false, Format::Json, &input, &report).expect("printed");
    insta::assert_snapshot!(String::from_utf8(out).expect("UTF-8"));
}
