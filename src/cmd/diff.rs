//! `rolesync diff FROM TO`: build both revisions (or both folders), diff
//! them (`diff::diff`), print the summary and the full list, or the
//! version-1 JSON. Exit 0 when the diff was computed, 2 when it could not
//! be (a revision that does not exist or does not build). With
//! `--state-dir` / `--directory-snapshot` both revisions are built with
//! the daemon's stored directory answer (`cmd::directory_answer`); without
//! one, a revision whose groups.xml names directory groups is compared
//! without their members, and the diff's note says so
//! (`diff::NO_ANSWER_NOTE`).

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use super::directory_answer::{self, Answer};
use crate::cli::{DiffArgs, DiffFormat};
use crate::diff;
use crate::repo::{self, At, Source};
use crate::snapshot::{self, Limits, Snapshot};

pub fn run(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let limits = args.limits.limits(args.max_file_bytes);
    let answer = match &args.directory_snapshot {
        Some(file) => Some(directory_answer::from_file(file)?),
        None => directory_answer::stored(args.state_dir.as_deref()),
    };
    let (old, new) = if Path::new(&args.from).is_dir() && Path::new(&args.to).is_dir() {
        (
            folder_snapshot(Path::new(&args.from), limits, &answer)?,
            folder_snapshot(Path::new(&args.to), limits, &answer)?,
        )
    } else {
        let source = Source::open(&args.repo, &repo::Options::default())
            .with_context(|| format!("opening {}", args.repo.display()))?;
        (
            snapshot_at(&source, &args.from, limits, &answer)?,
            snapshot_at(&source, &args.to, limits, &answer)?,
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

/// The snapshot of one revision of a repository, built with the
/// directory's `answer` (none: without a directory); an error (with the
/// first diagnostics) when it does not build.
pub fn snapshot_at(
    source: &Source,
    revision: &str,
    limits: Limits,
    answer: &Answer,
) -> anyhow::Result<Snapshot> {
    let mut input = source
        .read_at(At::Revision(Some(revision)), limits)
        .with_context(|| format!("reading revision {revision}"))?;
    input.directory.clone_from(answer);
    built(&input)
}

fn folder_snapshot(folder: &Path, limits: Limits, answer: &Answer) -> anyhow::Result<Snapshot> {
    let source = Source::open(folder, &repo::Options::default())
        .with_context(|| format!("opening {}", folder.display()))?;
    let mut input = source
        .read(None, limits)
        .with_context(|| format!("reading {}", folder.display()))?;
    input.directory.clone_from(answer);
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
