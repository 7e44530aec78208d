//! `run`: the daemon's start (lock, output target, leftovers), its trigger
//! sources, the API, and the loop that turns each debounced burst into one
//! reload; a burst with SIGHUP in it first re-reads the settings
//! (`reconfig`); systemd hears of readiness and of each reload (`sdnotify`).

use std::future::Future;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::debounce::{Burst, Debouncer};
use super::reconfig::{Change, Live, Reconfig, Reread, reconcile};
use super::reload::{Guards, Reloader, Verdict};
use super::sdnotify::Notifier;
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
    let (lock, target) = prepare(&settings)?;
    let listen = listener.local_addr().ok();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Before the API answers: a SIGHUP from then on is a reload.
    triggers::spawn_sighup(tx.clone(), stop_rx.clone())?;
    let api_limits = Arc::new(arc_swap::ArcSwap::from_pointee(settings.limits));
    // The directory's last good answer, once the reloader holds it.
    let answers: Arc<std::sync::OnceLock<Option<Answers>>> = Arc::default();
    let api = tokio::spawn(crate::api::serve::serve(
        listener,
        crate::api::router(
            shared.clone(),
            api_config(&settings, api_limits.clone(), answers.clone()),
        ),
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
    let (poll, poll_rx) = tokio::sync::watch::channel(settings.poll_interval);
    triggers::spawn_poll(poll_rx, tx.clone(), stop_rx.clone());
    let pushes = super::notice::Pushes::default();
    let validator = settings
        .state_dir
        .as_ref()
        .map(|_| super::validate::Validator::default());
    if let (Some(dir), Some(v)) = (&settings.state_dir, &validator) {
        triggers::spawn_hook_socket(dir, tx.clone(), pushes.clone(), stop_rx.clone())?;
        let max = super::validate::max_request_bytes(&settings.limits);
        super::validate::spawn_socket(dir, v.clone(), max, stop_rx.clone())?;
    }
    log_start(&settings, listen);
    settings.notify.spawn_watchdog(stop_rx.clone());
    let guards = Guards {
        lock,
        target,
        triggers: tx.clone(),
        stop: stop_rx.clone(),
        pushes,
        validator,
    };
    let reloader = Reloader::new(&settings, shared.clone(), guards)?;
    let _ = answers.set(reloader.directory_answers());
    let knobs = Knobs {
        in_force: Reconfig {
            live: settings.live(),
            fixed: settings.fixed.clone(),
        },
        reread: settings.reread.clone(),
        beyond_loopback: settings.beyond_loopback,
        poll,
        api_limits,
    };
    tx.send(Trigger::Startup)?;
    let mut lp = Loop {
        debouncer: Debouncer::new(rx, settings.debounce),
        reloader,
        shared,
        notify: settings.notify.clone(),
        knobs,
        failed: None,
        ready: false,
    };
    lp.run(shutdown).await;
    lp.notify.stopping();
    tracing::debug!("shutting down");
    // Every record queued is written before the daemon exits.
    lp.reloader.finish().await;
    let s = lp.shared.status();
    tracing::info!(applied = s.applied, failed = s.failed, "daemon stopped");
    let _ = stop_tx.send(true);
    api.await??;
    Ok(())
}

/// The state folder's lock and the resolved output target, with the
/// leftovers of a killed predecessor removed beside both.
fn prepare(settings: &Settings) -> anyhow::Result<(Option<state::Lock>, Option<Target>)> {
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
    Ok((lock, target))
}

/// The reload loop: one reload per burst; SIGHUP also re-reads the
/// settings; systemd hears of readiness and of every reload.
struct Loop {
    debouncer: Debouncer,
    reloader: Reloader,
    shared: Arc<Current>,
    notify: Notifier,
    knobs: Knobs,
    /// Whether the newest revision is not served, and which it is.
    failed: Option<Option<String>>,
    /// Whether `READY=1` was sent (after the first reload).
    ready: bool,
}

impl Loop {
    async fn run(&mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let first = tokio::select! {
                () = &mut shutdown => break,
                t = self.debouncer.first() => match t { Some(t) => t, None => break },
            };
            let (Burst { first, force }, signal) =
                burst(&mut self.debouncer, &self.shared, first).await;
            tracing::debug!(trigger = ?first, force, "reload");
            if signal {
                self.notify.reloading();
                if let Some(live) = self.knobs.reread(&self.shared).await {
                    self.debouncer.set_quiet(live.debounce);
                    self.reloader.set_live(&live);
                }
            }
            let verdict = self.reloader.reload(force).await;
            self.told(verdict, signal);
        }
    }

    /// Tell systemd how the reload went: `READY=1` after the first one and
    /// after a SIGHUP's, a `STATUS=` line after each.
    fn told(&mut self, verdict: Verdict, signal: bool) {
        match verdict {
            Verdict::Fresh => self.failed = None,
            Verdict::Unmoved => {}
            Verdict::Failed { revision } => self.failed = Some(revision),
        }
        let line = status_line(self.shared.revision().as_deref(), self.failed.as_ref());
        if signal || !self.ready {
            self.ready = true;
            self.notify.ready(&line);
        } else {
            self.notify.status(&line);
        }
    }
}

