//! The debounce: a burst of triggers becomes one reload. A burst ends at
//! once on a trigger that says the head moved (a ref or `db/current`
//! replaced by rename, a hook), else when the channel has been quiet for
//! one period, or after 20 periods of a steady stream (so that a chatty
//! watcher cannot postpone reloads forever); the triggers queued by then
//! join it. Time is tokio's, so tests run it paused.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::current::Trigger;

/// How many quiet periods a steady stream may stretch a burst to.
const MAX_PERIODS: u32 = 20;

/// The default quiet period of a Git or SVN source (`--debounce`): 5 ms.
/// It is no longer what a commit waits for: the watcher reports the rename
/// that moves the head (a ref, `db/current`) as a [`Trigger::Head`], which
/// ends its burst at once, and the commit's other writes (objects, the
/// index, lock files) as nothing. The quiet period is left to what may
/// matter without being whole yet (a head file written in place, a new
/// folder under `refs/`, lost events) and to the poll. Were a burst to
/// split anyway, a Git or SVN head moves at once: the reload of the part
/// before the move finds the head unmoved (no read, no build), the one
/// after it reads the whole commit; one commit is never built twice.
pub const DEFAULT_QUIET: Duration = Duration::from_millis(5);

/// The default quiet period of a plain folder: 20 ms. A folder has no
/// head that moves at once, so a reload between the writes of one change
/// would read it half done; the longer period lets the writes of one
/// change (an editor's save, a copy of a few files) end first.
pub const DEFAULT_QUIET_FOLDER: Duration = Duration::from_millis(20);

/// The default quiet period for a source of `kind`.
pub fn default_quiet(kind: crate::repo::Kind) -> Duration {
    match kind {
        crate::repo::Kind::Folder => DEFAULT_QUIET_FOLDER,
        crate::repo::Kind::Git | crate::repo::Kind::Svn => DEFAULT_QUIET,
    }
}

/// One burst of triggers: the one that opened it, and whether any of them
/// forces a rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Burst {
    pub first: Trigger,
    pub force: bool,
}

/// Turns the trigger channel into bursts.
#[derive(Debug)]
pub struct Debouncer {
    rx: mpsc::UnboundedReceiver<Trigger>,
    quiet: Duration,
}

impl Debouncer {
    pub fn new(rx: mpsc::UnboundedReceiver<Trigger>, quiet: Duration) -> Self {
        Debouncer { rx, quiet }
    }

    /// A new quiet period, from the next burst on (SIGHUP's `debounce`).
    pub fn set_quiet(&mut self, quiet: Duration) {
        self.quiet = quiet;
    }

    /// The trigger that opens the next burst (None once every sender is gone).
    pub async fn first(&mut self) -> Option<Trigger> {
        self.rx.recv().await
    }

    /// The rest of the burst `first` opened; `seen` is told of every
    /// trigger after the first. A trigger that ends bursts
    /// (`Trigger::ends_burst`: the head moved) ends it at once; so does the
    /// cut. Whatever is queued then joins it: the reload that follows
    /// reads the head after them all, so none of them is lost.
    pub async fn burst(&mut self, first: Trigger, mut seen: impl FnMut(Trigger)) -> Burst {
        let mut force = first.forces();
        let mut ended = first.ends_burst();
        let deadline = Instant::now() + self.quiet * MAX_PERIODS;
        while !ended && let Ok(Some(t)) = tokio::time::timeout(self.quiet, self.rx.recv()).await {
            seen(t);
            force |= t.forces();
            ended = t.ends_burst() || Instant::now() >= deadline;
        }
        while let Ok(t) = self.rx.try_recv() {
            seen(t);
            force |= t.forces();
        }
        Burst { first, force }
    }

    /// The next whole burst; `seen` is told of every trigger in it.
    #[cfg(test)]
    pub async fn next(&mut self, mut seen: impl FnMut(Trigger)) -> Option<Burst> {
        let first = self.first().await?;
        seen(first);
        Some(self.burst(first, seen).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUIET: Duration = Duration::from_millis(20);

    fn debouncer() -> (mpsc::UnboundedSender<Trigger>, Debouncer) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, Debouncer::new(rx, QUIET))
    }

