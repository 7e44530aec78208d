//! The sources of reload triggers, each feeding the one channel: file
//! events (notify), the safety-net poll, SIGHUP, and the hooks' socket.

use std::path::Path;
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use tokio::sync::{mpsc, watch};

use super::notice;
use crate::current::Trigger;
use crate::repo;

/// The socket in the state folder that the post-receive / post-commit
/// hooks connect to.
pub const HOOK_SOCKET: &str = "rolesync.sock";

type Tx = mpsc::UnboundedSender<Trigger>;

/// Watch what changes when a commit lands (`repo::Source::watch_paths`:
/// the refs of a Git repository, `db/current` of an SVN repository, or a
/// whole plain folder). An event that moved the head is a
/// [`Trigger::Head`] (the burst ends at once), one that may matter once
/// quiet a [`Trigger::Watch`], and one that means nothing for the head
/// (a Git object, the index, a lock file) no trigger at all
/// (`repo::HeadFiles::meaning`).
pub fn watch(source: &repo::Source, tx: Tx) -> anyhow::Result<notify::RecommendedWatcher> {
    let heads = source.head_files()?;
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(e) => {
                if let Some(t) = trigger(&heads, &e) {
                    let _ = tx.send(t);
                }
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

/// The trigger of one file event, if any: the strongest meaning among its
/// paths. A lost-events notice (`need_rescan`) is a `Watch`, and so is an
/// event that names no path.
fn trigger(heads: &repo::HeadFiles, e: &notify::Event) -> Option<Trigger> {
    use notify::EventKind;
    use notify::event::{ModifyKind, RenameMode};
    if e.need_rescan() {
        return Some(Trigger::Watch);
    }
    let touch = match e.kind {
        EventKind::Access(_) => return None,
        // inotify reports a rename as `From`, `To`, then `Both` with the
        // two paths: the `To` already told of it.
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => return None,
        EventKind::Modify(ModifyKind::Name(_)) => repo::Touch::Renamed,
        EventKind::Remove(_) => repo::Touch::Removed,
        _ => repo::Touch::Written,
    };
    let meaning = e.paths.iter().map(|p| heads.meaning(p, touch)).max();
    match meaning {
        Some(repo::Meaning::Moved) => Some(Trigger::Head),
        // An event that names no path may be anything.
        Some(repo::Meaning::Changed) | None => Some(Trigger::Watch),
        Some(repo::Meaning::Nothing) => None,
    }
}

/// A poll every `every` (its value now; SIGHUP may change it, `0s` turns
/// the poll off), in case a file event was lost.
pub fn spawn_poll(mut every: watch::Receiver<Duration>, tx: Tx, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        loop {
            let period = *every.borrow_and_update();
            let tick = async {
                match period.is_zero() {
                    true => std::future::pending().await,
                    false => tokio::time::sleep(period).await,
                }
            };
            tokio::select! {
                () = tick => { if tx.send(Trigger::Poll).is_err() { break } }
                changed = every.changed() => { if changed.is_err() { break } }
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

/// How many hook connections are read at once; beyond, a connection asks
/// for a reload unread.
const MAX_HOOK_READERS: usize = 8;

/// A Unix socket in the state folder; every connection is a hook's
/// notification (`notice`): who pushed which revision goes to `pushes`,
/// then (but for a `push`) a reload is asked for. Only local users with
/// access to the folder can use it.
pub fn spawn_hook_socket(
    dir: &Path,
    tx: Tx,
    pushes: notice::Pushes,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let path = dir.join(HOOK_SOCKET);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let listener = tokio::net::UnixListener::bind(&path)?;
    let readers = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_HOOK_READERS));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                conn = listener.accept() => match conn {
                    Ok((stream, _)) => {
                        if tx.is_closed() { break }
                        serve_hook(stream, &readers, tx.clone(), pushes.clone());
                    }
                    Err(e) => tracing::warn!(error = %e, "hook socket"),
                },
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        let _ = std::fs::remove_file(&path);
    });
    Ok(())
}

/// Read one hook connection off the accept loop (when a reader is free),
/// note its pushers, then ask for the reload.
fn serve_hook(
    stream: tokio::net::UnixStream,
    readers: &std::sync::Arc<tokio::sync::Semaphore>,
    tx: Tx,
    pushes: notice::Pushes,
) {
    let Ok(permit) = readers.clone().try_acquire_owned() else {
        tracing::warn!("hook socket: too many notifications at once; one is not read");
        let _ = tx.send(Trigger::Hook);
        return;
    };
    tokio::spawn(async move {
        let notice = notice::read(stream).await;
        drop(permit);
        pushes.note(&notice);
        if !notice.only_push {
            let _ = tx.send(Trigger::Hook);
        }
    });
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use notify::event::{CreateKind, DataChange, EventKind, ModifyKind, RemoveKind, RenameMode};

    use super::*;

    fn event(kind: EventKind, paths: &[&str]) -> notify::Event {
        paths.iter().fold(notify::Event::new(kind), |e, p| {
            e.add_path(PathBuf::from(p))
        })
    }

    /// The events of one `git commit` in the order inotify gave them
    /// (git 2.47): only the ref's rename is a trigger.
    #[test]
    fn of_a_git_commit_only_the_ref_rename_triggers() {
        let heads = repo::HeadFiles::Git(PathBuf::from("/r/.git/"));
        let name = |m| EventKind::Modify(ModifyKind::Name(m));
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        let create = EventKind::Create(CreateKind::File);
        let remove = EventKind::Remove(RemoveKind::File);
        let commit = [
            (create, vec!["/r/.git/index.lock"]),
            (write, vec!["/r/.git/index.lock"]),
            (create, vec!["/r/.git/next-index-18014.lock"]),
            (write, vec!["/r/.git/COMMIT_EDITMSG"]),
            (create, vec!["/r/.git/HEAD.lock"]),
            (create, vec!["/r/.git/refs/heads/main.lock"]),
            (write, vec!["/r/.git/refs/heads/main.lock"]),
            (name(RenameMode::From), vec!["/r/.git/refs/heads/main.lock"]),
            (name(RenameMode::To), vec!["/r/.git/refs/heads/main"]),
            (
                name(RenameMode::Both),
                vec!["/r/.git/refs/heads/main.lock", "/r/.git/refs/heads/main"],
            ),
            (remove, vec!["/r/.git/HEAD.lock"]),
            (create, vec!["/r/.git/packed-refs.lock"]),
            (remove, vec!["/r/.git/packed-refs.lock"]),
            (name(RenameMode::From), vec!["/r/.git/index.lock"]),
            (name(RenameMode::To), vec!["/r/.git/index"]),
        ];
        let triggers: Vec<_> = commit
            .iter()
            .filter_map(|(kind, paths)| trigger(&heads, &event(*kind, paths)))
            .collect();
        assert_eq!(triggers, [Trigger::Head]);
    }

    #[test]
    fn a_folder_event_a_nameless_one_and_lost_events_wait_for_quiet() {
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        let folder = repo::HeadFiles::Folder;
        assert_eq!(
            trigger(&folder, &event(write, &["/f/a.xml"])),
            Some(Trigger::Watch)
        );
        let svn = repo::HeadFiles::Svn(PathBuf::from("/s/db"));
        assert_eq!(
            trigger(&svn, &event(EventKind::Any, &[])),
            Some(Trigger::Watch)
        );
        let lost = event(EventKind::Other, &[]).set_flag(notify::event::Flag::Rescan);
        assert_eq!(trigger(&svn, &lost), Some(Trigger::Watch));
        let access = EventKind::Access(notify::event::AccessKind::Any);
        assert_eq!(trigger(&folder, &event(access, &["/f/a.xml"])), None);
    }
}
