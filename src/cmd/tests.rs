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

/// A valid configuration's document says what its access file costs
/// Subversion to load: the sample names 8 users (7 accounts and the
/// alias target `svc-jenkins`) in 7 rule sections.
#[test]
fn json_of_a_valid_configuration_reports_the_access_file_cost() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-repo");
    let source = repo::Source::open(&root, &repo::Options::default()).expect("open");
    let input = source.read(None, Limits::default()).expect("read");
    let report = snapshot::build(&input);
    let mut out = Vec::new();
    print_diagnostics(&mut out, false, Format::Json, &input, &report).expect("printed");
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
    assert_eq!(
        doc["access_cost"],
        serde_json::json!({"cost": 56, "rule_sections": 7, "users": 8, "warn_above": 2_000_000}),
        "{doc}"
    );
}
