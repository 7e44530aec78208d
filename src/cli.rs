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
    /// How log lines are written on stderr: `text` (one line each), or
    /// `json` (one JSON object a line, for journald or Loki). Default:
    /// `log_format` of `serve --config`, else text.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

/// The format of the log lines (`--log-format`, `log_format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One line of text an event: time, level, target, message, fields.
    #[default]
    Text,
    /// One JSON object a line: `timestamp`, `level`, `target`, `message`
    /// and every field of the event as a key.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration; exit 0 when valid (warnings allowed), 1 when invalid.
    Validate(ValidateArgs),
    /// Print the synchronised access file (or write it with -o).
    Render(RenderArgs),
    /// Run the daemon: reload on every commit, publish the access file, serve the HTTP API.
    Serve(ServeArgs),
    /// Repository hooks: validate pushed commits, notify the daemon, install.
    Hook(HookArgs),
    /// Print a user's access to a path (rw, r or no), like `svnauthz accessof`.
    Access(AccessArgs),
    /// Standalone Subversion access files: `authz validate FILE`.
    Authz(AuthzArgs),
    /// Decide a permission with Polarion's semantics: prints allow or deny; exit 0 or 1.
    Check(CheckArgs),
    /// Like check, but print the chain: user → role → grant or deny → decision.
    Explain(CheckArgs),
    /// What a change does: who gains or loses which role group, SVN path access and permission.
    Diff(DiffArgs),
    /// Run the policy tests (.polarion/tests/*.toml): exit 0 when all pass, 1 when any fails.
    Test(TestArgs),
    /// Ask several rolesync daemons what they serve.
    Fleet(FleetArgs),
    /// The directory (`[ldap]`): `ldap sync` reads it once and prints what it answered.
    Ldap(LdapArgs),
    /// Print a shell completion script (bash, zsh or fish) to stdout.
    Completions(CompletionsArgs),
    /// Print the man page rolesync(1) as roff, or write every page to a folder.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell whose completion script to print.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write rolesync.1 and a page per subcommand (rolesync-serve.1, …)
    /// into this folder instead of printing rolesync(1).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FleetArgs {
    #[command(subcommand)]
    pub command: FleetCommand,
}

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// One line per daemon (`/v1/status`): URL, applied revision, applied
    /// since, lag behind its remote, state (ok, stale, unreachable,
    /// refused, diverged); exit 1 unless every daemon is ok and all apply
    /// the same revision.
    Status(FleetStatusArgs),
}

