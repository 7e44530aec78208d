//! `rolesync validate`: check the configuration, print every diagnostic,
//! exit 0 when valid (warnings allowed), 1 when invalid.

use std::process::ExitCode;

use crate::cli::ValidateArgs;

pub fn run(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let (input, report) = super::build(&args.repo)?;
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
