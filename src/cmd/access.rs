//! `rolesync access`: what access a user has to a path, answered like
//! `svnauthz accessof` from an access file (and a global groups file), or
//! with `--list` the sections that apply to the user; and `rolesync authz
//! validate`, `svnauthz validate` of a standalone access file.
//!
//! Exit status, as `svnauthz`'s: 0 with the answer on stdout (or `--is`
//! matched, or the file is valid); 1 when a file is invalid (the
//! diagnostics go to stderr, one line each); 2 when the command could not
//! run (a missing file, bad arguments; `main` maps an `Err` to 2, clap
//! exits 2 on its own); 3 when `--is` did not match.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::authz::{Access, Authz, AuthzFile};
use crate::cli::{AccessArgs, AuthzArgs, AuthzCommand, IsAccess};
use crate::diag::{Code, Diagnostic, Source};

/// `svnauthz accessof`'s exit status when `--is` does not match.
pub const EXIT_IS_MISMATCH: u8 = 3;

/// An access file (and groups file) read as text, or the diagnostics of
/// why not.
struct Texts {
    authz_path: String,
    authz_text: String,
    groups: Option<(String, String)>,
}

impl Texts {
    fn read(
        file: &Path,
        groups_file: Option<&Path>,
    ) -> anyhow::Result<Result<Texts, Vec<Diagnostic>>> {
        let authz_path = display(file);
        let authz_text = read(file)?;
        let groups = match groups_file {
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
            return Ok(Err(diags));
        }
        Ok(Ok(Texts {
            authz_path,
            authz_text,
            groups,
        }))
    }

    fn load(&self) -> Result<Authz, Vec<Diagnostic>> {
        let input = AuthzFile {
            path: &self.authz_path,
            text: &self.authz_text,
        };
        let groups = self
            .groups
            .as_ref()
            .map(|(path, text)| AuthzFile { path, text });
        Authz::load_input(input, groups)
    }
}

/// Run `rolesync access`.
pub fn run(args: &AccessArgs) -> anyhow::Result<ExitCode> {
    let texts = match Texts::read(&args.file, args.groups_file.as_deref())? {
        Ok(t) => t,
        Err(diags) => return report(&diags, ExitCode::from(1)),
    };
    let authz = match texts.load() {
        Ok(a) => a,
        Err(diags) => return report(&diags, ExitCode::from(1)),
    };
    print_diags(authz.warnings())?;
    let code = if args.list {
        list(&authz, &texts, args)?;
        ExitCode::SUCCESS
    } else {
        answer(&authz, args)?
    };
    // The process ends now: freeing a large model only costs time.
    std::mem::forget(authz);
    Ok(code)
}

/// Run `rolesync authz validate`.
pub fn run_authz(args: &AuthzArgs) -> anyhow::Result<ExitCode> {
    let AuthzCommand::Validate(v) = &args.command;
    let texts = match Texts::read(&v.file, v.groups_file.as_deref())? {
        Ok(t) => t,
        Err(diags) => return report(&diags, ExitCode::from(1)),
    };
    match texts.load() {
        Ok(authz) => {
            print_diags(authz.warnings())?;
            std::mem::forget(authz);
            Ok(ExitCode::SUCCESS)
        }
        Err(diags) => report(&diags, ExitCode::from(1)),
    }
}

/// The access (or, with `--is`, only the exit status).
fn answer(authz: &Authz, args: &AccessArgs) -> anyhow::Result<ExitCode> {
    let user = args.user.as_deref();
    let repo = args.repository.as_deref();
    let access = match (&args.path, args.recursive) {
        (Some(p), true) => authz.access_below(user, repo, p),
        (path, _) => authz.access(user, repo, path.as_deref()),
    };
    let Some(want) = args.is else {
        writeln!(std::io::stdout().lock(), "{access}").context("writing to stdout")?;
        return Ok(ExitCode::SUCCESS);
    };
    if is_access(want) == access {
        return Ok(ExitCode::SUCCESS);
    }
    let path = args
        .path
        .as_deref()
        .map_or_else(|| "/".to_owned(), crate::authz::canonicalize);
    let row = format!("rolesync: {path} is '{access}', not '{}'", is_access(want));
    writeln!(
        std::io::stderr().lock(),
        "{}",
        crate::diag::escape_controls(&row)
    )
    .context("writing to stderr")?;
    Ok(ExitCode::from(EXIT_IS_MISMATCH))
}

fn is_access(is: IsAccess) -> Access {
    match is {
        IsAccess::Rw => Access::ReadWrite,
        IsAccess::R => Access::Read,
        IsAccess::No => Access::No,
    }
}

/// `--list`: every section that applies to the user, with its access.
fn list(authz: &Authz, texts: &Texts, args: &AccessArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let authz_path = &texts.authz_path;
    let src = Source::new(authz_path, &texts.authz_text);
    for l in authz.list(args.user.as_deref(), args.repository.as_deref()) {
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
    Ok(())
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
