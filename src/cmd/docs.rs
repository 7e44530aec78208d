//! `rolesync completions SHELL` and `rolesync man`: the shell completion
//! scripts (clap_complete) and the man pages (clap_mangen), both made from
//! the clap definitions of `cli`, so they never disagree with `--help`.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::cli::{Cli, CompletionShell, CompletionsArgs, ManArgs};

/// Print the completion script of `args.shell`.
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    use clap_complete::Shell;
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut Cli::command(), "rolesync", &mut out);
    out.flush().context("writing the completion script")?;
    Ok(ExitCode::SUCCESS)
}

/// Print rolesync(1), or write every page into `args.out_dir`.
pub fn man(args: &ManArgs) -> anyhow::Result<ExitCode> {
    let cmd = Cli::command();
    match &args.out_dir {
        Some(dir) => {
            fs_err::create_dir_all(dir)?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("writing the man pages into {}", dir.display()))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .context("writing the man page")?;
            out.flush().context("writing the man page")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