#[derive(Debug, Args)]
pub struct FleetStatusArgs {
    /// The daemons' API addresses: `http://HOST:PORT` (a path after it is
    /// kept as a prefix; port 8411 when none is given).
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// A file holding the bearer token (else the environment variable
    /// ROLESYNC_TOKEN; needed for daemons that listen beyond loopback).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// How long one daemon may take to answer (connection included).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
    /// `text` (one line per daemon) or `json` (one document).
    #[arg(long, value_enum, default_value_t)]
    pub format: FleetFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum FleetFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct LdapArgs {
    #[command(subcommand)]
    pub command: LdapCommand,
}

#[derive(Debug, Subcommand)]
pub enum LdapCommand {
    /// One sync of the `[ldap]` table's directory, as the daemon makes it:
    /// each group asked for with its member count (and members with
    /// --members), the accounts and how many are locked; exit 0 when the
    /// sync succeeded, 2 with the error (server, DN) when it did not.
    Sync(LdapSyncArgs),
}

#[derive(Debug, Args)]
pub struct LdapSyncArgs {
    /// The daemon's TOML file; its `[ldap]` table is read (other keys are not).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// A group DN to resolve (repeatable), besides those `--repo`'s groups.xml names.
    #[arg(long = "group", value_name = "DN")]
    pub groups: Vec<String>,
    /// Also resolve every directory group and search this config
    /// repository's `groups.xml` names (`ldap=`, `ldap-base=` + `ldap-filter=`).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    /// The revision of `--repo` to read (Git: a commit, tag or branch); default: HEAD.
    #[arg(long, requires = "repo")]
    pub rev: Option<String>,
    /// List every member (login and the nested groups that led to it).
    #[arg(long)]
    pub members: bool,
    /// `text` or `json` (one document).
    #[arg(long, value_enum, default_value_t)]
    pub format: FleetFormat,
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
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The bounds on configuration input beyond the file size
/// (`snapshot::Limits`; docs/security.md lists each with its default).
#[derive(Debug, Args, Clone)]
pub struct LimitArgs {
    /// Refuse a revision whose configuration files together are larger than this.
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_total_bytes, value_name = "BYTES")]
    pub max_total_bytes: usize,
    /// Refuse XML elements nested deeper than this.
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_xml_depth, value_name = "LEVELS")]
    pub max_xml_depth: usize,
    /// Refuse an XML file with more elements than this.
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_xml_elements, value_name = "N")]
    pub max_xml_elements: usize,
    /// Refuse an XML attribute value or element text longer than this.
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_value_bytes, value_name = "BYTES")]
    pub max_value_bytes: usize,
    /// Refuse a login, id or permission name longer than this.
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_name_bytes, value_name = "BYTES")]
    pub max_name_bytes: usize,
    /// Refuse a custom-set query nested deeper than this (parentheses and NOT; at most 64).
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_query_depth, value_name = "LEVELS")]
    pub max_query_depth: usize,
    /// Refuse to render an access file larger than this.
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_access_bytes, value_name = "BYTES")]
    pub max_access_bytes: usize,
    /// Warn when the access file costs Subversion more than this to load
    /// (distinct users named × rule sections).
    #[arg(long, default_value_t = crate::snapshot::Limits::default().warn_access_cost, value_name = "N")]
    pub warn_access_cost: u64,
    /// Accept non-ASCII letters and digits in role, group, project and custom-set ids
    /// (look-alikes such as Cyrillic `а` become possible; bidi and invisible characters stay refused).
    #[arg(long)]
    pub allow_non_ascii_ids: bool,
    /// Refuse a revision with more policy-test files (.polarion/tests/*.toml) than this.
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_test_files, value_name = "N")]
    pub max_test_files: usize,
    /// Refuse a policy-test file with more assertions than this.
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_test_assertions_per_file, value_name = "N")]
    pub max_test_assertions_per_file: usize,
    /// Refuse a revision whose policy-test files hold more assertions than this together.
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_test_assertions, value_name = "N")]
    pub max_test_assertions: usize,
    /// Parse a configuration of 64 files or more on this many threads (1: on one) [default: 4].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub max_build_threads: Option<u16>,
    /// Refuse a distinguished name in groups.xml (`ldap=`, `ldap-base=`) longer than this.
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_dn_bytes, value_name = "BYTES")]
    pub max_dn_bytes: usize,
    /// Refuse an LDAP search filter in groups.xml (`ldap-filter=`) longer than this.
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_ldap_filter_bytes, value_name = "BYTES")]
    pub max_ldap_filter_bytes: usize,
    /// Refuse an LDAP search filter nested deeper than this (parentheses; at most 64).
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_ldap_filter_depth, value_name = "LEVELS")]
    pub max_ldap_filter_depth: usize,
}

