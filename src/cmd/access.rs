//! `rolesync access`: what access a user has to a path, answered like
//! `svnauthz accessof` from an access file (and a global groups file), or
//! with `--list` the sections that apply to the user.
//!
//! Exit status: 0 with the answer on stdout; 1 when a file is invalid (the
//! diagnostics go to stderr, one line each); 2 when the command could not
//! run (a missing file; `main` maps an `Err` to 2).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::authz::{Authz, AuthzFile};
use crate::cli::AccessArgs;
use crate::diag::{Code, Diagnostic, Source};

/// Run `rolesync access`.
pub fn run(args: &AccessArgs) -> anyhow::Result<ExitCode> {
    let authz_path = display(&args.file);
    let authz_text = read(&args.file)?;
    let groups = match &args.groups_file {
        Some(p) => Some((display(p), read(p)?)),
        None => None,
    };
    let mut diags = Vec::new();
    let authz_text = utf8(authz_text, &authz_path, &mut diags);
    let groups = groups.map(|(p, bytes)| {
        let text = utf8(bytes, &p, &mut diags);
        (p, text)
    });
    if !diags.is_empty() {
        return report(&diags, ExitCode::from(1));
    }
    let input = AuthzFile {
        path: &authz_path,
        text: &authz_text,
    };
    let groups_input = groups.as_ref().map(|(path, text)| AuthzFile { path, text });
    let authz = match Authz::load_input(input, groups_input) {
        Ok(a) => a,
        Err(diags) => return report(&diags, ExitCode::from(1)),
    };
    print_diags(authz.warnings())?;
    let user = args.user.as_deref();
    let repo = args.repository.as_deref();
    let mut out = std::io::stdout().lock();
    if args.list {
        let src = Source::new(&authz_path, &authz_text);
        for l in authz.list(user, repo) {
            let (line, _) = src.line_col(l.header.start);
            let mut row = format!(
                "{:<3} {authz_path}:{line}  [{}]",
                l.access.as_str(),
                l.section
            );
            if let Some(twin) = &l.replaced_by {
                row.push_str(&format!("  (replaced by [{twin}], which applies too)"));
            }
            // Section names come from the file: no control character
            // reaches the terminal raw.
            writeln!(out, "{}", crate::diag::escape_controls(&row)).context("writing to stdout")?;
        }
    } else {
        let access = authz.access(user, repo, args.path.as_deref());
        writeln!(out, "{access}").context("writing to stdout")?;
    }
    // The process ends now: freeing a large model only costs time.
    std::mem::forget(authz);
    Ok(ExitCode::SUCCESS)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    Ok(fs_err::read(path)?)
}

/// The text of a file, or a `file-encoding` diagnostic.
fn utf8(bytes: Vec<u8>, path: &str, diags: &mut Vec<Diagnostic>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            diags.push(Diagnostic::file(
                Code::FileEncoding,
                path,
                format!(
                    "the file is not valid UTF-8 (at byte {})",
                    e.utf8_error().valid_up_to()
                ),
            ));
            String::new()
        }
    }
}

fn print_diags(diags: &[Diagnostic]) -> anyhow::Result<()> {
    let mut err = std::io::stderr().lock();
    for d in diags {
        writeln!(err, "{}", d.one_line()).context("writing to stderr")?;
        for note in &d.notes {
            writeln!(err, "  note: {note}").context("writing to stderr")?;
        }
    }
    Ok(())
}

fn report(diags: &[Diagnostic], code: ExitCode) -> anyhow::Result<ExitCode> {
    print_diags(diags)?;
    Ok(code)
}
