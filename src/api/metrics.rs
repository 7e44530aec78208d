//! `/metrics`: the figures of the reload status as one value, and its one
//! rendering in Prometheus' text format (0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::SystemTime;

use crate::authz::Cost;
use crate::current::{ReloadResult, Status};
use crate::histogram::Buckets;
use crate::snapshot::Snapshot;

/// Every figure of the reload status `/metrics` shows; a figure not known
/// (nothing reloaded or applied yet, no commit time) is `None` and its
/// series left out, never shown as 0.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Metrics<'a> {
    pub applied: u64,
    pub unchanged: u64,
    pub failed: u64,
    /// The last reload's duration and whether it succeeded (none: no
    /// reload yet).
    pub last_reload: Option<(f64, bool)>,
    /// Every reload's duration.
    pub reload_durations: &'a Buckets,
    /// Commit time of the applied revision.
    pub commit_time: Option<i64>,
    /// When the applied revision was published, in seconds since the epoch.
    pub applied_at: Option<f64>,
    /// How long the newest revision has been invalid (0 when fresh; none
    /// before the first reload).
    pub stale_seconds: Option<f64>,
    /// Warnings of the applied revision, by diagnostic code (deprecated
    /// family `rolesync_warnings`).
    pub warnings: BTreeMap<&'a str, u64>,
    /// Diagnostics of the newest revision attempted, by code and severity.
    pub diagnostics: BTreeMap<(&'a str, &'a str), u64>,
    /// What the applied access file costs Subversion to load (none: no
    /// snapshot yet; the gauges are then left out).
    pub access_cost: Option<Cost>,
    /// The applied revision (none: nothing applied yet; the info series is
    /// then left out rather than given an empty label).
    pub revision: Option<&'a str>,
    /// The revision of the last reload attempt (none: no attempt yet, or
    /// it could not be read).
    pub attempted: Option<&'a str>,
    /// The remote followed (none: not following; the gauges are left out).
    pub remote: Option<RemoteMetrics>,
    /// The directory synced (none without `[ldap]`; the gauges are left out).
    pub directory: Option<DirectoryMetrics>,
}

/// The `rolesync_directory_*` gauges, each only when its value is known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DirectoryMetrics {
    /// 1 when the last sync gave a whole answer (none before the first).
    pub last_sync_success: Option<u8>,
    /// When the last good answer was taken.
    pub last_sync: Option<f64>,
    /// How long the last sync took.
    pub sync_duration: Option<f64>,
    /// How long the answer in force has been stale (0 while fresh; none
    /// before the first sync ended).
    pub stale_seconds: Option<f64>,
    /// 1 while an answer is held back (none before the first sync ended).
    pub held_back: Option<u8>,
    /// The last good answer: its revision, references and memberships.
    pub revision: Option<String>,
    pub groups: Option<u64>,
    pub members: Option<u64>,
}

impl DirectoryMetrics {
    fn of(d: &crate::current::DirectoryStatus, now: SystemTime) -> Self {
        let attempted = d.last_sync_ok.is_some();
        let stale = d
            .stale_since()
            .map(|t| now.duration_since(t).map_or(0.0, |d| d.as_secs_f64()));
        let known = d.revision.is_some();
        DirectoryMetrics {
            last_sync_success: d.last_sync_ok.map(u8::from),
            last_sync: d.last_sync_at.map(secs),
            sync_duration: d.last_sync_duration.map(|t| t.as_secs_f64()),
            stale_seconds: stale.or(attempted.then_some(0.0)),
            held_back: attempted.then(|| u8::from(d.held_back.is_some())),
            revision: d.revision.clone(),
            groups: known.then_some(d.groups),
            members: known.then_some(d.members),
        }
    }

