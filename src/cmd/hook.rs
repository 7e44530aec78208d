//! `rolesync hook …`: the repository side of the daemon. Git's
//! `pre-receive` refuses a push whose commits do not validate or cannot be
//! read (the pusher sees the `path:line:col` lines as `remote:` output) and
//! SVN's `pre-commit` refuses a commit likewise (the committer sees them);
//! an accepted push shows its warnings the same way, an accepted SVN commit
//! through `post-commit` (Subversion shows hook output only on failure, so
//! post-commit exits 1 when there are warnings). `post-receive` /
//! `post-commit` notify the daemon; `install` puts the hooks where Git runs
//! them (`core.hooksPath`) or into the SVN repository's `hooks/`, chaining
//! hooks that were already there.

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::cli::{
    GitHookArgs, Hook, HookArgs, InstallArgs, NotifyArgs, SvnPostCommitArgs, SvnPreCommitArgs,
};
use crate::repo;
use crate::snapshot::{self, Limits};

/// Marks a hook file written by `rolesync hook install`.
const MARKER: &str = "# installed by `rolesync hook install`";

pub fn run(args: &HookArgs) -> anyhow::Result<ExitCode> {
    match &args.hook {
        Hook::PreReceive(a) => pre_receive(a),
        Hook::PostReceive(a) => post_receive(a),
        Hook::PreCommit(a) => pre_commit(a),
        Hook::PostCommit(a) => post_commit(a),
        Hook::Install(a) => install(a),
    }
}

/// The repository a hook runs in: `GIT_DIR`, else the current folder.
fn hook_repo() -> PathBuf {
    std::env::var_os("GIT_DIR").map_or_else(|| PathBuf::from("."), PathBuf::from)
}

fn pre_receive(args: &GitHookArgs) -> anyhow::Result<ExitCode> {
    let repo_path = hook_repo();
    let branch = match &args.branch {
        Some(b) => b.clone(),
        None => {
            repo::git_head_branch(&repo_path)?.context("HEAD names no branch; give --branch")?
        }
    };
    let wanted = format!("refs/heads/{branch}");
    let source = repo::Source::Git {
        path: repo_path.clone(),
        branch: None,
        subpath: args.path.clone(),
    };
    let limits = Limits {
        max_file_bytes: args.max_file_bytes,
        id_chars: crate::cli::id_chars(args.allow_non_ascii_ids),
        ..Limits::default()
    };
    let mut refused = false;
    let mut err = std::io::stderr().lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading the pushed refs")?;
        let mut parts = line.split_whitespace();
        let (Some(old), Some(new), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if name != wanted {
            continue;
        }
        if new.bytes().all(|b| b == b'0') {
            writeln!(
                err,
                "rolesync: refusing to delete the config branch {branch}"
            )?;
            refused = true;
            continue;
        }
        let commits = repo::git_commits_between(&repo_path, old, new)?;
        for (i, commit) in commits.iter().enumerate() {
            let short = &commit[..commit.len().min(12)];
            let input = match source.read(Some(commit), limits) {
                Ok(input) => input,
                Err(e) => {
                    refused = true;
                    writeln!(
                        err,
                        "rolesync: commit {short} on {branch} cannot be read: {e}"
                    )?;
                    continue;
                }
            };
            let report = snapshot::build(&input);
            if report.is_valid() {
                // The newest commit is what the daemon applies: its
                // warnings reach the pusher (as `remote:` lines).
                if i + 1 == commits.len() {
                    print_warnings(&mut err, &format!("commit {short} on {branch}"), &report)?;
                }
                continue;
            }
            refused = true;
            writeln!(err, "rolesync: commit {short} on {branch} is invalid:")?;
            for d in &report.diagnostics {
                writeln!(err, "{}", d.one_line())?;
            }
        }
    }
    if refused {
        writeln!(
            err,
            "rolesync: push refused; fix the files above and push again"
        )?;
        return Ok(ExitCode::from(super::EXIT_INVALID));
    }
    Ok(ExitCode::SUCCESS)
}

/// Print the warnings of a valid report (nothing when there are none): the
/// push or commit is accepted, but a misspelt role that drops a grant
/// should not go unnoticed.
fn print_warnings(
    err: &mut dyn std::io::Write,
    what: &str,
    report: &snapshot::Report,
) -> std::io::Result<()> {
    let warnings: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .collect();
    if warnings.is_empty() {
        return Ok(());
    }
    writeln!(
        err,
        "rolesync: {what} is accepted, with {} warning{}:",
        warnings.len(),
        if warnings.len() == 1 { "" } else { "s" }
    )?;
    for d in warnings {
        writeln!(err, "{}", d.one_line())?;
    }
    Ok(())
}

