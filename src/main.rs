//! The `rolesync` binary: parse the command line, set up logging, dispatch
//! to a subcommand and turn its outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;
use rolesync::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Access(args) => rolesync::cmd::access::run(args),
        _ => Ok(ExitCode::SUCCESS),
    };
    outcome.unwrap_or_else(|e| {
        eprintln!("rolesync: {e:#}");
        ExitCode::from(2)
    })
}
