//! One thin file per subcommand: gather inputs, call the core, print.
//!
//! Shared here: reading a configuration for a subcommand and printing
//! diagnostics in the three forms (one line, one line plus snippet on a
//! terminal, JSON). Control characters in what is printed (paths, names
//! quoted in messages, snippets) are escaped (`diag::escape_controls`); JSON
//! escapes them its own way.

pub mod access;
pub mod check;
pub mod diff;
pub mod directory_answer;
pub mod docs;
pub mod fleet;
pub mod hook;
pub mod ldap;
pub mod render;
pub mod serve;
pub mod test;
pub mod validate;

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{Format, RepoArgs};
use crate::diag::{self, Diagnostic, Severity};
use crate::repo;
use crate::snapshot::{self, Limits, Report};

/// Exit status: the configuration is valid / the command succeeded.
pub const EXIT_OK: u8 = 0;
/// Exit status: the configuration is invalid.
pub const EXIT_INVALID: u8 = 1;
/// Exit status: the command could not run (bad arguments, I/O).
pub const EXIT_COULD_NOT_RUN: u8 = 2;

/// Read the configuration named by `--repo` and build its snapshot.
pub fn build(args: &RepoArgs) -> anyhow::Result<(snapshot::Input, Report)> {
    let source = repo::Source::open(&args.repo, &repo::Options::default())
        .with_context(|| format!("opening {}", args.repo.display()))?;
    let limits: Limits = args.limits.limits(args.max_file_bytes);
    let input = source.read(args.rev.as_deref(), limits)?;
    tracing::info!(repo = %args.repo.display(), revision = %input.revision, files = input.files.len(), "read configuration");
    let report = snapshot::build(&input);
    Ok((input, report))
}

/// The document `validate --format json` prints (fields in alphabetical
/// order, as `json!` wrote them).
#[derive(Debug, serde::Serialize)]
struct ValidateJson<'a> {
    /// Left out when there is no access file (an invalid configuration).
    #[serde(skip_serializing_if = "Option::is_none")]
    access_cost: Option<CostJson>,
    diagnostics: Vec<diag::DiagnosticJson<'a>>,
    revision: &'a str,
    valid: bool,
}

/// What the access file costs Subversion to load, in `validate --format json`.
#[derive(Debug, serde::Serialize)]
struct CostJson {
    /// Users named × rule sections.
    cost: u64,
    rule_sections: u64,
    users: u64,
    /// The cost above which `access-file-expensive` warns.
    warn_above: u64,
}

/// Print diagnostics to `out` in the chosen form; a summary, and what the
/// access file costs Subversion to load, go to stderr.
pub fn print_diagnostics(
    out: &mut dyn Write,
    to_terminal: bool,
    format: Format,
    input: &snapshot::Input,
    report: &Report,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let doc = ValidateJson {
                access_cost: report.snapshot.as_ref().map(|s| CostJson {
                    cost: s.access_cost.units(),
                    rule_sections: s.access_cost.rule_sections,
                    users: s.access_cost.users,
                    warn_above: input.limits.warn_access_cost,
                }),
                diagnostics: report.diagnostics.iter().map(Diagnostic::to_json).collect(),
                revision: &input.revision,
                valid: report.is_valid(),
            };
            writeln!(out, "{}", serde_json::to_string(&doc)?)?;
        }
        Format::Human => {
            let texts: BTreeMap<&str, &str> = input
                .files
                .iter()
                .filter(|(_, b)| b.len() <= input.limits.max_file_bytes)
                .filter_map(|(p, b)| Some((p.as_str(), std::str::from_utf8(b).ok()?)))
                .collect();
            for d in &report.diagnostics {
                // `one_line` escapes control characters itself.
                writeln!(out, "{}", d.one_line())?;
                if to_terminal {
                    let rich = diag::render_rich(d, texts.get(d.file.as_str()).copied());
                    for line in rich.lines() {
                        writeln!(out, "{}", escape_keeping_tabs(line))?;
                    }
                }
            }
            let errors = report
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            let warnings = report.diagnostics.len() - errors;
            if errors + warnings > 0 {
                eprintln!(
                    "rolesync: {} in {}",
                    counts(errors, warnings),
                    input.revision
                );
            }
            if let Some(s) = &report.snapshot {
                eprintln!("rolesync: {}", cost_line(s.access_cost, &input.limits));
            }
        }
    }
    Ok(())
}

/// What the access file costs Subversion to load, in one line.
fn cost_line(cost: crate::authz::Cost, limits: &Limits) -> String {
    format!(
        "the access file costs Subversion {} to load ({} users named × {} rule sections; access-file-expensive above {})",
        cost.units(),
        cost.users,
        cost.rule_sections,
        limits.warn_access_cost
    )
}

/// A line of a snippet with its control characters escaped
/// ([`diag::escape_controls`]), tabs kept for the layout.
fn escape_keeping_tabs(line: &str) -> String {
    line.split('\t')
        .map(|part| diag::escape_controls(part))
        .collect::<Vec<_>>()
        .join("\t")
}

fn counts(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

/// Whether stdout / stderr is a terminal (for the snippet view).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// The exit code for a report: 0 valid, 1 invalid.
pub fn exit_for(report: &Report) -> ExitCode {
    ExitCode::from(if report.is_valid() {
        EXIT_OK
    } else {
        EXIT_INVALID
    })
}

#[cfg(test)]
mod tests;
