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
}

/// Where the configuration comes from.
#[derive(Debug, Args, Clone)]
pub struct RepoArgs {
    /// The config repository: a Git repository (bare or not; the committed
    /// tree is read, never the work tree) or a plain folder.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The revision to read (Git: a commit, tag or branch); default: HEAD.
    #[arg(long)]
    pub rev: Option<String>,
    /// Refuse configuration files larger than this many bytes.
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_file_bytes, value_name = "BYTES")]
    pub max_file_bytes: usize,
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
