//! Prometheus histograms of durations: [`Histogram`], lock-free (one
//! relaxed atomic add per bucket hit, one for the sum), for the decision
//! path; [`Buckets`], its plain copy, also what the reload status keeps
//! (it changes under the status lock anyway), and their one rendering as
//! `_bucket{le=…}` (cumulative), `_sum` (seconds) and `_count` lines.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds, in seconds, for a reload: 1 ms to 10 s.
pub const RELOAD_BOUNDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Upper bounds, in seconds, for a decision: 5 µs to 1 s (a decision is a
/// few hash lookups; a bulk call of many thousands takes milliseconds).
pub const DECISION_BOUNDS: &[f64] = &[
    0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1, 1.0,
];

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The bucket of `ns` among `bounds` (seconds); `bounds.len()` is `+Inf`.
fn bucket(bounds: &[f64], ns: u64) -> usize {
    let secs = ns as f64 / 1e9;
    bounds
        .iter()
        .position(|&b| secs <= b)
        .unwrap_or(bounds.len())
}

/// A histogram's figures: per-bucket (not cumulative) counts, the last one
/// `+Inf`, and the sum.
#[derive(Debug, Clone, PartialEq)]
pub struct Buckets {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum_ns: u64,
}

impl Buckets {
    /// Nothing observed yet.
    pub fn new(bounds: &'static [f64]) -> Self {
        Buckets {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum_ns: 0,
        }
    }

    pub fn observe(&mut self, d: Duration) {
        let ns = nanos(d);
        self.counts[bucket(self.bounds, ns)] += 1;
        self.sum_ns = self.sum_ns.saturating_add(ns);
    }

    /// Observations in all.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The series of `name` with `labels` (`key="value"` pairs already
    /// escaped, comma-separated; empty for none), without HELP and TYPE.
    pub fn render(&self, name: &str, labels: &str, out: &mut String) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, n) in self.counts.iter().enumerate() {
            cumulative += n;
            let le = match self.bounds.get(i) {
                Some(b) => b.to_string(),
                None => "+Inf".to_owned(),
            };
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = self.sum_ns as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {cumulative}");
    }
}

/// The reload durations the status keeps: [`Buckets`] of
/// [`RELOAD_BOUNDS`], empty by default.
#[derive(Debug, Clone, PartialEq)]
pub struct ReloadDurations(pub Buckets);

impl Default for ReloadDurations {
    fn default() -> Self {
        ReloadDurations(Buckets::new(RELOAD_BOUNDS))
    }
}

/// A histogram shared by threads: observing is a few relaxed atomic adds,
/// never a lock.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Box<[AtomicU64]>,
    sum_ns: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_ns: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let ns = nanos(d);
        self.counts[bucket(self.bounds, ns)].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// The figures now (each bucket read once: the count is their sum).
    pub fn snapshot(&self) -> Buckets {
        Buckets {
            bounds: self.bounds,
            counts: self
                .counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            sum_ns: self.sum_ns.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: &[f64] = &[0.001, 0.01];

    #[test]
    fn buckets_are_cumulative_and_end_in_inf() {
        let h = Histogram::new(BOUNDS);
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(1));
        h.observe(Duration::from_millis(5));
        h.observe(Duration::from_secs(2));
        let mut out = String::new();
        h.snapshot()
            .render("x_seconds", "endpoint=\"check\"", &mut out);
        assert_eq!(
            out,
            "x_seconds_bucket{endpoint=\"check\",le=\"0.001\"} 2\n\
             x_seconds_bucket{endpoint=\"check\",le=\"0.01\"} 3\n\
             x_seconds_bucket{endpoint=\"check\",le=\"+Inf\"} 4\n\
             x_seconds_sum{endpoint=\"check\"} 2.0065\n\
             x_seconds_count{endpoint=\"check\"} 4\n"
        );
    }

    #[test]
    fn no_labels_no_braces() {
        let mut b = Buckets::new(BOUNDS);
        b.observe(Duration::from_millis(20));
        let mut out = String::new();
        b.render("r_seconds", "", &mut out);
        assert_eq!(
            out,
            "r_seconds_bucket{le=\"0.001\"} 0\n\
             r_seconds_bucket{le=\"0.01\"} 0\n\
             r_seconds_bucket{le=\"+Inf\"} 1\n\
             r_seconds_sum 0.02\n\
             r_seconds_count 1\n"
        );
        assert_eq!(b.count(), 1);
    }

    #[test]
    fn bounds_ascend() {
        for bounds in [RELOAD_BOUNDS, DECISION_BOUNDS] {
            assert!(bounds.windows(2).all(|w| w[0] < w[1]), "{bounds:?}");
        }
        assert_eq!(RELOAD_BOUNDS.first(), Some(&0.001));
        assert_eq!(RELOAD_BOUNDS.last(), Some(&10.0));
    }

    #[test]
    fn threads_lose_no_observation() {
        let h = Histogram::new(DECISION_BOUNDS);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| (0..1000).for_each(|_| h.observe(Duration::from_micros(3))));
            }
        });
        assert_eq!(h.snapshot().count(), 4000);
    }
}
