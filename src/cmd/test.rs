//! `rolesync test`: run the policy tests of `.polarion/tests/*.toml` on
//! the configuration at `--repo`/`--rev` and print each assertion as
//! `pass` or `FAIL` with its file:line:col, then a count. The diagnostics
//! (a failure's explanation in its notes) go to stderr.
//!
//! Exit status: 0 when every assertion passes on a valid configuration; 1
//! when one fails or the configuration is invalid; 2 when the command
//! could not run (`main` maps an `Err` to 2).

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{TestArgs, TestFormat};
use crate::diag::Diagnostic;
use crate::policytest::Outcome;
use crate::snapshot::Report;

pub fn run(args: &TestArgs) -> anyhow::Result<ExitCode> {
    let (_input, report) = super::build(&args.repo)?;
    let failed = report.tests.iter().filter(|o| !o.passed).count();
    let mut out = std::io::stdout().lock();
    match args.format {
        TestFormat::Json => {
            writeln!(out, "{}", json(&report, failed)).context("writing to stdout")?;
        }
        TestFormat::Text => text(&mut out, &report, failed).context("writing to stdout")?,
    }
    Ok(ExitCode::from(if report.is_valid() {
        super::EXIT_OK
    } else {
        super::EXIT_INVALID
    }))
}

fn text(out: &mut dyn std::io::Write, report: &Report, failed: usize) -> std::io::Result<()> {
    for o in &report.tests {
        let mark = if o.passed { "pass" } else { "FAIL" };
        let mut line = format!("{mark} {}:{}:{} {}", o.at.file, o.at.line, o.at.col, o.what);
        if !o.passed {
            line.push_str(&format!(" (got {})", o.got));
        }
        writeln!(out, "{}", crate::diag::escape_controls(&line))?;
    }
    let mut err = std::io::stderr().lock();
    for d in &report.diagnostics {
        writeln!(err, "{}", d.one_line())?;
        for note in &d.notes {
            writeln!(err, "  note: {}", crate::diag::escape_controls(note))?;
        }
    }
    let total = report.tests.len();
    let ran_none = total == 0 && !report.is_valid();
    if ran_none {
        writeln!(
            out,
            "the configuration at revision {} is invalid; no policy test ran",
            report.revision
        )
    } else {
        writeln!(
            out,
            "{total} assertion{}: {} passed, {failed} failed (revision {})",
            if total == 1 { "" } else { "s" },
            total - failed,
            report.revision
        )
    }
}

fn json(report: &Report, failed: usize) -> serde_json::Value {
    serde_json::json!({
        "revision": report.revision,
        "valid": report.is_valid(),
        "passed": report.tests.len() - failed,
        "failed": failed,
        "tests": report.tests.iter().map(outcome_json).collect::<Vec<_>>(),
        "diagnostics": report.diagnostics.iter().map(Diagnostic::to_json).collect::<Vec<_>>(),
    })
}

fn outcome_json(o: &Outcome) -> serde_json::Value {
    serde_json::json!({
        "file": o.at.file,
        "line": o.at.line,
        "column": o.at.col,
        "what": o.what,
        "passed": o.passed,
        "got": o.got,
    })
}