/// Tell the daemon to reload; a daemon that is not running is no error
/// (it reloads at start, and its poll catches up).
pub fn notify(state_dir: &Path) {
    let socket = state_dir.join(crate::daemon::HOOK_SOCKET);
    match std::os::unix::net::UnixStream::connect(&socket) {
        Ok(mut s) => {
            let _ = s.write_all(b"reload\n");
        }
        Err(e) => eprintln!(
            "rolesync: cannot notify the daemon at {}: {e}",
            socket.display()
        ),
    }
}

fn post_receive(args: &NotifyArgs) -> anyhow::Result<ExitCode> {
    // Drain the pushed refs so that git never sees a broken pipe.
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    notify(&args.state_dir);
    Ok(ExitCode::SUCCESS)
}

/// Whether a transaction or revision touches the configuration under
/// `prefix`. A changed folder may hold (or have held) configuration, so it
/// counts.
fn touches_config(repos: &Path, at: repo::svn::At, prefix: Option<&str>) -> anyhow::Result<bool> {
    Ok(repo::svn::changed(repos, at)?
        .into_iter()
        .any(|(path, is_dir)| {
            let rel = match prefix {
                Some(p) if path == p => return true,
                Some(p) => match path.strip_prefix(p).and_then(|r| r.strip_prefix('/')) {
                    Some(r) => r.to_owned(),
                    None => return prefix.is_some_and(|p| p.starts_with(&format!("{path}/"))),
                },
                None => path,
            };
            is_dir || repo::expected_kind(&rel).is_some()
        }))
}

fn trimmed(path: Option<&str>) -> Option<&str> {
    path.map(|p| p.trim_matches('/')).filter(|p| !p.is_empty())
}

fn pre_commit(args: &SvnPreCommitArgs) -> anyhow::Result<ExitCode> {
    let at = repo::svn::At::Transaction(&args.txn);
    let prefix = trimmed(args.path.as_deref());
    // Skip quickly when nothing of the configuration changed.
    if !touches_config(&args.repos, at, prefix)? {
        return Ok(ExitCode::SUCCESS);
    }
    let limits = Limits {
        max_file_bytes: args.max_file_bytes,
        id_chars: crate::cli::id_chars(args.allow_non_ascii_ids),
        ..Limits::default()
    };
    let mut err = std::io::stderr().lock();
    let input = match repo::svn::read(&args.repos, at, prefix, limits) {
        Ok(input) => input,
        Err(e) => {
            writeln!(err, "rolesync: this commit cannot be read: {e}")?;
            writeln!(err, "rolesync: commit refused")?;
            return Ok(ExitCode::from(super::EXIT_INVALID));
        }
    };
    let report = snapshot::build(&input);
    if report.is_valid() {
        // Subversion shows a pre-commit hook's output only when it
        // refuses; post-commit repeats the warnings where they are seen.
        print_warnings(&mut err, "this commit", &report)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        err,
        "rolesync: this commit makes the configuration invalid:"
    )?;
    for d in &report.diagnostics {
        writeln!(err, "{}", d.one_line())?;
    }
    writeln!(
        err,
        "rolesync: commit refused; fix the files above and commit again"
    )?;
    Ok(ExitCode::from(super::EXIT_INVALID))
}

