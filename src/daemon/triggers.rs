//! The sources of reload triggers, each feeding the one channel: file
//! events (notify), the safety-net poll, SIGHUP, and the hooks' socket.

use std::path::Path;
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use tokio::sync::{mpsc, watch};

use crate::current::Trigger;
use crate::repo;

/// The socket in the state folder that the post-receive / post-commit
/// hooks connect to.
pub const HOOK_SOCKET: &str = "rolesync.sock";

type Tx = mpsc::UnboundedSender<Trigger>;

/// Watch what changes when a commit lands (`repo::Source::watch_paths`:
/// the refs of a Git repository, `db/current` of an SVN repository, or a
/// whole plain folder).
pub fn watch(source: &repo::Source, tx: Tx) -> anyhow::Result<notify::RecommendedWatcher> {
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(e) if e.kind.is_access() => {}
            Ok(_) => {
                let _ = tx.send(Trigger::Watch);
            }
            Err(e) => tracing::warn!(error = %e, "file watch"),
        })?;
    for w in source.watch_paths()? {
        let mode = if w.recursive {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        watcher.watch(&w.path, mode)?;
    }
    Ok(watcher)
}

/// A poll every `every`, in case a file event was lost.
pub fn spawn_poll(every: Duration, tx: Tx, mut stop: watch::Receiver<bool>) {
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => { if tx.send(Trigger::Poll).is_err() { break } }
                _ = stop.wait_for(|s| *s) => break,
            }
        }
    });
}

/// SIGHUP asks for a reload.
pub fn spawn_sighup(tx: Tx, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                s = hup.recv() => match s {
                    Some(()) => { tracing::info!("SIGHUP"); if tx.send(Trigger::Signal).is_err() { break } }
                    None => break,
                },
                _ = stop.wait_for(|s| *s) => break,
            }
        }
    });
    Ok(())
}

/// A Unix socket in the state folder; every connection is a hook's
/// notification. Only local users with access to the folder can use it.
pub fn spawn_hook_socket(
    dir: &Path,
    tx: Tx,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let path = dir.join(HOOK_SOCKET);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let listener = tokio::net::UnixListener::bind(&path)?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                conn = listener.accept() => match conn {
                    Ok(_) => { if tx.send(Trigger::Hook).is_err() { break } }
                    Err(e) => tracing::warn!(error = %e, "hook socket"),
                },
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        let _ = std::fs::remove_file(&path);
    });
    Ok(())
}
