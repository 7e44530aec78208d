//! The `rolesync` binary: parse the command line, set up logging, dispatch
//! to a subcommand and turn its outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;
use rolesync::cli::{Cli, Command};
use rolesync::cmd;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    init_build_pool();
    let outcome = match &cli.command {
        Command::Validate(args) => cmd::validate::run(args),
        Command::Render(args) => cmd::render::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Hook(args) => cmd::hook::run(args),
        Command::Access(args) => cmd::access::run(args),
        Command::Check(args) => cmd::check::run(args, cmd::check::Mode::Check),
        Command::Explain(args) => cmd::check::run(args, cmd::check::Mode::Explain),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Test(args) => cmd::test::run(args),
    };
    outcome.unwrap_or_else(|err| {
        eprintln!("rolesync: error: {err:#}");
        ExitCode::from(cmd::EXIT_COULD_NOT_RUN)
    })
}

/// The most threads `snapshot::build` parses files on: rayon's global
/// pool, which the pure core runs its parallel steps in, gets this many
/// threads, or fewer on a machine with fewer cores.
const MAX_BUILD_THREADS: usize = 4;

fn init_build_pool() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // This fails only when the global pool exists already; it is used then.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(cores.min(MAX_BUILD_THREADS))
        .thread_name(|i| format!("rolesync-build-{i}"))
        .build_global();
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter =
        EnvFilter::try_from_env("ROLESYNC_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}
