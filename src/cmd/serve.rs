//! `rolesync serve`: settings from the TOML config file and the flags
//! (flags win), then `daemon::run` until SIGTERM or SIGINT.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::http::HeaderName;
use serde::Deserialize;

use crate::api::HttpLimits;
use crate::api::decision_log::{LogConfig, MIN_MAX_BYTES, Target};
use crate::api::policy::ProxyKind;
use crate::cli::ServeArgs;
use crate::daemon::{self, Settings};
use crate::rails::directory::HoldBack;
use crate::repo;
use crate::snapshot::Limits;

/// The default address of the HTTP API.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8411";
/// The default header that names the user for `/v1/authorize`.
pub const DEFAULT_USER_HEADER: &str = "X-Remote-User";

/// The TOML config file: the same options as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    repo: Option<PathBuf>,
    remote: Option<String>,
    remote_kind: Option<repo::RemoteKind>,
    remote_poll: Option<String>,
    remote_credentials_file: Option<PathBuf>,
    /// Git over https: the CA bundle the server's certificate must verify against.
    remote_ca_file: Option<PathBuf>,
    /// Git over ssh: the known_hosts file the server's host key must be in.
    remote_known_hosts: Option<PathBuf>,
    /// A fetch's time-out ("30s").
    remote_timeout: Option<String>,
    /// The bytes one fetch may bring.
    remote_max_bytes: Option<u64>,
    allow_rewind: Option<bool>,
    branch: Option<String>,
    path: Option<String>,
    access_out: Option<PathBuf>,
    state_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    token_file: Option<PathBuf>,
    poll_interval: Option<String>,
    debounce: Option<String>,
    max_file_bytes: Option<usize>,
    user_header: Option<String>,
    /// Octal, as a string: "0640".
    access_mode: Option<String>,
    /// A group name or number, as a string.
    access_group: Option<String>,
    proxy: Option<ProxyKind>,
    authorize_layers: Option<crate::api::policy::AuthorizeLayers>,
    allow_non_ascii_ids: Option<bool>,
    // The other bounds of `snapshot::Limits` (config file only).
    max_total_bytes: Option<usize>,
    max_xml_depth: Option<usize>,
    max_xml_elements: Option<usize>,
    max_value_bytes: Option<usize>,
    max_name_bytes: Option<usize>,
    max_query_depth: Option<usize>,
    max_access_bytes: Option<usize>,
    warn_access_cost: Option<u64>,
    max_test_files: Option<usize>,
    max_test_assertions_per_file: Option<usize>,
    max_test_assertions: Option<usize>,
    max_build_threads: Option<usize>,
    max_dn_bytes: Option<usize>,
    max_ldap_filter_bytes: Option<usize>,
    max_ldap_filter_depth: Option<usize>,
    /// Signed commits (`repo::signature`).
    require_signed: Option<bool>,
    allowed_signers: Option<PathBuf>,
    gpg_home: Option<PathBuf>,
    /// The decision log: a file, or `-` for stdout; and its bounds.
    decision_log: Option<String>,
    decision_log_max_bytes: Option<u64>,
    decision_log_keep: Option<usize>,
    decision_log_rate: Option<u32>,
    decision_log_burst: Option<u32>,
    /// The log lines' format (`--log-format`; read by `log_format`).
    log_format: Option<crate::cli::LogFormat>,
    /// The audit log's rotation (`state::Rotation`).
    audit_max_bytes: Option<u64>,
    audit_keep: Option<usize>,
    /// The `[http]` table: the bounds of the HTTP API.
    #[serde(default)]
    http: HttpFile,
    /// The `[ldap]` table: `ldap::LdapSettings` and the daemon's hold-back
    /// rail (`HoldBackFile`); an empty table is no directory.
    ldap: Option<toml::Table>,
}

