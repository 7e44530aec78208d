//! The `[ldap]` table of rolesync's TOML (issue 16 item 3): where the
//! directory is, how to reach it safely, what to read and every bound on
//! what it may answer. A leaf: the client and the daemon read it.
//!
//! The bind password is never part of this value: `password_file` names the
//! file, read at each sync into a `Secret` that prints as `***`.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::error::SettingsError;

/// The `[ldap]` table, as written (durations as `"30s"`, like
/// `poll_interval`). `check` says whether it can be used.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapSettings {
    /// `ldap://` or `ldaps://` URLs, tried in order until one connects and
    /// binds (failover, as `mod_authnz_ldap` does).
    pub urls: Vec<String>,
    /// Upgrade `ldap://` connections with StartTLS (refused with `ldaps://`).
    #[serde(default)]
    pub starttls: bool,
    /// PEM file of the certificate authorities that may sign the server's
    /// certificate (then the only ones trusted); default: the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The DN to bind as; none: an anonymous session.
    #[serde(default)]
    pub bind_dn: Option<String>,
    /// The file holding the bind password (read at each sync; one trailing
    /// newline dropped). Required with `bind_dn`.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Where users (and, usually, groups) live: the subtree read.
    pub base_dn: String,
    /// The attribute that holds a user's login (`uid`; `sAMAccountName` in
    /// Active Directory).
    #[serde(default = "default_user_attribute")]
    pub user_attribute: String,
    /// Whether the directory decides which accounts are active.
    #[serde(default = "default_true")]
    pub account_state: bool,
    /// The bound on one whole sync (connect, bind, every search).
    #[serde(default = "default_timeout", deserialize_with = "duration")]
    pub timeout: Duration,
    /// The bound on connecting to one URL before the next is tried.
    #[serde(default = "default_connect_timeout", deserialize_with = "duration")]
    pub connect_timeout: Duration,
    /// How often the daemon syncs.
    #[serde(default = "default_sync_interval", deserialize_with = "duration")]
    pub sync_interval: Duration,
    /// How nested groups are resolved; `auto` asks the server's root DSE.
    #[serde(default)]
    pub flavor: Flavor,
    /// Whether logins are kept as the directory spells them or lowercased.
    #[serde(default)]
    pub login_case: LoginCase,
    /// Entries per page of the paged-results control (RFC 2696); 0 turns
    /// paging off (then a server size limit refuses a large answer).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Entries one sync may read in all.
    #[serde(default = "default_max_entries")]
    pub max_entries: usize,
    /// Nested groups below a group named in `groups.xml`.
    #[serde(default = "default_max_depth")]
    pub max_depth: usize,
    /// Members one group may resolve to (nested ones included).
    #[serde(default = "default_max_members")]
    pub max_members: usize,
    /// Bytes of one attribute value or DN.
    #[serde(default = "default_max_value_bytes")]
    pub max_value_bytes: usize,
}

/// How group membership is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// Active Directory when the root DSE says so, else OpenLDAP.
    #[default]
    Auto,
    /// `member`, `uniqueMember`, `memberUid`, recursed by the client.
    Openldap,
    /// The in-chain matching rule (1.2.840.113556.1.4.1941) does the nesting.
    Ad,
}

/// What a login read from the directory becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoginCase {
    /// As the directory spells it.
    #[default]
    Preserve,
    /// Lowercased (Active Directory logins are case-insensitive).
    Lower,
}

/// The bind password, read from `password_file`: never printed.
pub struct Secret(String);

impl Secret {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl LdapSettings {
    /// Parses the `[ldap]` table alone (its TOML text) and checks it.
    pub fn from_toml(text: &str) -> Result<LdapSettings, SettingsError> {
        let settings: LdapSettings =
            toml::from_str(text).map_err(|e| SettingsError::Toml(e.message().to_owned()))?;
        settings.check()?;
        Ok(settings)
    }

    /// Every rule the values must keep, first broken one named.
    pub fn check(&self) -> Result<(), SettingsError> {
        let bad = |key: &'static str, why: String| Err(SettingsError::Invalid { key, why });
        if self.urls.is_empty() {
            return bad("urls", "no URL given".to_owned());
        }
        for url in &self.urls {
            check_url(url, self.starttls)?;
        }
        if self.bind_dn.is_some() != self.password_file.is_some() {
            return bad(
                "password_file",
                "bind_dn and password_file go together (neither: an anonymous bind)".to_owned(),
            );
        }
        if self.base_dn.trim().is_empty() {
            return bad("base_dn", "empty".to_owned());
        }
        if !is_attribute_name(&self.user_attribute) {
            return bad(
                "user_attribute",
                format!("{:?} is not an attribute name", self.user_attribute),
            );
        }
        if self.page_size > i32::MAX as u32 {
            return bad("page_size", format!("above {}", i32::MAX));
        }
        self.check_bounds()
    }

    fn check_bounds(&self) -> Result<(), SettingsError> {
        let zero = [
            ("timeout", self.timeout.is_zero()),
            ("connect_timeout", self.connect_timeout.is_zero()),
            ("sync_interval", self.sync_interval.is_zero()),
            ("max_entries", self.max_entries == 0),
            ("max_depth", self.max_depth == 0),
            ("max_members", self.max_members == 0),
            ("max_value_bytes", self.max_value_bytes == 0),
        ];
        match zero.iter().find(|(_, z)| *z) {
            Some((key, _)) => Err(SettingsError::Invalid {
                key,
                why: "must be above zero".to_owned(),
            }),
            None => Ok(()),
        }
    }

