//! `rolesync check` and `rolesync explain`: one permission decision with
//! Polarion's semantics, on the configuration at `--repo`/`--rev`.
//!
//! `check` prints `allow` or `deny`; a refused `--rest` call also prints
//! the exact 403 body as one JSON line. `explain` prints the chain user →
//! role (file:line) → grant or deny (file:line) → decision, and the
//! revision. Both exit 0 (allow), 1 (deny) or 2 (could not run: bad
//! arguments, an unknown project, an invalid configuration).

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};

use crate::cli::CheckArgs;
use crate::policy::{FORBIDDEN_BODY, Object, Request, RestCall, Verdict};

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
        Mode::Check => {
            let verdict = snapshot.policy.check(&request)?;
            writeln!(out, "{}", verdict.as_str()).context("writing to stdout")?;
            if verdict == Verdict::Deny && rest.is_some() {
                writeln!(out, "{FORBIDDEN_BODY}").context("writing to stdout")?;
            }
            verdict
        }
        Mode::Explain => {
            let explanation = snapshot.policy.explain(&request)?;
            write!(out, "{}", explanation.render(&snapshot.revision))
                .context("writing to stdout")?;
            explanation.verdict
        }
    };
    Ok(ExitCode::from(match verdict {
        Verdict::Allow => super::EXIT_OK,
        Verdict::Deny => super::EXIT_INVALID,
    }))
}
