//! What SIGHUP re-reads: the TOML configuration file and the token file.
//! [`Live`] holds the settings a running daemon takes over (poll interval,
//! debounce, bearer token, every bound of `Limits`, the access file's mode
//! and group); every other setting (the repository, remote, branch, path,
//! output, state folder, listen address, proxy and user header, signed
//! commits, the `[http]` table) needs a restart: a change is logged and
//! the value in force kept. [`reconcile`] is pure: it says what changed
//! and what is now in force.

use std::sync::Arc;
use std::time::Duration;

use sha2::Digest as _;

use crate::publish;
use crate::snapshot::Limits;

/// The settings SIGHUP applies to the running daemon.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub poll_interval: Duration,
    pub debounce: Duration,
    pub token: Option<String>,
    pub limits: Limits,
    pub publish: publish::Options,
    /// The directory's hold-back rail (`[ldap] max_removed_share`,
    /// `max_removed_floor`; none without a directory).
    pub hold_back: Option<crate::rails::directory::HoldBack>,
}

/// One setting by its config-file key, and its value as shown in a log
/// line (the token's is a digest, never shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: &'static str,
    pub value: String,
}

/// The settings in force: those applied live, and (as shown values) those
/// that need a restart.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconfig {
    pub live: Live,
    pub fixed: Vec<Setting>,
}

/// Re-reads the configuration file and the token file (SIGHUP); the error
/// names the file and, for a TOML error, the line and column.
#[derive(Clone)]
pub struct Reread(pub Arc<dyn Fn() -> anyhow::Result<Reconfig> + Send + Sync>);

impl std::fmt::Debug for Reread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reread")
    }
}

/// What a re-read changed, one per setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A live setting now has `to`.
    Applied {
        key: &'static str,
        from: String,
        to: String,
    },
    /// The token changed (its value is never shown).
    Token,
    /// A setting that needs a restart: `kept` stays in force.
    NeedsRestart {
        key: &'static str,
        kept: String,
        wanted: String,
    },
}

/// The key of the bearer token's setting (`token_file`'s content).
pub const TOKEN_KEY: &str = "token";