    /// Send `triggers`, `gap` apart, from a task on the (paused) clock.
    fn send_spaced(tx: mpsc::UnboundedSender<Trigger>, triggers: Vec<Trigger>, gap: Duration) {
        tokio::spawn(async move {
            for t in triggers {
                let _ = tx.send(t);
                tokio::time::sleep(gap).await;
            }
        });
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_one_reload_that_forces_if_any_trigger_does() {
        let (tx, mut d) = debouncer();
        let burst = vec![Trigger::Watch, Trigger::Poll, Trigger::Http, Trigger::Watch];
        send_spaced(tx, burst, QUIET / 2);
        let mut seen = Vec::new();
        let b = d.next(|t| seen.push(t)).await.expect("a burst");
        assert_eq!(
            b,
            Burst {
                first: Trigger::Watch,
                force: true
            }
        );
        assert_eq!(
            seen,
            [Trigger::Watch, Trigger::Poll, Trigger::Http, Trigger::Watch]
        );
        assert_eq!(d.next(|_| ()).await, None, "the sender is gone");
    }

    #[tokio::test(start_paused = true)]
    async fn triggers_further_apart_than_the_quiet_period_are_separate_bursts() {
        let (tx, mut d) = debouncer();
        send_spaced(tx, vec![Trigger::Watch, Trigger::Hook], QUIET * 3);
        let started = Instant::now();
        let first = d.next(|_| ()).await.expect("first burst");
        assert_eq!(
            first,
            Burst {
                first: Trigger::Watch,
                force: false
            }
        );
        assert_eq!(started.elapsed(), QUIET, "one quiet period closes a burst");
        let second = d.next(|_| ()).await.expect("second burst");
        assert_eq!(second.first, Trigger::Hook);
        assert!(!second.force);
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_stream_is_cut_after_twenty_periods() {
        let (tx, mut d) = debouncer();
        let stream = vec![Trigger::Watch; 100];
        send_spaced(tx, stream, QUIET / 2);
        let started = Instant::now();
        let mut n = 0;
        let b = d.next(|_| n += 1).await.expect("a burst");
        assert_eq!(b.first, Trigger::Watch);
        assert_eq!(started.elapsed(), QUIET * MAX_PERIODS);
        assert_eq!(n, 41, "the first, then one every half period up to the cut");
        let rest = d.next(|_| ()).await.expect("the stream goes on");
        assert_eq!(rest.first, Trigger::Watch);
    }

    /// Writes that wait for quiet (a head file written in place), about a
    /// millisecond apart: one burst at the default, which ends one quiet
    /// period after the last.
    #[tokio::test(start_paused = true)]
    async fn writes_a_millisecond_apart_are_one_reload_at_the_default() {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut d = Debouncer::new(rx, DEFAULT_QUIET);
        let gap = Duration::from_millis(1);
        // The watcher's sender lives on (the burst ends by quiet time).
        let watcher = tx.clone();
        send_spaced(tx, vec![Trigger::Watch; 6], gap);
        let started = Instant::now();
        let mut n = 0;
        let b = d.next(|_| n += 1).await.expect("a burst");
        assert_eq!((b.first, n), (Trigger::Watch, 6));
        assert_eq!(started.elapsed(), gap * 5 + DEFAULT_QUIET);
        drop(watcher);
        assert_eq!(d.next(|_| ()).await, None, "one burst");
    }

    /// A commit's ref rename ends its burst at once, without a quiet
    /// period, and the triggers queued behind it join it.
    #[tokio::test(start_paused = true)]
    async fn a_moved_head_ends_the_burst_at_once_with_what_is_queued() {
        let (tx, mut d) = debouncer();
        for t in [Trigger::Head, Trigger::Watch, Trigger::Head] {
            tx.send(t).expect("send");
        }
        let started = Instant::now();
        let mut n = 0;
        let b = d.next(|_| n += 1).await.expect("a burst");
        assert_eq!((b.first, b.force, n), (Trigger::Head, false, 3));
        assert_eq!(started.elapsed(), Duration::ZERO, "no quiet period");
        tx.send(Trigger::Head).expect("send");
        let next = d.next(|_| ()).await.expect("a trigger after the burst");
        assert_eq!(next.first, Trigger::Head, "is the next burst, never lost");
    }

    /// Triggers that wait for quiet (a head file written in place) end as
    /// soon as a moved head or a hook comes.
    #[tokio::test(start_paused = true)]
    async fn a_moved_head_or_a_hook_ends_a_quiet_wait() {
        for end in [Trigger::Head, Trigger::Hook] {
            let (tx, mut d) = debouncer();
            let watcher = tx.clone();
            send_spaced(tx, vec![Trigger::Watch, Trigger::Watch, end], QUIET / 4);
            let started = Instant::now();
            let b = d.next(|_| ()).await.expect("a burst");
            assert_eq!(b.first, Trigger::Watch);
            assert_eq!(started.elapsed(), QUIET / 2, "{end:?} ends it");
            drop(watcher);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn startup_and_signals_force_and_a_lone_poll_does_not() {
        for (t, force) in [
            (Trigger::Startup, true),
            (Trigger::Signal, true),
            (Trigger::Http, true),
            (Trigger::Directory, true),
            (Trigger::Poll, false),
            (Trigger::Watch, false),
            (Trigger::Hook, false),
        ] {
            let (tx, mut d) = debouncer();
            tx.send(t).expect("send");
            drop(tx);
            assert_eq!(d.next(|_| ()).await, Some(Burst { first: t, force }));
        }
    }
}
