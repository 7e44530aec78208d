//! The command line, as clap definitions. Every subcommand's arguments are
//! one struct, handed whole to its `cmd::*::run`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keep Subversion access files in step with Polarion role configuration.
#[derive(Debug, Parser)]
#[command(name = "rolesync", version, about, long_about = None)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); ROLESYNC_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration; exit 0 when valid (warnings allowed), 1 when invalid.
    Validate(ValidateArgs),
    /// Print the synchronised access file (or write it with -o).
    Render(RenderArgs),
    /// Print a user's access to a path (rw, r or no), like `svnauthz accessof`.
    Access(AccessArgs),
}

/// Where the configuration comes from.
#[derive(Debug, Args, Clone)]
pub struct RepoArgs {
    /// The config repository: a plain folder (Git and SVN repositories come later).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per diagnostic, plus the source snippet on a terminal.
    #[default]
    Human,
    /// One JSON document on stdout.
    Json,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Output format for diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Write the access file here (atomically) instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Output format for diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct AccessArgs {
    /// The user; without it the anonymous user.
    #[arg(long)]
    pub user: Option<String>,
    /// The path in the repository, e.g. /trunk/src.
    #[arg(long, required_unless_present = "list", conflicts_with = "list")]
    pub path: Option<String>,
    /// The repository name for [repository:/path] sections; without it only
    /// repository-neutral sections count.
    #[arg(long)]
    pub repository: Option<String>,
    /// A global groups file (svnserve groups-db).
    #[arg(long)]
    pub groups_file: Option<PathBuf>,
    /// List every section that applies to the user, with its access.
    #[arg(long)]
    pub list: bool,
    /// The access file.
    pub file: PathBuf,
}