impl LimitArgs {
    /// The limits these flags give, with `max_file_bytes`.
    pub fn limits(&self, max_file_bytes: usize) -> crate::snapshot::Limits {
        crate::snapshot::Limits {
            max_file_bytes,
            max_total_bytes: self.max_total_bytes,
            max_xml_depth: self.max_xml_depth,
            max_xml_elements: self.max_xml_elements,
            max_value_bytes: self.max_value_bytes,
            max_name_bytes: self.max_name_bytes,
            max_query_depth: self.max_query_depth,
            max_access_bytes: self.max_access_bytes,
            warn_access_cost: self.warn_access_cost,
            id_chars: id_chars(self.allow_non_ascii_ids),
            max_message_bytes: crate::snapshot::Limits::DEFAULT.max_message_bytes,
            max_test_files: self.max_test_files,
            max_test_assertions_per_file: self.max_test_assertions_per_file,
            max_test_assertions: self.max_test_assertions,
            max_build_threads: self.max_build_threads.map_or(
                crate::snapshot::Limits::DEFAULT.max_build_threads,
                usize::from,
            ),
            max_dn_bytes: self.max_dn_bytes,
            max_ldap_filter_bytes: self.max_ldap_filter_bytes,
            max_ldap_filter_depth: self.max_ldap_filter_depth,
        }
    }
}

/// `--allow-non-ascii-ids` as the ids' character set.
pub fn id_chars(allow_non_ascii: bool) -> crate::ident::IdChars {
    if allow_non_ascii {
        crate::ident::IdChars::UnicodeLetters
    } else {
        crate::ident::IdChars::Ascii
    }
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
    /// Also apply the guard rails to the change from this configuration (a
    /// folder, or a repository at its newest revision) to --repo, as the
    /// hooks do.
    #[arg(long, value_name = "PATH")]
    pub previous: Option<std::path::PathBuf>,
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
    #[command(flatten)]
    pub publish: PublishArgs,
    /// Output format for diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// A TOML file with any of the options below (same names, `_` for `-`);
    /// flags given on the command line override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The config repository: Git (bare or not) or a plain folder. Default: `.`.
    #[arg(long)]
    pub repo: Option<PathBuf>,
    /// Follow a remote configuration repository instead of `--repo`: Git
    /// (`git://`, `file://`) or SVN (`svn://`, `http(s)://`, `file://`),
    /// fetched into a mirror in the state folder (needs `--state-dir`). No
    /// credentials in the URL: give them with `--remote-credentials-file`
    /// or ROLESYNC_REMOTE_USERNAME / ROLESYNC_REMOTE_PASSWORD.
    #[arg(long, value_name = "URL", conflicts_with = "repo")]
    pub remote: Option<String>,
    /// The remote's kind. Default: svn for `svn://`, `svn+ssh://` and a
    /// `file://` SVN repository, else git.
    #[arg(long, value_enum, value_name = "KIND")]
    pub remote_kind: Option<crate::repo::RemoteKind>,
    /// How often the remote is polled (`POST /v1/reload` fetches at once).
    /// Default: 2s.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub remote_poll: Option<std::time::Duration>,
    /// A TOML file with the remote's `username` and `password`.
    #[arg(long, value_name = "FILE")]
    pub remote_credentials_file: Option<PathBuf>,
    /// Apply a remote head that does not descend from the applied commit (a
    /// force-push back); refused by default.
    #[arg(long)]
    pub allow_rewind: bool,
    /// The Git branch to follow. Default: the repository's HEAD branch.
    #[arg(long)]
    pub branch: Option<String>,
    /// The folder inside the repository that holds the configuration.
    #[arg(long, value_name = "SUBDIR")]
    pub path: Option<String>,
    /// Publish the synchronised access file here (atomically, only when it changes).
    #[arg(long, value_name = "FILE")]
    pub access_out: Option<PathBuf>,
    /// Keep the last applied revision and the audit log (audit.jsonl) here.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Address of the HTTP API. Default: 127.0.0.1:8411. Beyond loopback a token is required.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// A file holding the bearer token of the HTTP API.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Safety-net poll interval (e.g. `30s`; `0s` turns it off). Default: 30s.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub poll_interval: Option<std::time::Duration>,
    /// Quiet time that ends a burst of file events before the reload (a Git ref or SVN `db/current` renamed into place ends its burst at once). Default: 5ms (Git, SVN), 20ms (a folder).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub debounce: Option<std::time::Duration>,
    /// Refuse configuration files larger than this many bytes. Default: 16 MiB.
    #[arg(long, value_name = "BYTES")]
    pub max_file_bytes: Option<usize>,
    /// The request header that names the user for `GET /v1/authorize` (set it
    /// in the reverse proxy, e.g. from $remote_user). Default: X-Remote-User.
    #[arg(long, value_name = "NAME")]
    pub user_header: Option<String>,
    /// The reverse proxy that asks `/v1/authorize`, and so the headers that
    /// carry the original method and URI: `nginx` (X-Original-Method,
    /// X-Original-URI) or `forward-auth` (Caddy, Traefik: X-Forwarded-Method,
    /// X-Forwarded-Uri). Default: nginx.
    #[arg(long, value_enum, value_name = "KIND")]
    pub proxy: Option<crate::api::policy::ProxyKind>,
    /// Which layers of a REST call `/v1/authorize` decides: `endpoint` (the
    /// REST endpoint permission only; Polarion enforces item permissions
    /// itself) or `both` (also the item permission, docs/permissions.md
    /// "Two layers"). Default: endpoint.
    #[arg(long, value_enum, value_name = "LAYERS")]
    pub authorize_layers: Option<crate::api::policy::AuthorizeLayers>,
    /// Log every decision of /v1/authorize and /v1/check as a JSON line to
    /// FILE, or to stdout with `-` (README "Decision log"; its bounds are
    /// `decision_log_*` keys of the config file). Default: off.
    #[arg(long, value_name = "FILE|-")]
    pub decision_log: Option<String>,
    /// Accept non-ASCII letters and digits in ids (see `validate --help`).
    #[arg(long)]
    pub allow_non_ascii_ids: bool,
    #[command(flatten)]
    pub publish: PublishArgs,
    #[command(flatten)]
    pub signed: SignedArgs,
}

