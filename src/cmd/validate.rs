//! `rolesync validate`: check the configuration, print every diagnostic,
//! exit 0 when valid (warnings allowed), 1 when invalid. With `--previous`
//! the guard rails judge the change from that configuration too.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::ValidateArgs;
use crate::repo;
use crate::snapshot::Report;

pub fn run(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let (input, mut report) = super::build(&args.repo)?;
    if let Some(previous) = &args.previous {
        apply_rails(args, previous, &mut report)?;
    }
    let stdout = std::io::stdout();
    super::print_diagnostics(
        &mut stdout.lock(),
        super::stdout_is_terminal(),
        args.format,
        &input,
        &report,
    )?;
    Ok(super::exit_for(&report))
}

/// The rails' diagnostics for the change from `previous` to the report's
/// configuration, added to the report (an error makes it invalid). A
/// previous configuration that is invalid has no rails in force.
fn apply_rails(
    args: &ValidateArgs,
    previous: &std::path::Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    if !report.is_valid() {
        return Ok(());
    }
    let old_source = repo::Source::open(previous, &repo::Options::default())
        .with_context(|| format!("opening {}", previous.display()))?;
    let limits = args.repo.limits.limits(args.repo.max_file_bytes);
    let old = crate::snapshot::build(&old_source.read(None, limits)?);
    let source = repo::Source::open(&args.repo.repo, &repo::Options::default())?;
    crate::rails::apply(report, old.snapshot.as_ref(), &source.rails_target(), None);
    Ok(())
}
