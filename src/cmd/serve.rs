//! `rolesync serve`: settings from the TOML config file and the flags
//! (flags win), then `daemon::run` until SIGTERM or SIGINT.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::http::HeaderName;
use serde::Deserialize;

use crate::api::policy::ProxyKind;
use crate::cli::ServeArgs;
use crate::daemon::{self, Settings};
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
    allow_non_ascii_ids: Option<bool>,
    // The other bounds of `snapshot::Limits` (config file only).
    max_total_bytes: Option<usize>,
    max_xml_depth: Option<usize>,
    max_xml_elements: Option<usize>,
    max_value_bytes: Option<usize>,
    max_name_bytes: Option<usize>,
    max_query_depth: Option<usize>,
    max_access_bytes: Option<usize>,
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

/// Merge the config file and the flags into daemon settings and an address.
pub fn settings(args: &ServeArgs) -> anyhow::Result<(Settings, SocketAddr)> {
    let file: FileConfig = match &args.config {
        Some(path) => {
            let text = fs_err::read_to_string(path)?;
            toml::from_str(&text).with_context(|| format!("config file {}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let repo_path = args
        .repo
        .clone()
        .or(file.repo)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut source = repo::Source::open(&repo_path)
        .with_context(|| format!("opening {}", repo_path.display()))?;
    let branch = args.branch.clone().or(file.branch);
    let subpath = args.path.clone().or(file.path);
    match &mut source {
        repo::Source::Git {
            branch: b,
            subpath: s,
            ..
        } => {
            *b = branch;
            *s = subpath;
        }
        repo::Source::Svn { path, subpath: s } => {
            if branch.is_some() {
                bail!(
                    "--branch needs a Git repository; {} is an SVN repository",
                    path.display()
                );
            }
            *s = subpath;
        }
        repo::Source::Folder(root) => {
            if branch.is_some() {
                bail!(
                    "--branch needs a Git repository; {} is a plain folder",
                    root.display()
                );
            }
            if let Some(sub) = subpath {
                *root = root.join(sub);
            }
        }
    }
    let listen = match args.listen.or(file.listen) {
        Some(a) => a,
        None => DEFAULT_LISTEN.parse().context("the default address")?,
    };
    let token = match args.token_file.clone().or(file.token_file) {
        Some(path) => {
            warn_if_others_can_read(&path)?;
            let t = fs_err::read_to_string(&path)?.trim().to_owned();
            if t.is_empty() {
                bail!("the token file {} is empty", path.display());
            }
            Some(t)
        }
        None => None,
    };
    let beyond_loopback = !listen.ip().is_loopback();
    if beyond_loopback && token.is_none() {
        bail!("listening on {listen}, beyond loopback, needs a bearer token: give --token-file");
    }
    let publish = crate::publish::Options {
        mode: match (args.publish.access_mode, &file.access_mode) {
            (Some(m), _) => Some(m),
            (None, Some(text)) => Some(
                crate::publish::parse_mode(text)
                    .map_err(anyhow::Error::msg)
                    .context("config file: access_mode")?,
            ),
            (None, None) => None,
        },
        group: match (args.publish.access_group, &file.access_group) {
            (Some(g), _) => Some(g),
            (None, Some(text)) => Some(
                crate::publish::resolve_group(text)
                    .map_err(anyhow::Error::msg)
                    .context("config file: access_group")?,
            ),
            (None, None) => None,
        },
    };
    let proxy = args.proxy.or(file.proxy).unwrap_or_default();
    let settings = Settings {
        source,
        access_out: args.access_out.clone().or(file.access_out),
        state_dir: args.state_dir.clone().or(file.state_dir),
        poll_interval: duration(
            args.poll_interval,
            file.poll_interval.as_deref(),
            Duration::from_secs(30),
            "poll_interval",
        )?,
        debounce: duration(
            args.debounce,
            file.debounce.as_deref(),
            Duration::from_millis(20),
            "debounce",
        )?,
        token,
        beyond_loopback,
        limits: Limits {
            max_file_bytes: args
                .max_file_bytes
                .or(file.max_file_bytes)
                .unwrap_or(Limits::default().max_file_bytes),
            id_chars: crate::cli::id_chars(
                args.allow_non_ascii_ids || file.allow_non_ascii_ids.unwrap_or(false),
            ),
            max_total_bytes: file
                .max_total_bytes
                .unwrap_or(Limits::default().max_total_bytes),
            max_xml_depth: file
                .max_xml_depth
                .unwrap_or(Limits::default().max_xml_depth),
            max_xml_elements: file
                .max_xml_elements
                .unwrap_or(Limits::default().max_xml_elements),
            max_value_bytes: file
                .max_value_bytes
                .unwrap_or(Limits::default().max_value_bytes),
            max_name_bytes: file
                .max_name_bytes
                .unwrap_or(Limits::default().max_name_bytes),
            max_query_depth: file
                .max_query_depth
                .unwrap_or(Limits::default().max_query_depth),
            max_access_bytes: file
                .max_access_bytes
                .unwrap_or(Limits::default().max_access_bytes),
        },
        publish,
        user_header: user_header(
            args.user_header.as_deref().or(file.user_header.as_deref()),
            proxy,
        )?,
        proxy,
    };
    Ok((settings, listen))
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

/// A token file others can read gives the API away: say so at start.
fn warn_if_others_can_read(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = fs_err::metadata(path)?.permissions().mode();
    if mode & 0o044 != 0 {
        let message = format!(
            "the token file {} is readable by its group or others (mode {:04o}); `chmod 600` it",
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
    let (settings, listen) = settings(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let local = listener.local_addr()?;
        tracing::info!(listen = %local, "HTTP API");
        // Tests and scripts read the address from here when they passed port 0.
        let shutdown = shutdown_signal()?;
        eprintln!("rolesync: listening on http://{local}");
        daemon::run(settings, listener, shutdown).await
    })?;
    Ok(ExitCode::SUCCESS)
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