    fn render(&self, text: &mut String) {
        gauges(
            text,
            &[
                (
                    "rolesync_directory_last_sync_success",
                    "1 when the last directory sync gave a whole answer, 0 when it failed.",
                    self.last_sync_success.map(f64::from),
                ),
                (
                    "rolesync_directory_last_sync_timestamp_seconds",
                    "When the directory's last good answer was taken.",
                    self.last_sync,
                ),
                (
                    "rolesync_directory_sync_duration_seconds",
                    "Duration of the last directory sync.",
                    self.sync_duration,
                ),
                (
                    "rolesync_directory_stale_seconds",
                    "How long the directory answer in force has been stale: syncs failing or an answer held back (0 when fresh).",
                    self.stale_seconds,
                ),
                (
                    "rolesync_directory_held_back",
                    "1 while a directory answer is held back by max_removed_share.",
                    self.held_back.map(f64::from),
                ),
                (
                    "rolesync_directory_groups",
                    "Directory references the last good answer holds.",
                    self.groups.map(|n| n as f64),
                ),
                (
                    "rolesync_directory_members",
                    "Memberships the last good answer holds, over every reference.",
                    self.members.map(|n| n as f64),
                ),
            ],
        );
        if let Some(rev) = &self.revision {
            let name = "rolesync_directory_revision_info";
            let _ = write!(
                text,
                "# HELP {name} The directory's last good answer (value always 1).\n# TYPE {name} gauge\n{name}{{revision=\"{}\"}} 1\n",
                label_value(rev)
            );
        }
    }
}

/// The `rolesync_remote_*` gauges, each only when its value is known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RemoteMetrics {
    /// How long every fetch has failed (0 while reachable; none before the
    /// first fetch ended).
    pub unreachable_seconds: Option<f64>,
    /// When the last fetch succeeded (none yet: left out).
    pub last_fetch: Option<f64>,
    /// 1 while the remote's head is not the applied revision (none: no
    /// head fetched yet).
    pub behind: Option<u8>,
}

impl RemoteMetrics {
    fn of(r: &crate::current::RemoteStatus, applied: Option<&str>, now: SystemTime) -> Self {
        let unreachable = r
            .unreachable_since
            .map(|t| now.duration_since(t).map_or(0.0, |d| d.as_secs_f64()));
        RemoteMetrics {
            unreachable_seconds: unreachable.or(r.last_fetch_at.map(|_| 0.0)),
            last_fetch: r.last_fetch_at.map(secs),
            behind: r.head.as_deref().map(|h| u8::from(Some(h) != applied)),
        }
    }

    fn render(&self, text: &mut String) {
        gauges(
            text,
            &[
                (
                    "rolesync_remote_unreachable_seconds",
                    "How long every fetch of the followed remote has failed (0 when reachable).",
                    self.unreachable_seconds,
                ),
                (
                    "rolesync_remote_last_fetch_timestamp_seconds",
                    "When the followed remote was last fetched.",
                    self.last_fetch,
                ),
                (
                    "rolesync_remote_behind",
                    "1 while the remote's head is not the applied revision.",
                    self.behind.map(f64::from),
                ),
            ],
        );
    }
}

/// Gauges without labels, HELP and TYPE included: (name, help, value),
/// each left out when its value is not known.
fn gauges(text: &mut String, list: &[(&str, &str, Option<f64>)]) {
    for (name, help, value) in list {
        if let Some(value) = value {
            let _ = write!(
                text,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
            );
        }
    }
}

/// The diagnostics of the newest revision attempted, by code and severity:
/// a failed attempt's errors, else the applied revision's warnings.
fn newest_diagnostics(status: &Status) -> BTreeMap<(&str, &str), u64> {
    let failed = status
        .last_attempt
        .as_ref()
        .filter(|a| a.result == ReloadResult::Failed);
    let list = match failed {
        Some(a) => &a.errors,
        None => &status.warnings,
    };
    let mut by = BTreeMap::new();
    for d in list {
        *by.entry((d.code.as_str(), d.severity.as_str()))
            .or_default() += 1;
    }
    by
}

