//! The `rolesync` binary: parse the command line, set up logging, dispatch
//! to a subcommand and turn its outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;
use rolesync::cli::{Cli, Command, LogFormat};
use rolesync::cmd;

/// mimalloc instead of the system allocator: a cold build makes and frees
/// about a million small strings and vectors, on several threads. Built
/// without transparent huge pages (Cargo feature `no_thp`): with them the
/// kernel zeroes 2 MiB at a time and a render's peak memory grows.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = cli.log_format.unwrap_or_else(|| match &cli.command {
        Command::Serve(args) => cmd::serve::log_format(args),
        _ => LogFormat::Text,
    });
    init_tracing(
        cli.verbose,
        format,
        matches!(cli.command, Command::Serve(_)),
    );
    let outcome = match &cli.command {
        Command::Validate(args) => cmd::validate::run(args),
        Command::Render(args) => cmd::render::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Hook(args) => cmd::hook::run(args),
        Command::Access(args) => cmd::access::run(args),
        Command::Authz(args) => cmd::access::run_authz(args),
        Command::Check(args) => cmd::check::run(args, cmd::check::Mode::Check),
        Command::Explain(args) => cmd::check::run(args, cmd::check::Mode::Explain),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Test(args) => cmd::test::run(args),
        Command::Fleet(args) => cmd::fleet::run(args),
        Command::Ldap(args) => cmd::ldap::run(args),
        Command::Completions(args) => cmd::docs::completions(args),
        Command::Man(args) => cmd::docs::man(args),
    };
    outcome.unwrap_or_else(|err| {
        eprintln!("rolesync: error: {err:#}");
        ExitCode::from(cmd::EXIT_COULD_NOT_RUN)
    })
}

/// Log lines on stderr, in `format`. By default warnings and errors, and
/// for `serve` also rolesync's own `info` lines (each reload, start and
/// stop); each -v shows more; ROLESYNC_LOG (an `EnvFilter`) overrides.
fn init_tracing(verbose: u8, format: LogFormat, serve: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (verbose, serve) {
        (0, false) => "warn",
        (0, true) => "warn,rolesync=info",
        (1, _) => "info",
        (2, _) => "debug",
        _ => "trace",
    };
    let filter =
        EnvFilter::try_from_env("ROLESYNC_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}
