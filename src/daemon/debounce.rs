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