/// The hold-back rail's keys of the `[ldap]` table (the daemon's; the
/// rest is the client's `LdapSettings`). Live on SIGHUP.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldBackFile {
    max_removed_share: Option<f64>,
    max_removed_floor: Option<u64>,
}

impl HoldBackFile {
    const KEYS: [&'static str; 2] = ["max_removed_share", "max_removed_floor"];
}

/// The `[ldap]` table split into the client's settings and the rail's
/// bounds, both checked; none without the table (or with an empty one).
fn ldap_table(file: &FileConfig) -> anyhow::Result<Option<(crate::ldap::LdapSettings, HoldBack)>> {
    match file.ldap.clone().filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(table) => split_ldap(table).map(Some),
    }
}

/// One `[ldap]` table split into the client's settings and the rail's
/// bounds, both checked (also what `rolesync ldap sync` reads).
pub(super) fn split_ldap(
    table: toml::Table,
) -> anyhow::Result<(crate::ldap::LdapSettings, HoldBack)> {
    let (mut client, mut rail) = (table, toml::Table::new());
    for key in HoldBackFile::KEYS {
        if let Some(v) = client.remove(key) {
            rail.insert(key.to_owned(), v);
        }
    }
    let ldap: crate::ldap::LdapSettings = client.try_into().context("config file: [ldap]")?;
    ldap.check()?;
    let rail: HoldBackFile = rail.try_into().context("config file: [ldap]")?;
    let share = rail.max_removed_share.unwrap_or(HoldBack::DEFAULT_SHARE);
    if !(0.0..=1.0).contains(&share) {
        bail!("config file: [ldap] max_removed_share = {share} is not between 0 and 1");
    }
    let hold_back = HoldBack {
        max_removed_share: share,
        max_removed_floor: rail.max_removed_floor.unwrap_or(HoldBack::DEFAULT_FLOOR),
    };
    Ok((ldap, hold_back))
}

/// How much longer than `[ldap] timeout` (the client's bound on one sync)
/// the daemon waits before it counts a sync as failed.
const SYNC_GRACE: Duration = Duration::from_secs(5);

/// The daemon's directory: `ldap::sync` with the `[ldap]` settings, every
/// `sync_interval`, held back by the rail's bounds.
fn directory(file: &FileConfig) -> anyhow::Result<Option<daemon::DirectorySettings>> {
    let Some((ldap, hold_back)) = ldap_table(file)? else {
        return Ok(None);
    };
    let ldap = std::sync::Arc::new(ldap);
    let (sync_interval, sync_timeout) = (ldap.sync_interval, ldap.timeout + SYNC_GRACE);
    let name = ldap.urls.first().cloned().unwrap_or_default();
    let sync: daemon::SyncFn = std::sync::Arc::new(move |refs| {
        let ldap = ldap.clone();
        Box::pin(async move { (crate::ldap::sync(&ldap, &refs).await).map_err(|e| e.to_string()) })
    });
    Ok(Some(daemon::DirectorySettings {
        sync,
        sync_interval,
        sync_timeout,
        hold_back,
        name,
    }))
}

/// The log format of `serve`: `--log-format` wins (read by `main`), else
/// the config file's `log_format`, else text. Read before logging starts,
/// so a config file that cannot be read is text here and its error is
/// reported by `settings`.
pub fn log_format(args: &ServeArgs) -> crate::cli::LogFormat {
    read_config(args.config.as_deref())
        .ok()
        .and_then(|f| f.log_format)
        .unwrap_or_default()
}

/// The `[http]` table; every key is optional (see `HttpLimits` for the
/// defaults).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    header_read_timeout: Option<String>,
    idle_timeout: Option<String>,
    request_timeout: Option<String>,
    max_header_bytes: Option<usize>,
    max_connections: Option<usize>,
    max_body_bytes: Option<usize>,
    max_bulk_decisions: Option<usize>,
    max_answer_bytes: Option<usize>,
    max_heavy_requests: Option<usize>,
}

