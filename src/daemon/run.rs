//! `run`: the daemon's start (lock, output target, leftovers), its trigger
//! sources, the API, and the loop that turns each debounced burst into one
//! reload.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::debounce::{Burst, Debouncer};
use super::reload::{Guards, Reloader};
use super::settings::Settings;
use super::{state, triggers};
use crate::current::{Current, Trigger};
use crate::publish::{self, Target};

/// Run until `shutdown` completes. `listener` serves the HTTP API.
pub async fn run(
    settings: Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Current::new(tx.clone()));
    let lock = match &settings.state_dir {
        Some(dir) => {
            fs_err::create_dir_all(dir)?;
            Some(state::lock(dir)?)
        }
        None => None,
    };
    let target = match &settings.access_out {
        Some(path) => {
            let target = Target::resolve(path)?;
            if target.is_link() {
                tracing::info!(link = %path.display(), target = %target.path().display(), "publishing through the symlink to its target");
            }
            if let Some(parent) = target.path().parent()
                && !parent.as_os_str().is_empty()
            {
                fs_err::create_dir_all(parent)?;
            }
            remove_leftovers(target.path());
            Some(target)
        }
        None => None,
    };
    if let Some(dir) = &settings.state_dir {
        remove_leftovers(&dir.join(state::STATE_FILE));
    }

    let listen = listener.local_addr().ok();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let api = tokio::spawn(crate::api::serve::serve(
        listener,
        crate::api::router(shared.clone(), api_config(&settings)),
        settings.http,
        stop_rx.clone(),
    ));
    // A followed remote's mirror moves only by the fetch step: not watched.
    let _watcher = match settings.remote {
        None => Some(triggers::watch(&settings.source, tx.clone())?),
        Some(_) => None,
    };
    if let Some(remote) = &settings.remote {
        let url = remote.url.display();
        shared.update(|s| {
            s.remote = Some(crate::current::RemoteStatus {
                url,
                ..Default::default()
            })
        });
    }
    triggers::spawn_poll(settings.poll_interval, tx.clone(), stop_rx.clone());
    triggers::spawn_sighup(tx.clone(), stop_rx.clone())?;
    let pushes = super::notice::Pushes::default();
    if let Some(dir) = &settings.state_dir {
        triggers::spawn_hook_socket(dir, tx.clone(), pushes.clone(), stop_rx.clone())?;
    }
    log_start(&settings, listen);

    let mut reloader = Reloader::new(
        &settings,
        shared.clone(),
        Guards {
            lock,
            target,
            triggers: tx.clone(),
            stop: stop_rx.clone(),
            pushes,
        },
    )?;
    tx.send(Trigger::Startup)?;
    tokio::pin!(shutdown);
    let mut debouncer = Debouncer::new(rx, settings.debounce);
    loop {
        let first = tokio::select! {
            () = &mut shutdown => break,
            t = debouncer.first() => match t { Some(t) => t, None => break },
        };
        let Burst { first, force } = burst(&mut debouncer, &shared, first).await;
        tracing::debug!(trigger = ?first, force, "reload");
        reloader.reload(force).await;
    }
    tracing::debug!("shutting down");
    // Every record queued is written before the daemon exits.
    reloader.finish().await;
    let s = shared.status();
    tracing::info!(applied = s.applied, failed = s.failed, "daemon stopped");
    let _ = stop_tx.send(true);
    api.await??;
    Ok(())
}

/// The start line: version, what is read, where the file goes, the address.
fn log_start(settings: &Settings, listen: Option<std::net::SocketAddr>) {
    let remote = settings.remote.as_ref().map(|r| r.url.display());
    let shown = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let (access_out, state_dir) = (shown(&settings.access_out), shown(&settings.state_dir));
    let listen = listen.map(|a| a.to_string());
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        kind = settings.source.kind().describe(),
        repo = %settings.source.path().display(),
        remote = remote.as_deref(),
        access_out = access_out.as_deref(),
        state_dir = state_dir.as_deref(),
        listen = listen.as_deref(),
        "daemon started"
    );
}

/// The burst `first` opens, each of its triggers counted in the status.
async fn burst(debouncer: &mut Debouncer, shared: &Current, first: Trigger) -> Burst {
    let count = |t: Trigger| shared.update(|s| *s.triggers.entry(t.as_str()).or_default() += 1);
    count(first);
    let opened = std::time::Instant::now();
    let (mut last, mut triggers, mut gap) = (opened, 1u64, std::time::Duration::ZERO);
    let seen = |t| {
        count(t);
        let now = std::time::Instant::now();
        gap = gap.max(now.duration_since(last));
        (last, triggers) = (now, triggers + 1);
    };
    let burst = debouncer.burst(first, seen).await;
    log_burst(opened, last, gap, triggers);
    burst
}

/// The log target of the reload's phase lines.
const RELOAD_LOG: &str = "rolesync::daemon::reload";

/// Three `debug` phase lines of a burst (as `reload phase` lines, so that
/// the benchmarks read them with the reload's): `burst`, from its first
/// trigger to its last, with their count, `gap`, the longest quiet time
/// between two of its triggers (what the debounce must outlast for the
/// burst to stay one reload), and `wait`, from its first
/// trigger to the reload's start (what the debounce costs); logged with
/// the reload's target (`ROLESYNC_LOG=rolesync::daemon::reload=debug`).
fn log_burst(
    opened: std::time::Instant,
    last: std::time::Instant,
    gap: std::time::Duration,
    triggers: u64,
) {
    let span = last.duration_since(opened).as_micros() as u64;
    tracing::debug!(target: RELOAD_LOG, phase = "burst", us = span, triggers, "reload phase");
    let gap = gap.as_micros() as u64;
    tracing::debug!(target: RELOAD_LOG, phase = "gap", us = gap, "reload phase");
    let wait = opened.elapsed().as_micros() as u64;
    tracing::debug!(target: RELOAD_LOG, phase = "wait", us = wait, "reload phase");
}

/// The API's configuration from the daemon's settings; `min_revision`
/// orders revisions as the repository does.
fn api_config(settings: &Settings) -> crate::api::Config {
    let source = settings.source.clone();
    let (reader, limits) = (settings.source.clone(), settings.limits);
    crate::api::Config {
        token: settings.token.clone(),
        beyond_loopback: settings.beyond_loopback,
        user_header: settings.user_header.clone(),
        proxy: settings.proxy,
        authorize_layers: settings.authorize_layers,
        http: settings.http,
        is_at_least: Arc::new(move |loaded: &str, wanted: &str| source.is_at_least(loaded, wanted)),
        read_snapshot: Some(Arc::new(move |rev: &str| {
            crate::cmd::diff::snapshot_at(&reader, rev, limits).map_err(|e| format!("{e:#}"))
        })),
        decision_log: settings.decision_log.clone(),
    }
}

/// Remove the temporary files a killed writer left beside `target`.
fn remove_leftovers(target: &std::path::Path) {
    match publish::remove_leftovers(target) {
        Ok(removed) => {
            for path in removed {
                tracing::warn!(path = %path.display(), "removed a leftover temporary file");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot remove leftover temporary files"),
    }
}