/// The `STATUS=` line: the revision served, and whether it is stale.
fn status_line(served: Option<&str>, failed: Option<&Option<String>>) -> String {
    let newest = |r: &Option<String>| match r {
        Some(r) => format!("revision {r} is refused"),
        None => "the newest revision cannot be read".to_owned(),
    };
    match (served, failed) {
        (Some(s), None) => format!("serving {s}"),
        (Some(s), Some(f)) => format!("serving {s}, stale: {}", newest(f)),
        (None, Some(f)) => format!("nothing served: {}", newest(f)),
        (None, None) => "nothing served yet".to_owned(),
    }
}

/// What SIGHUP changes in the running daemon besides the debounce and the
/// reloader's own settings: the poll, the API's limits, the token.
struct Knobs {
    in_force: Reconfig,
    reread: Option<Reread>,
    beyond_loopback: bool,
    poll: tokio::sync::watch::Sender<std::time::Duration>,
    api_limits: Arc<arc_swap::ArcSwap<crate::snapshot::Limits>>,
}

impl Knobs {
    /// Re-read the config and token files, log each change, apply the
    /// live ones; the live settings now in force when any changed. A file
    /// that cannot be read or parsed changes nothing.
    async fn reread(&mut self, shared: &Current) -> Option<Live> {
        let reread = self.reread.clone()?;
        // Files, and the group's name through NSS: on the blocking pool.
        let read = tokio::task::spawn_blocking(move || (reread.0)()).await;
        let new = match read.map_err(anyhow::Error::from).and_then(|r| r) {
            Ok(new) => new,
            Err(e) => {
                let error = format!("{e:#}");
                tracing::error!(%error, "configuration not re-read; the settings in force are kept");
                return None;
            }
        };
        if self.beyond_loopback && new.live.token.is_none() {
            tracing::error!(
                "configuration not re-read: listening beyond loopback needs a token; the settings in force are kept"
            );
            return None;
        }
        let (in_force, changes) = reconcile(&self.in_force, new);
        log_changes(&changes);
        let live = in_force.live.clone();
        self.in_force = in_force;
        let _ = self.poll.send(live.poll_interval);
        self.api_limits.store(Arc::new(live.limits));
        shared.token.store(live.token.clone().map(Arc::new));
        Some(live)
    }
}

/// One line per changed setting (the token's value never shown).
fn log_changes(changes: &[Change]) {
    if changes.is_empty() {
        tracing::info!("configuration re-read: nothing changed");
    }
    for c in changes {
        match c {
            Change::Applied { key, from, to } => {
                tracing::info!(setting = key, %from, %to, "setting changed")
            }
            Change::Token => tracing::info!(setting = "token", "setting changed (not shown)"),
            Change::NeedsRestart { key, kept, wanted } => tracing::warn!(
                setting = key,
                %kept,
                %wanted,
                "setting needs a restart; the value in force is kept"
            ),
        }
    }
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

/// The burst `first` opens, each of its triggers counted in the status;
/// whether SIGHUP was among them.
async fn burst(debouncer: &mut Debouncer, shared: &Current, first: Trigger) -> (Burst, bool) {
    let count = |t: Trigger| shared.update(|s| *s.triggers.entry(t.as_str()).or_default() += 1);
    count(first);
    let mut signal = first == Trigger::Signal;
    let opened = std::time::Instant::now();
    let (mut last, mut triggers, mut gap) = (opened, 1u64, std::time::Duration::ZERO);
    let seen = |t| {
        count(t);
        signal |= t == Trigger::Signal;
        let now = std::time::Instant::now();
        gap = gap.max(now.duration_since(last));
        (last, triggers) = (now, triggers + 1);
    };
    let burst = debouncer.burst(first, seen).await;
    log_burst(opened, last, gap, triggers);
    (burst, signal)
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

/// Where the directory's last good answer is kept.
pub(super) type Answers = Arc<arc_swap::ArcSwapOption<crate::directory::DirectorySnapshot>>;

/// The API's configuration from the daemon's settings; `min_revision`
/// orders revisions as the repository does; `/v1/diff` builds with the
/// directory's last good answer (`answers`, set once the reloader holds
/// it; none without `[ldap]`).
fn api_config(
    settings: &Settings,
    limits: Arc<arc_swap::ArcSwap<crate::snapshot::Limits>>,
    answers: Arc<std::sync::OnceLock<Option<Answers>>>,
) -> crate::api::Config {
    let source = settings.source.clone();
    let reader = settings.source.clone();
    crate::api::Config {
        token: settings.token.clone(),
        beyond_loopback: settings.beyond_loopback,
        user_header: settings.user_header.clone(),
        proxy: settings.proxy,
        authorize_layers: settings.authorize_layers,
        http: settings.http,
        is_at_least: Arc::new(move |loaded: &str, wanted: &str| source.is_at_least(loaded, wanted)),
        read_snapshot: Some(Arc::new(move |rev: &str| {
            let answer = answers.get().cloned().flatten().and_then(|a| a.load_full());
            crate::cmd::diff::snapshot_at(&reader, rev, **limits.load(), &answer)
                .map_err(|e| format!("{e:#}"))
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