impl HttpFile {
    /// The limits, the file's values over the defaults; zero is refused.
    fn limits(&self) -> anyhow::Result<HttpLimits> {
        let d = HttpLimits::default();
        let time = |v: &Option<String>, default: Duration, name: &str| {
            let t = duration(None, v.as_deref(), default, &format!("http.{name}"))?;
            if t.is_zero() {
                bail!("config file: http.{name} must be more than 0s");
            }
            Ok(t)
        };
        let count = |v: Option<usize>, default: usize, name: &str| match v {
            Some(0) => bail!("config file: http.{name} must be at least 1"),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        Ok(HttpLimits {
            header_read_timeout: time(
                &self.header_read_timeout,
                d.header_read_timeout,
                "header_read_timeout",
            )?,
            idle_timeout: time(&self.idle_timeout, d.idle_timeout, "idle_timeout")?,
            request_timeout: time(&self.request_timeout, d.request_timeout, "request_timeout")?,
            max_header_bytes: count(
                self.max_header_bytes,
                d.max_header_bytes,
                "max_header_bytes",
            )?,
            max_connections: count(self.max_connections, d.max_connections, "max_connections")?,
            max_body_bytes: count(self.max_body_bytes, d.max_body_bytes, "max_body_bytes")?,
            max_bulk_decisions: count(
                self.max_bulk_decisions,
                d.max_bulk_decisions,
                "max_bulk_decisions",
            )?,
            max_answer_bytes: count(
                self.max_answer_bytes,
                d.max_answer_bytes,
                "max_answer_bytes",
            )?,
            max_heavy_requests: count(
                self.max_heavy_requests,
                d.max_heavy_requests,
                "max_heavy_requests",
            )?,
        })
    }
}

/// Raise the soft descriptor limit to the hard one; the soft limit now in
/// force (None when it cannot be read).
fn raise_fd_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the file descriptor limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

fn duration(
    flag: Option<Duration>,
    file: Option<&str>,
    default: Duration,
    name: &str,
) -> anyhow::Result<Duration> {
    match (flag, file) {
        (Some(d), _) => Ok(d),
        (None, Some(s)) => {
            humantime::parse_duration(s).with_context(|| format!("config file: {name} = {s:?}"))
        }
        (None, None) => Ok(default),
    }
}

/// Merge the config file and the flags into daemon settings and an address:
/// read the file, open the repository, take the address and the token,
/// then the publication options and the limits (flags win over the file).
pub fn settings(args: &ServeArgs) -> anyhow::Result<(Settings, SocketAddr)> {
    let file = read_config(args.config.as_deref())?;
    let state_dir = args.state_dir.clone().or(file.state_dir.clone());
    let remote = remote(args, &file, state_dir.as_deref())?;
    let source = match &remote {
        Some(r) => open_mirror(args, &file, r)?,
        None => open_source(args, &file)?,
    };
    let quiet = crate::daemon::default_quiet(source.kind());
    let listen = match args.listen.or(file.listen) {
        Some(a) => a,
        None => DEFAULT_LISTEN.parse().context("the default address")?,
    };
    let following = remote.is_some();
    let live = live(args, &file, following, quiet)?;
    let beyond_loopback = !listen.ip().is_loopback();
    if beyond_loopback && live.token.is_none() {
        bail!("listening on {listen}, beyond loopback, needs a bearer token: give --token-file");
    }
    let proxy = args.proxy.or(file.proxy).unwrap_or_default();
    let trust = repo::signature::Trust::configure(
        args.signed.require_signed || file.require_signed.unwrap_or(false),
        args.signed
            .allowed_signers
            .clone()
            .or(file.allowed_signers.clone()),
        args.signed.gpg_home.clone().or(file.gpg_home.clone()),
        source.kind(),
    )?;
    let settings = Settings {
        trust,
        audit: audit_rotation(&file)?,
        http: file.http.limits()?,
        source,
        access_out: args.access_out.clone().or(file.access_out.clone()),
        state_dir,
        poll_interval: live.poll_interval,
        remote,
        debounce: live.debounce,
        token: live.token,
        beyond_loopback,
        limits: live.limits,
        publish: live.publish,
        user_header: user_header(
            args.user_header.as_deref().or(file.user_header.as_deref()),
            proxy,
        )?,
        proxy,
        authorize_layers: args
            .authorize_layers
            .or(file.authorize_layers)
            .unwrap_or_default(),
        decision_log: decision_log(args, &file)?,
        notify: daemon::Notifier::from_env(),
        fixed: fixed(args, &file),
        reread: Some(reread(args, following, quiet)),
        directory: directory(&file)?,
    };
    Ok((settings, listen))
}

/// The decision log's settings (`--decision-log` over `decision_log`),
/// its file opened once to fail at start rather than drop every line.
fn decision_log(args: &ServeArgs, file: &FileConfig) -> anyhow::Result<Option<LogConfig>> {
    let Some(target) = args
        .decision_log
        .as_deref()
        .or(file.decision_log.as_deref())
    else {
        return Ok(None);
    };
    let d = LogConfig::new(Target::parse(target));
    let config = LogConfig {
        max_bytes: file.decision_log_max_bytes.unwrap_or(d.max_bytes),
        keep: file.decision_log_keep.unwrap_or(d.keep),
        rate: file.decision_log_rate.unwrap_or(d.rate),
        burst: file.decision_log_burst.unwrap_or(d.burst),
        ..d
    };
    if config.max_bytes < MIN_MAX_BYTES {
        bail!("config file: decision_log_max_bytes must be at least {MIN_MAX_BYTES}");
    }
    if config.rate == 0 || config.burst == 0 {
        bail!("config file: decision_log_rate and decision_log_burst must be at least 1");
    }
    config.check().context("the decision log")?;
    Ok(Some(config))
}

/// The settings SIGHUP applies live, from the flags, then the file, then
/// the defaults (`following`: the poll is `remote_poll`; `quiet`: the
/// source's default debounce). Reads the token file.
fn live(
    args: &ServeArgs,
    file: &FileConfig,
    following: bool,
    quiet: Duration,
) -> anyhow::Result<daemon::Live> {
    let poll_interval = match following {
        true => duration(
            args.remote_poll,
            file.remote_poll.as_deref(),
            DEFAULT_REMOTE_POLL,
            "remote_poll",
        )?,
        false => duration(
            args.poll_interval,
            file.poll_interval.as_deref(),
            DEFAULT_POLL,
            "poll_interval",
        )?,
    };
    Ok(daemon::Live {
        poll_interval,
        debounce: duration(args.debounce, file.debounce.as_deref(), quiet, "debounce")?,
        token: read_token(args.token_file.as_ref().or(file.token_file.as_ref()))?,
        limits: limits(args, file),
        publish: publish_options(args, file)?,
        hold_back: ldap_table(file)?.map(|(_, h)| h),
    })
}

/// The default safety-net poll of a local repository.
pub const DEFAULT_POLL: Duration = Duration::from_secs(30);

/// The settings that need a restart, as shown in the log when SIGHUP
/// finds them changed (flags win over the file, as at start).
fn fixed(args: &ServeArgs, f: &FileConfig) -> Vec<daemon::Setting> {
    fn shown<T: std::fmt::Debug>(flag: Option<T>, file: Option<T>) -> String {
        flag.or(file).map_or("unset".into(), |v| format!("{v:?}"))
    }
    let h = &f.http;
    let pairs: [(&'static str, String); 37] = [
        ("remote_ca_file", shown(None, f.remote_ca_file.as_ref())),
        (
            "remote_known_hosts",
            shown(None, f.remote_known_hosts.as_ref()),
        ),
        ("repo", shown(args.repo.as_ref(), f.repo.as_ref())),
        (
            "decision_log",
            shown(args.decision_log.as_ref(), f.decision_log.as_ref()),
        ),
        (
            "decision_log_max_bytes",
            shown(None, f.decision_log_max_bytes),
        ),
        ("decision_log_keep", shown(None, f.decision_log_keep)),
        ("decision_log_rate", shown(None, f.decision_log_rate)),
        ("decision_log_burst", shown(None, f.decision_log_burst)),
        ("log_format", shown(None, f.log_format)),
        ("audit_max_bytes", shown(None, f.audit_max_bytes)),
        ("audit_keep", shown(None, f.audit_keep)),
        ("remote", shown(args.remote.as_ref(), f.remote.as_ref())),
        ("remote_kind", shown(args.remote_kind, f.remote_kind)),
        (
            "remote_credentials_file",
            shown(
                args.remote_credentials_file.as_ref(),
                f.remote_credentials_file.as_ref(),
            ),
        ),
        ("remote_timeout", shown(None, f.remote_timeout.as_ref())),
        ("remote_max_bytes", shown(None, f.remote_max_bytes)),
        (
            "allow_rewind",
            shown(args.allow_rewind.then_some(true), f.allow_rewind),
        ),
        ("branch", shown(args.branch.as_ref(), f.branch.as_ref())),
        ("path", shown(args.path.as_ref(), f.path.as_ref())),
        (
            "access_out",
            shown(args.access_out.as_ref(), f.access_out.as_ref()),
        ),
        (
            "state_dir",
            shown(args.state_dir.as_ref(), f.state_dir.as_ref()),
        ),
        ("listen", shown(args.listen, f.listen)),
        (
            "user_header",
            shown(args.user_header.as_ref(), f.user_header.as_ref()),
        ),
        ("proxy", shown(args.proxy, f.proxy)),
        (
            "authorize_layers",
            shown(args.authorize_layers, f.authorize_layers),
        ),
        (
            "require_signed",
            shown(args.signed.require_signed.then_some(true), f.require_signed),
        ),
        (
            "allowed_signers",
            shown(
                args.signed.allowed_signers.as_ref(),
                f.allowed_signers.as_ref(),
            ),
        ),
        (
            "gpg_home",
            shown(args.signed.gpg_home.as_ref(), f.gpg_home.as_ref()),
        ),
        (
            "http.header_read_timeout",
            shown(None, h.header_read_timeout.as_ref()),
        ),
        ("http.idle_timeout", shown(None, h.idle_timeout.as_ref())),
        (
            "http.request_timeout",
            shown(None, h.request_timeout.as_ref()),
        ),
        ("http.max_header_bytes", shown(None, h.max_header_bytes)),
        ("http.max_connections", shown(None, h.max_connections)),
        ("http.max_body_bytes", shown(None, h.max_body_bytes)),
        ("http.max_bulk_decisions", shown(None, h.max_bulk_decisions)),
        ("http.max_answer_bytes", shown(None, h.max_answer_bytes)),
        ("http.max_heavy_requests", shown(None, h.max_heavy_requests)),
    ];
    let ldap = f.ldap.as_ref();
    let ldap = LDAP_FIXED.iter().map(|key| {
        let raw = key.strip_prefix("ldap.").unwrap_or(key);
        let value = ldap.and_then(|t| t.get(raw)).map(|v| v.to_string());
        (*key, value.unwrap_or_else(|| "unset".into()))
    });
    pairs
        .into_iter()
        .chain(ldap)
        .map(|(key, value)| daemon::Setting { key, value })
        .collect()
}

/// The `[ldap]` keys that need a restart: all of the client's (the sync
/// task is started with them); the rail's two are live.
const LDAP_FIXED: [&str; 18] = [
    "ldap.urls",
    "ldap.starttls",
    "ldap.ca_file",
    "ldap.bind_dn",
    "ldap.password_file",
    "ldap.base_dn",
    "ldap.user_attribute",
    "ldap.account_state",
    "ldap.timeout",
    "ldap.connect_timeout",
    "ldap.sync_interval",
    "ldap.flavor",
    "ldap.login_case",
    "ldap.page_size",
    "ldap.max_entries",
    "ldap.max_depth",
    "ldap.max_members",
    "ldap.max_value_bytes",
];

/// What SIGHUP calls: the config file and the token file read again (the
/// flags still win), nothing opened or created.
fn reread(args: &ServeArgs, following: bool, quiet: Duration) -> daemon::Reread {
    let args = args.clone();
    daemon::Reread(std::sync::Arc::new(move || {
        let file = read_config(args.config.as_deref())?;
        file.http.limits()?;
        Ok(daemon::Reconfig {
            live: live(&args, &file, following, quiet)?,
            fixed: fixed(&args, &file),
        })
    }))
}

/// The audit log's rotation: the config file's `audit_max_bytes` (0:
/// never) and `audit_keep` (at most `Rotation::MAX_KEEP`) over the defaults.
fn audit_rotation(file: &FileConfig) -> anyhow::Result<daemon::state::Rotation> {
    use daemon::state::Rotation;
    let keep = file.audit_keep.unwrap_or(Rotation::DEFAULT_KEEP);
    if keep > Rotation::MAX_KEEP {
        bail!(
            "config file: audit_keep = {keep} is more than {}",
            Rotation::MAX_KEEP
        );
    }
    Ok(Rotation {
        max_bytes: file.audit_max_bytes.unwrap_or(Rotation::DEFAULT_MAX_BYTES),
        keep,
    })
}

/// The config file (`--config`), or every option unset.
fn read_config(path: Option<&Path>) -> anyhow::Result<FileConfig> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = fs_err::read_to_string(path)?;
    toml::from_str(&text).with_context(|| format!("config file {}", path.display()))
}

/// The repository (default: the current folder), with its branch and
/// sub-path.
fn open_source(args: &ServeArgs, file: &FileConfig) -> anyhow::Result<repo::Source> {
    let repo_path = args
        .repo
        .clone()
        .or(file.repo.clone())
        .unwrap_or_else(|| PathBuf::from("."));
    let options = repo::Options {
        branch: args.branch.clone().or(file.branch.clone()),
        subpath: args.path.clone().or(file.path.clone()),
    };
    repo::Source::open(&repo_path, &options)
        .with_context(|| format!("opening {}", repo_path.display()))
}

/// How often a followed remote is polled by default.
pub const DEFAULT_REMOTE_POLL: Duration = Duration::from_secs(2);

/// The remote to follow (`--remote`, `remote =`), its mirror created in
/// the state folder; none without one. A URL with credentials in it is
/// refused (they come from the credentials file or the environment).
fn remote(
    args: &ServeArgs,
    file: &FileConfig,
    state_dir: Option<&Path>,
) -> anyhow::Result<Option<std::sync::Arc<repo::Remote>>> {
    let Some(given) = args.remote.as_deref().or(file.remote.as_deref()) else {
        return Ok(None);
    };
    if args.repo.is_some() || file.repo.is_some() {
        bail!("--remote (remote) and --repo (repo) exclude each other");
    }
    let Some(state_dir) = state_dir else {
        bail!("--remote needs --state-dir: the remote's mirror is kept there");
    };
    let url = repo::RemoteUrl::parse(given)?;
    let kind = url.kind(args.remote_kind.or(file.remote_kind));
    let branch = args.branch.clone().or(file.branch.clone());
    if kind == repo::RemoteKind::Svn && branch.is_some() {
        bail!("--branch is for a Git remote; {} is SVN", url.display());
    }
    let mut remote = repo::Remote::new(url, kind, branch, state_dir);
    let credentials = args
        .remote_credentials_file
        .as_ref()
        .or(file.remote_credentials_file.as_ref());
    if let Some(path) = credentials {
        warn_if_others_can_read(path, "credentials")?;
    }
    remote.credentials = repo::Credentials::load(credentials.map(PathBuf::as_path))?;
    remote.trust = repo::ServerTrust::load(
        file.remote_ca_file.as_deref(),
        file.remote_known_hosts.as_deref(),
    )?;
    let d = repo::FetchBounds::default();
    remote.bounds = repo::FetchBounds {
        timeout: duration(
            None,
            file.remote_timeout.as_deref(),
            d.timeout,
            "remote_timeout",
        )?,
        max_bytes: file.remote_max_bytes.unwrap_or(d.max_bytes),
    };
    remote.allow_rewind = args.allow_rewind || file.allow_rewind.unwrap_or(false);
    fs_err::create_dir_all(state_dir)?;
    remote.init_mirror()?;
    Ok(Some(std::sync::Arc::new(remote)))
}

/// The mirror of `remote`, opened as a local repository (with the
/// configured branch and sub-path).
fn open_mirror(
    args: &ServeArgs,
    file: &FileConfig,
    remote: &repo::Remote,
) -> anyhow::Result<repo::Source> {
    let options = repo::Options {
        branch: remote.branch.clone(),
        subpath: args.path.clone().or(file.path.clone()),
    };
    repo::Source::open(remote.mirror(), &options)
        .with_context(|| format!("opening the mirror {}", remote.mirror().display()))
}

/// The bearer token of the token file, if one is given; an empty file is
/// refused, one others can read is warned about.
pub(crate) fn read_token(path: Option<&PathBuf>) -> anyhow::Result<Option<String>> {
    let Some(path) = path else {
        return Ok(None);
    };
    warn_if_others_can_read(path, "token")?;
    let t = fs_err::read_to_string(path)?.trim().to_owned();
    if t.is_empty() {
        bail!("the token file {} is empty", path.display());
    }
    Ok(Some(t))
}

/// The flag's value, else the config file's text parsed by `parse`.
fn flag_or_file<T>(
    flag: Option<T>,
    file: Option<&str>,
    parse: fn(&str) -> Result<T, String>,
    name: &str,
) -> anyhow::Result<Option<T>> {
    match (flag, file) {
        (Some(v), _) => Ok(Some(v)),
        (None, Some(text)) => parse(text)
            .map(Some)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("config file: {name}")),
        (None, None) => Ok(None),
    }
}

