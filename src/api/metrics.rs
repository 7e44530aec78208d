//! `/metrics`: the figures of the reload status as one value, and its one
//! rendering in Prometheus' text format (0.0.4).

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::authz::Cost;
use crate::current::Status;
use crate::snapshot::Snapshot;

/// Every figure `/metrics` shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Metrics<'a> {
    pub applied: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub last_reload_seconds: f64,
    /// Commit time of the applied revision (0: none or unknown).
    pub commit_time: i64,
    /// When the applied revision was published, in seconds since the epoch.
    pub applied_at: f64,
    /// How long the newest revision has been invalid (0 when fresh).
    pub stale_seconds: f64,
    /// Warnings of the applied revision, by diagnostic code.
    pub warnings: BTreeMap<&'a str, u64>,
    /// What the applied access file costs Subversion to load (none: no
    /// snapshot yet; the gauges are then left out).
    pub access_cost: Option<Cost>,
    /// The applied revision (none: nothing applied yet; the info series is
    /// then left out rather than given an empty label).
    pub revision: Option<&'a str>,
    /// The remote followed (none: not following; the gauges are left out).
    pub remote: Option<RemoteMetrics>,
}

/// The `rolesync_remote_*` gauges, each only when its value is known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RemoteMetrics {
    /// How long every fetch has failed (0 while reachable).
    pub unreachable_seconds: f64,
    /// When the last fetch succeeded (none yet: left out).
    pub last_fetch: Option<f64>,
    /// 1 while the remote's head is not the applied revision (none: no
    /// head fetched yet).
    pub behind: Option<u8>,
}

impl RemoteMetrics {
    fn of(r: &crate::current::RemoteStatus, applied: Option<&str>, now: SystemTime) -> Self {
        RemoteMetrics {
            unreachable_seconds: r
                .unreachable_since
                .and_then(|t| now.duration_since(t).ok())
                .map_or(0.0, |d| d.as_secs_f64()),
            last_fetch: r.last_fetch_at.map(secs),
            behind: r.head.as_deref().map(|h| u8::from(Some(h) != applied)),
        }
    }

    fn render(&self, text: &mut String) {
        text.push_str(&format!(
            "# HELP rolesync_remote_unreachable_seconds How long every fetch of the followed remote has failed (0 when reachable).\n\
             # TYPE rolesync_remote_unreachable_seconds gauge\n\
             rolesync_remote_unreachable_seconds {}\n",
            self.unreachable_seconds
        ));
        if let Some(t) = self.last_fetch {
            text.push_str(&format!(
                "# HELP rolesync_remote_last_fetch_timestamp_seconds When the followed remote was last fetched.\n\
                 # TYPE rolesync_remote_last_fetch_timestamp_seconds gauge\n\
                 rolesync_remote_last_fetch_timestamp_seconds {t}\n"
            ));
        }
        if let Some(b) = self.behind {
            text.push_str(&format!(
                "# HELP rolesync_remote_behind 1 while the remote's head is not the applied revision.\n\
                 # TYPE rolesync_remote_behind gauge\n\
                 rolesync_remote_behind {b}\n"
            ));
        }
    }
}

impl<'a> Metrics<'a> {
    /// The figures of `status` and the applied `snapshot` at `now`.
    pub fn of(status: &'a Status, snapshot: Option<&'a Snapshot>, now: SystemTime) -> Self {
        let mut warnings: BTreeMap<&str, u64> = BTreeMap::new();
        for w in &status.warnings {
            *warnings.entry(w.code.as_str()).or_default() += 1;
        }
        Metrics {
            applied: status.applied,
            unchanged: status.unchanged,
            failed: status.failed,
            last_reload_seconds: status.last_duration.as_secs_f64(),
            commit_time: snapshot.and_then(|s| s.meta.as_ref()).map_or(0, |m| m.time),
            applied_at: status.applied_at.map_or(0.0, secs),
            stale_seconds: status
                .stale_since
                .and_then(|t| now.duration_since(t).ok())
                .map_or(0.0, |d| d.as_secs_f64()),
            warnings,
            access_cost: snapshot.map(|s| s.access_cost),
            revision: snapshot.map(|s| s.revision.as_str()),
            remote: status
                .remote
                .as_ref()
                .map(|r| RemoteMetrics::of(r, snapshot.map(|s| s.revision.as_str()), now)),
        }
    }

