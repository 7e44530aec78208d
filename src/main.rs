//! The `rolesync` binary: parse the command line, set up logging, dispatch
//! to a subcommand and turn its outcome into an exit code.

use clap::Parser;
use rolesync::cli::Cli;

fn main() {
    let _cli = Cli::parse();
}