impl Live {
    /// Every live setting as shown in a log line.
    pub fn shown(&self) -> Vec<Setting> {
        let l = &self.limits;
        let d = |d: Duration| humantime::format_duration(d).to_string();
        let octal = |m: Option<u32>| m.map_or("unset".into(), |m| format!("{m:04o}"));
        let number = |g: Option<u32>| g.map_or("unset".into(), |g| g.to_string());
        let token = match &self.token {
            Some(t) => format!("{:x}", sha2::Sha256::digest(t.as_bytes())),
            None => "unset".into(),
        };
        let share = self.hold_back.map(|h| h.max_removed_share.to_string());
        let floor = self.hold_back.map(|h| h.max_removed_floor.to_string());
        let unset = |v: Option<String>| v.unwrap_or_else(|| "unset".into());
        let pairs: [(&'static str, String); 24] = [
            ("poll_interval", d(self.poll_interval)),
            ("debounce", d(self.debounce)),
            (TOKEN_KEY, token),
            ("access_mode", octal(self.publish.mode)),
            ("access_group", number(self.publish.group)),
            ("max_file_bytes", l.max_file_bytes.to_string()),
            ("max_total_bytes", l.max_total_bytes.to_string()),
            ("max_xml_depth", l.max_xml_depth.to_string()),
            ("max_xml_elements", l.max_xml_elements.to_string()),
            ("max_value_bytes", l.max_value_bytes.to_string()),
            ("max_name_bytes", l.max_name_bytes.to_string()),
            ("max_query_depth", l.max_query_depth.to_string()),
            ("max_access_bytes", l.max_access_bytes.to_string()),
            ("warn_access_cost", l.warn_access_cost.to_string()),
            ("max_test_files", l.max_test_files.to_string()),
            (
                "max_test_assertions_per_file",
                l.max_test_assertions_per_file.to_string(),
            ),
            ("max_test_assertions", l.max_test_assertions.to_string()),
            ("max_build_threads", l.max_build_threads.to_string()),
            ("max_dn_bytes", l.max_dn_bytes.to_string()),
            ("max_ldap_filter_bytes", l.max_ldap_filter_bytes.to_string()),
            ("max_ldap_filter_depth", l.max_ldap_filter_depth.to_string()),
            ("allow_non_ascii_ids", format!("{:?}", l.id_chars)),
            ("ldap.max_removed_share", unset(share)),
            ("ldap.max_removed_floor", unset(floor)),
        ];
        pairs
            .into_iter()
            .map(|(key, value)| Setting { key, value })
            .collect()
    }
}

/// Compare what is in force with what was re-read: the changes (one per
/// setting), and what is in force now (the new live settings, the old
/// restart-only ones).
pub fn reconcile(old: &Reconfig, new: Reconfig) -> (Reconfig, Vec<Change>) {
    let mut changes = Vec::new();
    for (was, now) in old.live.shown().iter().zip(new.live.shown()) {
        if was.value != now.value {
            changes.push(match was.key {
                TOKEN_KEY => Change::Token,
                key => Change::Applied {
                    key,
                    from: was.value.clone(),
                    to: now.value,
                },
            });
        }
    }
    for now in &new.fixed {
        let kept = old.fixed.iter().find(|s| s.key == now.key);
        let kept = kept.map_or("unset", |s| s.value.as_str());
        if kept != now.value {
            changes.push(Change::NeedsRestart {
                key: now.key,
                kept: kept.to_owned(),
                wanted: now.value.clone(),
            });
        }
    }
    let in_force = Reconfig {
        live: new.live,
        fixed: old.fixed.clone(),
    };
    (in_force, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Reconfig {
        Reconfig {
            live: Live {
                poll_interval: Duration::from_secs(30),
                debounce: Duration::from_millis(5),
                token: Some("old secret".into()),
                limits: Limits::default(),
                publish: publish::Options::default(),
                hold_back: None,
            },
            fixed: vec![Setting {
                key: "listen",
                value: "127.0.0.1:8411".into(),
            }],
        }
    }

    #[test]
    fn nothing_changed_is_no_change() {
        let (in_force, changes) = reconcile(&config(), config());
        assert_eq!(changes, []);
        assert_eq!(in_force, config());
    }

    #[test]
    fn a_live_setting_is_applied_and_named_with_both_values() {
        let mut new = config();
        new.live.poll_interval = Duration::from_secs(5);
        new.live.limits.max_file_bytes = 1000;
        let (in_force, changes) = reconcile(&config(), new.clone());
        assert_eq!(in_force.live, new.live);
        let applied = |key, from: &str, to: &str| Change::Applied {
            key,
            from: from.into(),
            to: to.into(),
        };
        assert_eq!(
            changes,
            [
                applied("poll_interval", "30s", "5s"),
                applied("max_file_bytes", "16777216", "1000")
            ]
        );
    }

    #[test]
    fn a_new_token_is_applied_without_showing_either_value() {
        let mut new = config();
        new.live.token = Some("new secret".into());
        let (in_force, changes) = reconcile(&config(), new);
        assert_eq!(changes, [Change::Token]);
        assert_eq!(in_force.live.token.as_deref(), Some("new secret"));
        assert!(!format!("{changes:?}").contains("secret"));
    }

    #[test]
    fn a_restart_only_setting_is_reported_and_the_old_value_kept() {
        let mut new = config();
        new.fixed[0].value = "0.0.0.0:8411".into();
        new.live.debounce = Duration::from_millis(50);
        let (in_force, changes) = reconcile(&config(), new);
        assert_eq!(
            changes,
            [
                Change::Applied {
                    key: "debounce",
                    from: "5ms".into(),
                    to: "50ms".into()
                },
                Change::NeedsRestart {
                    key: "listen",
                    kept: "127.0.0.1:8411".into(),
                    wanted: "0.0.0.0:8411".into()
                }
            ]
        );
        assert_eq!(in_force.fixed, config().fixed);
        // Asked again, it is reported again: the old value is still in force.
        let mut again = in_force.clone();
        again.fixed[0].value = "0.0.0.0:8411".into();
        assert_eq!(reconcile(&in_force, again).1.len(), 1);
    }
}