/// Signed commits: apply only Git commits signed by a trusted key.
#[derive(Debug, Args, Clone, Default)]
pub struct SignedArgs {
    /// Apply a Git revision only when its head commit is signed by a key of
    /// --allowed-signers (SSH, `gpg.format = ssh`) or --gpg-home (OpenPGP);
    /// a refused commit is not applied and the last good one stays in force.
    #[arg(long)]
    pub require_signed: bool,
    /// The allowed-signers file (ssh-keygen's format, as Git's
    /// `gpg.ssh.allowedSignersFile`) whose keys --require-signed trusts.
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
    /// A GnuPG home folder (GNUPGHOME) whose keyring holds the OpenPGP
    /// keys --require-signed trusts (every key in it is trusted).
    #[arg(long, value_name = "DIR")]
    pub gpg_home: Option<PathBuf>,
}

/// Mode and group of a published access file.
#[derive(Debug, Args, Clone, Default)]
pub struct PublishArgs {
    /// Permission bits of the published access file, in octal (e.g. 0640).
    /// Default: those of the previous file (0644 for a new one).
    #[arg(long, value_name = "OCTAL", value_parser = crate::publish::parse_mode)]
    pub access_mode: Option<u32>,
    /// Group of the published access file, a name (from /etc/group) or a
    /// number. Default: that of the previous file (the daemon's for a new one).
    #[arg(long, value_name = "GROUP", value_parser = crate::publish::resolve_group)]
    pub access_group: Option<u32>,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub hook: Hook,
}

#[derive(Debug, Subcommand)]
pub enum Hook {
    /// Git pre-receive: validate every commit pushed to the config branch;
    /// refuse the push with `path:line:col` diagnostics.
    PreReceive(PreReceiveArgs),
    /// Git post-receive: tell the daemon to reload.
    PostReceive(NotifyArgs),
    /// SVN pre-commit: validate the transaction's configuration; refuse the
    /// commit with `path:line:col` diagnostics.
    PreCommit(SvnPreCommitArgs),
    /// SVN post-commit: tell the daemon to reload.
    PostCommit(SvnPostCommitArgs),
    /// Install the hooks into a Git or SVN repository (idempotent; existing hooks are chained).
    Install(InstallArgs),
}

