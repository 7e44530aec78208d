//! `rolesync diff FROM TO`: build both revisions (or both folders), diff
//! them (`diff::diff`), print the summary and the full list, or the
//! version-1 JSON. Exit 0 when the diff was computed, 2 when it could not
//! be (a revision that does not exist or does not build).

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{DiffArgs, DiffFormat};
use crate::diff;
use crate::repo::{self, At, Source};
use crate::snapshot::{self, Limits, Snapshot};

pub fn run(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let limits = args.limits.limits(args.max_file_bytes);
    let (old, new) = if Path::new(&args.from).is_dir() && Path::new(&args.to).is_dir() {
        (
            folder_snapshot(Path::new(&args.from), limits)?,
            folder_snapshot(Path::new(&args.to), limits)?,
        )
    } else {
        let source = Source::open(&args.repo, &repo::Options::default())
            .with_context(|| format!("opening {}", args.repo.display()))?;
        (
            snapshot_at(&source, &args.from, limits)?,
            snapshot_at(&source, &args.to, limits)?,
        )
    };
    let d = diff::diff(&old, &new)?;
    let text = match args.format {
        DiffFormat::Text => d.render(),
        DiffFormat::Json => {
            let mut doc = serde_json::to_string(&diff::json::to_json(&d))?;
            doc.push('\n');
            doc
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .context("writing to stdout")?;
    out.flush().context("writing to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// The snapshot of one revision of a repository; an error (with the first
/// diagnostics) when it does not build.
pub fn snapshot_at(source: &Source, revision: &str, limits: Limits) -> anyhow::Result<Snapshot> {
    let input = source
        .read_at(At::Revision(Some(revision)), limits)
        .with_context(|| format!("reading revision {revision}"))?;
    built(&input)
}

fn folder_snapshot(folder: &Path, limits: Limits) -> anyhow::Result<Snapshot> {
    let source = Source::open(folder, &repo::Options::default())
        .with_context(|| format!("opening {}", folder.display()))?;
    let input = source
        .read(None, limits)
        .with_context(|| format!("reading {}", folder.display()))?;
    built(&input)
}

/// How many diagnostics of an invalid revision the error names.
const SHOWN_DIAGNOSTICS: usize = 5;

fn built(input: &snapshot::Input) -> anyhow::Result<Snapshot> {
    let report = snapshot::build(input);
    match report.snapshot {
        Some(s) => Ok(s),
        None => {
            let errors: Vec<String> = report
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .take(SHOWN_DIAGNOSTICS)
                .map(|d| d.one_line())
                .collect();
            anyhow::bail!(
                "revision {} is invalid, so there is nothing to compare:\n{}",
                crate::diag::escape_controls(&input.revision),
                errors.join("\n")
            )
        }
    }
}