/// The mode and group of the published access file.
fn publish_options(args: &ServeArgs, file: &FileConfig) -> anyhow::Result<crate::publish::Options> {
    Ok(crate::publish::Options {
        mode: flag_or_file(
            args.publish.access_mode,
            file.access_mode.as_deref(),
            crate::publish::parse_mode,
            "access_mode",
        )?,
        group: flag_or_file(
            args.publish.access_group,
            file.access_group.as_deref(),
            crate::publish::resolve_group,
            "access_group",
        )?,
    })
}

/// The bounds on configuration input: the flags, then the file, then the
/// defaults.
fn limits(args: &ServeArgs, file: &FileConfig) -> Limits {
    let d = Limits::default();
    let non_ascii = args.allow_non_ascii_ids || file.allow_non_ascii_ids.unwrap_or(false);
    Limits {
        max_file_bytes: (args.max_file_bytes.or(file.max_file_bytes)).unwrap_or(d.max_file_bytes),
        id_chars: crate::cli::id_chars(non_ascii),
        max_total_bytes: file.max_total_bytes.unwrap_or(d.max_total_bytes),
        max_xml_depth: file.max_xml_depth.unwrap_or(d.max_xml_depth),
        max_xml_elements: file.max_xml_elements.unwrap_or(d.max_xml_elements),
        max_value_bytes: file.max_value_bytes.unwrap_or(d.max_value_bytes),
        max_name_bytes: file.max_name_bytes.unwrap_or(d.max_name_bytes),
        max_query_depth: file.max_query_depth.unwrap_or(d.max_query_depth),
        max_access_bytes: file.max_access_bytes.unwrap_or(d.max_access_bytes),
        warn_access_cost: file.warn_access_cost.unwrap_or(d.warn_access_cost),
        max_message_bytes: d.max_message_bytes,
        max_test_files: file.max_test_files.unwrap_or(d.max_test_files),
        max_test_assertions_per_file: file
            .max_test_assertions_per_file
            .unwrap_or(d.max_test_assertions_per_file),
        max_test_assertions: file.max_test_assertions.unwrap_or(d.max_test_assertions),
        // 1 to 256, as `--max-build-threads` takes.
        max_build_threads: file
            .max_build_threads
            .map_or(d.max_build_threads, |n| n.clamp(1, 256)),
        max_dn_bytes: file.max_dn_bytes.unwrap_or(d.max_dn_bytes),
        max_ldap_filter_bytes: file
            .max_ldap_filter_bytes
            .unwrap_or(d.max_ldap_filter_bytes),
        max_ldap_filter_depth: file
            .max_ldap_filter_depth
            .unwrap_or(d.max_ldap_filter_depth),
    }
}