#[derive(Debug, Args, Clone)]
pub struct SvnPreCommitArgs {
    /// The repository (the hook's first argument).
    pub repos: PathBuf,
    /// The transaction (the hook's second argument).
    pub txn: String,
    /// The daemon's state folder: its cache of the last applied
    /// revision's files (`last-good.files`) spares reading what the commit
    /// does not touch (without it, or when it is unusable, the hook reads
    /// the youngest revision in full).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(flatten)]
    pub read: HookReadArgs,
}

#[derive(Debug, Args, Clone)]
pub struct PreReceiveArgs {
    #[command(flatten)]
    pub hook: GitHookArgs,
    /// The daemon's state folder: its cache of the last applied
    /// revision's files (`last-good.files`) spares reading the trees the
    /// push does not change (without it, or when it is unusable, the hook
    /// reads the branch's tip in full).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct SvnPostCommitArgs {
    /// The repository (the hook's first argument).
    pub repos: PathBuf,
    /// The new revision (the hook's second argument).
    pub rev: String,
    /// The daemon's state folder (its `rolesync.sock` is notified).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(flatten)]
    pub read: HookReadArgs,
}

#[derive(Debug, Args, Clone)]
pub struct GitHookArgs {
    /// The config branch (Git; default: the repository's HEAD branch).
    #[arg(long)]
    pub branch: Option<String>,
    #[command(flatten)]
    pub read: HookReadArgs,
}

/// How every hook reads the configuration (the same flags on each hook).
#[derive(Debug, Args, Clone)]
pub struct HookReadArgs {
    /// The folder inside the repository that holds the configuration.
    #[arg(long, value_name = "SUBDIR")]
    pub path: Option<String>,
    /// Refuse configuration files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = crate::snapshot::Limits::default().max_file_bytes)]
    pub max_file_bytes: usize,
    /// Accept non-ASCII letters and digits in ids (see `validate --help`).
    #[arg(long)]
    pub allow_non_ascii_ids: bool,
}

impl HookReadArgs {
    /// The limits these flags set (the rest at their defaults).
    pub fn limits(&self) -> crate::snapshot::Limits {
        crate::snapshot::Limits {
            max_file_bytes: self.max_file_bytes,
            id_chars: id_chars(self.allow_non_ascii_ids),
            ..crate::snapshot::Limits::default()
        }
    }

    /// These flags again, as a hook script passes them on.
    pub fn to_flags(&self, quote: impl Fn(&str) -> String) -> String {
        let mut flags = format!(" --max-file-bytes {}", self.max_file_bytes);
        if let Some(p) = &self.path {
            flags.push_str(&format!(" --path {}", quote(p)));
        }
        if self.allow_non_ascii_ids {
            flags.push_str(" --allow-non-ascii-ids");
        }
        flags
    }
}

#[derive(Debug, Args, Clone)]
pub struct NotifyArgs {
    /// The daemon's state folder (its `rolesync.sock` is notified).
    #[arg(long, value_name = "DIR")]
    pub state_dir: PathBuf,
}

#[derive(Debug, Args, Clone)]
pub struct InstallArgs {
    /// The repository to install the hooks into.
    #[arg(long)]
    pub repo: PathBuf,
    /// The daemon's state folder, for the post-receive notification and the
    /// pre-receive / pre-commit hooks' cache of the last applied revision.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(flatten)]
    pub hook: GitHookArgs,
}

