//! Repeated identical failures: the poll retries a bad revision every
//! `poll_interval` (2,880 times a day at 30s), and each retry fails the
//! same way. The first failure of a spell is logged and audited as usual;
//! while the same one repeats (same revision, same diagnostics or
//! message: `Failure::audit_key`) it is only counted, with one `warn`
//! line "still failing" at most every [`SUMMARY_EVERY`]; the spell ends
//! with anything else (another failure, an applied or unchanged revision,
//! an unmoved head at the applied one), and that is logged and audited as
//! usual, with one `info` line saying how long the spell lasted. Pure: the
//! clock is passed in.

use std::time::{Duration, SystemTime};

/// How often a repeating failure is summarised in the log.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(3600);

/// What identifies a failure (`Failure::audit_key`).
pub type Key = (String, Vec<String>);

/// The failure repeating now.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spell {
    key: Key,
    /// When it first failed so.
    since: SystemTime,
    /// How often it failed so (the first time included).
    attempts: u64,
    /// When it was last logged or summarised.
    told: SystemTime,
}

/// A spell that ended: how often it failed, since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    pub attempts: u64,
    pub since: SystemTime,
}

/// What to do with a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// A new failure: log and audit it (`ended`: the spell it ends, if any).
    New { ended: Option<Ended> },
    /// The same again: count it; `summary` when it is time for the
    /// "still failing" line.
    Again { summary: Option<Ended> },
}

/// The failure repeating now, if any.
#[derive(Debug, Default)]
pub struct Repeats {
    spell: Option<Spell>,
}

impl Repeats {
    /// A failure identified by `key` at `now`.
    pub fn failed(&mut self, key: Key, now: SystemTime) -> Seen {
        if let Some(s) = &mut self.spell
            && s.key == key
        {
            s.attempts += 1;
            let due = now.duration_since(s.told).unwrap_or_default() >= SUMMARY_EVERY;
            if due {
                s.told = now;
            }
            let summary = due.then_some(Ended {
                attempts: s.attempts,
                since: s.since,
            });
            return Seen::Again { summary };
        }
        let ended = self.ended();
        self.spell = Some(Spell {
            key,
            since: now,
            attempts: 1,
            told: now,
        });
        Seen::New { ended }
    }

    /// Anything but a failure: the spell, if any, ends.
    pub fn ended(&mut self) -> Option<Ended> {
        self.spell.take().map(|s| Ended {
            attempts: s.attempts,
            since: s.since,
        })
    }
}

/// The log line of a spell that ended after more than one attempt.
pub fn log_ended(ended: Option<Ended>) {
    if let Some(e) = ended.filter(|e| e.attempts > 1) {
        let since = humantime::format_rfc3339_seconds(e.since).to_string();
        tracing::info!(
            attempts = e.attempts,
            since,
            "the repeated failure ended after {} attempts",
            e.attempts
        );
    }
}

/// The "still failing" line of a spell that goes on.
pub fn log_summary(revision: &str, e: Ended) {
    let since = humantime::format_rfc3339_seconds(e.since).to_string();
    tracing::warn!(
        revision,
        attempts = e.attempts,
        since,
        "still failing, {} attempts since {since}",
        e.attempts
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(rev: &str, errors: &[&str]) -> Key {
        (rev.into(), errors.iter().map(|e| (*e).to_owned()).collect())
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn the_same_failure_is_new_once_then_counted_and_summarised_hourly() {
        let mut r = Repeats::default();
        let bad = key("r2", &["a.xml:1:1: error[x]: y"]);
        assert_eq!(r.failed(bad.clone(), at(0)), Seen::New { ended: None });
        let mut summaries = Vec::new();
        // Every 30 s for two hours and a bit: 240 more attempts.
        for i in 1..=250 {
            match r.failed(bad.clone(), at(i * 30)) {
                Seen::Again { summary: Some(s) } => summaries.push((i * 30, s.attempts)),
                Seen::Again { summary: None } => {}
                Seen::New { .. } => panic!("attempt {i} is the same failure"),
            }
        }
        assert_eq!(summaries, [(3600, 121), (7200, 241)]);
        let ended = r.ended().expect("a spell");
        assert_eq!((ended.attempts, ended.since), (251, at(0)));
        assert_eq!(r.ended(), None);
    }

    #[test]
    fn another_revision_or_other_diagnostics_start_a_new_spell() {
        let mut r = Repeats::default();
        r.failed(key("r2", &["e1"]), at(0));
        r.failed(key("r2", &["e1"]), at(30));
        let ended = Some(Ended {
            attempts: 2,
            since: at(0),
        });
        assert_eq!(r.failed(key("r2", &["e2"]), at(60)), Seen::New { ended });
        let ended = Some(Ended {
            attempts: 1,
            since: at(60),
        });
        assert_eq!(r.failed(key("r3", &["e2"]), at(90)), Seen::New { ended });
    }

    #[test]
    fn a_success_between_two_equal_failures_makes_the_second_new() {
        let mut r = Repeats::default();
        r.failed(key("r2", &["e1"]), at(0));
        assert!(r.ended().is_some());
        assert_eq!(
            r.failed(key("r2", &["e1"]), at(60)),
            Seen::New { ended: None }
        );
    }
}
