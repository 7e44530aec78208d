//! What `/metrics` counts of the decision endpoints: decisions by endpoint
//! and result (`rolesync_decisions_total`) and each endpoint's latency
//! (`rolesync_decision_duration_seconds`). Lock-free: a decision adds to
//! two relaxed atomics and one histogram bucket. The labels are fixed
//! enums, never a user, path or permission.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::histogram::{DECISION_BOUNDS, Histogram};
use crate::policy::Verdict;

/// A decision endpoint (the `endpoint` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/v1/authorize`.
    Authorize,
    /// `GET /v1/check`.
    Check,
    /// `POST /v1/check`: each decision counted, the call's latency observed
    /// once.
    CheckBulk,
    /// `GET /v1/access`.
    Access,
}

const ENDPOINTS: [Endpoint; 4] = [
    Endpoint::Authorize,
    Endpoint::Check,
    Endpoint::CheckBulk,
    Endpoint::Access,
];

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Authorize => "authorize",
            Endpoint::Check => "check",
            Endpoint::CheckBulk => "check_bulk",
            Endpoint::Access => "access",
        }
    }
}

/// How a decision ended (the `result` label): allowed, denied, or not
/// decided at all (no configuration, a malformed or ambiguous request, an
/// unknown project, an unexpanded query).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Deny,
    Error,
}

const OUTCOMES: [Outcome; 3] = [Outcome::Allow, Outcome::Deny, Outcome::Error];

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::Error => "error",
        }
    }

    pub fn of(v: Verdict) -> Self {
        match v {
            Verdict::Allow => Outcome::Allow,
            Verdict::Deny => Outcome::Deny,
        }
    }
}

/// The counters and histograms of every endpoint.
#[derive(Debug)]
pub struct Decisions {
    counts: [[AtomicU64; 3]; 4],
    latency: [Histogram; 4],
}

impl Default for Decisions {
    fn default() -> Self {
        Decisions {
            counts: Default::default(),
            latency: std::array::from_fn(|_| Histogram::new(DECISION_BOUNDS)),
        }
    }
}

impl Decisions {
    /// `n` decisions of `endpoint` ended in `outcome`.
    pub fn count(&self, endpoint: Endpoint, outcome: Outcome, n: u64) {
        self.counts[endpoint as usize][outcome as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// One call of `endpoint` took `took`.
    pub fn observe(&self, endpoint: Endpoint, took: Duration) {
        self.latency[endpoint as usize].observe(took);
    }

    /// One decision of `endpoint`, begun at `started`, ended in `outcome`
    /// (what `/v1/access` calls once per answer).
    pub fn record(&self, endpoint: Endpoint, outcome: Outcome, started: Instant) {
        self.count(endpoint, outcome, 1);
        self.observe(endpoint, started.elapsed());
    }

    /// The two families, HELP and TYPE included.
    pub fn render(&self, out: &mut String) {
        out.push_str(
            "# HELP rolesync_decisions_total Decisions answered, by endpoint and result (error: not decided).\n\
             # TYPE rolesync_decisions_total counter\n",
        );
        for e in ENDPOINTS {
            for o in OUTCOMES {
                let n = self.counts[e as usize][o as usize].load(Ordering::Relaxed);
                let (e, o) = (e.as_str(), o.as_str());
                let _ = writeln!(
                    out,
                    "rolesync_decisions_total{{endpoint=\"{e}\",result=\"{o}\"}} {n}"
                );
            }
        }
        out.push_str(
            "# HELP rolesync_decision_duration_seconds Time to answer a decision call, by endpoint (check_bulk: a whole call).\n\
             # TYPE rolesync_decision_duration_seconds histogram\n",
        );
        for e in ENDPOINTS {
            let labels = format!("endpoint=\"{}\"", e.as_str());
            self.latency[e as usize].snapshot().render(
                "rolesync_decision_duration_seconds",
                &labels,
                out,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_and_result_is_a_series() {
        let d = Decisions::default();
        d.count(Endpoint::Check, Outcome::Deny, 3);
        d.record(Endpoint::Authorize, Outcome::Allow, Instant::now());
        let mut out = String::new();
        d.render(&mut out);
        assert!(
            out.contains("rolesync_decisions_total{endpoint=\"check\",result=\"deny\"} 3\n"),
            "{out}"
        );
        assert!(
            out.contains("rolesync_decisions_total{endpoint=\"authorize\",result=\"allow\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("rolesync_decision_duration_seconds_count{endpoint=\"authorize\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("rolesync_decision_duration_seconds_count{endpoint=\"check\"} 0\n"),
            "{out}"
        );
        assert_eq!(out.matches("rolesync_decisions_total{").count(), 12);
    }
}