    /// The bind password, read now (`None`: an anonymous bind).
    pub fn password(&self) -> Result<Option<Secret>, SettingsError> {
        let Some(path) = &self.password_file else {
            return Ok(None);
        };
        let text = fs_err::read_to_string(path).map_err(|e| SettingsError::Password {
            path: path.clone(),
            why: e.kind().to_string(),
        })?;
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.is_empty() {
            // An empty password is an unauthenticated bind (RFC 4513 §5.1.2):
            // the server would answer as to anyone.
            return Err(SettingsError::Password {
                path: path.clone(),
                why: "the file is empty".to_owned(),
            });
        }
        Ok(Some(Secret(text.to_owned())))
    }
}

fn check_url(url: &str, starttls: bool) -> Result<(), SettingsError> {
    let bad = |why: &str| {
        Err(SettingsError::Invalid {
            key: "urls",
            why: format!("{url:?}: {why}"),
        })
    };
    let rest = if let Some(rest) = url.strip_prefix("ldaps://") {
        if starttls {
            return bad("starttls is for ldap:// (ldaps:// is TLS already)");
        }
        rest
    } else if let Some(rest) = url.strip_prefix("ldap://") {
        rest
    } else {
        return bad("not an ldap:// or ldaps:// URL");
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || rest.contains('?') || host.contains('@') {
        return bad("give a host (and port), nothing more");
    }
    Ok(())
}

fn is_attribute_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    humantime::parse_duration(&s).map_err(|e| serde::de::Error::custom(format!("{s:?}: {e}")))
}

fn default_user_attribute() -> String {
    "uid".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_connect_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_sync_interval() -> Duration {
    Duration::from_secs(300)
}
fn default_page_size() -> u32 {
    500
}
fn default_max_entries() -> usize {
    200_000
}
fn default_max_depth() -> usize {
    16
}
fn default_max_members() -> usize {
    100_000
}
fn default_max_value_bytes() -> usize {
    1024
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "urls = [\"ldap://127.0.0.1:389\"]\nbase_dn = \"dc=example,dc=org\"\n";

    fn settings(extra: &str) -> Result<LdapSettings, SettingsError> {
        LdapSettings::from_toml(&format!("{MINIMAL}{extra}"))
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = settings("").expect("minimal settings");
        assert_eq!(s.user_attribute, "uid");
        assert!(s.account_state && !s.starttls);
        assert_eq!(s.timeout, Duration::from_secs(60));
        assert_eq!(s.connect_timeout, Duration::from_secs(5));
        assert_eq!(s.sync_interval, Duration::from_secs(300));
        assert_eq!(
            (s.flavor, s.login_case),
            (Flavor::Auto, LoginCase::Preserve)
        );
        assert_eq!(s.page_size, 500);
        assert_eq!(
            (s.max_entries, s.max_depth, s.max_members, s.max_value_bytes),
            (200_000, 16, 100_000, 1024)
        );
    }

    #[test]
    fn durations_and_enums_are_read_as_written() {
        let s = settings("timeout = \"1m 30s\"\nsync_interval = \"30s\"\nflavor = \"ad\"\nlogin_case = \"lower\"\n")
            .expect("settings");
        assert_eq!(s.timeout, Duration::from_secs(90));
        assert_eq!(s.sync_interval, Duration::from_secs(30));
        assert_eq!((s.flavor, s.login_case), (Flavor::Ad, LoginCase::Lower));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_by_name() {
        let err = |extra: &str| settings(extra).expect_err(extra).to_string();
        assert!(err("pasword_file = \"x\"\n").contains("pasword_file"));
        assert!(err("timeout = \"soon\"\n").contains("soon"));
        assert!(err("max_depth = 0\n").contains("max_depth"));
        assert!(err("bind_dn = \"cn=admin\"\n").contains("password_file"));
        assert!(err("user_attribute = \"uid)(x\"\n").contains("user_attribute"));
        let starttls = LdapSettings::from_toml(
            "urls = [\"ldaps://h\"]\nbase_dn = \"dc=x\"\nstarttls = true\n",
        );
        assert!(
            starttls
                .expect_err("ldaps with starttls")
                .to_string()
                .contains("ldaps://")
        );
        let none = LdapSettings::from_toml("urls = []\nbase_dn = \"dc=x\"\n");
        assert!(none.expect_err("no url").to_string().contains("urls"));
        let http = LdapSettings::from_toml("urls = [\"http://h\"]\nbase_dn = \"dc=x\"\n");
        assert!(http.expect_err("http").to_string().contains("http://h"));
    }

    #[test]
    fn the_password_never_prints() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret-pw\n").expect("write");
        let s = settings(&format!(
            "bind_dn = \"cn=admin,dc=example,dc=org\"\npassword_file = {:?}\n",
            path
        ))
        .expect("settings");
        let secret = s.password().expect("read").expect("a password");
        assert_eq!(secret.expose(), "s3cret-pw");
        assert_eq!(format!("{secret:?}"), "***");
        assert!(!format!("{s:?}").contains("s3cret"));
        std::fs::write(&path, "\n").expect("write");
        let empty = s.password().expect_err("empty password");
        assert!(empty.to_string().contains("empty"), "{empty}");
    }
}
