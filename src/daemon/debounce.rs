//! The debounce: a burst of triggers becomes one reload. A burst ends when
//! the channel has been quiet for one period, or after 20 periods of a
//! steady stream (so that a chatty watcher cannot postpone reloads
//! forever). Time is tokio's, so tests run it paused.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::current::Trigger;

/// How many quiet periods a steady stream may stretch a burst to.
const MAX_PERIODS: u32 = 20;

/// The default quiet period of a Git or SVN source (`--debounce`): 5 ms.
/// The file events of one `git commit` on the 10k tree come within about
/// 1 ms of each other on an idle machine (issue 13's measurement), so 5 ms
/// keeps a commit one reload there; the quiet period is most of what the
/// debounce adds to commit → file. On a loaded machine the gaps grow
/// (`examples/scale_latency.rs`, its `gap` phase: the longest quiet time
/// between two triggers of one burst, 8.8 ms at the median at load 11 on
/// two cores) and a burst may split, but a Git or SVN head moves
/// at once (a ref or `db/current` replaced by rename): the reload of the
/// part before the move finds the head unmoved (no read, no build), the
/// one after it reads the whole commit; one commit is never built twice.
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

    /// The trigger that opens the next burst (None once every sender is gone).
    pub async fn first(&mut self) -> Option<Trigger> {
        self.rx.recv().await
    }

    /// The rest of the burst `first` opened; `seen` is told of every
    /// trigger after the first.
    pub async fn burst(&mut self, first: Trigger, mut seen: impl FnMut(Trigger)) -> Burst {
        let mut force = first.forces();
        let deadline = Instant::now() + self.quiet * MAX_PERIODS;
        while let Ok(Some(t)) = tokio::time::timeout(self.quiet, self.rx.recv()).await {
            seen(t);
            force |= t.forces();
            if Instant::now() >= deadline {
                break;
            }
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

    /// The events of one `git commit` (index lock, ref lock, ref rename,
    /// index rename) as the watcher saw them on an idle machine, about a
    /// millisecond apart: one burst at the default, which ends one quiet
    /// period after the last.
    #[tokio::test(start_paused = true)]
    async fn a_commit_is_one_reload_at_the_default() {
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

    #[tokio::test(start_paused = true)]
    async fn startup_and_signals_force_and_a_lone_poll_does_not() {
        for (t, force) in [
            (Trigger::Startup, true),
            (Trigger::Signal, true),
            (Trigger::Http, true),
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
