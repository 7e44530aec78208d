//! Policy tests kept with the configuration (like `opa test`): assertion
//! files `.polarion/tests/*.toml` that say what a revision must grant and
//! refuse — "alice has `rw` on `elibrary:/trunk`", "carol may not modify an
//! approved work item in drivepilot", "group `elibrary-project_admin` is
//! never empty". `snapshot::build` parses them ([`parse_all`]) and, once
//! the model, the policy index and the access file are built without
//! error, answers them ([`run`]); a failing assertion is the error
//! `policy-test-failed`, located at its `[[…]]` header, so `validate`,
//! `render`, the hooks and the daemon's reload all refuse the revision.
//! The format is in the README ("Policy tests").
//!
//! Pure, like `snapshot`: values in, values out.
//!
//! - `types`: the assertions and outcomes (a leaf);
//! - `parse`: one TOML file → assertions, with located diagnostics;
//! - `names`: what the rendered access file names (groups, repositories,
//!   users, section lines);
//! - `run`: the answers (`authz::Authz`, `policy::Index`, the groups).

mod names;
mod parse;
mod run;
mod types;

#[cfg(test)]
mod tests;

pub use run::{Subject, run};
pub use types::{Assertion, Check, Expect, Outcome, Spot, Text};

use crate::diag::{Code, Diagnostic, Source};
use crate::limits::Limits;

/// The folder of the policy-test files.
pub const TESTS_DIR: &str = ".polarion/tests/";

/// Whether a path is a policy-test file: `*.toml` directly in
/// [`TESTS_DIR`] (`Some(false)`: another file under it, not run; `None`:
/// not under it).
pub fn is_test_file(path: &str) -> Option<bool> {
    let rest = path.strip_prefix(TESTS_DIR)?;
    Some(
        rest.strip_suffix(".toml")
            .is_some_and(|stem| !stem.is_empty() && !stem.contains('/')),
    )
}

/// Parse every policy-test file of a revision within the limits:
/// `files` are the decoded test files, `ignored` the other paths under
/// [`TESTS_DIR`]. The assertions are in path and file order.
pub fn parse_all(
    files: &[&Source],
    ignored: &[&str],
    limits: &Limits,
) -> (Vec<Assertion>, Vec<Diagnostic>) {
    let mut diags: Vec<Diagnostic> = ignored
        .iter()
        .map(|path| {
            Diagnostic::file(
                Code::PolicyTestIgnoredFile,
                path,
                "only *.toml files directly in .polarion/tests/ are policy tests; this file is not run",
            )
        })
        .collect();
    let mut assertions = Vec::new();
    let mut budget = limits.max_test_assertions;
    for (n, src) in files.iter().enumerate() {
        if n >= limits.max_test_files {
            diags.push(Diagnostic::file(
                Code::PolicyTestsTooMany,
                src.path,
                format!(
                    "there are more than the limit of {} policy-test files; this one and those after it are not run",
                    limits.max_test_files
                ),
            ));
            break;
        }
        let (a, d) = parse::parse(src, limits, &mut budget);
        assertions.extend(a);
        diags.extend(d);
    }
    (assertions, diags)
}