impl<'a> Metrics<'a> {
    /// The figures of `status` and the applied `snapshot` at `now`.
    pub fn of(status: &'a Status, snapshot: Option<&'a Snapshot>, now: SystemTime) -> Self {
        let mut warnings: BTreeMap<&str, u64> = BTreeMap::new();
        for w in &status.warnings {
            *warnings.entry(w.code.as_str()).or_default() += 1;
        }
        let attempt = status.last_attempt.as_ref();
        let stale = status
            .stale_since
            .map(|t| now.duration_since(t).map_or(0.0, |d| d.as_secs_f64()));
        Metrics {
            applied: status.applied,
            unchanged: status.unchanged,
            failed: status.failed,
            last_reload: attempt.map(|a| {
                let ok = a.result != ReloadResult::Failed;
                (status.last_duration.as_secs_f64(), ok)
            }),
            reload_durations: &status.reload_durations.0,
            commit_time: snapshot.and_then(|s| s.meta.as_ref()).map(|m| m.time),
            applied_at: status.applied_at.map(secs),
            stale_seconds: attempt.map(|_| stale.unwrap_or(0.0)),
            warnings,
            diagnostics: newest_diagnostics(status),
            access_cost: snapshot.map(|s| s.access_cost),
            revision: snapshot.map(|s| s.revision.as_str()),
            attempted: attempt.and_then(|a| a.revision.as_deref()),
            remote: status
                .remote
                .as_ref()
                .map(|r| RemoteMetrics::of(r, snapshot.map(|s| s.revision.as_str()), now)),
            directory: (status.directory.as_ref()).map(|d| DirectoryMetrics::of(d, now)),
        }
    }

    /// The text `/metrics` answers (before the decision families).
    pub fn render(&self) -> String {
        let mut text = self.reloads();
        self.times(&mut text);
        self.diagnostic_series(&mut text);
        if let Some(cost) = self.access_cost {
            text.push_str(&cost_gauges(cost));
        }
        text.push_str(&info_series(self.revision, self.attempted));
        if let Some(remote) = &self.remote {
            remote.render(&mut text);
        }
        if let Some(directory) = &self.directory {
            directory.render(&mut text);
        }
        text
    }

    /// The reload counter, histogram, and the last reload's figures.
    fn reloads(&self) -> String {
        let Metrics {
            applied,
            unchanged,
            failed,
            ..
        } = self;
        let mut text = format!(
            "# HELP rolesync_reloads_total Reloads by result.\n\
             # TYPE rolesync_reloads_total counter\n\
             rolesync_reloads_total{{result=\"applied\"}} {applied}\n\
             rolesync_reloads_total{{result=\"unchanged\"}} {unchanged}\n\
             rolesync_reloads_total{{result=\"failed\"}} {failed}\n\
             # HELP rolesync_reload_duration_seconds Duration of each reload (read, build, judge, publish, record).\n\
             # TYPE rolesync_reload_duration_seconds histogram\n"
        );
        self.reload_durations
            .render("rolesync_reload_duration_seconds", "", &mut text);
        gauges(
            &mut text,
            &[
                (
                    "rolesync_last_reload_duration_seconds",
                    "Duration of the last reload.",
                    self.last_reload.map(|(seconds, _)| seconds),
                ),
                (
                    "rolesync_last_reload_success",
                    "1 when the last reload applied its revision or found it unchanged, 0 when it failed.",
                    self.last_reload.map(|(_, ok)| f64::from(u8::from(ok))),
                ),
            ],
        );
        text
    }

    /// The gauges of times, each only when known.
    fn times(&self, text: &mut String) {
        gauges(
            text,
            &[
                (
                    "rolesync_applied_revision_timestamp_seconds",
                    "Commit time of the applied revision.",
                    self.commit_time.map(|t| t as f64),
                ),
                (
                    "rolesync_applied_timestamp_seconds",
                    "When the applied revision was published.",
                    self.applied_at,
                ),
                (
                    "rolesync_stale_seconds",
                    "How long the newest revision has been invalid (0 when fresh).",
                    self.stale_seconds,
                ),
            ],
        );
    }

