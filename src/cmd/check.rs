//! `rolesync check` and `rolesync explain`: one permission decision with
//! Polarion's semantics, on the configuration at `--repo`/`--rev`.
//!
//! `check` prints `allow` or `deny`; a refused `--rest` call also prints
//! the exact 403 body as one JSON line: the endpoint layer's, or the item
//! layer's (`policy::rest`). `explain` prints the chain user →
//! role (file:line) → grant or deny (file:line) → decision, and the
//! revision. Both exit 0 (allow), 1 (deny) or 2 (could not run: bad
//! arguments, an unknown project, an invalid configuration).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};

use crate::cli::CheckArgs;
use crate::policy::{Object, Request, RestCall, Verdict, rest};
use crate::snapshot::{self, Report, Snapshot};

/// Which of the two commands runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Check,
    Explain,
}

pub fn run(args: &CheckArgs, mode: Mode) -> anyhow::Result<ExitCode> {
    let object = object_of(&args.object)?;
    let rest = args
        .rest
        .as_deref()
        .map(RestCall::parse_line)
        .transpose()
        .context("--rest")?;
    let (permission, project) = match (&rest, &args.permission) {
        (Some(call), _) => (call.verb.permission(), call.project()),
        (None, Some(p)) => (p.as_str(), args.project.as_deref()),
        (None, None) => bail!("give --permission or --rest"),
    };
    let (input, report) = super::build(&args.repo)?;
    let Some(snapshot) = &report.snapshot else {
        return Err(invalid_configuration(&input, &report));
    };
    let request = Request {
        user: &args.user,
        permission,
        project,
        object: &object,
    };
    let mut out = std::io::stdout().lock();
    let verdict = match mode {
        Mode::Check => check(&mut out, snapshot, rest.as_ref(), &request)?,
        Mode::Explain => explain(&mut out, snapshot, rest.as_ref(), &request)?,
    };
    Ok(ExitCode::from(match verdict {
        Verdict::Allow => super::EXIT_OK,
        Verdict::Deny => super::EXIT_INVALID,
    }))
}

/// The object of `--object key=value` pairs.
fn object_of(pairs: &[String]) -> anyhow::Result<Object> {
    let mut object = Object::new();
    for pair in pairs {
        object
            .push_pair(pair)
            .map_err(|e| anyhow!("--object: {e}"))?;
    }
    Ok(object)
}

/// The configuration's diagnostics printed; the error that ends the command.
fn invalid_configuration(input: &snapshot::Input, report: &Report) -> anyhow::Error {
    let stderr = std::io::stderr();
    if let Err(e) = super::print_diagnostics(
        &mut stderr.lock(),
        super::stderr_is_terminal(),
        crate::cli::Format::Human,
        input,
        report,
    ) {
        return e.into();
    }
    anyhow!(
        "the configuration at revision {} is invalid; no decision can be made",
        report.revision
    )
}

/// `check`: the verdict, and for a refused REST call the 403 body.
fn check(
    out: &mut dyn Write,
    snapshot: &Snapshot,
    rest: Option<&RestCall>,
    request: &Request,
) -> anyhow::Result<Verdict> {
    match rest {
        // Two layers: the endpoint, then the item (docs/permissions.md).
        Some(call) => {
            let d = rest::check(&snapshot.policy, request.user, call, request.object, true)?;
            writeln!(out, "{}", d.verdict().as_str()).context("writing to stdout")?;
            if let Some(body) = d.body() {
                writeln!(out, "{body}").context("writing to stdout")?;
            }
            Ok(d.verdict())
        }
        None => {
            let verdict = snapshot.policy.check(request)?;
            writeln!(out, "{}", verdict.as_str()).context("writing to stdout")?;
            Ok(verdict)
        }
    }
}

/// `explain`: the chain of the decision and the revision.
fn explain(
    out: &mut dyn Write,
    snapshot: &Snapshot,
    rest: Option<&RestCall>,
    request: &Request,
) -> anyhow::Result<Verdict> {
    let (text, verdict) = match rest {
        Some(call) => {
            let e = rest::explain(&snapshot.policy, request.user, call, request.object)?;
            (e.render(&snapshot.revision), e.verdict())
        }
        None => {
            let e = snapshot.policy.explain(request)?;
            (e.render(&snapshot.revision), e.verdict)
        }
    };
    // File and folder names come from the repository: each line is
    // printed with its control characters escaped.
    for line in text.lines() {
        writeln!(out, "{}", crate::diag::escape_controls(line)).context("writing to stdout")?;
    }
    Ok(verdict)
}
