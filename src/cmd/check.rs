//! `rolesync check` and `rolesync explain`: one permission decision with
//! Polarion's semantics, on the configuration at `--repo`/`--rev`.
//!
//! `check` prints `allow` or `deny`; a refused `--rest` call also prints
//! the exact 403 body as one JSON line: the endpoint layer's, or the item
//! layer's (`policy::rest`). `explain` prints the chain user →
//! role (file:line) → grant or deny (file:line) → decision, and the
//! revision. Both exit 0 (allow), 1 (deny) or 2 (could not run: bad
//! arguments, an unknown project, an invalid configuration).

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};

use crate::cli::CheckArgs;
use crate::policy::{Object, Request, RestCall, Verdict, rest};

/// Which of the two commands runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Check,
    Explain,
}

pub fn run(args: &CheckArgs, mode: Mode) -> anyhow::Result<ExitCode> {
    let mut object = Object::new();
    for pair in &args.object {
        object
            .push_pair(pair)
            .map_err(|e| anyhow!("--object: {e}"))?;
    }
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
        let stderr = std::io::stderr();
        super::print_diagnostics(
            &mut stderr.lock(),
            super::stderr_is_terminal(),
            crate::cli::Format::Human,
            &input,
            &report,
        )?;
        bail!(
            "the configuration at revision {} is invalid; no decision can be made",
            report.revision
        );
    };
    let request = Request {
        user: &args.user,
        permission,
        project,
        object: &object,
    };
    let mut out = std::io::stdout().lock();
    let verdict = match mode {
        Mode::Check => match &rest {
            // Two layers: the endpoint, then the item (docs/permissions.md).
            Some(call) => {
                let d = rest::check(&snapshot.policy, &args.user, call, &object, true)?;
                writeln!(out, "{}", d.verdict().as_str()).context("writing to stdout")?;
                if let Some(body) = d.body() {
                    writeln!(out, "{body}").context("writing to stdout")?;
                }
                d.verdict()
            }
            None => {
                let verdict = snapshot.policy.check(&request)?;
                writeln!(out, "{}", verdict.as_str()).context("writing to stdout")?;
                verdict
            }
        },
        Mode::Explain => {
            let (text, verdict) = match &rest {
                Some(call) => {
                    let e = rest::explain(&snapshot.policy, &args.user, call, &object)?;
                    (e.render(&snapshot.revision), e.verdict())
                }
                None => {
                    let e = snapshot.policy.explain(&request)?;
                    (e.render(&snapshot.revision), e.verdict)
                }
            };
            // File and folder names come from the repository: each line
            // is printed with its control characters escaped.
            for line in text.lines() {
                writeln!(out, "{}", crate::diag::escape_controls(line))
                    .context("writing to stdout")?;
            }
            verdict
        }
    };
    Ok(ExitCode::from(match verdict {
        Verdict::Allow => super::EXIT_OK,
        Verdict::Deny => super::EXIT_INVALID,
    }))
}