    /// `rolesync_diagnostics{code,severity}`, then the deprecated
    /// `rolesync_warnings{code}`.
    fn diagnostic_series(&self, text: &mut String) {
        text.push_str(
            "# HELP rolesync_diagnostics Diagnostics of the newest revision attempted, by code and severity (a failed attempt: its errors).\n\
             # TYPE rolesync_diagnostics gauge\n",
        );
        for ((code, severity), n) in &self.diagnostics {
            let _ = writeln!(
                text,
                "rolesync_diagnostics{{code=\"{code}\",severity=\"{severity}\"}} {n}"
            );
        }
        text.push_str(
            "# HELP rolesync_warnings Deprecated (use rolesync_diagnostics{severity=\"warning\"}): warnings of the applied revision, by diagnostic code.\n\
             # TYPE rolesync_warnings gauge\n",
        );
        for (code, n) in &self.warnings {
            let _ = writeln!(text, "rolesync_warnings{{code=\"{code}\"}} {n}");
        }
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

/// The commit the binary was built from (`build.rs`: `unknown` without git).
pub(crate) const COMMIT: &str = env!("ROLESYNC_COMMIT");

/// `rolesync_build_info` always; `rolesync_applied_revision_info` once a
/// revision is applied and `rolesync_attempted_revision_info` once one is
/// attempted: one series each whose label is the revision, so that one
/// alert (`count(count by (revision) (rolesync_applied_revision_info)) > 1`)
/// catches a fleet whose servers disagree.
fn info_series(revision: Option<&str>, attempted: Option<&str>) -> String {
    let mut text = format!(
        "# HELP rolesync_build_info The running rolesync's version and the commit it was built from.\n\
         # TYPE rolesync_build_info gauge\n\
         rolesync_build_info{{version=\"{}\",commit=\"{}\"}} 1\n",
        env!("CARGO_PKG_VERSION"),
        label_value(COMMIT)
    );
    let series = [
        (
            "applied",
            "The revision being served (value always 1).",
            revision,
        ),
        (
            "attempted",
            "The revision of the last reload attempt (value always 1).",
            attempted,
        ),
    ];
    for (which, help, rev) in series {
        if let Some(rev) = rev {
            let name = format!("rolesync_{which}_revision_info");
            let _ = write!(
                text,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name}{{revision=\"{}\"}} 1\n",
                label_value(rev)
            );
        }
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
    fn nothing_unknown_is_shown_as_zero() {
        let status = Status::default();
        let text = Metrics::of(&status, None, SystemTime::now()).render();
        for family in [
            "rolesync_last_reload_duration_seconds",
            "rolesync_last_reload_success",
            "rolesync_applied_revision_timestamp_seconds",
            "rolesync_applied_timestamp_seconds",
            "rolesync_stale_seconds",
            "rolesync_applied_revision_info",
            "rolesync_attempted_revision_info",
            "rolesync_access_file_cost",
        ] {
            assert!(
                !text.contains(family),
                "{family} before any reload:\n{text}"
            );
        }
        assert!(
            text.contains("rolesync_reload_duration_seconds_count 0\n"),
            "{text}"
        );
    }

    #[test]
    fn a_remote_not_yet_fetched_has_no_unreachable_time() {
        let r = crate::current::RemoteStatus::default();
        let m = RemoteMetrics::of(&r, None, SystemTime::now());
        assert_eq!(m.unreachable_seconds, None);
        let fetched = crate::current::RemoteStatus {
            last_fetch_at: Some(SystemTime::now()),
            ..r
        };
        let m = RemoteMetrics::of(&fetched, None, SystemTime::now());
        assert_eq!(m.unreachable_seconds, Some(0.0));
    }

    #[test]
    fn a_label_value_cannot_break_out_of_its_quotes() {
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn no_revision_no_info_series() {
        let text = info_series(None, None);
        assert!(!text.contains("rolesync_applied_revision_info"), "{text}");
        assert!(!text.contains("rolesync_attempted_revision_info"), "{text}");
        assert!(text.contains("rolesync_build_info{version=\""), "{text}");
        assert!(text.contains(",commit=\""), "{text}");
    }

    #[test]
    fn the_applied_revision_is_one_series() {
        let text = info_series(Some("1f2e"), Some("3a4b"));
        assert!(
            text.contains("rolesync_applied_revision_info{revision=\"1f2e\"} 1\n"),
            "{text}"
        );
        assert!(
            text.ends_with("rolesync_attempted_revision_info{revision=\"3a4b\"} 1\n"),
            "{text}"
        );
    }
}