#[derive(Debug, Args)]
pub struct AccessArgs {
    /// The user (`--user` is an alias); without it, or empty, the anonymous user.
    #[arg(long = "username", visible_alias = "user", value_name = "USER")]
    pub user: Option<String>,
    /// The path in the repository, e.g. /trunk/src; without it the highest
    /// access anywhere in the repository (as `svnauthz accessof`).
    #[arg(long, conflicts_with = "list")]
    pub path: Option<String>,
    /// The repository name for [repository:/path] sections; without it only
    /// repository-neutral sections count.
    #[arg(long)]
    pub repository: Option<String>,
    /// A global groups file (svnserve groups-db).
    #[arg(long, value_name = "FILE")]
    pub groups_file: Option<PathBuf>,
    /// Print nothing; exit 0 when the access is exactly this, 3 when not.
    #[arg(long = "is", value_name = "rw|r|no", conflicts_with = "list")]
    pub is: Option<IsAccess>,
    /// The access that holds for the path and everything below it
    /// (`svnauthz accessof -R`); needs --path.
    #[arg(short = 'R', long, requires = "path")]
    pub recursive: bool,
    /// List every section that applies to the user, with its access.
    #[arg(long)]
    pub list: bool,
    /// The access file.
    pub file: PathBuf,
}

/// The access `rolesync access --is` tests for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IsAccess {
    Rw,
    R,
    No,
}

#[derive(Debug, Args)]
pub struct AuthzArgs {
    #[command(subcommand)]
    pub command: AuthzCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuthzCommand {
    /// Validate a standalone access file with Subversion 1.14's rules
    /// (`svnauthz validate`): located diagnostics on stderr; exit 0 when
    /// valid (warnings allowed), 1 when invalid, 2 when a file cannot be read.
    Validate(AuthzValidateArgs),
}

#[derive(Debug, Args)]
pub struct AuthzValidateArgs {
    /// A global groups file (svnserve groups-db) validated with it.
    #[arg(long, value_name = "FILE")]
    pub groups_file: Option<PathBuf>,
    /// The access file.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// The user's login.
    #[arg(long)]
    pub user: String,
    /// An absolute permission name, e.g. com.polarion.persistence.object.WorkItem.modify.
    #[arg(long, required_unless_present = "rest", conflicts_with = "rest")]
    pub permission: Option<String>,
    /// The project to decide in; without it the global context.
    #[arg(long, conflicts_with = "rest")]
    pub project: Option<String>,
    /// A REST call, "VERB /path" (e.g. "GET /polarion/rest/v1/projects/x"), instead of
    /// --permission and --project; a refused call prints the exact 403 body on the second line.
    #[arg(long, value_name = "VERB /PATH")]
    pub rest: Option<String>,
    /// An attribute of the object at hand, for custom sets and dynamic roles
    /// (status=approved, author=bob); repeat it, also for several values of one key.
    #[arg(long = "object", value_name = "KEY=VALUE")]
    pub object: Vec<String>,
}

/// How `rolesync diff` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// The one-screen summary, then the full list.
    #[default]
    Text,
    /// One JSON document (version 1, docs/diff.md).
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The config repository (Git, SVN or a folder); ignored when FROM and
    /// TO are both folders.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: DiffFormat,
    /// Refuse configuration files larger than this many bytes.
    #[arg(long, default_value_t = crate::snapshot::Limits::default().max_file_bytes, value_name = "BYTES")]
    pub max_file_bytes: usize,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// The daemon's state folder: build both revisions with the directory
    /// answer it stored (`directory.snapshot`, `[ldap]`); none there: built
    /// without, and said so.
    #[arg(long, value_name = "DIR", conflicts_with = "directory_snapshot")]
    pub state_dir: Option<PathBuf>,
    /// Build both revisions with the directory answer in this file (a copy
    /// of a state folder's `directory.snapshot`); refused when it is not one.
    #[arg(long, value_name = "FILE")]
    pub directory_snapshot: Option<PathBuf>,
    /// The revision before the change (Git: a commit, tag or branch; SVN: a
    /// number), or a folder.
    pub from: String,
    /// The revision after the change, or a folder.
    pub to: String,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Output format: one line per assertion and a count, or one JSON document.
    #[arg(long, value_enum, default_value_t)]
    pub format: TestFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// `pass|FAIL file:line:col what`, a count line; diagnostics on stderr.
    #[default]
    #[value(alias = "human")]
    Text,
    /// One JSON document on stdout.
    Json,
}