/// The user header, checked: a valid HTTP header name that is not one of
/// the headers the proxy sends the original method and URI in.
fn user_header(given: Option<&str>, proxy: ProxyKind) -> anyhow::Result<HeaderName> {
    let name = given.unwrap_or(DEFAULT_USER_HEADER);
    let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
        bail!("--user-header (user_header) {name:?} is not a valid HTTP header name");
    };
    if proxy.headers().contains(&header) {
        bail!(
            "--user-header (user_header) {name:?} is the header the proxy sends the original request in"
        );
    }
    Ok(header)
}

/// A token or credentials file others can read gives a secret away: say
/// so at start.
fn warn_if_others_can_read(path: &Path, what: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = fs_err::metadata(path)?.permissions().mode();
    if mode & 0o044 != 0 {
        let message = format!(
            "the {what} file {} is readable by its group or others (mode {:04o}); `chmod 600` it",
            path.display(),
            mode & 0o7777
        );
        tracing::warn!(path = %path.display(), mode = format_args!("{:04o}", mode & 0o7777), "{message}");
        if !tracing::enabled!(tracing::Level::WARN) {
            eprintln!("rolesync: warning: {message}");
        }
    }
    Ok(())
}

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let (mut settings, listen) = settings(args)?;
    if let Some(nofile) = raise_fd_limit() {
        let fitted = settings.http.fit_descriptors(nofile);
        if fitted.max_connections < settings.http.max_connections {
            tracing::warn!(
                nofile,
                max_connections = fitted.max_connections,
                "the descriptor limit lowers max_connections"
            );
        }
        settings.http = fitted;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = bind(listen).with_context(|| format!("listening on {listen}"))?;
        let local = listener.local_addr()?;
        tracing::debug!(listen = %local, "HTTP API");
        // Tests and scripts read the address from here when they passed port 0.
        let shutdown = shutdown_signal()?;
        // SIGHUP's handler, installed now: a SIGHUP before the daemon
        // listens for it is lost, never fatal (its default is to exit).
        let _hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("listening for SIGHUP")?;
        eprintln!("rolesync: listening on http://{local}");
        daemon::run(settings, listener, shutdown).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Connections the kernel completes before the daemon accepts them (the
/// standard library's 128 is short for a burst of proxy connections).
const LISTEN_BACKLOG: u32 = 1024;

fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// SIGTERM or SIGINT. The handlers are installed now, before the daemon
/// starts, so that a signal at any later moment ends it gracefully.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM"),
            _ = int.recv() => tracing::info!("SIGINT"),
        }
    })
}

#[cfg(test)]
#[path = "serve_tests.rs"]
mod tests;
