//! `rolesync render`: print the synchronised access file, or write it
//! atomically with `-o`. Nothing is printed or written when the
//! configuration is invalid; the diagnostics go to stderr.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::RenderArgs;
use crate::publish::{self, Published};

pub fn run(args: &RenderArgs) -> anyhow::Result<ExitCode> {
    let (input, report) = super::build(&args.repo)?;
    let stderr = std::io::stderr();
    super::print_diagnostics(
        &mut stderr.lock(),
        super::stderr_is_terminal(),
        args.format,
        &input,
        &report,
    )?;
    let Some(snapshot) = &report.snapshot else {
        return Ok(super::exit_for(&report));
    };
    match &args.output {
        Some(path) => {
            let options = publish::Options {
                mode: args.publish.access_mode,
                group: args.publish.access_group,
            };
            let published =
                publish::Target::resolve(path)?.publish(snapshot.access.as_bytes(), &options)?;
            let what = match published {
                Published::Written => "written",
                Published::Unchanged => "unchanged",
            };
            tracing::info!(path = %path.display(), revision = %snapshot.revision, what, "access file");
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(snapshot.access.as_bytes())
                .context("writing to stdout")?;
            out.flush().context("writing to stdout")?;
        }
    }
    let code = super::exit_for(&report);
    // A one-shot command: the process ends now and the system takes its
    // memory back whole. Freeing the configuration's files, the model and
    // the index piece by piece first would only cost time.
    std::mem::forget(report);
    std::mem::forget(input);
    Ok(code)
}