/// Notify the daemon, then report the warnings of the committed
/// configuration. Subversion shows a post-commit hook's output only when
/// it fails, as `Warning: post-commit hook failed (exit code 1) with
/// output:`, so a revision with warnings exits 1: the commit is in either
/// way, and this is the only way the committer hears about them.
fn post_commit(args: &SvnPostCommitArgs) -> anyhow::Result<ExitCode> {
    tracing::debug!(repos = %args.repos.display(), rev = %args.rev, "post-commit");
    if let Some(dir) = &args.state_dir {
        notify(dir);
    }
    let at = repo::svn::At::Revision(Some(&args.rev));
    let prefix = trimmed(args.path.as_deref());
    if !touches_config(&args.repos, at, prefix)? {
        return Ok(ExitCode::SUCCESS);
    }
    let limits = Limits {
        max_file_bytes: args.max_file_bytes,
        ..Limits::default()
    };
    let input = repo::svn::read(&args.repos, at, prefix, limits)?;
    let report = snapshot::build(&input);
    if report.diagnostics.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut err = std::io::stderr().lock();
    if report.is_valid() {
        print_warnings(&mut err, &format!("revision {}", args.rev), &report)?;
    } else {
        writeln!(err, "rolesync: revision {} is invalid:", args.rev)?;
        for d in &report.diagnostics {
            writeln!(err, "{}", d.one_line())?;
        }
    }
    Ok(ExitCode::from(super::EXIT_INVALID))
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn install(args: &InstallArgs) -> anyhow::Result<ExitCode> {
    let source = repo::Source::open(&args.repo)?;
    let exe = std::env::current_exe().context("locating the rolesync binary")?;
    let exe = shell_quote(&exe.to_string_lossy());
    let path = match &source {
        repo::Source::Git { path, .. } => path,
        repo::Source::Svn { path, .. } => return install_svn(args, path, &exe),
        repo::Source::Folder(_) => bail!(
            "{} is neither a Git nor an SVN repository",
            args.repo.display()
        ),
    };
    // Where Git runs hooks: `core.hooksPath` when it is set.
    let hooks = std::path::absolute(repo::git_hooks_dir(path)?)?;
    if !hooks.starts_with(std::path::absolute(path)?) {
        eprintln!(
            "rolesync: core.hooksPath points outside the repository: every repository that uses {} runs these hooks",
            crate::diag::escape_controls(&hooks.to_string_lossy())
        );
    }
    fs_err::create_dir_all(&hooks)?;
    let mut pre = format!(
        "{exe} hook pre-receive --max-file-bytes {}",
        args.hook.max_file_bytes
    );
    if let Some(b) = &args.hook.branch {
        pre.push_str(&format!(" --branch {}", shell_quote(b)));
    }
    if let Some(p) = &args.hook.path {
        pre.push_str(&format!(" --path {}", shell_quote(p)));
    }
    if args.hook.allow_non_ascii_ids {
        pre.push_str(" --allow-non-ascii-ids");
    }
    write_hook(&hooks.join("pre-receive"), &pre)?;
    match &args.state_dir {
        Some(dir) => {
            let dir = std::path::absolute(dir)?;
            let post = format!(
                "{exe} hook post-receive --state-dir {}",
                shell_quote(&dir.to_string_lossy())
            );
            write_hook(&hooks.join("post-receive"), &post)?;
        }
        None => eprintln!(
            "rolesync: no --state-dir: post-receive not installed (the daemon's file watch still sees pushes)"
        ),
    }
    println!(
        "rolesync: hooks installed in {}",
        crate::diag::escape_controls(&hooks.to_string_lossy())
    );
    Ok(ExitCode::SUCCESS)
}

/// SVN runs hooks with an empty environment and arguments `REPOS TXN` /
/// `REPOS REV`; the scripts set a PATH (for `svnlook`) and a UTF-8 locale.
fn install_svn(args: &InstallArgs, repo: &Path, exe: &str) -> anyhow::Result<ExitCode> {
    if args.hook.branch.is_some() {
        bail!(
            "--branch is for Git repositories; {} is an SVN repository",
            repo.display()
        );
    }
    let hooks = std::path::absolute(repo.join("hooks"))?;
    let env = "PATH=/usr/local/bin:/usr/bin:/bin LC_ALL=C.UTF-8";
    let mut pre = format!(
        "{env} {exe} hook pre-commit \"$1\" \"$2\" --max-file-bytes {}",
        args.hook.max_file_bytes
    );
    if let Some(p) = &args.hook.path {
        pre.push_str(&format!(" --path {}", shell_quote(p)));
    }
    if args.hook.allow_non_ascii_ids {
        pre.push_str(" --allow-non-ascii-ids");
    }
    write_hook(&hooks.join("pre-commit"), &pre)?;
    // post-commit reports warnings (the only hook output Subversion shows
    // on success) and, with --state-dir, notifies the daemon.
    let mut post = format!(
        "{env} {exe} hook post-commit \"$1\" \"$2\" --max-file-bytes {}",
        args.hook.max_file_bytes
    );
    if let Some(p) = &args.hook.path {
        post.push_str(&format!(" --path {}", shell_quote(p)));
    }
    match &args.state_dir {
        Some(dir) => {
            let dir = std::path::absolute(dir)?;
            post.push_str(&format!(
                " --state-dir {}",
                shell_quote(&dir.to_string_lossy())
            ));
        }
        None => eprintln!(
            "rolesync: no --state-dir: post-commit reports warnings but notifies no daemon (the daemon's file watch still sees commits)"
        ),
    }
    write_hook(&hooks.join("post-commit"), &post)?;
    println!(
        "rolesync: hooks installed in {}",
        crate::diag::escape_controls(&hooks.to_string_lossy())
    );
    Ok(ExitCode::SUCCESS)
}

/// Write one hook. A hook that was there before (and is not ours) moves to
/// `<name>.chained` and runs first, with the same input; if it refuses, so
/// does the push.
fn write_hook(path: &Path, command: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let chained = path.with_extension("chained");
    if let Ok(existing) = fs_err::read_to_string(path)
        && !existing.contains(MARKER)
    {
        if chained.exists() {
            bail!(
                "{} exists and so does {}; merge them by hand",
                path.display(),
                chained.display()
            );
        }
        fs_err::rename(path, &chained)?;
    }
    let chained_name = shell_quote(&chained.to_string_lossy());
    let script = format!(
        "#!/bin/sh\n{MARKER}\n# A hook that was here before runs first, as {chained_name}.\n\
         input=$(cat)\n\
         if [ -x {chained_name} ]; then\n    printf '%s\\n' \"$input\" | {chained_name} \"$@\" || exit $?\nfi\n\
         printf '%s\\n' \"$input\" | {command}\n"
    );
    crate::publish::publish(path, script.as_bytes())?;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}