    /// The text `/metrics` answers.
    pub fn render(&self) -> String {
        let Metrics {
            applied,
            unchanged,
            failed,
            last_reload_seconds,
            commit_time,
            applied_at,
            stale_seconds,
            warnings,
            access_cost,
            revision,
            remote,
        } = self;
        let mut text = format!(
            "# HELP rolesync_reloads_total Reloads by result.\n\
             # TYPE rolesync_reloads_total counter\n\
             rolesync_reloads_total{{result=\"applied\"}} {applied}\n\
             rolesync_reloads_total{{result=\"unchanged\"}} {unchanged}\n\
             rolesync_reloads_total{{result=\"failed\"}} {failed}\n\
             # HELP rolesync_last_reload_duration_seconds Duration of the last reload.\n\
             # TYPE rolesync_last_reload_duration_seconds gauge\n\
             rolesync_last_reload_duration_seconds {last_reload_seconds}\n\
             # HELP rolesync_applied_revision_timestamp_seconds Commit time of the applied revision.\n\
             # TYPE rolesync_applied_revision_timestamp_seconds gauge\n\
             rolesync_applied_revision_timestamp_seconds {commit_time}\n\
             # HELP rolesync_applied_timestamp_seconds When the applied revision was published.\n\
             # TYPE rolesync_applied_timestamp_seconds gauge\n\
             rolesync_applied_timestamp_seconds {applied_at}\n\
             # HELP rolesync_stale_seconds How long the newest revision has been invalid (0 when fresh).\n\
             # TYPE rolesync_stale_seconds gauge\n\
             rolesync_stale_seconds {stale_seconds}\n\
             # HELP rolesync_warnings Warnings of the applied revision, by diagnostic code.\n\
             # TYPE rolesync_warnings gauge\n",
        );
        for (code, n) in warnings {
            text.push_str(&format!("rolesync_warnings{{code=\"{code}\"}} {n}\n"));
        }
        if let Some(cost) = access_cost {
            text.push_str(&cost_gauges(*cost));
        }
        text.push_str(&info_series(*revision));
        if let Some(remote) = remote {
            remote.render(&mut text);
        }
        text
    }
}

/// The access file's load cost in Subversion's terms (SVN-AUTHZ.md §9.3).
fn cost_gauges(cost: Cost) -> String {
    format!(
        "# HELP rolesync_access_file_cost What the access file costs Subversion to load: distinct users named times rule sections.\n\
         # TYPE rolesync_access_file_cost gauge\n\
         rolesync_access_file_cost {}\n\
         # HELP rolesync_access_file_users Distinct users the access file names.\n\
         # TYPE rolesync_access_file_users gauge\n\
         rolesync_access_file_users {}\n\
         # HELP rolesync_access_file_rule_sections Rule sections of the access file.\n\
         # TYPE rolesync_access_file_rule_sections gauge\n\
         rolesync_access_file_rule_sections {}\n",
        cost.units(),
        cost.users,
        cost.rule_sections
    )
}

/// `rolesync_build_info` always, `rolesync_applied_revision_info` once a
/// revision is applied: one series whose label is the revision, so that
/// one alert (`count(count by (revision) (rolesync_applied_revision_info)) > 1`)
/// catches a fleet whose servers disagree.
fn info_series(revision: Option<&str>) -> String {
    let mut text = format!(
        "# HELP rolesync_build_info The running rolesync's version.\n\
         # TYPE rolesync_build_info gauge\n\
         rolesync_build_info{{version=\"{}\"}} 1\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(revision) = revision {
        text.push_str(&format!(
            "# HELP rolesync_applied_revision_info The revision being served (value always 1).\n\
             # TYPE rolesync_applied_revision_info gauge\n\
             rolesync_applied_revision_info{{revision=\"{}\"}} 1\n",
            label_value(revision)
        ));
    }
    text
}

/// A label value in Prometheus' text format: backslash, double quote and
/// line feed escaped.
fn label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn secs(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_value_cannot_break_out_of_its_quotes() {
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn no_revision_no_info_series() {
        let text = info_series(None);
        assert!(!text.contains("rolesync_applied_revision_info"), "{text}");
        assert!(text.contains("rolesync_build_info{version=\""), "{text}");
    }

    #[test]
    fn the_applied_revision_is_one_series() {
        let text = info_series(Some("1f2e"));
        assert!(
            text.ends_with("rolesync_applied_revision_info{revision=\"1f2e\"} 1\n"),
            "{text}"
        );
    }
}
